"""How shipments rows are stored: their hashes as earlier versions made them, and in whole
DuckDB row groups (122,880 rows, the last of each chunk excepted): part-filled row groups
made the checkpoint closing the case merge them by writing the whole table again (as much
work as storing it the first time)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.ingest.readers import csvread
from cargotrace.ingest.registry import ingest_file
from cargotrace.ingest.types import Mapping

from builders import write_big_shipments, write_csv

ROWS = 250_000
REFUSED = 7
ROW_GROUP = 122_880  # DuckDB's rows per row group


def _row_group_sizes(case: Case) -> list[int]:
    rows = case.con.execute(
        "SELECT row_group_id, max(count) FROM pragma_storage_info('shipments') "
        "GROUP BY row_group_id ORDER BY row_group_id"
    ).fetchall()
    return [int(r[1]) for r in rows]


def test_a_register_is_stored_in_whole_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the Arrow reader, in small blocks (which the rows used to reach DuckDB in)
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 1 << 20)
    path = write_big_shipments(tmp_path / "реестр.csv", rows=ROWS)
    with open(path, "a", encoding="cp1251", newline="") as handle:  # refused: impossible dates
        for i in range(REFUSED):
            handle.write(
                f"Ж{i};отправление;31.02.2023;Находка;984700;Тихорецкая;515002;уголь;60;24567893\r\n"
            )
    with Case.open(tmp_path / "case", write=True, create=True) as case:
        result = ingest_file(case, "shipments", path, Mapping(), None)
        sizes = _row_group_sizes(case)  # as the file's transaction left them, before any checkpoint
    assert result.detail["reader"] == "arrow"
    assert (result.rows_kept, result.rows_quarantined) == (ROWS, REFUSED)
    assert sum(sizes) == ROWS
    assert sorted(sizes) == [ROWS % ROW_GROUP] + [ROW_GROUP] * (ROWS // ROW_GROUP)


def test_row_hashes_stay_the_md5_of_the_rows_names_and_cells(tmp_path: Path) -> None:
    """Cases hold the hashes of earlier ingests: a copy of one of their rows must hash alike
    (md5 of name, cell, name, cell, ... joined by chr(31), read as a little-endian number;
    mapped fields in field order, then the other columns by header)."""
    header = [
        "Примечание",
        "Номер накладной",
        "Операция",
        "Дата отправления",
        "Вес груза, кг",
        "Номер вагона",
    ]
    cells = ["срочно", "ЭА1", "отправление", "03.09.2023", "61 250,5", "24567899"]
    path = write_csv(tmp_path / "s.csv", header, [cells], encoding="cp1251", delimiter=";")
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert result.rows_kept == 1
    with Case.open(tmp_path / "case") as case:
        stored = case.scalar("SELECT row_hash FROM shipments")
    pairs = [("waybill", "ЭА1"), ("record", "отправление"), ("departed_on", "03.09.2023"),
             ("weight", "61 250,5"), ("wagon", "24567899"), ("Примечание", "срочно")]  # fmt: skip
    text = "\x1f".join(part for pair in pairs for part in pair)
    assert stored == int.from_bytes(hashlib.md5(text.encode("utf-8")).digest(), "little")
