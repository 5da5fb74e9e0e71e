"""Station names and ESR codes against the real Russian station list (shared data):
Latin transliterations reach the Cyrillic names, and ESR codes written without their
leading zero or their check digit come back to the list's codes."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.ingest.kinds.shipment_lookups import resolve_esr
from cargotrace.reference.checkdigits import esr_check_digit, normalize_esr
from cargotrace.reference.names import normalize_station_name

from builders import write_csv
from conftest import shared_data

_BGN = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i", "й": "y",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
        "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": '"', "ы": "y", "ь": "'", "э": "e", "ю": "yu",
        "я": "ya"}  # fmt: skip
SCHEMES = {
    "BGN/PCGN": (_BGN, True),  # е -> ye after a vowel or at the start: Yelets, Zarech'ye
    "ICAO 9303 (passports)": (
        {**_BGN, "ё": "e", "й": "i", "ъ": "ie", "ь": "", "ю": "iu", "я": "ia"},
        False,
    ),
    "everyday (no soft signs)": ({**_BGN, "ь": "", "ъ": "", "ё": "e"}, False),
}


def transliterate(name: str, table: dict[str, str], ye: bool) -> str:
    out, previous = [], " "
    for ch in name:
        low = ch.lower()
        latin = table.get(low)
        if latin is None:
            out.append(ch)
        else:
            if ye and low == "е" and previous in " -аеёиоуыэюяьъ":
                latin = "ye"
            out.append(latin.capitalize() if ch != low and latin else latin)
        previous = low
    return "".join(out)


@pytest.fixture(scope="module")
def stations() -> list[dict[str, str]]:
    with open(shared_data("rail", "RU_stations_new.tsv"), encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_transliterated_names_match_the_cyrillic_ones(stations, scheme):
    table, ye = SCHEMES[scheme]
    names = sorted({r["name"] for r in stations if r["name"]})
    misses = [
        n
        for n in names
        if normalize_station_name(n) != normalize_station_name(transliterate(n, table, ye))
    ]
    assert len(names) > 12_000
    assert len(misses) <= len(names) * 0.002, misses[:20]


def test_name_keys_stay_as_distinct_as_the_names(stations):
    """Folding must not merge many different stations: among codes with one name each, the
    share whose key is unique stays close to the share whose upper-cased name is unique."""
    by_code = {}
    for r in stations:
        by_code.setdefault(normalize_esr(r["esr"])[0], r["name"])
    names = [n for n in by_code.values() if n]
    keys = [normalize_station_name(n) for n in names]
    name_counts, key_counts = Counter(n.upper().replace("Ё", "Е") for n in names), Counter(keys)
    unique_names = sum(1 for n in names if name_counts[n.upper().replace("Ё", "Е")] == 1)
    unique_keys = sum(1 for k in keys if key_counts[k] == 1)
    assert unique_keys >= unique_names * 0.97


def test_esr_codes_of_the_list_resolve_to_themselves(stations):
    codes = [r["esr"] for r in stations]
    known = {c for c in (normalize_esr(code)[0] for code in codes) if c}
    resolved = [resolve_esr(code, known)[0] for code in codes]
    assert sum(1 for c in resolved if c in known) == len(codes)
    valid = sum(1 for c in known if len(c) == 6 and esr_check_digit(c[:5]) == int(c[5]))
    assert valid >= len(known) - 30  # the list holds a few codes that fail their own check digit


def test_short_esr_forms_are_settled_by_the_case_station_list(stations):
    """Five digits read two ways (lost leading zero, or no check digit); with the stations
    of the case loaded, the reading that names a known station wins."""
    known = {c for c in (normalize_esr(r["esr"])[0] for r in stations) if c and len(c) == 6}
    rng = random.Random(7)
    valid = sorted(
        c for c in known if esr_check_digit(c[:5]) == int(c[5])
    )  # 27 codes of the list fail theirs
    sample = rng.sample(valid, 2000)
    for code in sample:
        short = code[1:] if code.startswith("0") else code[:5]
        assert resolve_esr(short, known)[0] == code or (
            # both readings are real stations: the check digit reading is kept and flagged
            ("0" + short in known) and (short + str(esr_check_digit(short)) in known)
        )


def test_shipments_with_latin_names_and_short_codes_meet_the_real_stations(tmp_path, stations):
    """Ingest the real list as the case's stations, then shipments that name stations in
    Latin letters and write their ESR codes without the leading zero or the check digit."""
    rng = random.Random(11)
    table, ye = SCHEMES["BGN/PCGN"]
    picks = [r for r in rng.sample(stations, 400) if r["name"] and len(r["esr"]) in (5, 6)]
    station_rows = [[r["esr"], r["name"], r["lat"], r["lon"], ""] for r in stations]
    stations_csv = write_csv(
        tmp_path / "stations.csv", ["esr", "name", "lat", "lon", "port_locode"], station_rows
    )
    rows = []
    for i, r in enumerate(picks):
        code = normalize_esr(r["esr"])[0] or ""
        short = code[1:] if code.startswith("0") else code[:5]
        rows.append(
            [
                f"W{i}",
                "2023-09-03",
                transliterate(r["name"], table, ye),
                short,
                "Тихорецкая",
                "520102",
                "coal",
                "60",
            ]
        )
    shipments_csv = write_csv(tmp_path / "shipments.csv", ["waybill", "departed_on", "origin_station", "origin_esr",
                                                           "destination_station", "destination_esr", "cargo", "weight_t"], rows)  # fmt: skip
    workflow.ingest(tmp_path / "case", "stations", [stations_csv])
    workflow.ingest(tmp_path / "case", "shipments", [shipments_csv])
    with Case.open(tmp_path / "case") as case:
        station_keys = {
            r["name_norm"]: r["esr"] for r in case.rows("SELECT name_norm, esr FROM stations")
        }
        codes = {r["esr"] for r in case.rows("SELECT esr FROM stations")}
        shipped = case.rows("SELECT origin_station, origin_esr FROM shipments")
    by_code = sum(1 for s in shipped if s["origin_esr"] in codes)
    by_name = sum(1 for s in shipped if normalize_station_name(s["origin_station"]) in station_keys)
    assert len(shipped) == len(picks)
    assert by_code >= len(picks) * 0.97
    assert by_name >= len(picks) * 0.98


def test_station_keys_of_the_case_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "st.csv", ["esr", "name", "lat", "lon", "port_locode"],
                     [["985906", "Находка-Восточная", 42.77, 133.1, "RUVYP"]])  # fmt: skip
    workflow.ingest(tmp_path / "case", "stations", [path])
    with Case.open(tmp_path / "case") as case:
        key = case.scalar("SELECT name_norm FROM stations")
    assert (
        key
        == normalize_station_name("NAKHODKA-VOSTOCHNAYA")
        == normalize_station_name("ст. Находка-Вост.")
    )
