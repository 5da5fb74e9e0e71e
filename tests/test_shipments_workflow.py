"""Shipments ingest as an analyst uses it: fix a file and ingest it again, preview with
--dry-run, extend the cargo vocabulary per case; and the two CSV readers and any chunking
giving the same rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.ingest.readers import csvread, tabular

from builders import write_csv

HERE = Path(__file__).parent / "shipments_catalogue"
RU = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления", "Код станции отправления",
      "Станция назначения", "Код станции назначения", "Наименование груза", "Вес груза, кг", "Номер вагона"]  # fmt: skip


def row(
    waybill: str,
    date: str = "03.09.2023",
    weight: str = "61 250,5",
    cargo: str = "Взрывчатые вещества",
) -> list[str]:
    return [
        waybill,
        "отправление",
        date,
        "Находка-Восточная",
        "985906",
        "Тихорецкая",
        "520102",
        cargo,
        weight,
        "21234562",
    ]


def table(case_dir: Path, sql: str) -> list[dict[str, Any]]:
    with Case.open(case_dir) as case:
        return case.rows(sql)


# ----------------------------------------------------------------------------- fix and ingest again
def test_fixing_a_file_and_ingesting_it_again_adds_only_the_fixed_rows(tmp_path):
    rows = [row("W1"), row("W2", date="31.02.2023"), row("W3"), row("W4", weight="н/д"), row("W5")]
    first = write_csv(tmp_path / "реестр.csv", RU, rows, encoding="cp1251", delimiter=";")
    [one] = workflow.ingest(tmp_path / "case", "shipments", [first])
    assert (one.rows_read, one.rows_kept, one.rows_quarantined, one.rows_duplicate) == (5, 3, 2, 0)

    fixed_rows = [
        row("W1"),
        row("W2", date="28.02.2023"),
        row("W3"),
        row("W4", weight="60 100"),
        row("W5"),
    ]
    fixed = write_csv(
        tmp_path / "реестр_исправленный.csv", RU, fixed_rows, encoding="cp1251", delimiter=";"
    )
    [two] = workflow.ingest(tmp_path / "case", "shipments", [fixed])
    assert not two.already_ingested
    assert (two.rows_read, two.rows_kept, two.rows_quarantined, two.rows_duplicate) == (5, 2, 0, 3)

    kept = table(
        tmp_path / "case", "SELECT waybill, source_file, source_row FROM shipments ORDER BY waybill"
    )
    assert [r["waybill"] for r in kept] == ["W1", "W2", "W3", "W4", "W5"]  # nothing twice
    assert {r["waybill"]: r["source_file"] for r in kept}["W2"] == "реестр_исправленный.csv"
    ledger = table(
        tmp_path / "case",
        "SELECT rows_read, rows_kept, rows_quarantined, rows_duplicate FROM ledger ORDER BY ingested_at",
    )
    assert all(
        r["rows_read"] == r["rows_kept"] + r["rows_quarantined"] + r["rows_duplicate"]
        for r in ledger
    )
    assert workflow.check_case(tmp_path / "case") == []


def test_a_fixed_file_saved_by_another_tool_still_matches_its_kept_rows(tmp_path):
    """Re-saved as UTF-8 with commas and the columns in another order: the same records."""
    first = write_csv(
        tmp_path / "a.csv",
        RU,
        [row("W1"), row("W2", date="31.02.2023")],
        encoding="cp1251",
        delimiter=";",
    )
    workflow.ingest(tmp_path / "case", "shipments", [first])
    order = list(reversed(range(len(RU))))
    resaved = write_csv(tmp_path / "b.csv", [RU[i] for i in order],
                        [[r[i] for i in order] for r in (row("W1"), row("W2", date="28.02.2023"))], encoding="utf-8")  # fmt: skip
    [again] = workflow.ingest(tmp_path / "case", "shipments", [resaved])
    assert (again.rows_read, again.rows_kept, again.rows_duplicate) == (2, 1, 1)
    assert len(table(tmp_path / "case", "SELECT * FROM shipments")) == 2


def test_the_same_file_again_changes_nothing(tmp_path):
    path = HERE / "ru_cp1251_semicolon.csv"
    workflow.ingest(tmp_path / "case", "shipments", [path])
    [again] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert again.already_ingested
    assert len(table(tmp_path / "case", "SELECT * FROM shipments")) == 3


# ----------------------------------------------------------------------------- dry run
def test_dry_run_shows_the_reading_and_writes_nothing(tmp_path):
    case_dir = tmp_path / "case"
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "shipments",
            str(HERE / "title_rows_above_header.csv"),
            "--case",
            str(case_dir),
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    for fragment in ("dry run, nothing written", "encoding: Windows-1251", "delimiter: ';'", "header on row 4",
                     "waybill              <- 'Номер накладной'", "weight               <- 'Вес груза, кг' (unit kg)",
                     "2 would be kept", "row 5: waybill=ЭА100031", "departed_on=2023-09-03", "weight_t=61.2505"):  # fmt: skip
        assert fragment in result.output, result.output
    assert not case_dir.exists()


def test_dry_run_on_an_existing_case_leaves_it_alone(tmp_path):
    workflow.ingest(tmp_path / "case", "shipments", [HERE / "ru_koi8r_tab.csv"])
    [preview] = workflow.ingest(
        tmp_path / "case", "shipments", [HERE / "dates_mixed_formats.csv"], dry_run=True
    )
    assert (preview.rows_read, preview.rows_kept, preview.rows_quarantined) == (10, 6, 4)
    assert {r["reason"]: r["rows"] for r in preview.detail["preview"]["reasons"]} == {
        "bad_date": 3,
        "implausible_date": 1,
    }
    assert len(table(tmp_path / "case", "SELECT * FROM ledger")) == 1
    assert len(table(tmp_path / "case", "SELECT * FROM shipments")) == 2


def test_dry_run_of_a_workbook_lists_its_sheets(tmp_path):
    from test_shipments_catalogue import workbook_multi_sheet

    path = tmp_path / "book.xlsx"
    workbook_multi_sheet(path)
    result = CliRunner().invoke(
        app, ["ingest", "shipments", str(path), "--case", str(tmp_path / "c"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "sheet 'Отправления', header on row 3" in result.output
        and "sheet 'Arrivals', header on row 1" in result.output
    )
    assert "sheets skipped: Справка (no header row with known columns)" in result.output
    chosen = CliRunner().invoke(
        app,
        [
            "ingest",
            "shipments",
            str(path),
            "--case",
            str(tmp_path / "c"),
            "--dry-run",
            "--sheet",
            "Arrivals",
        ],
    )
    assert "Отправления" not in chosen.output and "row 2: waybill=XL-4" in chosen.output


# ----------------------------------------------------------------------------- vocabulary
def test_a_case_extends_the_cargo_vocabulary_without_code(tmp_path):
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "cargo_classes.toml").write_text(
        '[[classes]]\nname = "drones"\npatterns = ["беспилотн", "\\\\bбпла\\\\b"]\ncodes = ["gng:880600"]\n',
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "s.csv", RU, [row("W1", cargo="Беспилотные летательные аппараты"), row("W2", cargo="БПЛА"),
                                              row("W3", cargo="боеприпасов к ним")], encoding="utf-8")  # fmt: skip
    workflow.ingest(case_dir, "shipments", [path])
    got = {
        r["waybill"]: (r["cargo_class"], r["cargo_rule"])
        for r in table(case_dir, "SELECT waybill, cargo_class, cargo_rule FROM shipments")
    }
    assert got == {
        "W1": ("drones", "text:беспилотн"),
        "W2": ("drones", "text:\\bбпла\\b"),
        "W3": ("ammunition", "text:боеприпас"),
    }


# ----------------------------------------------------------------------------- readers and chunks agree
def _snapshot(
    case_dir: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    kept = table(case_dir, "SELECT * EXCLUDE (file_hash) FROM shipments ORDER BY sheet, source_row")
    refused = table(
        case_dir, "SELECT * EXCLUDE (file_hash) FROM quarantine ORDER BY sheet, source_row"
    )
    ledger = table(
        case_dir,
        "SELECT rows_read, rows_kept, rows_quarantined, rows_duplicate, rows_skipped FROM ledger",
    )
    return kept, refused, ledger


CSV_FILES = sorted(
    p.name for p in HERE.glob("*.csv") if p.name not in ("empty.csv", "binary_garbage.csv")
)


@pytest.mark.parametrize("name", CSV_FILES)
def test_arrow_and_python_readers_give_the_same_rows(tmp_path, monkeypatch, name):
    path = HERE / name
    mapping = HERE / f"{path.stem}.toml"
    outcomes = []
    for label, fast_min in (("python", 1 << 60), ("arrow", 0)):
        monkeypatch.setattr(csvread, "FAST_MIN_BYTES", fast_min)
        case_dir = tmp_path / label
        try:
            workflow.ingest(case_dir, "shipments", [path], mapping if mapping.exists() else None)
        except Exception as exc:  # the same refusal either way
            outcomes.append(type(exc).__name__ + str(exc))
            continue
        outcomes.append(_snapshot(case_dir))
    assert outcomes[0] == outcomes[1]


def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch):
    rows = [
        row(f"W{i % 7}", date=f"{1 + i % 28:02d}.09.2023") for i in range(40)
    ]  # duplicates across chunks
    rows[11] = row("W-bad", date="31.02.2023")
    path = write_csv(tmp_path / "s.csv", RU, rows, encoding="cp1251", delimiter=";")
    workflow.ingest(tmp_path / "whole", "shipments", [path])
    monkeypatch.setattr(csvread, "EXACT_CHUNK_ROWS", 3)
    workflow.ingest(tmp_path / "chunked", "shipments", [path])
    assert _snapshot(tmp_path / "whole") == _snapshot(tmp_path / "chunked")
    kept, refused, [ledger] = _snapshot(tmp_path / "chunked")
    assert (
        ledger["rows_read"] == 40
        and ledger["rows_quarantined"] == 1
        and ledger["rows_duplicate"] == 40 - 1 - len(kept)
    )


def test_a_refused_row_repeated_in_a_later_chunk_is_a_duplicate(tmp_path, monkeypatch):
    """Kept rows are deduplicated against the table (which holds the earlier chunks' rows);
    a refused row's later copies are dropped at the end of the file, whatever the chunks."""
    rows = [row(f"W{i}") for i in range(10)]
    rows[1] = rows[8] = row("W-bad", date="31.02.2023")  # chunks 1 and 3 with 3 rows a chunk
    rows[9] = rows[0]  # a kept row again, in the last chunk
    path = write_csv(tmp_path / "s.csv", RU, rows, encoding="cp1251", delimiter=";")
    monkeypatch.setattr(csvread, "EXACT_CHUNK_ROWS", 3)
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate) == (
        10,
        7,
        1,
        2,
    )
    assert table(tmp_path / "case", "SELECT source_row FROM quarantine") == [{"source_row": 3}]
    assert [r["source_row"] for r in table(tmp_path / "case", "SELECT source_row FROM shipments ORDER BY 1")] == [
        2, 4, 5, 6, 7, 8, 9]  # fmt: skip


