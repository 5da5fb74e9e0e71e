"""Ships: a ship is its hull (its IMO number), not its transmitter (its MMSI).

Ships that run sanctioned cargo change identity at sea — a new MMSI, name, call sign and
flag — while the IMO number stays. This stage links every transmitter (`vessel_key`: an
MMSI, or '<mmsi>#2' for the second transmitter of a shared MMSI) to a ship, over a span of
time, and every later chain (previous call, voyages, shuttles, return voyages, gaps,
encounters, screening) follows the ship (`ship_key`) instead of the transmitter.

Rules (every link carries its rule and evidence in `ship_links`):
* A *claim* is a report that an MMSI belongs to an IMO number: a `vessel_reports` row
  (registry files, static AIS messages) or a sighting giving both.
* An IMO number whose check digit fails is never used to link (`invalid_imo` finding).
* The valid claims of one MMSI, in time order (undated first), form runs of one IMO each.
  One IMO: the MMSI belongs to that ship at all times. Several IMOs, each in one dated run
  (an MMSI reused later by another hull): the MMSI belongs to each ship from the first
  report of its run to the first report of the next. Several IMOs with an undated claim,
  or with an IMO coming back after another (claimed by two IMOs at once): the MMSI stays a
  ship of its own (`imo_conflict` finding).
* Two MMSIs linked to one IMO that transmit in the same ten-minute bins, in at least
  `clone_min_bins` of them, farther apart than one ship can be in a bin (`jump_min_km`
  plus ten minutes at `max_speed_kn`): a cloned identity. Neither is linked (each stays a
  ship of its own) and the pair is a `cloned_identity` finding.
* The two transmitters of a shared MMSI (maritime/track.py) stay ships of their own: which
  of them is the hull is not known.
* Transmitters without a usable IMO are ships of their own: `ship_key` = `vessel_key`.
  A linked ship's key is 'IMO:<imo>' (the key sighting-only vessels already have).
* `vessel_identity = "mmsi"` turns ship-level chaining off: every `ship_key` is the
  transmitter's `vessel_key` (findings are still reported).

Tables: `ship_links` (vessel_key, mmsi, ship_key, imo, valid_from, valid_to — NULL for
open — rule, evidence, and the first and last fix of the transmitter in the span),
`ship_timeline` (python step: the identities of every ship that changed, in time order),
and `imo_conflict` / `invalid_imo` / `cloned_identity` rows added to `identity_events`.
"""

from __future__ import annotations

import duckdb

from cargotrace.maritime.encounters import BIN_SECONDS
from cargotrace.maritime.sources import PER_FIX, Sources
from cargotrace.maritime.track import vessel_key_sql
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

IMO_WEIGHTS = (7, 6, 5, 4, 3, 2)


def imo_valid_sql(imo: str) -> str:
    """True for a 7-digit IMO number whose last digit is its check digit (reference/checkdigits.py)."""
    # digits by their code point, not CAST: no engine promises to test the pattern first
    total = " + ".join(
        f"(ascii(substr({imo}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(IMO_WEIGHTS)
    )
    return (
        f"(regexp_matches({imo}, '^[0-9]{{7}}$') AND {imo} <> '0000000' "
        f"AND ({total}) % 10 = ascii(substr({imo}, 7, 1)) - 48)"
    )


def span_join(alias: str, vessel_key: str, ts: str) -> str:
    """LEFT JOIN of the ship link of transmitter `vessel_key` at time `ts` (at most one).

    A link's open end (NULL valid_from / valid_to) and a NULL `ts` are written as bounds
    far outside any timestamp, so that each condition compares an expression of one side
    with one of the other: the join is then a hash join on the vessel key (with `IS NULL OR`
    DuckDB plans a LEFT join as a nested loop, calls x links). Same rows: a NULL `ts`
    matches only a link open at both ends."""
    start, end = f"epoch({alias}.valid_from)", f"epoch({alias}.valid_to)"
    return (
        f"LEFT JOIN ship_links {alias} ON {alias}.vessel_key = {vessel_key} "
        f"AND coalesce(epoch({ts}), -1e18) >= coalesce({start}, -1e18) "
        f"AND coalesce(epoch({ts}), 1e18) < coalesce({end}, 2e18)"
    )


