"""Consignments: the shipment records the analysis counts, one row per consignment.

The `shipments` table keeps every ingested row with its provenance (it is evidence). Leaks
arrive as overlapping exports, and a colleague's re-saved copy of a file (other encoding,
ISO dates, no digit grouping) holds the same records in other text: counted twice, they
would double the tonnage. Here every record gets a *consignment key* — waybill, wagon and
container compared after folding look-alike letters (`reference/identifiers.py`), the record
type (departure/arrival) and its day (departure day; for an arrival its arrival day, else its
departure day) — and each key is counted once:

* `consignment_records`: every shipment row with its key, `version_rank` (1 = the row that
  counts: a row with a plausible weight first, then the first ingested, then file and row),
  `copies` (rows of the key) and `signature` (weight, cargo, class, stations): the rows of a
  key whose signatures differ are `conflicting` versions, reported by the findings, never
  summed;
* `consignments`: the rank-1 rows, with `copies`, `conflicting`, `counted_t` (the weight that enters totals: NULL when `weight_left_out`
  names why not — a weight flagged `weight_implausible` at ingest), `mixed_script` (a
  waybill or wagon mixing Latin and Cyrillic letters) and `date_out_of_period`;
* `evidence_period`: the period the evidence covers. Every record's day and every port
  call's day, in time order, split where `period_gap_days` pass without any; a group holding
  fewer than `period_min_share` of the records of the largest group is outside the period.
  A date outside it (a year typo, say) is kept and flagged, and stays off the day axis of the
  significance test.
"""

from __future__ import annotations

from cargotrace.reference.identifiers import id_key_sql, mixed_script_sql
from cargotrace.settings import AnalysisSettings

# Flags set at ingest (ingest/kinds/shipments.py) whose weight never enters a total.
WEIGHT_EXCLUDING_FLAGS = ("weight_implausible",)


def _weight_left_out_sql(flags: str) -> str:
    cases = " ".join(
        f"WHEN list_contains(string_split(coalesce({flags}, ''), ','), '{flag}') THEN '{flag}'"
        for flag in WEIGHT_EXCLUDING_FLAGS
    )
    return f"CASE {cases} END"


def statements(settings: AnalysisSettings) -> list[str]:
    gap = int(settings.period_gap_days)
    share = float(settings.period_min_share)
    return [
        f"""
        CREATE OR REPLACE TABLE consignment_records AS
        WITH keyed AS (
            SELECT s.rowid AS _rid, s.row_hash, s.record, s.source_file, s.sheet, s.source_row,
                   coalesce({id_key_sql("s.waybill")}, s.waybill) AS waybill_key,
                   coalesce({id_key_sql("s.wagon")}, '') AS wagon_key,
                   coalesce({id_key_sql("s.container")}, '') AS container_key,
                   CASE WHEN s.record = 'arrival' THEN coalesce(s.arrived_on, s.departed_on)
                        ELSE s.departed_on END AS record_day,
                   {_weight_left_out_sql("s.flags")} AS weight_left_out,
                   {mixed_script_sql("s.waybill")} OR {mixed_script_sql("s.wagon")} AS mixed_script,
                   concat_ws('|', coalesce(CAST(round(s.weight_t, 3) AS VARCHAR), ''), coalesce(s.cargo_class, ''),
                             lower(trim(coalesce(s.cargo, ''))), coalesce(s.origin_esr, ''),
                             coalesce(s.destination_esr, '')) AS signature,
                   l.ingested_at
            FROM shipments s LEFT JOIN ledger l ON l.file_hash = s.file_hash
        ), signed AS (
            SELECT *, concat_ws('|', waybill_key, wagon_key, container_key, record,
                                coalesce(CAST(record_day AS VARCHAR), '')) AS consignment_key
            FROM keyed
        ), ranked AS (
            -- the window sorts these few columns only; the records' other columns join back after
            SELECT _rid, waybill_key, wagon_key, container_key, record_day, weight_left_out, mixed_script,
                   signature, ingested_at, consignment_key,
                   row_number() OVER w AS version_rank, count(*) OVER whole AS copies,
                   min(signature) OVER whole IS DISTINCT FROM max(signature) OVER whole AS conflicting
            FROM signed
            WINDOW w AS (PARTITION BY consignment_key
                         ORDER BY weight_left_out IS NOT NULL, ingested_at NULLS LAST, source_file, sheet NULLS FIRST, source_row, row_hash),
                   whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        )
        SELECT s.*, r.* EXCLUDE (_rid) FROM shipments s JOIN ranked r ON r._rid = s.rowid
        """,
        f"""
        CREATE OR REPLACE TABLE evidence_period AS
        WITH ev AS (
            SELECT record_day AS day, 1 AS records FROM consignment_records
            WHERE version_rank = 1 AND record_day IS NOT NULL
            UNION ALL
            SELECT CAST(arrived_at AS DATE), 0 FROM port_calls WHERE arrived_at IS NOT NULL
        ), days AS (
            SELECT day, sum(records) AS records FROM ev GROUP BY day
        ), gapped AS (
            SELECT *, CASE WHEN date_diff('day', lag(day) OVER (ORDER BY day), day) > {gap} THEN 1 ELSE 0 END AS new_group
            FROM days
        ), grouped AS (
            SELECT *, sum(new_group) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING) AS grp FROM gapped
        ), groups AS (
            SELECT grp, min(day) AS first_day, max(day) AS last_day, sum(records) AS records
            FROM grouped GROUP BY grp
        ), kept AS (
            SELECT * FROM groups
            WHERE records > 0 AND records >= {share} * (SELECT max(records) FROM groups)
        )
        SELECT min(first_day) AS first_day, max(last_day) AS last_day,
               CAST(sum(records) AS BIGINT) AS records, count(*) AS groups
        FROM kept
        """,
        """
        CREATE OR REPLACE TABLE consignments AS
        SELECT r.* EXCLUDE (version_rank, signature, ingested_at),
               CASE WHEN r.weight_left_out IS NULL THEN r.weight_t END AS counted_t,
               coalesce(r.record_day NOT BETWEEN p.first_day AND p.last_day, false) AS date_out_of_period
        FROM consignment_records r CROSS JOIN evidence_period p
        WHERE r.version_rank = 1
        """,
    ]
