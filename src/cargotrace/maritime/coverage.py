"""AIS coverage: the stretches of time the case's AIS files cover, and the vessel silences
that reach across a stretch no file covers ("no data", not a dark period).

Every ingested AIS file covers the time from its first fix to its last. Files whose spans
overlap, or lie less than `gap_hours` apart (daily or hourly exports of one feed), make one
covered stretch (`ais_coverage`: covered_from, covered_to, the files). A silence of a vessel
whose two fixes lie in different stretches spans time for which the case holds no AIS at
all: a 2012 log and a 2022 log in one case are not a ten-year dark period. Such silences
are kept apart from `gaps` (no dark calls, no disabling, no timeline band) in
`coverage_gaps`, with the uncovered stretch they span; a silence inside one stretch is a gap
as before, even when one file alone makes that stretch.
"""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def coverage_sql(settings: AnalysisSettings) -> str:
    """`ais_coverage`: one row per covered stretch of time, from the files' spans."""
    join_s = settings.gap_hours * 3600
    return f"""
        CREATE OR REPLACE TABLE ais_coverage AS
        WITH spans AS (
            SELECT file_hash, min(source_file) AS file_name, min(timestamp) AS first_fix_at,
                   max(timestamp) AS last_fix_at
            FROM positions WHERE timestamp IS NOT NULL GROUP BY file_hash
        ), marked AS (
            SELECT *, CASE WHEN epoch(first_fix_at) - epoch(max(last_fix_at) OVER w) < {join_s}
                           THEN 0 ELSE 1 END AS opens
            FROM spans
            WINDOW w AS (ORDER BY first_fix_at, last_fix_at, file_hash
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ), numbered AS (
            SELECT *, sum(opens) OVER (ORDER BY first_fix_at, last_fix_at, file_hash
                                       ROWS UNBOUNDED PRECEDING) AS stretch
            FROM marked
        )
        SELECT CAST(stretch AS INTEGER) AS stretch, min(first_fix_at) AS covered_from,
               max(last_fix_at) AS covered_to, count(*) AS files,
               string_agg(file_name, '; ' ORDER BY first_fix_at, file_name) AS file_names
        FROM numbered GROUP BY stretch ORDER BY stretch
    """


# the stretch holding a moment (every fix lies in one: the stretches hold every file's span)
def _stretch_of(moment: str) -> str:
    return (
        f"(SELECT max(c.stretch) FROM ais_coverage c "
        f"WHERE c.covered_from <= {moment} AND {moment} <= c.covered_to)"
    )


def no_data_sql() -> str:
    """`gap_stretches`: the stretch of each end of every silence in `gap_facts`; the
    silence is no data when they differ."""
    return f"""
        CREATE OR REPLACE TEMP TABLE gap_stretches AS
        SELECT gap_id, {_stretch_of("started_at")} AS start_stretch,
               {_stretch_of("ended_at")} AS end_stretch
        FROM gap_facts
    """


def coverage_gaps_sql() -> str:
    """`coverage_gaps`: the silences across uncovered time, with the first uncovered
    stretch they span (from the end of the start's coverage to the start of the next)."""
    return """
        CREATE OR REPLACE TABLE coverage_gaps AS
        SELECT g.gap_id, g.vessel_key, g.mmsi, g.started_at, g.ended_at, round(g.hours, 3) AS hours,
               g.start_lat, g.start_lon, g.end_lat, g.end_lon, round(g.distance_km, 3) AS distance_km,
               a.covered_to AS uncovered_from, b.covered_from AS uncovered_to,
               s.end_stretch - s.start_stretch - 1 AS covered_stretches_between,
               g.ship_key, g.identity_change, g.previous_vessel_key,
               'no AIS file of the case covers the time from uncovered_from to uncovered_to: '
                 || 'no data, not a dark period' AS note
        FROM gap_facts g
        JOIN gap_stretches s USING (gap_id)
        JOIN ais_coverage a ON a.stretch = s.start_stretch
        JOIN ais_coverage b ON b.stretch = s.start_stretch + 1
        WHERE s.start_stretch <> s.end_stretch
        ORDER BY g.mmsi, g.started_at, g.vessel_key
    """
