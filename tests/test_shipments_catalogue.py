"""The catalogue of malformed shipment files (tests/shipments_catalogue/manifest.toml), each
run through the CLI: unusable input exits with status 2 and a message naming the file (and
the row and column where that applies), writing nothing; usable input keeps the ledger's
invariant (rows read = kept + quarantined + exact duplicates) with the expected reasons.

Binary fixtures (workbooks, archives, bombs, Parquet) are built here at run time.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import tomllib
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.ingest.readers.sources import file_hash

HERE = Path(__file__).parent / "shipments_catalogue"
CASES: list[dict[str, Any]] = tomllib.loads((HERE / "manifest.toml").read_text(encoding="utf-8"))[
    "case"
]
W1, W2, W3 = "21234562", "66543216", "41111113"


# ----------------------------------------------------------------------------- builders
def workbook_multi_sheet(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Отправления"
    sheet["A1"] = "Реестр отправок за сентябрь 2023 г."
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["Номер накладной", "Дата отправления", "Станция отправления", "Код станции отправления",
                  "Станция назначения", "Наименование груза", "Вес груза, кг", "Номер вагона"])  # fmt: skip
    sheet.append(
        [
            "XL-1",
            dt.date(2023, 9, 3),
            "Находка-Восточная",
            69608,
            "Тихорецкая",
            "Взрывчатые вещества",
            61250.5,
            int(W1),
        ]
    )
    sheet.append(["XL-2", 45173, "Находка-Восточная", 985906, "Моздок", "ВВ", 60000, int(W3)])
    sheet.append(
        [
            "XL-3",
            dt.datetime(2023, 9, 5, 10, 30),  # noqa: DTZ001 - Excel times have no zone
            "Находка-Восточная",
            985906,
            "Моздок",
            "ВВ",
            59000,
            int(W2),
        ]
    )
    sheet.append([None, "05.09.2023", "Находка-Восточная", 985906, "Моздок", "ВВ", 58000, int(W1)])
    sheet.merge_cells("A6:A7")  # one waybill over the rows of its two wagons
    sheet.append(["Итого", None, None, None, None, None, 238250.5, None])
    arrivals = book.create_sheet("Arrivals")
    arrivals.append(
        [
            "waybill",
            "record",
            "departed_on",
            "arrived_on",
            "origin_station",
            "destination_station",
            "cargo",
            "weight_t",
        ]
    )
    arrivals.append(
        [
            "XL-4",
            "arrival",
            "2023-09-03",
            "2023-09-14",
            "Находка-Восточная",
            "Тихорецкая",
            "Боеприпасы",
            61.25,
        ]
    )
    arrivals.append(
        [
            "XL-5",
            "arrival",
            "31.02.2023",
            "2023-09-14",
            "Находка-Восточная",
            "Тихорецкая",
            "Боеприпасы",
            61.25,
        ]
    )
    notes = book.create_sheet("Справка")
    notes["A1"] = "Данные предоставлены по запросу"
    notes["A2"] = "Контакт: отдел перевозок"
    book.save(path)


def workbook_without_table(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Пустая выгрузка"
    book.active["B3"] = 42
    book.save(path)


def corrupt_workbook(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)


def gzip_of_cp1251(path: Path) -> None:
    path.write_bytes(gzip.compress((HERE / "ru_cp1251_semicolon.csv").read_bytes()))


def zip_of_cp1251(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("реестр.csv", (HERE / "ru_cp1251_semicolon.csv").read_bytes())


def zip_of_two(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.csv", (HERE / "ru_cp1251_semicolon.csv").read_bytes())
        archive.writestr("b.csv", (HERE / "ru_koi8r_tab.csv").read_bytes())


def zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", b"waybill\n" + b"0" * (64 << 20))


def gzip_bomb(path: Path) -> None:
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"waybill;cargo\n")
        block = b"0" * (1 << 20)
        for _ in range(64):
            handle.write(block)


def truncated_gzip(path: Path) -> None:
    data = gzip.compress((HERE / "ru_cp1251_semicolon.csv").read_bytes() * 20)
    path.write_bytes(data[: len(data) // 2])


def gzip_of_workbook(path: Path) -> None:
    plain = path.with_name("plain.xlsx")
    workbook_multi_sheet(plain)
    path.write_bytes(gzip.compress(plain.read_bytes()))


def copy_of_cp1251(path: Path) -> None:
    shutil.copy(HERE / "ru_cp1251_semicolon.csv", path)


def parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "waybill": ["PQ-1", "PQ-2", "PQ-3"],
        "departed_on": ["2023-09-03", "2023-09-04", "31.02.2023"],
        "origin_station": ["Находка-Восточная"] * 3,
        "origin_esr": pa.array([985906, 98590, 985906], pa.int64()),
        "cargo": ["Взрывчатые вещества"] * 3,
        "weight_t": [61.25, 60.0, 59.5],
    }), path)  # fmt: skip


BUILDERS: dict[str, Callable[[Path], None]] = {f.__name__: f for f in (
    workbook_multi_sheet, workbook_without_table, corrupt_workbook, gzip_of_cp1251, zip_of_cp1251, zip_of_two,
    zip_bomb, gzip_bomb, truncated_gzip, copy_of_cp1251, parquet, gzip_of_workbook,
)}  # fmt: skip


# ----------------------------------------------------------------------------- the test
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _input(case: dict[str, Any], tmp_path: Path) -> Path:
    if "generate" not in case:
        return HERE / case["file"]
    path = tmp_path / case["file"]
    BUILDERS[case["generate"]](path)
    return path


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 30
    files = {c["file"] for c in CASES if "generate" not in c}
    on_disk = {p.name for p in HERE.glob("*.csv")}
    assert on_disk <= files, (
        f"catalogue files without an expected outcome: {sorted(on_disk - files)}"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_catalogue_file(case: dict[str, Any], tmp_path: Path) -> None:
    path = _input(case, tmp_path)
    case_dir = tmp_path / "case"
    args = ["ingest", "shipments", str(path), "--case", str(case_dir)]
    mapping = HERE / f"{Path(case['file']).stem}.toml"
    if mapping.exists():
        args += ["--mapping", str(mapping)]
    args += [a.replace("{here}", str(HERE)) for a in case.get("args", [])]
    result = CliRunner().invoke(app, args, env=case.get("env"))
    output = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert result.exit_code == case["exit"], output
    for fragment in case.get("message", []):
        assert " ".join(fragment.split()) in output, output
    if case["exit"] != 0:
        if (case_dir / "case.duckdb").exists():
            with Case.open(case_dir) as store:
                assert store.scalar("SELECT count(*) FROM ledger") == 0, (
                    "unusable input must write nothing"
                )
                assert store.scalar("SELECT count(*) FROM shipments") == 0
        return
    with Case.open(case_dir) as store:
        [ledger] = store.rows("SELECT * FROM ledger WHERE file_hash = ?", [file_hash(path)])
        quarantine = store.rows(
            "SELECT source_row, reason, column_name FROM quarantine ORDER BY source_row"
        )
        kept = store.rows("SELECT * FROM shipments ORDER BY sheet, source_row")
    counts = {k: ledger[f"rows_{k}"] for k in ("read", "kept", "quarantined", "duplicate")}
    assert counts["read"] == counts["kept"] + counts["quarantined"] + counts["duplicate"]
    expected = {"read": case["read"], "kept": case["kept"], "quarantined": case.get("quarantined", 0),
                "duplicate": case.get("duplicates", 0)}  # fmt: skip
    assert counts == expected
    assert (len(kept), len(quarantine)) == (counts["kept"], counts["quarantined"])
    assert ledger["rows_skipped"] == case.get("skipped", 0)
    if "reasons" in case:
        assert Counter(r["reason"] for r in quarantine) == Counter(case["reasons"])
    for row, reason, column in case.get("rows", []):
        assert {"source_row": row, "reason": reason, "column_name": column or None} in quarantine, (
            quarantine
        )
    flags = {flag for r in kept for flag in (r["flags"] or "").split(",") if flag}
    assert set(case.get("flags", [])) <= flags
    for waybill, column, value in case.get("values", []):
        seen = [_text(r[column]) for r in kept if r["waybill"] == waybill]
        assert value in seen, f"{waybill}.{column}: expected {value!r}, found {seen}"