def clone_km(settings: AnalysisSettings) -> float:
    """Farther apart than this in one ten-minute bin, two transmitters are two hulls."""
    return settings.jump_min_km + settings.max_speed_kn * KM_PER_NM * BIN_SECONDS / 3600


def statements(settings: AnalysisSettings, sources: Sources = PER_FIX) -> list[str]:
    """The ships stage's SQL (`sources`: where `ship_links` reads the transmitters: maritime/sources.py)."""
    order = "observed_at NULLS FIRST, source_file, source_row, imo"
    conflicted = "(m.imos > 1 AND (m.runs > m.imos OR m.undated > 0))"
    by_imo = settings.vessel_identity == "imo"
    distance = haversine_km("a.lat", "a.lon", "b.lat", "b.lon")
    in_span = "(c.valid_from IS NULL OR t.ts >= c.valid_from) AND (c.valid_to IS NULL OR t.ts < c.valid_to)"
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE imo_claims AS
        SELECT mmsi, imo, observed_at, source_file, source_row, kind, {imo_valid_sql("imo")} AS imo_valid
        FROM (SELECT mmsi, imo, observed_at, source_file, source_row, 'identity report' AS kind
              FROM vessel_reports WHERE mmsi IS NOT NULL AND imo IS NOT NULL
              UNION ALL
              SELECT mmsi, imo, observed_at, source_file, source_row, 'sighting' AS kind
              FROM sightings WHERE mmsi IS NOT NULL AND imo IS NOT NULL) c
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE imo_runs AS
        WITH flagged AS (
            SELECT *, CASE WHEN imo = lag(imo) OVER w THEN 0 ELSE 1 END AS starts
            FROM imo_claims WHERE imo_valid
            WINDOW w AS (PARTITION BY mmsi ORDER BY {order})
        ), numbered AS (
            SELECT *, sum(starts) OVER (PARTITION BY mmsi ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS run
            FROM flagged
        )
        SELECT mmsi, run, min(imo) AS imo, min(observed_at) AS first_at, max(observed_at) AS last_at,
               count(*) AS reports, count(*) - count(observed_at) AS undated,
               min(source_file || ' row ' || CAST(source_row AS VARCHAR)) AS first_source,
               min(kind) AS kind_a, max(kind) AS kind_b
        FROM numbered GROUP BY mmsi, run
        """,
        """
        CREATE OR REPLACE TEMP TABLE mmsi_imos AS
        SELECT mmsi, count(DISTINCT imo) AS imos, max(run) AS runs, sum(undated) AS undated
        FROM imo_runs GROUP BY mmsi
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE candidate_links AS
        SELECT r.mmsi, r.imo, r.run, CASE WHEN r.run = 1 THEN NULL ELSE r.first_at END AS valid_from,
               lead(r.first_at) OVER (PARTITION BY r.mmsi ORDER BY r.run) AS valid_to,
               'IMO ' || r.imo || ' reported for MMSI ' || CAST(r.mmsi AS VARCHAR) || ' in '
               || CAST(r.reports AS VARCHAR) || ' ' || r.kind_a
               || CASE WHEN r.kind_b <> r.kind_a THEN ' and ' || r.kind_b ELSE '' END || ' row(s)'
               || CASE WHEN r.first_at IS NULL THEN ' (undated)'
                       ELSE ' dated ' || CAST(CAST(r.first_at AS DATE) AS VARCHAR) || ' to '
                            || CAST(CAST(r.last_at AS DATE) AS VARCHAR) END
               || ', first ' || r.first_source AS evidence,
               CASE WHEN m.imos > 1 THEN 'same IMO; MMSI reused by another IMO at another time'
                    ELSE 'same IMO' END AS rule
        FROM imo_runs r JOIN mmsi_imos m ON m.mmsi = r.mmsi
        WHERE NOT {conflicted} AND r.mmsi NOT IN (SELECT mmsi FROM shared_mmsi)
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE clone_pairs AS
        WITH multi AS (
            SELECT imo FROM candidate_links GROUP BY imo HAVING count(DISTINCT mmsi) > 1
        ), binned AS (
            SELECT c.imo, t.mmsi, CAST(floor(epoch(t.ts) / {BIN_SECONDS}) AS BIGINT) AS tbin,
                   avg(t.lat) AS lat, avg(t.lon) AS lon
            FROM track t JOIN candidate_links c ON c.mmsi = t.mmsi AND {in_span}
            WHERE c.imo IN (SELECT imo FROM multi)
            GROUP BY c.imo, t.mmsi, CAST(floor(epoch(t.ts) / {BIN_SECONDS}) AS BIGINT)
        )
        SELECT a.imo, a.mmsi AS mmsi_a, b.mmsi AS mmsi_b, count(*) AS bins,
               to_timestamp(min(a.tbin) * {BIN_SECONDS}) AS first_at,
               to_timestamp((max(a.tbin) + 1) * {BIN_SECONDS}) AS last_at, round(max({distance}), 1) AS max_km
        FROM binned a JOIN binned b ON a.imo = b.imo AND a.tbin = b.tbin AND a.mmsi < b.mmsi
        WHERE {distance} > {clone_km(settings)}
        GROUP BY a.imo, a.mmsi, b.mmsi HAVING count(*) >= {settings.clone_min_bins}
        """,
        """
        CREATE OR REPLACE TEMP TABLE kept_links AS
        SELECT c.* FROM candidate_links c
        WHERE NOT EXISTS (SELECT 1 FROM clone_pairs p WHERE p.imo = c.imo AND (p.mmsi_a = c.mmsi OR p.mmsi_b = c.mmsi))
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE linked_fixes AS
        SELECT c.mmsi, c.run, count(*) AS fixes,
               -- by the track's order (seq): fixes of one second are ordered alike on every engine
               min(t.ts) AS first_fix_at, arg_min(t.lat, t.seq) AS first_lat, arg_min(t.lon, t.seq) AS first_lon,
               max(t.ts) AS last_fix_at, arg_max(t.lat, t.seq) AS last_lat, arg_max(t.lon, t.seq) AS last_lon
        FROM track t JOIN kept_links c ON c.mmsi = t.mmsi AND {in_span}
        GROUP BY c.mmsi, c.run
        """,
        f"""
        CREATE OR REPLACE TABLE ship_links AS
        WITH transmitters AS (
            -- the transmitters first, then their keys: one string per transmitter, not per fix
            SELECT {vessel_key_sql("mmsi", "tx")} AS vessel_key, mmsi
            FROM (SELECT DISTINCT mmsi, tx FROM {sources.transmitters}) fixes
            UNION SELECT CAST(mmsi AS VARCHAR), mmsi FROM vessel_reports WHERE mmsi IS NOT NULL
            UNION SELECT CAST(mmsi AS VARCHAR), mmsi FROM sightings WHERE mmsi IS NOT NULL
        ), linked AS (
            SELECT t.vessel_key, t.mmsi, 'IMO:' || k.imo AS ship_key, k.imo, k.valid_from, k.valid_to,
                   k.rule, k.evidence, f.fixes, f.first_fix_at, f.first_lat, f.first_lon,
                   f.last_fix_at, f.last_lat, f.last_lon
            FROM transmitters t JOIN kept_links k ON k.mmsi = t.mmsi AND t.vessel_key = CAST(t.mmsi AS VARCHAR)
            LEFT JOIN linked_fixes f ON f.mmsi = k.mmsi AND f.run = k.run
        ), own AS (
            SELECT t.vessel_key, t.mmsi, t.vessel_key AS ship_key, CAST(NULL AS VARCHAR) AS imo,
                   CAST(NULL AS TIMESTAMPTZ) AS valid_from, CAST(NULL AS TIMESTAMPTZ) AS valid_to,
                   CASE WHEN t.mmsi IN (SELECT mmsi FROM shared_mmsi) THEN 'own ship: shared MMSI, split into transmitters'
                        WHEN t.mmsi IN (SELECT mmsi_a FROM clone_pairs UNION SELECT mmsi_b FROM clone_pairs)
                            THEN 'own ship: cloned identity (its IMO transmitted elsewhere at the same time)'
                        WHEN m.mmsi IS NOT NULL THEN 'own ship: MMSI claimed by several IMOs at once'
                        WHEN t.mmsi IN (SELECT mmsi FROM imo_claims WHERE NOT imo_valid)
                            THEN 'own ship: IMO check digit invalid'
                        ELSE 'own ship: no IMO reported' END AS rule,
                   CAST(NULL AS VARCHAR) AS evidence, CAST(NULL AS BIGINT) AS fixes,
                   CAST(NULL AS TIMESTAMPTZ) AS first_fix_at, CAST(NULL AS DOUBLE) AS first_lat,
                   CAST(NULL AS DOUBLE) AS first_lon, CAST(NULL AS TIMESTAMPTZ) AS last_fix_at,
                   CAST(NULL AS DOUBLE) AS last_lat, CAST(NULL AS DOUBLE) AS last_lon
            FROM transmitters t LEFT JOIN mmsi_imos m ON m.mmsi = t.mmsi AND {conflicted}
            WHERE NOT EXISTS (SELECT 1 FROM linked l WHERE l.vessel_key = t.vessel_key)
        ), unioned AS (
            SELECT * FROM linked UNION ALL SELECT * FROM own
        )
        SELECT vessel_key, mmsi, {"ship_key" if by_imo else "vessel_key"} AS ship_key, imo, valid_from, valid_to,
               {"rule" if by_imo else "'vessel_identity=mmsi: every transmitter its own ship'"} AS rule, evidence,
               fixes, first_fix_at, first_lat, first_lon, last_fix_at, last_lat, last_lon
        FROM unioned
        ORDER BY ship_key, valid_from NULLS FIRST, vessel_key
        """,
        _findings(),
    ]


def _findings() -> str:
    """imo_conflict, cloned_identity and invalid_imo rows appended to `identity_events`."""
    return """
        INSERT INTO identity_events
        SELECT vessel_key, mmsi, imo, event, observed_at, previous_value, new_value, previous_observed_at,
               source_file, source_row, detail
        FROM (
            SELECT CAST(c.mmsi AS VARCHAR) AS vessel_key, c.mmsi, min(c.imo) AS imo, 'imo_conflict' AS event,
                   min(c.observed_at) AS observed_at, min(c.imo) AS previous_value, max(c.imo) AS new_value,
                   CAST(NULL AS TIMESTAMPTZ) AS previous_observed_at, min(c.source_file) AS source_file,
                   min(c.source_row) AS source_row,
                   'MMSI ' || CAST(c.mmsi AS VARCHAR) || ' claimed by ' || CAST(count(DISTINCT c.imo) AS VARCHAR)
                   || ' IMOs at once (' || min(c.imo) || ' ... ' || max(c.imo)
                   || '): linked to none, it stays a ship of its own' AS detail
            FROM imo_claims c JOIN mmsi_imos m ON m.mmsi = c.mmsi
            WHERE c.imo_valid AND m.imos > 1 AND (m.runs > m.imos OR m.undated > 0)
            GROUP BY c.mmsi
            UNION ALL
            SELECT CAST(p.mmsi_b AS VARCHAR), p.mmsi_b, p.imo, 'cloned_identity', p.first_at,
                   CAST(p.mmsi_a AS VARCHAR), CAST(p.mmsi_b AS VARCHAR), p.last_at, NULL, NULL,
                   'IMO ' || p.imo || ' transmitted by MMSIs ' || CAST(p.mmsi_a AS VARCHAR) || ' and '
                   || CAST(p.mmsi_b AS VARCHAR) || ' at the same time up to ' || CAST(p.max_km AS VARCHAR)
                   || ' km apart (' || CAST(p.bins AS VARCHAR) || ' ten-minute bins, '
                   || CAST(p.first_at AS VARCHAR) || ' to ' || CAST(p.last_at AS VARCHAR)
                   || '): a cloned identity, neither linked to the ship'
            FROM clone_pairs p
            UNION ALL
            SELECT CAST(mmsi AS VARCHAR), mmsi, imo, 'invalid_imo', min(observed_at), NULL, imo, NULL,
                   min(source_file), min(source_row),
                   'IMO ' || imo || ' reported for MMSI ' || CAST(mmsi AS VARCHAR)
                   || ' fails its check digit: not used to link the MMSI to a ship'
            FROM imo_claims WHERE NOT imo_valid
            GROUP BY mmsi, imo
        ) f
    """


def build_timeline(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """`ship_timeline`: for every ship linked to more than one transmitter, or whose
    transmitter reported more than one name, call sign or flag, its identities in time order:
    one row per transmitter span and reported identity (vessel_identities), from the first
    fix, report or sighting to the last, with the files that reported it."""
    con.execute(
        """
        CREATE OR REPLACE TABLE ship_timeline AS
        WITH links AS (
            SELECT * FROM ship_links WHERE ship_key LIKE 'IMO:%'
        ), sighted AS (  -- sightings naming the transmitter's MMSI, or one of its names without an MMSI
            SELECT l.vessel_key, l.valid_from, min(s.observed_at) AS first_sighted, max(s.observed_at) AS last_sighted,
                   string_agg(DISTINCT s.source_file, ', ' ORDER BY s.source_file) AS files
            FROM links l JOIN sightings s
              ON (s.mmsi = l.mmsi OR (s.mmsi IS NULL AND upper(trim(s.vessel_name)) IN
                  (SELECT upper(trim(r.name)) FROM vessel_reports r WHERE r.mmsi = l.mmsi)))
             AND (l.valid_from IS NULL OR s.observed_at >= l.valid_from) AND (l.valid_to IS NULL OR s.observed_at < l.valid_to)
            GROUP BY l.vessel_key, l.valid_from
        ), identities AS (
            SELECT l.ship_key, l.imo, l.vessel_key, l.mmsi, i.name, i.callsign, i.flag,
                   least(i.first_seen, l.first_fix_at, s.first_sighted) AS first_fix_or_report,
                   greatest(i.last_seen, l.last_fix_at, s.last_sighted) AS last_fix_or_report,
                   i.first_seen AS first_reported, i.last_seen AS last_reported,
                   l.first_fix_at, l.last_fix_at, s.first_sighted, s.last_sighted,
                   concat_ws(', ', i.sources, CASE WHEN l.first_fix_at IS NOT NULL THEN 'AIS positions' END, s.files) AS sources,
                   l.rule, l.evidence
            FROM links l JOIN vessel_identities i ON i.mmsi = l.mmsi
             AND (i.imo IS NULL OR i.imo = l.imo)
             AND (l.valid_from IS NULL OR i.last_seen IS NULL OR i.last_seen >= l.valid_from)
             AND (l.valid_to IS NULL OR i.first_seen IS NULL OR i.first_seen < l.valid_to)
            LEFT JOIN sighted s ON s.vessel_key = l.vessel_key AND s.valid_from IS NOT DISTINCT FROM l.valid_from
        ), changed AS (
            SELECT ship_key FROM identities GROUP BY ship_key
            HAVING count(DISTINCT vessel_key) > 1 OR count(DISTINCT coalesce(name, '')) > 1
                OR count(DISTINCT coalesce(flag, '')) > 1 OR count(DISTINCT coalesce(callsign, '')) > 1
        ), ordered AS (
            SELECT i.*, coalesce(first_fix_or_report, last_fix_or_report) AS sort_at
            FROM identities i WHERE ship_key IN (SELECT ship_key FROM changed)
        )
        SELECT ship_key, imo, row_number() OVER (PARTITION BY ship_key ORDER BY sort_at NULLS LAST, vessel_key, name)
                   AS identity_no,
               vessel_key, mmsi, name, callsign, flag,
               first_fix_or_report AS valid_from, last_fix_or_report AS valid_to,
               first_fix_at, last_fix_at, first_sighted, last_sighted, first_reported, last_reported, sources,
               rule, evidence
        FROM ordered ORDER BY ship_key, identity_no
        """
    )
