"""Shipments chunks are typed (trimmed, derived columns, row hashes, the kind's SELECT) on
the thread that reads the next chunk (`stream_load.typed_ahead`), while the main thread
stores the one before: the case holds exactly what typing each chunk in place (the SELECT
run by the insert) gives."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from cargotrace.case.store import Case
from cargotrace.ingest import registry, stream_load
from cargotrace.ingest.readers import csvread
from cargotrace.ingest.types import ChunkContext, Mapping, TabularKind

from builders import write_big_shipments

ROWS = 12_000
REFUSED = 3
# chunks of 1,024 rows (the reader's least, CHUNK_BYTES being tiny), the last one taking up
# to 20 % more: 12,005 rows = 11 x 1,024 + 741
CHUNKS = 12


def _register(path: Path) -> Path:
    write_big_shipments(path, rows=ROWS)
    with open(path, "a", encoding="cp1251", newline="") as handle:
        for i in range(REFUSED):  # refused: impossible dates, in the last chunk
            handle.write(
                f"Ж{i};отправление;31.02.2023;Находка;984700;Тихорецкая;515002;уголь;60;24567893\r\n"
            )
        with open(path, encoding="cp1251", newline="") as again:  # copies of rows of chunk 1
            lines = again.read().split("\r\n")[1:3]
        handle.write("\r\n".join(lines) + "\r\n")
        # a copy of a refused row: a duplicate, not refused twice
        handle.write(
            "Ж0;отправление;31.02.2023;Находка;984700;Тихорецкая;515002;уголь;60;24567893\r\n"
        )
    return path


def _ingest(
    path: Path, case_dir: Path, type_ahead: bool
) -> tuple[tuple[int, ...], list[tuple], list[tuple]]:
    spec = dataclasses.replace(registry.TABULAR["shipments"], type_ahead=type_ahead)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.TABULAR, "shipments", spec)
        with Case.open(case_dir, write=True, create=True) as case:
            result = registry.ingest_file(case, "shipments", path, Mapping(), None)
            rows = case.con.execute(
                "SELECT * EXCLUDE (source_file) FROM shipments ORDER BY source_row"
            ).fetchall()
            refused = case.con.execute(
                "SELECT reason, source_row FROM quarantine ORDER BY source_row"
            ).fetchall()
    counts = (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate)
    return counts, rows, refused


def test_chunks_typed_ahead_on_the_reader_thread_store_what_typing_in_place_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)  # the Arrow reader, read ahead
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1)
    path = _register(tmp_path / "реестр.csv")
    threads: list[str] = []
    typed = stream_load.type_chunk

    def recorded(con: object, spec: TabularKind, ctx: ChunkContext, table: pa.Table) -> object:
        threads.append(threading.current_thread().name)
        return typed(con, spec, ctx, table)  # type: ignore[arg-type]

    monkeypatch.setattr(stream_load, "type_chunk", recorded)
    ahead = _ingest(path, tmp_path / "ahead", type_ahead=True)
    assert threads == ["cargotrace-read-ahead"] * CHUNKS
    threads.clear()
    in_place = _ingest(path, tmp_path / "in_place", type_ahead=False)
    assert threads == ["MainThread"] * CHUNKS
    assert ahead[0] == in_place[0] == (ROWS + REFUSED + 3, ROWS, REFUSED, 3)
    assert ahead[1] == in_place[1] and len(ahead[1]) == ROWS
    assert ahead[2] == in_place[2] == [("bad_date", ROWS + 2 + i) for i in range(REFUSED)]


def test_a_missing_column_found_on_the_reader_thread_is_the_same_clear_error(
    tmp_path: Path,
) -> None:
    from cargotrace.errors import InputError

    from builders import write_csv

    path = write_csv(
        tmp_path / "s.csv",
        ["Станция", "Груз"],
        [["Находка", "уголь"]] * 3,
        encoding="cp1251",
        delimiter=";",
    )
    with Case.open(tmp_path / "case", write=True, create=True) as case:
        with pytest.raises(InputError) as raised:
            registry.ingest_file(case, "shipments", path, Mapping(), None)
    assert raised.value.file == "s.csv" and "waybill" in str(raised.value)


def _chunk_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (rows, first row number) of every chunk typed from now on, filled as they come."""
    sizes: list[tuple[int, int]] = []
    typed = stream_load.type_chunk

    def recorded(con: object, spec: TabularKind, ctx: ChunkContext, table: pa.Table) -> object:
        sizes.append((table.num_rows, int(table.column("_row")[0].as_py())))
        return typed(con, spec, ctx, table)  # type: ignore[arg-type]

    monkeypatch.setattr(stream_load, "type_chunk", recorded)
    return sizes


