"""The lines under an ingest's counts (ingest/summary.py, ingest/outcome.py): quarantine
reasons for every kind with their column and an example, a file of which nothing was kept
(exit 2, with what to check), what an AIS file's kept rows are, and null island refused by
the AIS rules. Hand-built files with exact answers."""

from __future__ import annotations

from functools import reduce
from operator import xor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app

from builders import write_csv

runner = CliRunner()
RU = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления",
      "Станция назначения", "Наименование груза", "Вес груза, кг"]  # fmt: skip
SHIP = 273123456


def waybill(number: str, date: str = "03.09.2023", weight: str = "61 250,5") -> list[str]:
    return [
        number,
        "отправление",
        date,
        "Находка-Восточная",
        "Тихорецкая",
        "Взрывчатые вещества",
        weight,
    ]


class Run:
    """A CLI run with its output's lines joined (the console wraps long lines)."""

    def __init__(self, *args: str) -> None:
        result = runner.invoke(app, ["ingest", *args])
        self.exit_code = result.exit_code
        self.stdout = " ".join(result.stdout.split())
        self.stderr = " ".join(result.stderr.split())


ingest = Run


def rows(case: Path, sql: str) -> list[dict]:
    with Case.open(case) as c:
        return c.rows(sql)


def test_a_date_format_that_fits_no_row_exits_2_and_says_what_to_check(tmp_path):
    path = write_csv(tmp_path / "реестр.csv", RU, [waybill("W1", "09/03/2023"), waybill("W2", "10/03/2023"),
                                                   waybill("W3", "11/03/2023")])  # fmt: skip
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('date_format = "%d.%m.%Y"\n', encoding="utf-8")
    case = str(tmp_path / "case")
    result = ingest("shipments", str(path), "--case", case, "--mapping", str(wrong))
    assert result.exit_code == 2
    assert "3 rows read = 0 kept + 3 quarantined + 0 exact duplicates dropped" in result.stdout
    assert (
        "NOTHING KEPT: all 3 rows quarantined (bad_date); check date_format in the mapping"
        in result.stdout
    )
    assert "3 bad_date in 'Дата отправления' (e.g. row 2: '09/03/2023')" in result.stdout
    assert "nothing was kept from реестр.csv" in result.stderr and "--replace" in result.stderr
    assert "Traceback" not in result.stderr
    # the refused rows are in the case, for `cargotrace quarantine`; the corrected mapping redoes the file
    assert rows(tmp_path / "case", "SELECT count(*) AS n FROM quarantine_rows") == [{"n": 3}]
    right = tmp_path / "right.toml"
    right.write_text('date_format = "%m/%d/%Y"\n', encoding="utf-8")
    again = ingest("shipments", str(path), "--case", case, "--mapping", str(right), "--replace")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "3 rows read = 3 kept + 0 quarantined" in again.stdout and "NOTHING" not in again.stdout
    assert [str(r["departed_on"]) for r in rows(tmp_path / "case", "SELECT departed_on FROM shipments ORDER BY 1")] == [
        "2023-09-03", "2023-10-03", "2023-11-03"]  # fmt: skip


def test_a_file_of_rows_the_case_holds_already_is_not_an_error(tmp_path):
    first = write_csv(tmp_path / "a.csv", RU, [waybill("W1"), waybill("W2")])
    second = write_csv(tmp_path / "b.csv", RU, [waybill("W2"), waybill("W1")])
    case = str(tmp_path / "case")
    assert ingest("shipments", str(first), "--case", case).exit_code == 0
    result = ingest("shipments", str(second), "--case", case)
    assert result.exit_code == 0
    assert "2 rows read = 0 kept + 0 quarantined + 2 exact duplicates dropped" in result.stdout


def test_quarantine_reasons_are_printed_for_shipments_with_column_and_example(tmp_path):
    path = write_csv(tmp_path / "r.csv", RU, [waybill("W1"), waybill("W2", "31.02.2023"), waybill("W3", weight="н/д"),
                                              waybill("W4", "30.02.2023")])  # fmt: skip
    result = ingest("shipments", str(path), "--case", str(tmp_path / "case"))
    assert result.exit_code == 0
    assert (
        "quarantined: 2 bad_date in 'Дата отправления' (e.g. row 3: '31.02.2023'), "
        "1 bad_weight in 'Вес груза, кг' (e.g. row 4: 'н/д') (see `cargotrace quarantine`)"
    ) in result.stdout
    assert "NOTHING" not in result.stdout


