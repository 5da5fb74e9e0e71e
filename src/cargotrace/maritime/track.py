"""The track: every fix of every vessel in time order, with its neighbours, computed once.

One window pass over the positions (partitioned by MMSI, ordered by time) gives each fix
its sequence number and the time and place of the fix before it and the time of the fix
after it. Every later stage (port calls, gaps, stops) works from this table and only ever
runs further window passes over small subsets of it, so the cost of the whole maritime
analysis is about one sort of the positions.

An MMSI used by two transmitters at once (a cloned or shared identity) shows as a track
that jumps back and forth faster than any ship sails. Such an MMSI is split: its fixes are
labelled alternately at every impossible jump (`tx` 0 and 1) and the track is rebuilt per
transmitter; `vessel_key` becomes '<mmsi>' and '<mmsi>#2'. The split is flagged in
`identity_events` (maritime/identity.py).

Columns of `track`: vid (mmsi * 10 + tx, the internal vessel id), mmsi, tx, seq (1, 2, ...
in time order per vid), ts, lat, lon, sog, prev_ts and next_ts (times of the fixes before and after), jump (the step from
the fix before is impossible), gap_start_lat/lon (where the fix before was, only after an
AIS gap of at least `gap_hours`, so that gaps need no self-join). A fix that jumps out and straight back (`spoofed_sql`: GNSS spoofing, a garbled report)
is taken out of the track before any of this and listed in `spoofed_fixes`, so it neither
makes nor breaks a port call, a stop or a gap; the positions keep it. The fix before or after a given one is (vid,
seq - 1) or (vid, seq + 1). Fixes are ordered by time, then (fixes of one transmitter in
the same second) by latitude, longitude and speed, so that every engine and the NumPy
kernel number them alike.
"""

from __future__ import annotations

from cargotrace.reference.geodesy import KM_PER_DEG, KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km


def vessel_key_sql(mmsi: str, tx: str) -> str:
    """The vessel key of a transmitter: the MMSI, with '#2' for the second one of a split MMSI."""
    return f"(CAST({mmsi} AS VARCHAR) || CASE WHEN {tx} = 0 THEN '' ELSE '#' || CAST({tx} + 1 AS VARCHAR) END)"


def jump_sql(
    settings: AnalysisSettings,
    prev_lat: str,
    prev_lon: str,
    prev_ts: str,
    lat: str = "lat",
    lon: str = "lon",
    ts: str = "ts",
) -> str:
    """True for a step no ship can sail: longer than `jump_min_km` and faster than `max_speed_kn`."""
    step = haversine_km(prev_lat, prev_lon, lat, lon)
    seconds = f"(epoch({ts}) - epoch({prev_ts}))"
    # cheap test first: a step spanning less than jump_min_km / 111.19 degrees of latitude
    # plus longitude is shorter than jump_min_km, so the haversine is only computed for the rest
    degrees = settings.jump_min_km / KM_PER_DEG
    return (
        f"({prev_ts} IS NOT NULL AND abs({lat} - {prev_lat}) + abs({lon} - {prev_lon}) > {degrees} "
        f"AND {step} > {settings.jump_min_km} "
        f"AND {step} * 3600 > {settings.max_speed_kn * KM_PER_NM} * {seconds})"
    )


def spoofed_sql(settings: AnalysisSettings) -> str:
    """`spoofed_fixes`: the fixes of the track (one transmitter per MMSI, before any split)
    that jump out and straight back: the step in from the fix before (P) and the step out
    to the fix after (N) are both impossible (`jump_sql`) while P to N is possible, and the
    fix is just as far from the fix before P and the one after N, when there are such fixes.
    A cloned MMSI's two ships reporting in turn never match (a fix two before or after is
    near it), nor does a run of several spoofed fixes (they are near each other). The one
    definition; maritime/kernels/track.py computes the same."""
    near = ", ".join(
        f"max(CASE WHEN k = {k} THEN {c} END) AS {name}_{c}"
        for k, name in ((-2, "pp"), (-1, "p"), (0, "x"), (1, "n"), (2, "nn"))
        for c in ("ts", "lat", "lon")
    )
    in_ok = jump_sql(settings, "pp_lat", "pp_lon", "pp_ts", "x_lat", "x_lon", "x_ts")
    out_ok = jump_sql(settings, "x_lat", "x_lon", "x_ts", "nn_lat", "nn_lon", "nn_ts")
    across = jump_sql(settings, "p_lat", "p_lon", "p_ts", "n_lat", "n_lon", "n_ts")
    return f"""
        CREATE OR REPLACE TEMP TABLE spoofed_fixes AS
        WITH j AS (SELECT vid, seq FROM track WHERE jump),
        x AS (SELECT a.vid, a.seq FROM j a JOIN j b ON b.vid = a.vid AND b.seq = a.seq + 1),
        around AS (
            SELECT x.vid, x.seq AS x_seq, x.seq + r.k AS seq, r.k
            FROM x CROSS JOIN (VALUES (-2), (-1), (0), (1), (2)) AS r(k)
        ), wide AS (
            SELECT a.vid, a.x_seq, any_value(t.mmsi) AS mmsi, {near}
            FROM around a JOIN track t ON t.vid = a.vid AND t.seq = a.seq
            GROUP BY a.vid, a.x_seq
        )
        SELECT vid, mmsi, x_seq AS seq, x_ts AS ts, x_lat AS lat, x_lon AS lon
        FROM wide
        WHERE NOT coalesce({across}, false)
          AND (pp_ts IS NULL OR coalesce({in_ok}, false))
          AND (nn_ts IS NULL OR coalesce({out_ok}, false))
        """


