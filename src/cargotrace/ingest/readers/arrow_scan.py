"""Handing Arrow tables to DuckDB inside a long transaction without keeping them alive.

`con.register(name, table)` keeps the table alive until the transaction commits, even after
`unregister`; a file is one transaction, so registering every chunk of a big file would hold
the whole file in memory. DuckDB's replacement scan instead finds a table held in a local
variable of the calling frames by its name, for as long as the variable lives: assign the
chunk to a local, run the SQL inside `local_scans(con)`, and the chunk dies with the frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def local_scans(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB find Arrow tables held in local variables of any calling frame."""
    con.execute("SET python_scan_all_frames = true")
    try:
        yield
    except BaseException:
        try:  # the error in flight is the one to report, not the aborted transaction's
            con.execute("RESET python_scan_all_frames")
        except duckdb.Error:
            pass
        raise
    con.execute("RESET python_scan_all_frames")