def test_the_first_chunk_of_a_register_typed_ahead_is_one_row_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader waits for the first chunk only: it is cut at FIRST_CHUNK_ROWS, the next ones
    at the reader's size (here its least, 1,024 rows), the last taking up to 20 % more."""
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1)
    monkeypatch.setattr(registry, "FIRST_CHUNK_ROWS", 500)
    path = write_big_shipments(tmp_path / "реестр.csv", rows=ROWS)
    sizes = _chunk_sizes(monkeypatch)
    counts, _, _ = _ingest(path, tmp_path / "case", type_ahead=True)
    assert counts == (ROWS, ROWS, 0, 0)
    # (rows, first row number): 12,000 rows = 500 + 11 x 1,024 + 236, the header on row 1
    assert sizes == [(500, 2)] + [(1_024, 502 + 1_024 * i) for i in range(11)] + [(236, 11_766)]


def test_a_chunk_selected_ahead_keeps_the_raw_cells_of_its_refused_rows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kind's SELECT runs with the typing (`stream_load.selects_ahead`): a typed chunk
    holds the SELECT's output for every row and the raw cells of the refused ones (the
    quarantine's text), here the last chunk's three impossible dates and the copy of one."""
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1)
    path = _register(tmp_path / "реестр.csv")
    kept: list[tuple[bool, int, int, int]] = []
    typed = stream_load.type_chunk

    def recorded(con: object, spec: TabularKind, ctx: ChunkContext, table: pa.Table) -> object:
        rows = table.num_rows
        chunk = typed(con, spec, ctx, table)  # type: ignore[arg-type]
        raw, selected, _, bad = chunk._parts  # type: ignore[misc]
        assert selected.num_rows == rows and bad is not None
        kept.append((chunk.selected, rows, raw.num_rows, bad.num_rows))
        return chunk

    monkeypatch.setattr(stream_load, "type_chunk", recorded)
    counts, _, refused = _ingest(path, tmp_path / "case", type_ahead=True)
    assert stream_load.selects_ahead(registry.TABULAR["shipments"])
    assert [k[0] for k in kept] == [True] * CHUNKS
    assert [k[2:] for k in kept] == [(0, 0)] * (CHUNKS - 1) + [(REFUSED + 1, REFUSED + 1)]
    assert sum(k[1] for k in kept) == ROWS + REFUSED + 3
    assert counts == (ROWS + REFUSED + 3, ROWS, REFUSED, 3)
    assert refused == [("bad_date", ROWS + 2 + i) for i in range(REFUSED)]


def test_the_later_chunks_of_a_register_typed_ahead_are_two_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first chunk the reader cuts AHEAD_CHUNK_ROWS (two row groups; here 1,000),
    not the streaming kinds' FAST_CHUNK_ROWS: the last chunk, stored while the reading
    thread has nothing left to do, stays short."""
    from cargotrace.ingest.readers import tabular

    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(registry, "FIRST_CHUNK_ROWS", 500)
    monkeypatch.setattr(tabular, "AHEAD_CHUNK_ROWS", 1_000)
    path = write_big_shipments(tmp_path / "реестр.csv", rows=ROWS)
    sizes = _chunk_sizes(monkeypatch)
    counts, _, _ = _ingest(path, tmp_path / "case", type_ahead=True)
    assert counts == (ROWS, ROWS, 0, 0)
    # 12,000 rows = 500 + 11 x 1,000 + 500 (more than the 20 % the last chunk may take on)
    assert sizes == [(500, 2)] + [(1_000, 502 + 1_000 * i) for i in range(11)] + [(500, 11_502)]
