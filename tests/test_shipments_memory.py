"""A shipments register streams in with DuckDB's share lowered to `shipments.MEMORY_LIMIT`
(the reader's chunks and Arrow live beside it: peak RSS of a 5 GB register <= 1.5 GB,
tests/test_resource_bounds.py); the case's own limit is back once the file is in, and a
limit the user set (CARGOTRACE_MEMORY_LIMIT) is left alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from cargotrace.case.store import Case
from cargotrace.ingest import registry, stream_load
from cargotrace.ingest.kinds import shipments
from cargotrace.ingest.types import ChunkContext, Mapping

from builders import write_csv

HEADER = [
    "Номер накладной",
    "Дата отправления",
    "Станция отправления",
    "Наименование груза",
    "Вес, т",
]


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]


def _ingest_watching_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, str]:
    """(limit before, limit while the rows load, limit after) of one shipments file."""
    path = write_csv(
        tmp_path / "реестр.csv", HEADER, [["ЭА1", "01.09.2023", "Находка", "Уголь", "60"]]
    )
    seen: list[str] = []

    def watch(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
        seen.append(_limit(con))

    monkeypatch.setitem(
        registry.TABULAR, "shipments", dataclasses.replace(shipments.SHIPMENTS, prepare=watch)
    )
    with Case.open(tmp_path / "case", write=True, create=True) as case:
        before = _limit(case.con)
        result = registry.ingest_file(case, "shipments", path, Mapping())
        after = _limit(case.con)
    assert result.rows_kept == 1 and len(seen) == 1
    return before, seen[0], after


def test_the_limit_is_lowered_while_a_register_loads_and_restored_after(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("CARGOTRACE_MEMORY_LIMIT", raising=False)
    before, during, after = _ingest_watching_the_limit(tmp_path, monkeypatch)
    assert during == _limit(duckdb.connect(config={"memory_limit": shipments.MEMORY_LIMIT}))
    assert after == before and float(during.split()[0]) < float(before.split()[0])


def test_a_limit_the_user_set_is_left_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CARGOTRACE_MEMORY_LIMIT", "2GB")
    before, during, after = _ingest_watching_the_limit(tmp_path, monkeypatch)
    assert before == during == after == _limit(duckdb.connect(config={"memory_limit": "2GB"}))


def _settings(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    threads, order = con.execute(
        "SELECT current_setting('threads'), current_setting('preserve_insertion_order')"
    ).fetchone()  # type: ignore[misc]
    return int(threads), bool(order)


def test_the_kept_rows_are_inserted_on_one_thread_and_the_settings_come_back() -> None:
    con = duckdb.connect(config={"threads": 2})
    before = _settings(con)
    with stream_load._sequential_insert(con, one_thread=True):
        assert _settings(con) == (1, False)
    assert _settings(con) == before == (2, True)


def test_one_thread_writes_each_row_group_as_it_fills_and_the_setting_comes_back() -> None:
    con = duckdb.connect()
    setting = "SELECT current_setting('write_buffer_row_group_count')"
    before = con.execute(setting).fetchone()
    with stream_load._sequential_insert(con, one_thread=True):
        assert con.execute(setting).fetchone() == (stream_load.FLUSHED_ROW_GROUPS,) == (1,)
    assert con.execute(setting).fetchone() == before != (1,)
    with stream_load._sequential_insert(con, one_thread=False):  # a stage's insert: DuckDB's own
        assert con.execute(setting).fetchone() == before


def test_a_failing_insert_raises_its_own_error_not_the_aborted_transactions() -> None:
    con = duckdb.connect(config={"threads": 2})
    con.execute("CREATE TABLE t (x INTEGER)")
    con.begin()
    with pytest.raises(duckdb.ConversionException, match="abc"):
        with stream_load._sequential_insert(con, one_thread=True):
            con.execute("INSERT INTO t SELECT 'abc'")
    con.rollback()
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
