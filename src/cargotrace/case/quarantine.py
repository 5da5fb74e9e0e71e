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

The runs of an NMEA log may also be a Parquet part of the case folder (`PARTS_DIR`, one per
file, written while the log is read): its name is in the file's ledger row (`detail`, key
`PART_KEY`), inserted in the file's transaction, so a part no ledger row names (a killed
ingest's) is not read and the next writer removes it (`drop_orphan_parts`). DuckDB
compressing a log's refused texts at the commit cost more than decoding them. Every
connection of `Case.open` reads the parts through temporary views (`attach_parts`):
`quarantine_rows` (over the stored view of that name) and `RUNS_ALL` (the runs and the
parts' runs), so what reads the quarantine through `rows_sql`, `counted_sql` or
`quarantine_rows` sees them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from cargotrace.sql import sql_str

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


PARTS_DIR = "quarantine"  # in the case folder: the Parquet parts of quarantined runs
PART_KEY = "quarantine_part"  # ledger.detail: {"file": name in PARTS_DIR, "runs": .., "rows": ..}
RUNS_ALL = "quarantine_runs_all"  # temporary view: `quarantine_runs` and the parts' runs
RUN_COLUMNS = (
    "kind, reason, column_name, rows, last_row, source_rows, raw, file_hash, source_file, "
    "sheet, source_row"
)


def part_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The parts the ledger names (one per NMEA log that has one), in name order."""
    rows = con.execute(
        f"""SELECT name FROM (SELECT json_extract_string(detail, '$.{PART_KEY}.file') AS name FROM ledger)
            WHERE name IS NOT NULL ORDER BY name"""
    ).fetchall()
    return [str(r[0]) for r in rows]


def new_part_path(root: Path, file_hash: str) -> Path:
    """Where a new part of the file goes: a name no part of the folder has (a file read
    again with `--replace` gets a part of its own, the old one stays until its commit)."""
    folder = root / PARTS_DIR
    k = 1
    while (folder / f"{file_hash[:16]}-{k}.parquet").exists():
        k += 1
    return folder / f"{file_hash[:16]}-{k}.parquet"


def drop_orphan_parts(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Remove the parts no ledger row names (left by a killed or failed ingest, or replaced);
    only a writer of the case calls this (it holds the lock)."""
    folder = root / PARTS_DIR
    if not folder.is_dir():
        return
    named = set(part_names(con))
    for path in folder.glob("*.parquet"):
        if path.name not in named:
            path.unlink(missing_ok=True)


def attach_parts(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    pending: str | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> None:
    """(Re)make the temporary views that add the parts to the quarantine: those the ledger
    names, and `pending` (the part of the file being ingested, in its transaction: the
    views are rolled back with it). A part is read only while the ledger names it (or it
    is `pending`): a file forgotten by `--replace` leaves its part unread. A missing part
    is left out (`part_problems` says so), and so is one that cannot be read, with a
    warning (or without, named in `leave_out`)."""
    if not has_runs(con):
        return
    names = part_names(con)
    if pending:
        names.append(pending)
    folder = root.resolve() / PARTS_DIR
    files = [folder / name for name in names if name not in leave_out]
    files = [f for f in files if f.is_file()]
    for view in (ROWS_VIEW, RUNS_ALL):
        con.execute(f"DROP VIEW IF EXISTS temp.main.{view}")
    if not files:
        return
    try:
        _make_views(con, files, pending)
    except duckdb.Error:  # a part that cannot be read: the others are
        damaged = [f for f in files if _unreadable(con, f)]
        for f in damaged:
            print(
                f"warning: the quarantine part {f} cannot be read: its refused rows are left "
                "out (run `cargotrace check`)",
                file=sys.stderr,
            )
        for view in (ROWS_VIEW, RUNS_ALL):
            con.execute(f"DROP VIEW IF EXISTS temp.main.{view}")
        files = [f for f in files if f not in damaged]
        if files:
            _make_views(con, files, pending)


def _make_views(con: duckdb.DuckDBPyConnection, files: list[Path], pending: str | None) -> None:
    row = con.execute("SELECT current_database()").fetchone()
    db = '"' + str(row[0] if row else "main").replace('"', '""') + '"'  # the case's, not temp
    listed = ", ".join(sql_str(str(f)) for f in files)
    named = f"SELECT json_extract_string(detail, '$.{PART_KEY}.file') FROM {db}.main.ledger"
    also = f" OR parse_filename(filename) = {sql_str(pending)}" if pending else ""
    con.execute(
        f"""CREATE TEMP VIEW {RUNS_ALL} AS
            SELECT {RUN_COLUMNS} FROM {db}.main.{RUNS}
            UNION ALL
            SELECT {RUN_COLUMNS} FROM read_parquet([{listed}], filename = true)
            WHERE parse_filename(filename) IN ({named}){also}"""
    )
    con.execute(
        f"""CREATE TEMP VIEW {ROWS_VIEW} AS
            SELECT {COLUMNS} FROM {db}.main.quarantine
            UNION ALL
            SELECT kind, reason, column_name, unnest(raw) AS raw, file_hash, source_file, sheet,
                   unnest(source_rows) AS source_row
            FROM {RUNS_ALL}"""
    )


def _unreadable(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """Why the part cannot be read, or None."""
    try:
        con.execute("SELECT count(*) FROM parquet_file_metadata(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def _runs(con: duckdb.DuckDBPyConnection) -> str:
    """The stored runs, with the parts' when `attach_parts` made their view."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [RUNS_ALL]
    ).fetchone()
    return RUNS_ALL if row and row[0] else RUNS


def part_problems(con: duckdb.DuckDBPyConnection, root: Path) -> list[str]:
    """The parts the ledger names that are missing from the case folder or cannot be read
    (for `check`: the views leave them out, so the counts that follow tell what is lost)."""
    folder = root / PARTS_DIR
    problems = []
    for name in part_names(con):
        path = folder / name
        if not path.is_file():
            problems.append(
                f"the quarantine part {name} (named in the ledger) is missing from {PARTS_DIR}/"
            )
        elif why := _unreadable(con, path):
            problems.append(f"the quarantine part {PARTS_DIR}/{name} cannot be read: {why}")
    return problems


def counted_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A subquery of kind, reason, column_name, `rows` (refused rows it stands for),
    source_row (the first), raw (the first row's), file_hash, source_file, sheet: sum `rows`
    to count refused rows without expanding the runs."""
    single = "SELECT kind, reason, column_name, 1 AS rows, source_row, raw, file_hash, source_file, sheet FROM quarantine"
    if not has_runs(con):
        return f"({single})"
    return f"""({single} UNION ALL
               SELECT kind, reason, column_name, rows, source_row, raw[1], file_hash, source_file, sheet
               FROM {_runs(con)})"""


def run_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Runs whose count, row numbers and texts disagree (for `check`)."""
    if not has_runs(con):
        return []
    bad = con.execute(
        f"""SELECT source_file, source_row FROM {_runs(con)}
            WHERE rows IS DISTINCT FROM len(source_rows) OR rows IS DISTINCT FROM len(raw)
               OR source_row IS DISTINCT FROM source_rows[1] OR last_row IS DISTINCT FROM source_rows[-1]
            ORDER BY 1, 2"""
    ).fetchall()
    return [f"{name}: the quarantined run from row {row} does not add up" for name, row in bad]
