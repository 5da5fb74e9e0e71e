"""Shared by the hypothesis fuzz suite (`tests/test_fuzz_readers.py`), the crash corpus
replay and the atheris harness (`fuzz/fuzz_readers.py`): valid seed inputs per reader, byte
mutations, and the one function that feeds bytes to a reader and checks the outcome.

A *target* is a reader as the CLI reaches it: a KIND, a file suffix (the readers choose by
name and content), and how the bytes are used (`file`: the input file itself; `mapping`:
the `--mapping` TOML for a fixed valid shipments CSV). The outcome of every input must be
either success with the ledger invariant (rows read = kept + quarantined + duplicates) or a
`CargotraceError` (exit status 2 in the CLI); anything else is a crash.

Two depths: `ingest_bytes` runs the real `ingest_file` into an open case (SQL, quarantine
and ledger included); `parse_bytes` stops after the Python readers (format sniffing, CSV,
workbook, GeoJSON and NMEA parsing, header mapping) and is some 50x cheaper, so the fuzz
suite spends most of its examples there.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import xor
from pathlib import Path

from cargotrace.case.store import Case
from cargotrace.errors import CargotraceError, InputError
from cargotrace.ingest import registry as kinds
from cargotrace.ingest.nmea.decoder import decode_nmea_file
from cargotrace.ingest.readers.csvread import IrregularCsv
from cargotrace.ingest.readers.geojson import features_to_chunk, load_features
from cargotrace.ingest.readers.headers import map_columns
from cargotrace.ingest.readers.tabular import read_parts
from cargotrace.ingest.types import IngestResult, Mapping, TabularKind
from cargotrace.sample.sightings import SIGHTING_HEADER as SIGHTINGS_COLUMNS

# --------------------------------------------------------------------------- seeds
RU_HEADER = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления", "Код станции отправления",
             "Станция назначения", "Код станции назначения", "Наименование груза", "Вес груза, кг", "Номер вагона",
             "Грузоотправитель", "Номер контейнера"]  # fmt: skip
RU_ROWS = [
    ["ЭА1", "отправление", "03.09.2023", "Находка-Восточная", "98470", "Тихорецкая", "515002", "Взрывчатые вещества", "61 250,5", "24567899", "АО «Ромашка»", "MSCU1234565"],
    ["ЭА1", "прибытие", "07.09.23", "Находка-Восточная", "984700", "Тихорецкая", "515002", "Боеприпасы", "61250", "24567899", "", ""],
    ["ЭА2", "", "45123", "Ст. «Угольная»", "", "Моздок", "", "уголь\nкаменный", "н/д", "1234", "ООО \"Вектор\"", ""],
]  # fmt: skip
EN_HEADER = ["waybill", "record", "departed_on", "arrived_on", "origin_station", "origin_esr", "destination_station",
             "destination_esr", "cargo", "cargo_code", "weight (t)", "consignor", "consignee", "wagon", "container"]  # fmt: skip
EN_ROWS = [
    ["W-1", "departure", "2023-09-03", "", "Nakhodka", "984700", "Tikhoretskaya", "515002", "explosives", "", "61.25", "ACME", "", "24567899", ""],
    ["W-1", "arrival", "2023-09-03", "2023-09-09", "Nakhodka", "984700", "Tikhoretskaya", "515002", "ammunition", "", "61,25", "", "", "24567899", ""],
    ["W-2", "", "09/03/2023", "", "", "", "", "", "coal, \"steam\"", "161005", "1e400", "", "", "", "TGHU0000000"],
]  # fmt: skip
POSITION_ROWS = [
    ["mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"],
    ["273000001", "2023-09-01T00:00:00Z", "42.73", "133.05", "0.1", "12.5", "511", "5"],
    ["273000001", "1693526400", "42.74", "133.04", "10.2", "360", "90", "0"],
    ["273000002", "2023-09-01 01:00:00", "91", "181", "102.3", "", "", "moored"],
]
NOAA_ROWS = [
    ["MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO", "CallSign", "VesselType", "Status"],
    ["367000001", "2023-01-01T00:00:01", "29.9", "-90.1", "0.0", "-0.6", "511.0", "TUG ONE", "IMO9000001", "WDA1", "31", "0"],
    ["367000002", "2023-01-01T00:00:02", "-91", "-181", "3.1", "200.4", "199.0", "", "", "", "", "15"],
]  # fmt: skip
DMA_ROWS = [
    ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status", "ROT", "SOG", "COG", "Heading", "IMO", "Callsign", "Name", "Ship type"],
    ["01/09/2023 00:00:00", "Class A", "219000001", "55.7", "12.6", "Under way using engine", "0", "12.1", "45.3", "44", "9000001", "OXAB", "DANA", "Cargo"],
    ["01/09/2023 00:00:10", "Base Station", "2190000", "91.000000", "181.000000", "Unknown value", "", "", "", "", "Unknown", "", "", "Undefined"],
]  # fmt: skip
SIGHTING_ROWS = [
    list(SIGHTINGS_COLUMNS),
    ["2023-09-03", "ANGARA", "IMO 9179842", "", "KPRJN", "", "", "imagery", "0.9", "at berth"],
    [
        "2023-09-04T10:00:00Z",
        "",
        "",
        "273000001",
        "",
        "42.2",
        "130.3",
        "press",
        "1.5",
        '"quoted", note',
    ],
    ["04.09.2023", "LADY R", "9179842.0", "abc", "Rajin", "", "", "", "", ""],
]
VESSEL_ROWS = [
    ["mmsi", "imo", "name", "callsign", "ship_type", "flag", "owner"],
    ["273000001", "9179842", "ANGARA", "UBCT7", "70", "RU", "ООО «Ромашка»"],
    ["", "IMO 9000001", "", "", "", "RUS", ""],
]
STATION_ROWS = [
    ["esr", "name", "lat", "lon", "port_locode"],
    ["984700", "Находка-Восточная", "42.78", "133.03", "RUVYP"],
    ["98470", "Тихорецкая", "45.85", "40.12", ""],
]
NMEA_SAMPLES = [
    "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C",
    "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D",
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
    "!AIVDM,1,1,,A,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C",
    "!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B",
    "!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D",
    "!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40",
    "!AIVDM,1,1,,A,KCQ9r=hrFUnH7P00,0*41",
    "!AIVDO,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40",
]


def nmea_checksum(body: str) -> str:
    return f"{reduce(xor, body.encode('latin-1'), 0):02X}"


def tag_block(fields: str) -> str:
    return f"\\{fields}*{nmea_checksum(fields)}\\"


def _csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8", delimiter: str = ",",
               quoting: int = csv.QUOTE_MINIMAL, newline: str = "\r\n") -> bytes:  # fmt: skip
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def shipments_csv_seeds() -> list[bytes]:
    seeds = []
    layouts = [
        ("cp1251", ";"),
        ("utf-8-sig", ","),
        ("utf-8", "\t"),
        ("koi8_r", ";"),
        ("utf-8", "|"),
    ]
    for (encoding, delimiter), quoting in zip(
        layouts, itertools.cycle([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), strict=False
    ):
        seeds.append(_csv_bytes([RU_HEADER, *RU_ROWS], encoding, delimiter, quoting))
    seeds.append(_csv_bytes([["Реестр отправок", "", ""], [], RU_HEADER, *RU_ROWS, ["Итого", "", "", "", "", "", "", "", "122 500"]], "cp1251", ";"))  # fmt: skip
    seeds.append(_csv_bytes([EN_HEADER, *EN_ROWS], newline="\n"))
    seeds.append(_csv_bytes([EN_HEADER, *EN_ROWS], "utf-16", "\t"))
    seeds.append(
        _csv_bytes([EN_HEADER[:5], EN_ROWS[0][:5], EN_ROWS[1][:3], EN_ROWS[2]], newline="\r")
    )
    return seeds


def simple_csv_seeds(rows: list[list[str]]) -> list[bytes]:
    return [
        _csv_bytes(rows),
        _csv_bytes(rows, "cp1251", ";", csv.QUOTE_ALL, "\n"),
        _csv_bytes(rows, "utf-8-sig", "\t"),
    ]


def ais_csv_seeds() -> list[bytes]:
    return [*simple_csv_seeds(POSITION_ROWS), _csv_bytes(NOAA_ROWS), _csv_bytes(DMA_ROWS)]


def nmea_seeds() -> list[bytes]:
    plain = "\n".join(NMEA_SAMPLES) + "\n"
    tagged = "".join(
        f"{tag_block(f's:rcv{i},c:{1635731889 + i}')}{line}\r\n"
        for i, line in enumerate(NMEA_SAMPLES)
    )
    group = "".join(
        f"{tag_block(f'g:{n}-2-77,s:r1,c:1635731889')}{line}\n"
        for n, line in enumerate(NMEA_SAMPLES[2:4], 1)
    )
    epoch = "".join(f"{1635731889 + i} {line}\n" for i, line in enumerate(NMEA_SAMPLES))
    iso = "".join(f"2021-11-01T00:00:{i:02d}Z,{line}\n" for i, line in enumerate(NMEA_SAMPLES))
    meta = "".join(f"{line},1328182324603\n" for line in NMEA_SAMPLES)
    uscg = "".join(
        f"{line},d-109,S2105,t000056.00,T56.06,D07MN-NE-ROBBS1,1325394060,1325394001\n"
        for line in NMEA_SAMPLES
    )
    mixed = "# comment\n$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\n" + plain
    seeds = [plain, tagged, group, epoch, iso, meta, uscg, mixed]
    out = [s.encode() for s in seeds]
    out.append(gzip.compress(plain.encode(), mtime=0))
    return out


def _geojson(features: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()


def _polygon(lon: float, lat: float) -> dict[str, object]:
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def ports_geojson_seeds() -> list[bytes]:
    return [
        _geojson(
            [
                {
                    "type": "Feature",
                    "properties": {
                        "locode": "KPRJN",
                        "name": "Rajin",
                        "country": "KP",
                        "radius_km": 5,
                    },
                    "geometry": {"type": "Point", "coordinates": [130.3, 42.2333]},
                },
                {
                    "type": "Feature",
                    "properties": {"locode": "RU VYP", "name": "Восточный", "radius_km": "2,5"},
                    "geometry": _polygon(133.0, 42.7),
                },
                {
                    "type": "Feature",
                    "properties": {"locode": None, "name": ["x"], "extra": {"a": 1}},
                    "geometry": None,
                },
            ]
        ),
        json.dumps(
            {
                "type": "Feature",
                "properties": {"locode": "RUVVO"},
                "geometry": {"type": "Point", "coordinates": [131.9, 43.1, 5]},
            }
        ).encode(),  # fmt: skip
    ]


def facilities_geojson_seeds() -> list[bytes]:
    return [
        _geojson([
            {"type": "Feature", "properties": {"name": "Арсенал 60", "category": "arsenal", "source": "osm"},
             "geometry": _polygon(40.0, 45.0)},
            {"type": "Feature", "properties": {"name": "Depot", "category": "ammunition_depot"},
             "geometry": {"type": "MultiPoint", "coordinates": [[40, 45], [41, 46]]}},
            {"type": "Feature", "properties": {"name": "Bad", "category": 7},
             "geometry": {"type": "Point", "coordinates": ["a", 1]}},
        ])
    ]  # fmt: skip


def borders_geojson_seeds() -> list[bytes]:
    return [
        _geojson([
            {"type": "Feature", "properties": {"ISO_A2": "-99", "ISO_A2_EH": "FR", "ADMIN": "France", "ISO_A3": "FRA"},
             "geometry": _polygon(2.0, 46.0)},
            {"type": "Feature", "properties": {"ADM0_A3": "UKR", "ADMIN": "Ukraine"},
             "geometry": {"type": "MultiPolygon", "coordinates": [_polygon(30.0, 49.0)["coordinates"]]}},
            {"type": "Feature", "properties": {"ADMIN": "Nowhere"}, "geometry": {"type": "GeometryCollection", "geometries": []}},
        ])
    ]  # fmt: skip


def mapping_seeds() -> list[bytes]:
    return [
        b'[columns]\nwaybill = "Doc"\ndeparted_on = "Shipped"\ncargo = "What"\nweight = "Mass"\n\n[units]\nweight = "t"\n',
        b'date_format = "%m/%d/%Y"\nheader_row = 1\nencoding = "cp1251"\ndelimiter = "semicolon"\n[columns]\nwaybill = "Doc"\n',
        b'delimiter = ";"\n[columns]\nwaybill = "doc"\ncargo = "WHAT"\n[units]\nweight = "t"\n',
        b'sheet = "Sheet1"\n[columns]\nwaybill = "Doc"\n',
        b'header_row = 2\nsheet = "Sheet1"\n[columns]\nwaybill = "Doc"\ndeparted_on = "Shipped"\n',
    ]


MAPPING_CSV_HEADER = ["Doc", "Shipped", "What", "Mass, kg"]


def _mapping_rows(unique: str) -> list[list[str]]:
    return [
        MAPPING_CSV_HEADER,
        [f"M-{unique}", "09/03/2023", "уголь", "61250"],
        [f"N-{unique}", "2023-09-04", "ВВ", "12,5"],
    ]


def mapping_csv(unique: str) -> bytes:
    """The fixed shipments file the mapping target applies its TOML to (unique per call)."""
    return _csv_bytes(_mapping_rows(unique), "cp1251", ";")


def mapping_xlsx(unique: str) -> bytes:
    """The same rows as a workbook (sheet "Sheet1", a title row above the header)."""

    def build(book: object) -> None:
        sheet = book.active  # type: ignore[attr-defined]
        sheet.title = "Sheet1"
        sheet.append(["Реестр"])
        for row in _mapping_rows(unique):
            sheet.append(row)

    return _workbook(build)


def ftm_seeds() -> list[bytes]:
    vessel = {"id": "v1", "schema": "Vessel", "caption": "ANGARA", "datasets": ["us_ofac_sdn"],
              "last_change": "2024-01-31T10:00:00",
              "properties": {"name": ["ANGARA", "HAI XING"], "imoNumber": ["IMO9179842"], "mmsi": ["273000001"],
                             "flag": ["ru"], "pastFlags": ["Panama"], "previousName": ["LADY R"], "owner": ["c1"]}}  # fmt: skip
    company = {"id": "c1", "schema": "Company", "caption": "ООО Ромашка", "datasets": ["ru_rupep", "us_ofac_sdn"],
               "properties": {"name": ["ООО Ромашка"], "innCode": ["7707083893"], "ogrnCode": ["1027700132195"],
                              "alias": ["Romashka LLC"], "weakAlias": ["R"]}}  # fmt: skip
    link = {"id": "o1", "schema": "Ownership", "properties": {"owner": ["c1"], "asset": ["v1"]}}
    sanction = {
        "id": "s1",
        "schema": "Sanction",
        "properties": {"entity": ["v1"], "authority": ["OFAC"], "program": ["RUSSIA-EO14024"]},
    }
    nested = {"id": "c2", "schema": "Company", "properties": {"name": ["Nested Ltd"], "ownershipAsset": [
        {"id": "o2", "schema": "Ownership", "properties": {"owner": ["c2"], "asset": [{"id": "v2", "schema": "Vessel", "caption": "SHIP2"}]}}]}}  # fmt: skip
    lines = [json.dumps(x, ensure_ascii=False) for x in (vessel, company, link, sanction, nested)]
    return [
        "\n".join(lines).encode() + b"\n",
        ("\n".join(lines[:2]) + "\n\nnot json\n[1]\n").encode(),
    ]


def ofac_seeds() -> list[bytes]:
    rows = [
        ["36", "AEROCARIBBEAN AIRLINES", "-0- ", "CUBA", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ", "a.k.a. 'AERO-CARIBBEAN'."],
        ["9647", "ANGARA", "vessel", "RUSSIA-EO14024", "-0- ", "UBCT7", "General Cargo", "-0- ", "-0- ", "Russia", "SOME OWNER",
         "Linked To: SOME OWNER; Vessel Registration Identification IMO 9179842; MMSI 273000001; Former Vessel Name LADY R; Former Vessel Flag Panama."],
        ["10001", "ROMASHKA, OOO", "-0- ", "[RUSSIA-EO14024] [UKRAINE-EO13662]", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ", "-0- ",
         "Tax ID No. 7707083893 (Russia); Registration ID 1027700132195 (Russia); f.k.a. 'OLD NAME'."],
        ["x", "bad"],
    ]  # fmt: skip
    return [_csv_bytes(rows, newline="\r\n") + b"\x1a"]


def un_seeds() -> list[bytes]:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2024-01-31T00:00:00">
<INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>IVAN</FIRST_NAME><SECOND_NAME>PETROV</SECOND_NAME>
<UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.001</REFERENCE_NUMBER><LISTED_ON>2016-03-02</LISTED_ON>
<NAME_ORIGINAL_SCRIPT>Иван Петров</NAME_ORIGINAL_SCRIPT><NATIONALITY><VALUE>Russian Federation</VALUE></NATIONALITY>
<INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>VANYA</ALIAS_NAME></INDIVIDUAL_ALIAS></INDIVIDUAL></INDIVIDUALS>
<ENTITIES><ENTITY><DATAID>2</DATAID><FIRST_NAME>OCEAN MARITIME MANAGEMENT</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
<REFERENCE_NUMBER>KPe.029</REFERENCE_NUMBER><COMMENTS1>IMO number: 1790183</COMMENTS1>
<ENTITY_ALIAS><QUALITY>f.k.a.</QUALITY><ALIAS_NAME>OMM</ALIAS_NAME></ENTITY_ALIAS>
<NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY></ENTITY></ENTITIES>
</CONSOLIDATED_LIST>
"""
    return [xml.encode()]


