"""Check digits: hand examples, property tests, and the real Russian station list."""

from __future__ import annotations

import csv

from hypothesis import given
from hypothesis import strategies as st

from cargotrace.reference.checkdigits import (
    container_check_ok,
    esr_check_digit,
    imo_check_ok,
    inn_check_ok,
    normalize_esr,
    wagon_check_ok,
)

from conftest import shared_data


def test_esr_examples():
    assert esr_check_digit("98470") == 0  # 984700
    assert normalize_esr("984700") == ("984700", None)
    assert normalize_esr("98470") == ("984700", "esr_check_digit_added")
    assert normalize_esr("984701") == ("984701", "esr_check_digit")
    assert normalize_esr("69608") == ("069608", "esr_leading_zero_restored")


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_esr_completion_always_yields_a_valid_six_digit_code(five):
    code, _flag = normalize_esr(five)
    assert code is not None and len(code) == 6
    assert esr_check_digit(code[:5]) == int(code[5])


def test_known_identifiers():
    assert imo_check_ok("9161003") and imo_check_ok("IMO 9358010") and not imo_check_ok("9161004")
    assert container_check_ok("CSQU3054383") and not container_check_ok("CSQU3054384")
    assert inn_check_ok("7707083893") and not inn_check_ok("7707083894")  # Sberbank's INN
    assert wagon_check_ok("24567893") and not wagon_check_ok("24567899")  # 4+4+1+6+5+8+9 = 37 -> 3


@given(st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_exactly_one_wagon_check_digit_fits(seven):
    assert sum(wagon_check_ok(seven + str(d)) for d in range(10)) == 1


def test_real_station_list_esr_codes_normalise_to_valid_codes():
    path = shared_data("rail", "RU_stations_new.tsv")
    with open(path, encoding="utf-8") as handle:
        codes = [row["esr"] for row in csv.DictReader(handle, delimiter="\t")]
    normalised = [normalize_esr(c)[0] for c in codes]
    valid = sum(1 for c in normalised if c and esr_check_digit(c[:5]) == int(c[5]))
    assert len(codes) == 17_684
    # 27 six-digit codes in the list fail their own check digit; they are kept and flagged.
    assert valid >= len(codes) - 30
