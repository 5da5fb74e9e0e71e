"""The quarantine as users see it: one row per refused row, with its reason and raw text.

Two tables hold it. `quarantine` has one row per refused row (tabular kinds).
`quarantine_runs` holds the refused messages of NMEA logs compactly: up to `RUN_ROWS`
refused messages of one file with the same reason and column in one row, with the line
and the text of each as lists (a logger without times refuses most of its messages, and
storing a million of them one row each cost more than decoding them). Every reader of the
quarantine goes through `rows_sql` (one row per refused row: the view `quarantine_rows`,
which SQL users can query too) or `counted_sql` (one row per stored row with its count of
refused rows, for counts by reason or file), so the promise
"rows read = kept + quarantined + duplicates" and "every refused row can be seen with its
reason and raw text" hold for both. A case made before `quarantine_runs` existed, opened
read-only, has only `quarantine`.
"""

from __future__ import annotations

import duckdb

RUNS = "quarantine_runs"
# Refused messages per stored run. DuckDB handles rows 2,048 at a time, lists included, and
# a transaction's rows that fill no row group (122,880 rows) wait in memory until the commit:
# runs of 10,000 messages (~1 MB) made a commit fail for want of memory ("failed to pin
# block") once a file refused ~3x DuckDB's share of text; runs of 100 cost as little
# (one stored row per 100 messages) and keep 2,048 of them near 20 MB
RUN_ROWS = 100

# the columns of `quarantine`, in its order
COLUMNS = "kind, reason, column_name, raw, file_hash, source_file, sheet, source_row"


def has_runs(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the case has `quarantine_runs` and its view (a case made before them, opened
    read-only, has not)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name IN (?, ?)",
        [RUNS, ROWS_VIEW],
    ).fetchone()
    return bool(row and row[0] == 2)


ROWS_VIEW = "quarantine_rows"
VIEW_SQL = f"""CREATE OR REPLACE VIEW {ROWS_VIEW} AS
SELECT {COLUMNS} FROM quarantine
UNION ALL
SELECT kind, reason, column_name, unnest(raw) AS raw, file_hash, source_file, sheet,
       unnest(source_rows) AS source_row
FROM {RUNS}
"""


def rows_sql(con: duckdb.DuckDBPyConnection) -> str:
    """What to select from for the columns of `quarantine`, one row per refused row."""
    return ROWS_VIEW if has_runs(con) else "quarantine"


def counted_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A subquery of kind, reason, column_name, `rows` (refused rows it stands for),
    source_row (the first), raw (the first row's), file_hash, source_file, sheet: sum `rows`
    to count refused rows without expanding the runs."""
    single = "SELECT kind, reason, column_name, 1 AS rows, source_row, raw, file_hash, source_file, sheet FROM quarantine"
    if not has_runs(con):
        return f"({single})"
    return f"""({single} UNION ALL
               SELECT kind, reason, column_name, rows, source_row, raw[1], file_hash, source_file, sheet
               FROM {RUNS})"""


def run_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Runs whose count, row numbers and texts disagree (for `check`)."""
    if not has_runs(con):
        return []
    bad = con.execute(
        f"""SELECT source_file, source_row FROM {RUNS}
            WHERE rows IS DISTINCT FROM len(source_rows) OR rows IS DISTINCT FROM len(raw)
               OR source_row IS DISTINCT FROM source_rows[1] OR last_row IS DISTINCT FROM source_rows[-1]
            ORDER BY 1, 2"""
    ).fetchall()
    return [f"{name}: the quarantined run from row {row} does not add up" for name, row in bad]
