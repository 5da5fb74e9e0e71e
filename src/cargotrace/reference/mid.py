"""MMSI structure (ITU-R M.585) and the Maritime Identification Digits (MID) table.

An MMSI is nine digits. Where its MID sits says what kind of station it is:

| kind              | form      | as an integer           | MID        |
|-------------------|-----------|-------------------------|------------|
| `ship`            | MIDXXXXXX | 200000000 - 799999999   | digits 1-3 |
| `group`           | 0MIDXXXXX | 20000000 - 79999999     | digits 2-4 |
| `coast_station`   | 00MIDXXXX | 2000000 - 7999999       | digits 3-5 |
| `sar_aircraft`    | 111MIDXXX | 111000000 - 111999999   | digits 4-6 |
| `handheld`        | 8MIDXXXXX | 800000000 - 899999999   | digits 2-4 |
| `sart`            | 970XXYYYY | AIS search and rescue transmitter | none |
| `mob`             | 972XXYYYY | man overboard device    | none       |
| `epirb`           | 974XXYYYY | EPIRB with AIS          | none       |
| `amrd`            | 979XXYYYY | autonomous maritime radio device (M.585-8, group B) | none |
| `craft`           | 98MIDXXXX | craft associated with a parent ship | digits 3-5 |
| `aton`            | 99MIDXXXX | aid to navigation       | digits 3-5 |
| `invalid`         | anything else (0, 1, 123456789, ten digits) | | |

An MMSI is *valid* when its kind is not `invalid` and its MID, if it has one, is allocated
(200123456 is a `ship` MMSI, but MID 200 is not allocated: not valid).
Only a `ship` MMSI implies a flag: the administration its MID belongs to.

`mid.csv` beside this module is the ITU's MID table (ITU MARS list of MIDs, transcribed)
with the ISO 3166-1 alpha-2 code of each administration's territory. Where ISO and the ITU
disagree, the territory wins: 740 Falkland Islands is FK, 608 Ascension Island SH, the
French Southern and Antarctic Lands (501, 607, 618, 635) TF, and 306 (Curaçao, Sint
Maarten, Bonaire, Sint Eustatius and Saba) CW. `tests/test_ais_mid.py` checks the table
against the one pyais ships, these corrections aside.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

KINDS = ("ship", "group", "coast_station", "sar_aircraft", "handheld", "sart", "mob", "epirb",
         "amrd", "craft", "aton", "invalid")  # fmt: skip
WITHOUT_MID = frozenset({"sart", "mob", "epirb", "amrd"})

# (kind, lowest, highest, divisor): the MID is (mmsi // divisor) % 1000; first match wins.
MMSI_RANGES: tuple[tuple[str, int, int, int | None], ...] = (
    ("coast_station", 2_000_000, 7_999_999, 10_000),
    ("group", 20_000_000, 79_999_999, 100_000),
    ("sar_aircraft", 111_000_000, 111_999_999, 1_000),
    ("ship", 200_000_000, 799_999_999, 1_000_000),
    ("handheld", 800_000_000, 899_999_999, 100_000),
    ("sart", 970_000_000, 970_999_999, None),
    ("mob", 972_000_000, 972_999_999, None),
    ("epirb", 974_000_000, 974_999_999, None),
    ("amrd", 979_000_000, 979_999_999, None),
    ("craft", 980_000_000, 989_999_999, 10_000),
    ("aton", 990_000_000, 999_999_999, 10_000),
)


@dataclass(frozen=True)
class Mid:
    mid: int
    flag: str  # ISO 3166-1 alpha-2
    administration: str


@lru_cache(maxsize=1)
def mid_table() -> dict[int, Mid]:
    """MID -> (flag, administration), from `mid.csv`."""
    text = resources.files("cargotrace.reference").joinpath("mid.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {int(r["mid"]): Mid(int(r["mid"]), r["flag"], r["administration"]) for r in rows}


def _as_int(mmsi: int | str | None) -> int | None:
    if mmsi is None:
        return None
    text = str(mmsi).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() and len(text) <= 9 else None


def mmsi_kind(mmsi: int | str | None) -> str:
    """The kind of station an MMSI names (see the module docstring); `invalid` if none."""
    m = _as_int(mmsi)
    if m is None:
        return "invalid"
    for kind, low, high, _ in MMSI_RANGES:
        if low <= m <= high:
            return kind
    return "invalid"


def mmsi_mid(mmsi: int | str | None) -> int | None:
    """The MID inside an MMSI (wherever its kind puts it), allocated or not; None if none."""
    m = _as_int(mmsi)
    if m is None:
        return None
    for _, low, high, divisor in MMSI_RANGES:
        if low <= m <= high:
            return None if divisor is None else (m // divisor) % 1000
    return None


def mmsi_valid(mmsi: int | str | None) -> bool:
    kind = mmsi_kind(mmsi)
    if kind == "invalid":
        return False
    return kind in WITHOUT_MID or mmsi_mid(mmsi) in mid_table()


def mmsi_flag(mmsi: int | str | None) -> str | None:
    """ISO alpha-2 flag a ship's MMSI implies (its MID's administration); None otherwise."""
    if mmsi_kind(mmsi) != "ship":
        return None
    entry = mid_table().get(mmsi_mid(mmsi) or 0)
    return entry.flag if entry else None


# ------------------------------------------------------------------ SQL (DuckDB and Spark)
def mmsi_kind_sql(col: str) -> str:
    """SQL: the kind of the BIGINT MMSI `col` (NULL MMSI -> 'invalid')."""
    whens = " ".join(
        f"WHEN {col} BETWEEN {low} AND {high} THEN '{kind}'" for kind, low, high, _ in MMSI_RANGES
    )
    return f"(CASE {whens} ELSE 'invalid' END)"


def mmsi_mid_sql(col: str) -> str:
    """SQL: the MID inside the BIGINT MMSI `col`, allocated or not; NULL when it has none."""
    whens = " ".join(
        f"WHEN {col} BETWEEN {low} AND {high} THEN ({col} // {divisor}) % 1000"
        for _, low, high, divisor in MMSI_RANGES
        if divisor is not None
    )
    return f"(CASE {whens} END)"


def mid_flags_view_sql(name: str = "mid_flags") -> str:
    """SQL: a view (mid, flag, administration) holding the MID table, for joins in the case."""
    values = ", ".join(
        f"({m.mid}, '{m.flag}', '{m.administration.replace(chr(39), chr(39) * 2)}')"
        for m in mid_table().values()
    )
    return f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM (VALUES {values}) AS t(mid, flag, administration)"
