"""Which AIS kinematic values are real: the one definition of "not available" for speed,
course, heading and navigational status in typed input (ITU-R M.1371: SOG 102.3 = not
available, COG 360, heading 511, status 15 = not defined), used by the positions ingest
(ingest/positions.py) and the Spark engine's Parquet input (engine/spark_inputs.py). A value
outside its range becomes NULL; the row is kept."""

from __future__ import annotations

SOG_MAX_KN = 102.2  # 102.3 means "not available"
NAV_STATUS_MAX = 14  # 15 means "not defined"


def kinematics_sql(sog: str, cog: str, heading: str, nav_status: str) -> str:
    """The SELECT items sog, cog, heading, nav_status from the given typed columns."""
    return (
        f"CASE WHEN {sog} BETWEEN 0 AND {SOG_MAX_KN} THEN CAST({sog} AS DOUBLE) END AS sog, "
        f"CASE WHEN {cog} >= 0 AND {cog} < 360 THEN CAST({cog} AS DOUBLE) END AS cog, "
        f"CASE WHEN {heading} BETWEEN 0 AND 359 THEN CAST({heading} AS SMALLINT) END AS heading, "
        f"CASE WHEN {nav_status} BETWEEN 0 AND {NAV_STATUS_MAX} "
        f"THEN CAST({nav_status} AS SMALLINT) END AS nav_status"
    )