def test_a_big_regular_file_takes_the_arrow_path(tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_shipments import generate

    path = tmp_path / "big.csv"
    generate(path, 30_000)
    assert path.stat().st_size > csvread.FAST_MIN_BYTES
    [fast] = workflow.ingest(tmp_path / "fast", "shipments", [path])
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 1 << 60)
    monkeypatch.setattr(tabular, "FAST_CHUNK_ROWS", 7_000)
    [slow] = workflow.ingest(tmp_path / "slow", "shipments", [path])
    assert (fast.detail["reader"], slow.detail["reader"]) == ("arrow", "python")
    assert fast.rows_read == 30_000 + 3  # three exact duplicates planted
    assert _snapshot(tmp_path / "fast") == _snapshot(tmp_path / "slow")
    detail = json.loads(table(tmp_path / "fast", "SELECT detail FROM ledger")[0]["detail"])
    assert detail["encoding"] == "cp1251" and detail["delimiter"] == ";"


def test_a_corrected_copy_supersedes_the_refused_rows_of_the_first(tmp_path):
    rows = [row("W1"), row("W2", date="31.02.2023"), row("W3"), row("W4", weight="н/д")]
    first = write_csv(tmp_path / "реестр.csv", RU, rows, encoding="cp1251", delimiter=";")
    other = write_csv(
        tmp_path / "другой.csv",
        RU,
        [row("X1", date="32.01.2023"), row("X2")],
        encoding="cp1251",
        delimiter=";",
    )
    workflow.ingest(tmp_path / "case", "shipments", [first, other])
    before = {(r["reason"], r["rows"]) for r in workflow.quarantine_summary(tmp_path / "case")}
    assert before == {("bad_date", 2), ("bad_weight", 1)}

    fixed = write_csv(tmp_path / "реестр_исправленный.csv", RU,
                      [row("W1"), row("W2", date="28.02.2023"), row("W3"), row("W4", weight="60 100")],
                      encoding="cp1251", delimiter=";")  # fmt: skip
    [again] = workflow.ingest(tmp_path / "case", "shipments", [fixed])
    assert again.detail["supersedes"] == [workflow_hash(tmp_path / "case", "реестр.csv")]
    after = workflow.quarantine_summary(tmp_path / "case")
    assert {(r["reason"], r["rows"], r["superseded"]) for r in after} == {
        ("bad_date", 1, 1),
        ("bad_weight", 0, 1),
    }
    assert [r["examples"] for r in after if r["reason"] == "bad_date"] == [["другой.csv:2"]]
    everything = workflow.quarantine_summary(tmp_path / "case", include_superseded=True)
    assert {(r["reason"], r["rows"]) for r in everything} == {("bad_date", 2), ("bad_weight", 1)}

    shown = CliRunner().invoke(app, ["quarantine", "--case", str(tmp_path / "case")])
    assert shown.exit_code == 0, shown.output
    assert "другой.csv:2" in shown.output and "реестр.csv" not in shown.output
    assert "2 more rows of files superseded by corrected copies" in " ".join(shown.output.split())


