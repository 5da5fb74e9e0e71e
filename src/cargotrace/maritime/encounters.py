"""Ship-to-ship meetings: two vessels within `encounter_max_m` [500 m] for at least
`encounter_min_hours` [2 h], at a median speed under `encounter_max_sog_kn` [2 kn], more
than `encounter_min_port_km` [10 km] from every port.

Positions are averaged per vessel into 10-minute time bins. Candidate pairs come from the
same bin and neighbouring spatial cells (never all pairs). Cells are `cell_deg` of latitude
high (0.01 degree, 1.1 km, for 500 m; larger in proportion for a larger `encounter_max_m`) and
as wide in longitude as that is at the band's pole-ward edge, so a cell is at least 2.2 times
`encounter_max_m` across: a partner within the distance lies in the same cell or in the
neighbouring one on the nearer side, in latitude and then in longitude (in the partner's
band). So each bin of the second vessel is copied to four cells — its own, the nearer band's,
and the nearer cell beside each — not to all nine neighbours.
Bounded work: a cell holding more than `encounter_max_vessels_per_cell` [64] vessels in one
bin (about 1.1 km square; a convoy, a fleet leaving port together, spoofed positions) is a
crowd: its vessels are not paired in that bin, since the pairs would grow with the square
of the vessels (150 copies of the demo's tracks took 14 GB). Each cell then pairs at most
64 of its own vessels with the at most 4 x 64 copied into it, so the work grows with the
data. Crowded bins are listed in `encounter_crowds` (time, place, vessels), counted in the
findings and announced by `analyze`: what was left out is said.
A meeting is a run of consecutive bins where the pair is within the distance; it lasts from
the start of its first bin to the end of its last (so durations are whole bins: 12 bins make
2 h). The median speed is the median over the run's bins of the pair's mean speed.
A ship cannot meet itself: two MMSIs linked to one ship at the time of the meeting
(maritime/ships.py, e.g. the old and the new transmitter both on during a change) are not
an encounter.
"""

from __future__ import annotations

from cargotrace.maritime.offshore import far_from_ports_sql, nearest_port_km_sql
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

BIN_SECONDS = 600
CELL_DEG = 0.01  # cell height for encounter_max_m up to 500 m


def cell_deg(settings: AnalysisSettings) -> float:
    """Cell height in degrees: at least 2.2 x `encounter_max_m`, so neighbours suffice."""
    return CELL_DEG * max(1.0, settings.encounter_max_m / 500.0)


def _cell_width(band: str, cell: float) -> str:
    """Longitude width of the cells of latitude band `band` (an integer SQL expression)."""
    return f"({cell} / greatest(cos(radians(least(abs({band}) * {cell} + {cell}, 89.0))), 0.01))"


def own_cell_sql(settings: AnalysisSettings) -> str:
    """The columns `cy, cx`: the cell a bin (with lat, lon) is in."""
    cell = cell_deg(settings)
    band = f"CAST(floor(lat / {cell}) AS BIGINT)"
    return f"{band} AS cy, CAST(floor(lon / {_cell_width(band, cell)}) AS BIGINT) AS cx"


def binned_sql() -> str:
    """`binned`: the positions averaged per vessel and 10-minute bin."""
    return f"""
        CREATE OR REPLACE TEMP TABLE binned AS
        SELECT mmsi, CAST(floor(epoch(timestamp) / {BIN_SECONDS}) AS BIGINT) AS tbin,
               avg(lat) AS lat, avg(lon) AS lon, avg(sog) AS sog
        FROM positions WHERE lat IS NOT NULL AND lon IS NOT NULL AND timestamp IS NOT NULL AND mmsi IS NOT NULL
        GROUP BY mmsi, CAST(floor(epoch(timestamp) / {BIN_SECONDS}) AS BIGINT)
        """


