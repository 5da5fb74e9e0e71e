"""Ingest: encodings, delimiters, Russian headers, quarantine with reasons, idempotence."""

from __future__ import annotations

import gzip
import json

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.errors import InputError

from builders import write_csv

RU_HEADER = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления", "Код станции отправления",
             "Станция назначения", "Код станции назначения", "Наименование груза", "Вес груза, кг", "Номер вагона"]  # fmt: skip
GOOD = [
    "ЭА1",
    "отправление",
    "03.09.2023",
    "Находка-Восточная",
    "98470",
    "Тихорецкая",
    "515002",
    "Взрывчатые вещества",
    "61 250,5",
    "24567899",
]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1251", ";"), ("utf-8-sig", ","), ("utf-8", "\t"), ("koi8_r", ";"), ("cp866", ";")],
)
def test_russian_headers_any_encoding_and_delimiter(tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "s.csv", RU_HEADER, [GOOD], encoding=encoding, delimiter=delimiter)
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (result.rows_read, result.rows_kept) == (1, 1)
    assert result.detail["encoding"].replace("-", "_").startswith(encoding.replace("-", "_")[:5])
    with Case.open(tmp_path / "case") as case:
        row = case.rows("SELECT * FROM shipments")[0]
    assert row["weight_t"] == pytest.approx(61.2505)
    assert row["origin_esr"] == "984700"  # 5-digit code completed with its check digit
    assert row["cargo_class"] == "explosives"
    assert row["departed_on"].isoformat() == "2023-09-03"
    assert row["source_row"] == 2


def test_every_row_kept_quarantined_or_duplicate(tmp_path):
    rows = [
        GOOD,
        GOOD,  # exact duplicate
        ["ЭА2", "отправление", "31.02.2023", *GOOD[3:]],  # impossible date
        ["", "отправление", "03.09.2023", *GOOD[3:]],  # no waybill
        ["ЭА3", "отправление", "04.09.23", *GOOD[3:8], "н/д", GOOD[9]],  # weight unreadable
        ["ЭА4", "отправление"],  # too few fields
        ["ЭА5", "отправление", "45123", *GOOD[3:]],  # Excel serial date
    ]
    path = write_csv(tmp_path / "s.csv", RU_HEADER, rows, encoding="cp1251", delimiter=";")
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate) == (
        7,
        2,
        4,
        1,
    )
    with Case.open(tmp_path / "case") as case:
        reasons = case.rows(
            "SELECT reason, column_name, source_row FROM quarantine_rows ORDER BY source_row"
        )
        serial = case.scalar("SELECT departed_on FROM shipments WHERE waybill = 'ЭА5'")
    assert [(r["reason"], r["column_name"], r["source_row"]) for r in reasons] == [
        ("bad_date", "departed_on", 4), ("missing_waybill", "waybill", 5), ("bad_weight", "weight", 6),
        ("wrong_field_count", None, 7),
    ]  # fmt: skip
    assert serial.isoformat() == "2023-07-16"  # Excel day 45123


def test_reingesting_the_same_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "s.csv", RU_HEADER, [GOOD], encoding="cp1251", delimiter=";")
    workflow.ingest(tmp_path / "case", "shipments", [path])
    copy = tmp_path / "copy-with-another-name.csv"
    copy.write_bytes(path.read_bytes())
    [again] = workflow.ingest(tmp_path / "case", "shipments", [copy])
    assert again.already_ingested
    with Case.open(tmp_path / "case") as case:
        assert case.scalar("SELECT count(*) FROM shipments") == 1
        assert case.scalar("SELECT count(*) FROM ledger") == 1


def test_gzip_input_and_ledger_counts(tmp_path):
    plain = write_csv(tmp_path / "s.csv", RU_HEADER, [GOOD], encoding="cp1251", delimiter=";")
    packed = tmp_path / "s.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    workflow.ingest(tmp_path / "case", "shipments", [packed])
    with Case.open(tmp_path / "case") as case:
        ledger = case.rows("SELECT * FROM ledger")[0]
    assert (ledger["rows_read"], ledger["rows_kept"], ledger["kind"]) == (1, 1, "shipments")
    assert json.loads(ledger["detail"])["encoding"] == "cp1251"


def test_unmapped_columns_are_kept_as_attributes(tmp_path):
    path = write_csv(
        tmp_path / "s.csv",
        [*RU_HEADER, "Примечание"],
        [[*GOOD, "срочно"]],
        encoding="cp1251",
        delimiter=";",
    )
    workflow.ingest(tmp_path / "case", "shipments", [path])
    with Case.open(tmp_path / "case") as case:
        attributes = json.loads(case.scalar("SELECT attributes FROM shipments"))
    assert attributes == {"Примечание": "срочно"}