def test_quarantine_reasons_are_printed_for_other_kinds(tmp_path):
    path = write_csv(tmp_path / "stations.csv", ["esr", "name", "lat", "lon"],
                     [["985906", "Находка-Восточная", "42.76", "133.05"], ["520102", "Тихорецкая", "север", "40.04"]])  # fmt: skip
    result = ingest("stations", str(path), "--case", str(tmp_path / "case"))
    assert result.exit_code == 0
    [refused] = rows(tmp_path / "case", "SELECT reason, column_name FROM quarantine_rows")
    assert (
        f"quarantined: 1 {refused['reason']} in 'lat' (e.g. row 3: 'север') (see `cargotrace quarantine`)"
        in result.stdout
    )


def test_a_summary_names_the_top_groups_and_counts_the_rest(tmp_path):
    data = [waybill("K1")]  # kept
    data += [waybill(f"W{i}", f"3{i}.02.2023") for i in range(2)]  # bad_date x2
    data += [waybill(f"X{i}", weight=f"{i} ящиков") for i in range(3)]  # bad_weight x3
    data += [["", "отправление", "03.09.2023", "А", "Б", "Уголь", "1"]]  # missing_waybill
    data += [
        [f"Y{i}", "перецепка", "03.09.2023", "А", "Б", "Уголь", "1"] for i in range(4)
    ]  # unknown_record_type
    data += [
        [f"Z{i}", "отправление", "03.09.2023", "А", "Б", "Уголь", "-5"] for i in range(5)
    ]  # bad_weight x5
    data += [
        [f"V{i}", "отправление", "03.09.2023", "А", "Б", "Уголь", "-5"] for i in range(1)
    ]  # bad_weight
    data += [[f"U{i}", "отправление", "", "А", "Б", "Уголь", "1"] for i in range(1)]  # missing_date
    data += [["Итого", "", "", "", "", "", "100"]]  # totals_row
    path = write_csv(tmp_path / "r.csv", RU, data)
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert result.detail["quarantined_by_reason"] == {
        "bad_weight": 9, "unknown_record_type": 4, "bad_date": 2, "missing_date": 1, "missing_waybill": 1,
        "totals_row": 1}  # fmt: skip
    from cargotrace.ingest.summary import ingest_notes

    [note] = ingest_notes(result)
    assert note.startswith(
        "quarantined: 9 bad_weight in 'Вес груза, кг' (e.g. row 5: '0 ящиков'), "
    )
    assert ", 1 missing_date in 'Дата отправления' (e.g. row 19, empty), " in note
    assert note.endswith(", 1 more under other reasons or columns (see `cargotrace quarantine`)")


# ------------------------------------------------------------------ AIS
def tagged(seconds: int, sentence: str) -> str:
    fields = f"s:a,c:{seconds}"
    return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"


def encode(**fields) -> list[str]:
    from pyais.encode import encode_dict

    return encode_dict(fields, talker_id="AI")


T = 1_693_526_400  # 2023-09-01


def test_null_island_is_quarantined_on_both_ais_paths(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["mmsi", "timestamp", "lat", "lon"], [
        [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9], [SHIP, "2023-09-01T01:00:00Z", 0, 0],
        [SHIP, "2023-09-01T02:00:00Z", 0, 131.9], [SHIP, "2023-09-01T03:00:00Z", 43.1, 0]])  # fmt: skip
    [csv_result] = workflow.ingest(tmp_path / "csv", "ais", [path])
    assert (csv_result.rows_kept, csv_result.detail["quarantined_by_reason"]) == (
        3,
        {"null_island": 1},
    )
    assert rows(tmp_path / "csv", "SELECT source_row, column_name FROM quarantine_rows") == [
        {"source_row": 3, "column_name": "lat"}
    ]
    pytest.importorskip("pyais")
    log = tmp_path / "log.nmea"
    lines = [tagged(T, s) for s in encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9)]
    lines += [tagged(T + 60, s) for s in encode(type=1, mmsi=SHIP, lat=0, lon=0)]
    log.write_text("\n".join(lines) + "\n")
    [nmea_result] = workflow.ingest(tmp_path / "nmea", "ais", [log])
    assert (nmea_result.rows_kept, nmea_result.detail["quarantined_by_reason"]) == (
        1,
        {"null_island": 1},
    )
    assert rows(tmp_path / "nmea", "SELECT lat, lon FROM positions") == [
        {"lat": 43.1, "lon": 131.9}
    ]