def _windowed(settings: AnalysisSettings, source: str, partition: str, vid: str, tx: str) -> str:
    # one lag of a struct instead of three lags: one window function less to evaluate per fix.
    # Fixes of one second are ordered by position and speed, so every engine (and the NumPy
    # kernel) orders them alike, whatever order they were ingested in.
    jump = jump_sql(settings, "prev.lat", "prev.lon", "prev.ts")
    gap = f"epoch(ts) - epoch(prev.ts) >= {settings.gap_hours * 3600}"
    return f"""
        SELECT vid, mmsi, tx, seq, ts, lat, lon, sog, prev.ts AS prev_ts, next_ts, {jump} AS jump,
               CASE WHEN {gap} THEN prev.lat END AS gap_start_lat, CASE WHEN {gap} THEN prev.lon END AS gap_start_lon
        FROM (SELECT {vid} AS vid, mmsi, {tx} AS tx, row_number() OVER w AS seq, ts, lat, lon, sog,
                     lag(struct_pack(ts := ts, lat := lat, lon := lon)) OVER w AS prev, lead(ts) OVER w AS next_ts
              FROM {source}
              WINDOW w AS (PARTITION BY {partition} ORDER BY ts, lat, lon, sog NULLS LAST)) stepped
    """


def statements(settings: AnalysisSettings) -> list[str]:
    positions = """(SELECT mmsi, timestamp AS ts, lat, lon, sog FROM positions
                    WHERE mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL)"""
    relabelled = """(SELECT mmsi, ts, lat, lon, sog, CAST(sum(CASE WHEN jump THEN 1 ELSE 0 END)
                          OVER (PARTITION BY mmsi ORDER BY seq ROWS UNBOUNDED PRECEDING) % 2 AS INTEGER) AS tx
                      FROM track WHERE mmsi IN (SELECT mmsi FROM shared_mmsi))"""
    kept = """(SELECT t.mmsi, t.ts, t.lat, t.lon, t.sog FROM track t
                WHERE t.vid IN (SELECT vid FROM spoofed_fixes)
                  AND NOT EXISTS (SELECT 1 FROM spoofed_fixes s WHERE s.vid = t.vid AND s.seq = t.seq))"""
    return [
        "CREATE OR REPLACE TEMP TABLE track AS "
        + _windowed(settings, positions, "mmsi", "mmsi * 10", "0"),
        # spoofed fixes leave the track (port calls, gaps, stops, encounters never see them):
        # the vessels that had some are rebuilt without them
        spoofed_sql(settings),
        "CREATE OR REPLACE TEMP TABLE unspoofed_fixes AS "
        + _windowed(settings, kept, "mmsi", "mmsi * 10", "0"),
        "DELETE FROM track WHERE vid IN (SELECT vid FROM spoofed_fixes)",
        "INSERT INTO track SELECT * FROM unspoofed_fixes",
        f"""
        CREATE OR REPLACE TEMP TABLE shared_mmsi AS
        SELECT mmsi, count(*) AS jumps, min(ts) AS first_jump_at, max(ts) AS last_jump_at
        FROM track WHERE jump
        GROUP BY mmsi HAVING count(*) >= {settings.shared_mmsi_min_jumps}
        """,
        # each impossible jump switches transmitter: label by the parity of the jumps so far,
        # then rebuild the track per transmitter
        "CREATE OR REPLACE TEMP TABLE split_fixes AS "
        + _windowed(settings, relabelled, "mmsi, tx", "mmsi * 10 + tx", "tx"),
        "DELETE FROM track WHERE mmsi IN (SELECT mmsi FROM shared_mmsi)",
        "INSERT INTO track SELECT * FROM split_fixes",
    ]