def test_missing_required_column_names_the_file_and_column(tmp_path):
    from cargotrace.errors import InputError

    path = write_csv(tmp_path / "s.csv", ["foo", "bar"], [["1", "2"]])
    with pytest.raises(InputError) as info:
        workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (
        "s.csv" in str(info.value) and "waybill" in str(info.value) and "row 1" in str(info.value)
    )


def test_positions_layouts_canonical_noaa_dma(tmp_path):
    canonical = write_csv(tmp_path / "a.csv", ["mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"],
                          [[273000001, "2023-09-01T00:00:00Z", 42.7, 133.0, 0.1, 10, 511, 5],
                           [273000001, "1693530000", 42.8, 133.1, 102.3, 360, 511, 15],
                           [273000001, "1693531000", 91, 181, 1.0, 10, 10, 0]])  # fmt: skip
    noaa = write_csv(tmp_path / "n.csv", ["MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO", "CallSign", "VesselType", "Status"],
                     [[367000001, "2022-01-03T00:00:05", 29.9, -90.1, 0.0, 0, 511, "TEST", "IMO9161003", "WXYZ", 70, 5]])  # fmt: skip
    dma = write_csv(tmp_path / "d.csv", ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status", "ROT", "SOG", "COG", "Heading"],
                    [["01/11/2021 00:00:01", "Class A", 219000001, 57.7, 11.9, "Moored", 0, 0.0, 0, 511]])  # fmt: skip
    for path in (canonical, noaa, dma):
        workflow.ingest(tmp_path / "case", "ais", [path])
    with Case.open(tmp_path / "case") as case:
        rows = case.rows(
            "SELECT mmsi, timestamp, lat, lon, sog, heading, nav_status FROM positions ORDER BY mmsi, timestamp"
        )
        vessels = case.rows("SELECT mmsi, imo, name FROM vessels WHERE imo IS NOT NULL")
    assert len(rows) == 4
    sentinel = [r for r in rows if r["mmsi"] == 273000001][1]  # the 01:00 fix, sentinels
    assert (sentinel["lat"], sentinel["lon"], sentinel["sog"], sentinel["heading"]) == (
        42.8,
        133.1,
        None,
        None,
    )  # lat 91 / lon 181: no position, that row is quarantined (ais_rules)
    dma_row = [r for r in rows if r["mmsi"] == 219000001][0]
    assert (
        dma_row["nav_status"] == 5
        and dma_row["timestamp"].isoformat() == "2021-11-01T00:00:01+00:00"
    )
    assert vessels == [{"mmsi": 367000001, "imo": "9161003", "name": "TEST"}]


def test_second_writer_gets_case_busy(tmp_path):
    from cargotrace.errors import CaseBusyError

    with Case.open(tmp_path / "case", create=True):
        with pytest.raises(CaseBusyError, match="busy"):
            with Case.open(tmp_path / "case", write=True):
                pass


def test_dos_cyrillic_is_told_apart_from_windows_1251_and_koi8_r_on_a_header_line():
    """A CP866 export (DOS, 1C) used to be read as another encoding, and the error then
    blamed the column mapping."""
    from cargotrace.ingest.readers.sources import detect_encoding

    for line in (";".join(RU_HEADER), ";".join(RU_HEADER).upper(), ";".join(GOOD)):
        for encoding in ("cp1251", "koi8_r", "cp866"):
            assert detect_encoding(line.encode(encoding)) == encoding, (line, encoding)


def test_a_header_read_in_the_wrong_encoding_is_named_as_such_not_as_a_mapping_problem(tmp_path):
    for written, read_as in (("cp866", "cp1251"), ("cp866", "koi8-r"), ("cp1251", "koi8-r")):
        path = tmp_path / f"{written}-{read_as}.csv"
        lines = [";".join(RU_HEADER), ";".join(GOOD)]
        path.write_bytes("\n".join(lines).encode(written) + b"\n")
        mapping = tmp_path / "m.toml"
        mapping.write_text(f'encoding = "{read_as}"\n')  # a wrong guess
        with pytest.raises(InputError, match="mis-decoded.*encoding"):
            workflow.ingest(tmp_path / "wrong", "shipments", [path], mapping)
        [result] = workflow.ingest(tmp_path / path.stem, "shipments", [path])  # detected
        assert result.rows_kept == 1, (written, read_as)
