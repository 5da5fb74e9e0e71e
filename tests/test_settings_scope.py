"""DuckDB settings changed for a block come back after it; a failing block's own error is
the one raised (case/settings_scope.py)."""

from __future__ import annotations

import duckdb
import pytest

from cargotrace.case.settings_scope import duckdb_settings, put_back_after_rollback
from cargotrace.case.store import Case


def _settings(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "SELECT current_setting('threads'), current_setting('preserve_insertion_order'), "
        "current_setting('TimeZone')"
    ).fetchone()


def test_settings_hold_in_the_block_and_come_back_after_it():
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET TimeZone = 'UTC'")
    before = _settings(con)
    assert before == (2, True, "UTC")
    with duckdb_settings(
        con, threads=1, preserve_insertion_order=False, TimeZone="Asia/Vladivostok"
    ):
        assert _settings(con) == (1, False, "Asia/Vladivostok")
    assert _settings(con) == before


def test_a_failing_block_raises_its_own_error_and_the_settings_come_back():
    con = duckdb.connect()
    con.execute("SET threads = 2")
    with pytest.raises(ValueError, match="the block's"):
        with duckdb_settings(con, threads=1):
            raise ValueError("the block's")
    assert _settings(con)[0] == 2


def test_in_an_aborted_transaction_the_statements_error_is_the_one_raised():
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    con.execute("BEGIN")
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        with duckdb_settings(con, threads=1):
            con.execute("INSERT INTO t VALUES (NULL)")
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    put_back_after_rollback(con)
    assert _settings(con)[0] == 2


def test_settings_a_failed_transaction_kept_come_back_with_its_rollback(tmp_path):
    with Case.open(tmp_path / "case", create=True) as case:
        case.con.execute("SET threads = 2")
        case.con.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
            with case.transaction() as con:
                with duckdb_settings(con, threads=2):  # nested: the outer value wins
                    with duckdb_settings(con, threads=1, preserve_insertion_order=False):
                        con.execute("INSERT INTO t VALUES (NULL)")
        assert _settings(case.con)[:2] == (2, True)
