"""DuckDB settings changed for the length of a block, one definition for every stage that
needs one (an insert on one thread, insertion order left free, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb

Value = bool | int | str


def _literal(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def duckdb_settings(con: duckdb.DuckDBPyConnection, **values: Value) -> Iterator[None]:
    """`SET name = value` for each of `values` while the block runs, the earlier values put
    back after it. When the block fails inside a transaction, DuckDB refuses the SETs until
    the transaction is rolled back: the block's own error is the one raised (not the
    aborted transaction's) and the connection keeps the block's settings."""
    names = list(values)
    earlier = con.execute(
        "SELECT " + ", ".join(f"current_setting({_literal(n)})" for n in names)
    ).fetchone()
    assert earlier is not None
    for name, value in values.items():
        con.execute(f"SET {name} = {_literal(value)}")
    try:
        yield
    finally:
        with suppress(duckdb.Error):
            for name, value in zip(names, earlier, strict=True):
                con.execute(f"SET {name} = {_literal(value)}")
