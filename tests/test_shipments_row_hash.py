"""The row hash of a shipment: the md5 of its (field, cell) pairs stored as a number
(UHUGEINT: the 16 bytes read little-endian, `chunk_sql.hash_sql`); a case of schema 4,
which stored the 32 hex digits, is upgraded to the same numbers, so a later file's copies
of its rows are still found; Arrow gets the numbers as hex text (`Case.arrow`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cargotrace import workflow
from cargotrace.case import schema
from cargotrace.case.store import Case

from builders import write_csv

HEADER = ["Номер накладной", "Дата отправления", "Вес груза, кг", "Грузоотправитель"]
R1 = ["Э1", "03.09.2023", "61250", "ООО «Ромашка»"]
R2 = ["Э2", "04.09.2023", "70000", "ПАО «Газпром»"]
R3 = ["Э3", "05.09.2023", "65000", "ООО «Ромашка»"]
SEP = "\x1f"


def _md5(row: list[str]) -> bytes:
    """The bytes hashed: the mapped fields in field order, each name then its cell."""
    names = ["waybill", "departed_on", "weight", "consignor"]
    text = SEP.join(part for pair in zip(names, row, strict=True) for part in pair)
    return hashlib.md5(text.encode("utf-8")).digest()


def _number(row: list[str]) -> int:
    return int.from_bytes(_md5(row), "little")


def _ingest(root: Path, path: Path) -> tuple[int, int, int]:
    [result] = workflow.ingest(root, "shipments", [path])
    return result.rows_kept, result.rows_quarantined, result.rows_duplicate


def test_row_hash_is_the_md5_read_as_a_little_endian_number(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", HEADER, [R1, R2], encoding="cp1251", delimiter=";")
    assert _ingest(tmp_path / "case", path) == (2, 0, 0)
    with Case.open(tmp_path / "case") as case:
        stored = case.con.execute("SELECT waybill, row_hash FROM shipments ORDER BY 1").fetchall()
        as_arrow = case.arrow("SELECT waybill, row_hash FROM shipments ORDER BY 1").to_pylist()
    assert stored == [("Э1", _number(R1)), ("Э2", _number(R2))]
    assert as_arrow == [
        {"waybill": "Э1", "row_hash": f"{_number(R1):032x}"},
        {"waybill": "Э2", "row_hash": f"{_number(R2):032x}"},
    ]


def test_a_version_4_case_gets_the_same_numbers_and_finds_later_copies(tmp_path: Path) -> None:
    root = tmp_path / "case"
    first = write_csv(tmp_path / "a.csv", HEADER, [R1, R2], encoding="cp1251", delimiter=";")
    assert _ingest(root, first) == (2, 0, 0)
    with Case.open(root, write=True) as case:  # as schema 4 stored them: the md5's hex digits
        case.con.execute("ALTER TABLE shipments ALTER row_hash TYPE VARCHAR")
        for row in (R1, R2):
            case.con.execute(
                "UPDATE shipments SET row_hash = ? WHERE waybill = ?", [_md5(row).hex(), row[0]]
            )
        case.set_meta("schema_version", "4")
    with Case.open(root, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        stored = case.con.execute("SELECT waybill, row_hash FROM shipments ORDER BY 1").fetchall()
    assert stored == [("Э1", _number(R1)), ("Э2", _number(R2))]
    second = write_csv(tmp_path / "b.csv", HEADER, [R3, R1], encoding="cp1251", delimiter=";")
    assert _ingest(root, second) == (1, 0, 1)  # R1 is a copy of the upgraded case's row
    with Case.open(root) as case:
        assert case.scalar("SELECT count(DISTINCT row_hash) FROM shipments") == 3