def workflow_hash(case_dir: Path, name: str) -> str:
    [found] = table(case_dir, f"SELECT file_hash FROM ledger WHERE file_name = '{name}'")
    return found["file_hash"]


def test_dry_run_counts_the_rows_the_case_holds_already(tmp_path):
    first = write_csv(tmp_path / "a.csv", RU, [row("W1"), row("W2"), row("W3", date="31.02.2023")],
                      encoding="cp1251", delimiter=";")  # fmt: skip
    workflow.ingest(tmp_path / "case", "shipments", [first])
    overlapping = write_csv(tmp_path / "b.csv", RU, [row("W1"), row("W2"), row("W4"), row("W3", date="01.02.2023")],
                            encoding="cp1251", delimiter=";")  # fmt: skip
    [preview] = workflow.ingest(tmp_path / "case", "shipments", [overlapping], dry_run=True)
    assert preview.detail["preview"]["rows_in_case"] == 2
    assert preview.detail["preview"]["already_ingested_as"] is None
    [same] = workflow.ingest(tmp_path / "case", "shipments", [first], dry_run=True)
    assert same.detail["preview"]["already_ingested_as"] == "shipments"

    shown = CliRunner().invoke(
        app,
        ["ingest", "shipments", str(overlapping), "--case", str(tmp_path / "case"), "--dry-run"],
    )
    assert shown.exit_code == 0, shown.output
    assert "2 of the rows that would be kept are in the case already" in " ".join(
        shown.output.split()
    )
    assert len(table(tmp_path / "case", "SELECT * FROM shipments")) == 2  # nothing written