def _workbook(build: Callable[[object], None]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    build(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_seeds() -> list[bytes]:
    import datetime as dt

    def ru(book: object) -> None:
        sheet = book.active  # type: ignore[attr-defined]
        sheet.title = "Отправления"
        sheet["A1"] = "Реестр отправок"
        sheet.merge_cells("A1:D1")
        sheet.append([])
        sheet.append(RU_HEADER[:9])
        sheet.append(
            [
                "XL-1",
                "отправление",
                dt.date(2023, 9, 3),
                "Находка",
                69608,
                "Тихорецкая",
                515002,
                "ВВ",
                61250.5,
            ]
        )
        sheet.append(["XL-2", None, 45173, "Находка", "985906", "Моздок", None, "уголь", "60 000"])
        sheet.append(
            [
                "XL-3",
                True,
                dt.datetime(2023, 9, 4, 13, 5),  # noqa: DTZ001 - an Excel cell holds a naive time
                None,
                1e300,
                -0.0,
                123456789012345678,
                "=1/0",
                dt.time(1, 2),
            ]
        )  # noqa: DTZ001 - Excel has no zones
        sheet.merge_cells("A6:A7")

    def odd(book: object) -> None:
        sheet = book.active  # type: ignore[attr-defined]
        sheet.append(EN_HEADER[:6])
        sheet.append(
            ["W-1", "departure", dt.timedelta(days=3, hours=2), None, "x" * 300, 3.14159265358979]
        )
        sheet.append([12345, False, dt.datetime(1900, 1, 1), "2023-09-09", "", "#N/A"])  # noqa: DTZ001
        other = book.create_sheet("notes")  # type: ignore[attr-defined]
        other.append(["just", "notes"])
        book.create_sheet("empty")  # type: ignore[attr-defined]

    return [_workbook(ru), _workbook(odd)]


# --------------------------------------------------------------------------- mutations
_CYRILLIC = "Вес груза, кг; ВВ ё"
TOKENS: tuple[bytes, ...] = (
    b'"',
    b'""',
    b'"\n',
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b",",
    b";",
    b"\t",
    b"|",
    b"\\",
    b"*",
    b"!",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x1a",
    b"\xd0",
    b"\xc3\x28",
    b"\xe2\x80\xa8",
    b"\x85",
    b"\xa0",
    b"9" * 40,
    b"-1e309",
    b"1e400",
    b"NaN",
    b"-inf",
    b"-0",
    b"99999999999999999999999",
    b"0x1F",
    b"4.2e-320",
    b"x" * 5000,
    b" " * 3000,
    b"," * 300,
    b'"' * 101,
    _CYRILLIC.encode("cp1251"),
    _CYRILLIC.encode("koi8_r"),
    _CYRILLIC.encode("utf-8"),
    "«»".encode("cp1251"),
    b"=1/0",
    b"{",
    b"}",
    b"[",
    b"]",
    b"<",
    b">",
    b"&amp;",
    b"&#0;",
    b"%s%n",
    b"\\u0000",
    b"null",
    b"true",
    b'{"a":' * 60,
    b"[" * 3000,
    b"2023-02-30",
    b"31.12.99",
    b"45123",
    b"1e10",
    b"\\s:x,c:1635731889*00\\",
    b"\\g:1-2-3*00\\",
    b"!AIVDM,2,1,9,A,",
    b"!AIVDM,1,1,,A,",
    b",0*00",
    b"PK\x03\x04",
    b"\x1f\x8b",
)
OPS = ("flip", "truncate", "insert", "delete", "duplicate", "random", "swap")


def mutate(data: bytes, ops: Sequence[tuple[int, int, int, bytes]]) -> bytes:
    """Apply mutations (op, position, argument, bytes): positions wrap around the data, so
    any integers make a valid mutation (hypothesis and atheris both drive this)."""
    buf = bytearray(data)
    for op_index, position, argument, blob in ops:
        op = OPS[op_index % len(OPS)]
        pos = position % (len(buf) + 1)
        if op == "flip" and buf:
            buf[pos % len(buf)] ^= (argument % 255) + 1
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = TOKENS[argument % len(TOKENS)]
        elif op == "delete":
            del buf[pos : pos + 1 + argument % 64]
        elif op == "duplicate":
            buf[pos:pos] = buf[pos : pos + 1 + argument * 8] * (1 + argument % 4)
        elif op == "random":
            buf[pos:pos] = blob
        elif op == "swap" and buf:
            other = (pos + 1 + argument * 13) % len(buf)
            a, b = sorted((pos % len(buf), other))
            buf[a:b] = bytes(reversed(buf[a:b]))
    return bytes(buf)


def random_ops(rng: random.Random, count: int) -> list[tuple[int, int, int, bytes]]:
    return [(rng.randrange(len(OPS)), rng.randrange(1 << 20), rng.randrange(256),
             rng.randbytes(rng.randrange(8))) for _ in range(count)]  # fmt: skip


def mutate_xlsx_member(
    data: bytes, member_index: int, ops: Sequence[tuple[int, int, int, bytes]]
) -> bytes:
    """Mutate one member of a workbook (a zip) and zip it again: reaches the XML parsers
    behind the zip layer, which byte flips of the whole file mostly do not."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        names = source.namelist()
    except zipfile.BadZipFile:
        return mutate(data, ops)
    target = names[member_index % len(names)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            content = source.read(name)
            archive.writestr(name, mutate(content, ops) if name == target else content)
    return out.getvalue()


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    suffix: str
    seeds: Callable[[], list[bytes]]
    role: str = "file"  # "file": the bytes are the input; "mapping": the bytes are the TOML
    mapped: tuple[str, Callable[[str], bytes]] = (".csv", mapping_csv)  # the file a mapping is for


TARGETS = {t.name: t for t in [
    Target("shipments_csv", "shipments", ".csv", shipments_csv_seeds),
    Target("shipments_xlsx", "shipments", ".xlsx", xlsx_seeds),
    Target("nmea", "ais", ".nmea", nmea_seeds),
    Target("ais_csv", "ais", ".csv", ais_csv_seeds),
    Target("sightings", "sightings", ".csv", lambda: simple_csv_seeds(SIGHTING_ROWS)),
    Target("vessels", "vessels", ".csv", lambda: simple_csv_seeds(VESSEL_ROWS)),
    Target("stations", "stations", ".csv", lambda: simple_csv_seeds(STATION_ROWS)),
    Target("ports_geojson", "ports", ".geojson", ports_geojson_seeds),
    Target("facilities_geojson", "facilities", ".geojson", facilities_geojson_seeds),
    Target("borders_geojson", "borders", ".geojson", borders_geojson_seeds),
    Target("mapping", "shipments", ".toml", mapping_seeds, role="mapping"),
    Target("mapping_xlsx", "shipments", ".toml", mapping_seeds, role="mapping", mapped=(".xlsx", mapping_xlsx)),
    Target("ftm", "watchlist", ".jsonl", ftm_seeds),
    Target("ofac", "watchlist", ".csv", ofac_seeds),
    Target("un", "watchlist", ".xml", un_seeds),
]}  # fmt: skip


class Workdir:
    """Numbered input files in one folder (a fresh name per input: a case remembers files)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = itertools.count()

    def write(self, suffix: str, data: bytes) -> Path:
        path = self.root / f"in{next(self.count)}{suffix}"
        path.write_bytes(data)
        return path


def _inputs(target: Target, data: bytes, work: Workdir) -> tuple[Path, Mapping]:
    """The input file and mapping for `data`; a bad mapping raises InputError as the CLI's would."""
    if target.role == "mapping":
        toml = work.write(".toml", data)
        suffix, content = target.mapped
        path = work.write(suffix, content(toml.stem))
        return path, Mapping.load(toml)
    return work.write(target.suffix, data), Mapping()


def check_clean_error(exc: CargotraceError) -> None:
    """The refusal is a message a user can act on, located at least by file when it is input."""
    assert str(exc).strip(), "an error without a message"
    if isinstance(exc, InputError):
        assert exc.file, f"input error names no file: {exc}"


def ingest_bytes(
    case: Case, target: Target, data: bytes, work: Workdir
) -> IngestResult | CargotraceError:
    """Feed `data` to the reader through `ingest_file` (as `cargotrace ingest` does); returns the
    result or the clean error. Any other exception propagates: that is a crash."""
    try:
        path, mapping = _inputs(target, data, work)
        result = kinds.ingest_file(case, target.kind, path, mapping)
    except CargotraceError as exc:
        check_clean_error(exc)
        return exc
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate, (
        result
    )
    assert (
        min(
            result.rows_read,
            result.rows_kept,
            result.rows_quarantined,
            result.rows_duplicate,
            result.rows_skipped,
        )
        >= 0
    )
    return result


def parse_bytes(target: Target, data: bytes, work: Workdir) -> int | CargotraceError:
    """The Python half of the reader only: choose the reader as `ingest_file` does, parse every
    row and map the header; returns the number of rows seen or the clean error."""
    try:
        path, mapping = _inputs(target, data, work)
        return _parse(target.kind, path, mapping)
    except CargotraceError as exc:
        check_clean_error(exc)
        return exc


def _parse_table(spec: TabularKind, path: Path, mapping: Mapping, fast: bool) -> int:
    hint = set().union(*(f.keys() for f in spec.fields))
    parts = read_parts(path, sheet=mapping.sheet, header_row=mapping.header_row, header_hint=hint,
                       encoding=mapping.encoding, delimiter=mapping.delimiter, fast=fast)  # fmt: skip
    rows = 0
    for source, chunks in parts:
        mapped = False
        for chunk in chunks:
            if not mapped:
                map_columns(
                    chunk.headers,
                    spec.fields,
                    file=path.name,
                    explicit=mapping.columns,
                    row=source.header_row,
                )
                mapped = True
            assert chunk.table.num_columns == len(chunk.headers) + 1
            rows += chunk.table.num_rows + len(chunk.ragged) + chunk.blank
    return rows


def _parse(kind: str, path: Path, mapping: Mapping) -> int:
    spec = kinds.TABULAR[kind]
    reader = kinds._choose_reader(kind, path)
    rows = 0
    if reader is kinds._load_table:
        try:
            return _parse_table(spec, path, mapping, fast=spec.stream)
        except IrregularCsv:  # as `ingest_file` does: a big irregular CSV is read again, exactly
            return _parse_table(spec, path, mapping, fast=False)
    if reader is kinds._load_geojson:
        _source, chunks = features_to_chunk(path, load_features(path))
        for chunk in chunks:
            map_columns(chunk.headers, spec.fields, file=path.name, explicit=mapping.columns, row=0)
            rows += chunk.table.num_rows
        return rows
    if kind == "ais":  # NMEA
        for batch in decode_nmea_file(path):
            s = batch.stats
            assert s.lines == s.non_ais + s.sentences, s
            assert (
                s.rejected == s.rejected_sentences + s.rejected_messages == batch.rejects.num_rows
            ), s
            rows += s.decoded + s.rejected
        return rows
    raise NotImplementedError(f"no parse-only path for {reader}")  # watchlists: use ingest_bytes
