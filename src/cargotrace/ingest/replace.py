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
    for table in tables:
        refused = None  # a stored run of refused messages counts as its messages
        if table == stored_quarantine.RUNS:
            refused = con.execute(
                f"SELECT sum(rows) FROM {table} WHERE file_hash = ?", [file_hash]
            ).fetchone()
        row = con.execute(
            f"DELETE FROM {quote_ident(table)} WHERE file_hash = ?", [file_hash]
        ).fetchone()
        if refused and refused[0]:
            removed[table] = int(refused[0])
        elif row and row[0]:
            removed[table] = int(row[0])
    return removed
