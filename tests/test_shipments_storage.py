"""A shipments register is stored in whole DuckDB row groups (122,880 rows, the last of each
chunk excepted): part-filled row groups made the checkpoint closing the case merge them by
writing the whole table again (as much work as storing it the first time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargotrace.case.store import Case
from cargotrace.ingest.readers import csvread
from cargotrace.ingest.registry import ingest_file
from cargotrace.ingest.types import Mapping

from builders import write_big_shipments

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
