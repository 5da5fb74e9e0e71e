"""`ingest --replace`: read a file the case already holds again (e.g. with a corrected
mapping). Every row it brought (kept, quarantined, side tables, its ledger entry) is removed
in the same transaction that ingests it anew, so a failure leaves the old rows in place."""

from __future__ import annotations

import duckdb

from cargotrace.case import quarantine as stored_quarantine
from cargotrace.case.store import quote_ident


def forget_file(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """Delete the file's rows from every stored table with a `file_hash` column; returns
    the rows removed per table (tables it had no rows in left out)."""
    tables = [
        r[0]
        for r in con.execute(
            """SELECT c.table_name FROM information_schema.columns c
               JOIN information_schema.tables t
                 ON t.table_name = c.table_name AND t.table_schema = c.table_schema
               WHERE c.column_name = 'file_hash' AND t.table_type = 'BASE TABLE'
                 AND c.table_schema = 'main'
               ORDER BY c.table_name"""
        ).fetchall()
    ]
    removed = {}
    row = con.execute(  # the refused messages of its Parquet part count as the runs' do
        f"SELECT CAST(json_extract(detail, '$.{stored_quarantine.PART_KEY}.rows') AS BIGINT) "
        "FROM ledger WHERE file_hash = ?",
        [file_hash],
    ).fetchone()
    in_part = int(row[0]) if row and row[0] else 0
    for table in tables:
        refused = None  # a stored run of refused messages counts as its messages
        if table == stored_quarantine.RUNS:
            refused = con.execute(
                f"SELECT sum(rows) FROM {table} WHERE file_hash = ?", [file_hash]
            ).fetchone()
        row = con.execute(
            f"DELETE FROM {quote_ident(table)} WHERE file_hash = ?", [file_hash]
        ).fetchone()
        if table == stored_quarantine.RUNS and in_part:
            removed[table] = int(refused[0] if refused and refused[0] else 0) + in_part
        elif refused and refused[0]:
            removed[table] = int(refused[0])
        elif row and row[0]:
            removed[table] = int(row[0])
    return removed