def test_a_big_file_streamed_past_the_buffer_is_read_in_one_pass_or_again_exactly(
    tmp_path, monkeypatch
):
    """Beyond FAST_BUFFER_BYTES the Arrow reader streams; a ragged record found late rolls
    the file back and reads it again with the exact reader: the same rows either way."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_shipments import generate

    regular = tmp_path / "regular.csv"
    generate(regular, 30_000)
    lines = regular.read_bytes().split(b"\r\n")
    lines[-3] = lines[-3] + b";extra;cells"  # a ragged record near the end
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(b"\r\n".join(lines))
    [exact] = workflow.ingest(
        tmp_path / "reference", "shipments", [ragged]
    )  # small buffer not involved
    assert exact.detail["reader"] == "python"

    monkeypatch.setattr(csvread, "FAST_BUFFER_BYTES", 1 << 20)  # the files are ~4 MB
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 256 << 10)
    monkeypatch.setattr(tabular, "FAST_CHUNK_ROWS", 5_000)
    [streamed] = workflow.ingest(tmp_path / "streamed", "shipments", [regular])
    assert streamed.detail["reader"] == "arrow" and streamed.rows_read == 30_000 + 3
    [again] = workflow.ingest(tmp_path / "again", "shipments", [ragged])
    assert again.detail["reader"] == "python" and "read again" in again.detail["note"]
    assert _snapshot(tmp_path / "again") == _snapshot(tmp_path / "reference")
    assert workflow.check_case(tmp_path / "again") == []