def close_pairs_sql(settings: AnalysisSettings) -> str:
    """`close_pairs`: the pairs of vessels within `encounter_max_m` in one bin, out of crowds
    (mmsi_a < mmsi_b; their distance, midpoint and mean speed)."""
    distance_m = haversine_km("a.lat", "a.lon", "b.lat", "b.lon") + " * 1000"
    cell = cell_deg(settings)
    band = f"CAST(floor(lat / {cell}) AS BIGINT)"
    width = _cell_width("cy", cell)
    crowd = settings.encounter_max_vessels_per_cell
    return f"""
        CREATE OR REPLACE TEMP TABLE close_pairs AS
        WITH own AS (
            SELECT *, {own_cell_sql(settings)} FROM binned
        ), crowded AS (  -- more than `crowd` vessels in one cell and bin: not searched by pairs
            SELECT tbin, cy, cx FROM own GROUP BY tbin, cy, cx HAVING count(*) > {crowd}
        ), a AS (
            SELECT own.* FROM own LEFT JOIN crowded k ON own.tbin = k.tbin AND own.cy = k.cy AND own.cx = k.cx
            WHERE k.tbin IS NULL
        ), b AS (
            -- the band it is in and the nearer neighbouring band, and in each the cell of its
            -- longitude and the nearer neighbouring cell: every cell a partner can be in
            SELECT mmsi, tbin, lat, lon, sog, cy, CAST(floor(lon / {width}) AS BIGINT)
                   + dx * CASE WHEN lon / {width} - floor(lon / {width}) >= 0.5 THEN 1 ELSE -1 END AS cx
            FROM (SELECT mmsi, tbin, lat, lon, sog, {band} + dy * CASE WHEN lat / {cell} - floor(lat / {cell}) >= 0.5
                                                      THEN 1 ELSE -1 END AS cy
                  FROM a, (SELECT unnest([0, 1]) AS dy) ys) banded, (SELECT unnest([0, 1]) AS dx) xs
        )
        SELECT a.mmsi AS mmsi_a, b.mmsi AS mmsi_b, a.tbin, {distance_m} AS distance_m,
               (a.lat + b.lat) / 2 AS lat, (a.lon + b.lon) / 2 AS lon, (coalesce(a.sog, 0) + coalesce(b.sog, 0)) / 2 AS sog
        FROM a JOIN b ON a.tbin = b.tbin AND a.cy = b.cy AND a.cx = b.cx AND a.mmsi < b.mmsi
        WHERE {distance_m} <= {settings.encounter_max_m}
        """


def crowds_sql(crowded: str) -> str:
    """`encounter_crowds`, one row per bin with a crowded cell, from `crowded`: a SELECT of
    one row per crowded cell and bin (tbin, vessels, lat, lon: the mean of its bins)."""
    return f"""
        CREATE OR REPLACE TABLE encounter_crowds AS
        WITH crowded AS ({crowded})
        SELECT to_timestamp(tbin * {BIN_SECONDS}) AS started_at,
               to_timestamp((tbin + 1) * {BIN_SECONDS}) AS ended_at,
               round(avg(lat), 5) AS lat, round(avg(lon), 5) AS lon,
               max(vessels) AS vessels, count(*) AS cells
        FROM crowded GROUP BY tbin ORDER BY started_at
        """


def crowded_cells_sql(settings: AnalysisSettings) -> str:
    """The crowded cells of `binned` (the SELECT `crowds_sql` takes)."""
    return f"""
        SELECT tbin, count(*) AS vessels, avg(lat) AS lat, avg(lon) AS lon
        FROM (SELECT tbin, lat, lon, {own_cell_sql(settings)} FROM binned) own GROUP BY tbin, cy, cx HAVING count(*) > {settings.encounter_max_vessels_per_cell}
        """


