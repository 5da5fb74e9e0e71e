"""The row hash of a shipment: the md5 of its (field, cell) pairs stored as a number
(UHUGEINT: the 16 bytes read little-endian, `chunk_sql.hash_sql`); a case of schema 4,
which stored the 32 hex digits, is upgraded to the same numbers, so a later file's copies
of its rows are still found; Arrow, exports and the library get the md5's hex digest, in
the md5's byte order (`Case.arrow`), so a reader recomputing a row's md5 finds it."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from typer.testing import CliRunner

import cargotrace
from cargotrace import workflow
from cargotrace.case import schema
from cargotrace.case.store import Case
from cargotrace.cli.app import app

from builders import linked_case, write_csv

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
        {"waybill": "Э1", "row_hash": _md5(R1).hex()},
        {"waybill": "Э2", "row_hash": _md5(R2).hex()},
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
    second = write_csv(tmp_path / "b.csv", HEADER, [R3, R1], encoding="cp1251", delimiter=";")
    [preview] = workflow.ingest(root, "shipments", [second], dry_run=True)  # reads, no upgrade
    assert "rows_in_case" not in preview.detail["preview"]  # hex text: not compared
    with Case.open(root, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        stored = case.con.execute("SELECT waybill, row_hash FROM shipments ORDER BY 1").fetchall()
    assert stored == [("Э1", _number(R1)), ("Э2", _number(R2))]
    [preview] = workflow.ingest(root, "shipments", [second], dry_run=True)
    assert preview.detail["preview"]["rows_in_case"] == 1
    assert _ingest(root, second) == (1, 0, 1)  # R1 is a copy of the upgraded case's row
    with Case.open(root) as case:
        assert case.scalar("SELECT count(DISTINCT row_hash) FROM shipments") == 3


def test_export_and_library_show_the_md5_hex_digest_a_reader_computes(tmp_path: Path) -> None:
    """The hex shown for a stored row is `hashlib.md5(text).hexdigest()` of the text the ingest
    hashes (`chunk_sql.hash_sql`): each mapped field's name and cell in field order (an empty
    cell is empty text), joined by chr(31); not the number's own hex (its bytes reversed)."""
    builder = linked_case(tmp_path)  # one departure, W1, linked to the call at Vostochny
    with builder.run():
        pass
    pairs = [("waybill", "W1"), ("record", "departure"), ("departed_on", "2023-09-02"),
             ("origin_station", ""), ("origin_esr", "984700"), ("destination_station", ""),
             ("destination_esr", "515002"), ("cargo", "взрывчатые вещества"), ("weight", "60.0"),
             ("wagon", "")]  # fmt: skip
    text = SEP.join(part for pair in pairs for part in pair)
    digest = hashlib.md5(text.encode("utf-8")).hexdigest()
    assert digest == "78c5c491311f855bfcc13dcfc93eab0c"
    shipments = cargotrace.open_case(builder.case_dir).table("shipments")
    assert shipments.column("row_hash").to_pylist() == [digest]
    out = tmp_path / "linked.csv"
    args = ["export", "--case", str(builder.case_dir), "--table", "linked_shipments"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["waybill"], row["shipment_id"]) == ("W1", digest)