def test_identity_reports_are_not_counted_as_positions(tmp_path):
    pytest.importorskip("pyais")
    log = tmp_path / "log.nmea"
    lines = [tagged(T, s) for s in encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9)]
    lines += [tagged(T + 30, s) for s in encode(type=5, mmsi=SHIP, imo=9161003, shipname="NOT LADY R",
                                                 callsign="UBCD7", shiptype=70)]  # fmt: skip
    lines += [
        tagged(T + 60, s)
        for s in encode(
            type=4, mmsi=2734567, lat=43.0, lon=131.8, year=2023, month=9, day=1, hour=0, minute=1
        )
    ]  # base station
    log.write_text("\n".join(lines) + "\n")
    result = ingest("ais", str(log), "--case", str(tmp_path / "case"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "3 rows read = 3 kept + 0 quarantined" in result.stdout
    assert (
        "kept: 1 positions, 1 identity reports (static messages: name, IMO, call sign; no position "
        "- table vessel_reports), 1 station reports (kept apart from vessel tracks, table "
        "ais_stations: 1 base station)"
    ) in result.stdout
    assert "kept apart from vessel tracks (table ais_stations)" not in result.stdout  # said once
    assert rows(tmp_path / "case", "SELECT count(*) AS n FROM positions") == [{"n": 1}]


def test_a_log_without_times_says_no_position_was_kept(tmp_path):
    """gpsd's sample.aivdm in small: no tag blocks, so every position lacks a time, while the
    static messages (identity reports) are kept: not an error, but said plainly."""
    pytest.importorskip("pyais")
    log = tmp_path / "log.aivdm"
    lines = encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9) + encode(
        type=1, mmsi=SHIP, lat=43.2, lon=131.9
    )
    lines += encode(
        type=5, mmsi=SHIP, imo=9161003, shipname="NOT LADY R", callsign="UBCD7", shiptype=70
    )
    log.write_text("\n".join(lines) + "\n")
    result = ingest("ais", str(log), "--case", str(tmp_path / "case"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "3 rows read = 1 kept + 2 quarantined" in result.stdout
    assert (
        "NO POSITIONS KEPT: every position was quarantined (no_timestamp); the log gives no time "
        "(no tag block with a c: field, no leading epoch or ISO time column); positions need one"
    ) in result.stdout


def test_impossible_speeds_are_said_once_per_command_not_per_file(tmp_path):
    """Three AIS files in one command: each gets its counts, the note that impossible speeds
    are analyze's to find comes once, after them; a command without positions has none."""
    paths = [
        write_csv(tmp_path / f"p{n}.csv", ["mmsi", "timestamp", "lat", "lon"],
                  [[SHIP, f"2023-09-0{n}T00:00:00Z", 43.1, 131.9]])
        for n in (1, 2, 3)
    ]  # fmt: skip
    result = ingest("ais", *map(str, paths), "--case", str(tmp_path / "case"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.count("1 rows read = 1 kept") == 3
    note = "impossible speeds: found by `cargotrace analyze`"
    assert result.stdout.count(note) == 1
    assert result.stdout.index(note) > result.stdout.rindex("1 rows read = 1 kept")
    shipments = write_csv(tmp_path / "r.csv", RU, [waybill("W1")])
    other = ingest("shipments", str(shipments), "--case", str(tmp_path / "case"))
    assert other.exit_code == 0, other.stdout + other.stderr
    assert note not in other.stdout