def encounter_runs_sql(settings: AnalysisSettings) -> str:
    """`encounter_runs`: runs of consecutive bins of a pair in `close_pairs`, long enough,
    with their median distance and speed and their mean place. A table of its own, not a
    common table expression of `encounters`: Spark evaluated such an expression twice (once
    for the nearest port's correlated subquery, once for the rows) and joined the two on the
    exact doubles of the mean place, so a mean added up in another order the second time
    left one encounter's `nearest_port_km` NULL on the NOAA day."""
    min_seconds = f"{settings.encounter_min_hours} * 3600"
    return f"""
        CREATE OR REPLACE TEMP TABLE encounter_runs AS
        WITH runs AS (
            SELECT *, tbin - row_number() OVER (PARTITION BY mmsi_a, mmsi_b ORDER BY tbin) AS run FROM close_pairs
        ), grouped AS (
            SELECT mmsi_a, mmsi_b, to_timestamp(min(tbin) * {BIN_SECONDS}) AS started_at,
                   to_timestamp((max(tbin) + 1) * {BIN_SECONDS}) AS ended_at,
                   median(distance_m) AS median_distance_m, median(sog) AS median_sog_kn,
                   avg(lat) AS lat, avg(lon) AS lon, count(*) AS bins
            FROM runs GROUP BY mmsi_a, mmsi_b, run
            HAVING (max(tbin) + 1 - min(tbin)) * {BIN_SECONDS} >= {min_seconds}
        )
        SELECT * FROM grouped
        """


RUN_KEY = ("mmsi_a", "mmsi_b", "started_at")  # one row of `encounter_runs`


def encounters_sql(settings: AnalysisSettings, ports: str = "ports") -> str:
    """`encounters`: the runs of `encounter_runs` slow enough, away from ports, of two ships.
    `ports` may be a table of the ports that can be the nearest of each run (its RUN_KEY
    columns, lat, lon: the kernel's, maritime/kernels/nearby_ports.py), for the same rows."""
    match = "".join(f" AND p.{c} = e.{c}" for c in RUN_KEY) if ports != "ports" else ""
    return f"""
        CREATE OR REPLACE TABLE encounters AS
        WITH same_ship AS (
            SELECT a.mmsi AS mmsi_a, b.mmsi AS mmsi_b, a.valid_from AS a_from, a.valid_to AS a_to,
                   b.valid_from AS b_from, b.valid_to AS b_to
            FROM ship_links a JOIN ship_links b ON a.ship_key = b.ship_key AND a.mmsi < b.mmsi
            WHERE a.vessel_key = CAST(a.mmsi AS VARCHAR) AND b.vessel_key = CAST(b.mmsi AS VARCHAR)
        )
        SELECT e.mmsi_a, e.mmsi_b, e.started_at, e.ended_at,
               round((epoch(e.ended_at) - epoch(e.started_at)) / 3600.0, 3) AS hours,
               round(e.median_distance_m, 1) AS median_distance_m,
               round(e.median_sog_kn, 2) AS median_sog_kn, e.lat, e.lon,
               {nearest_port_km_sql("e", ports, match)} AS nearest_port_km
        FROM encounter_runs e
        WHERE e.median_sog_kn < {settings.encounter_max_sog_kn}
          AND NOT EXISTS (SELECT 1 FROM same_ship s WHERE s.mmsi_a = e.mmsi_a AND s.mmsi_b = e.mmsi_b
                          AND (s.a_from IS NULL OR e.started_at >= s.a_from) AND (s.a_to IS NULL OR e.started_at < s.a_to)
                          AND (s.b_from IS NULL OR e.started_at >= s.b_from) AND (s.b_to IS NULL OR e.started_at < s.b_to))
          AND {far_from_ports_sql(settings.encounter_min_port_km, "e", ports, match)}
        ORDER BY e.started_at, e.mmsi_a, e.mmsi_b
        """


def statements(settings: AnalysisSettings) -> list[str]:
    """The stage SQL (the definition; its NumPy kernel for the DuckDB engine:
    maritime/kernels/encounters.py writes `close_pairs` and the crowded cells, then runs
    the last three statements)."""
    return [
        binned_sql(),
        close_pairs_sql(settings),
        crowds_sql(crowded_cells_sql(settings)),
        *from_close_pairs(settings),
    ]


def from_close_pairs(settings: AnalysisSettings) -> list[str]:
    """The statements after `close_pairs` (the kernels run these after writing it)."""
    return [encounter_runs_sql(settings), encounters_sql(settings)]
