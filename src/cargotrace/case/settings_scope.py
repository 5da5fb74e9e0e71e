"""DuckDB settings changed for the length of a block, one definition for every stage that
needs one (an insert on one thread, insertion order left free, ...)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from cargotrace.sql import sql_str

Value = bool | int | str

# Settings a block could not put back because its transaction had failed: DuckDB refuses
# every statement, SET included, until the ROLLBACK. `put_back_after_rollback` applies them.
_pending: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, Value]] = (
    weakref.WeakKeyDictionary()
)


def _literal(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return sql_str(value)


@contextmanager
def duckdb_settings(con: duckdb.DuckDBPyConnection, **values: Value) -> Iterator[None]:
    """`SET name = value` for each of `values` while the block runs, the earlier values put
    back after it. When the block fails inside a transaction, DuckDB refuses the SETs until
    the transaction is rolled back: the block's own error is the one raised (not the
    aborted transaction's), and the earlier values are put back by the ROLLBACK's
    `put_back_after_rollback`."""
    names = list(values)
    earlier = con.execute(
        "SELECT " + ", ".join(f"current_setting({_literal(n)})" for n in names)
    ).fetchone()
    assert earlier is not None
    _set(con, values)
    try:
        yield
    finally:
        restore = dict(zip(names, earlier, strict=True))
        try:
            _set(con, restore)
        except duckdb.Error:
            _pending.setdefault(con, {}).update(restore)  # an outer block's values win


def _set(con: duckdb.DuckDBPyConnection, values: dict[str, Value]) -> None:
    for name, value in values.items():
        con.execute(f"SET {name} = {_literal(value)}")


def put_back_after_rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Put back the settings that blocks failing inside the transaction just rolled back
    could not (the case's `transaction` calls it after its ROLLBACK)."""
    pending = _pending.pop(con, None)
    if pending:
        _set(con, pending)
