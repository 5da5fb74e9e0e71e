"""Property tests of the shipment value parsers: numbers and dates (the SQL of `sqlexpr`,
run through DuckDB), check digits and the name rules."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds.shipment_lookups import (
    container_rule,
    party_rule,
    resolve_esr,
    wagon_rule,
)
from cargotrace.reference.checkdigits import (
    container_check_ok,
    esr_check_digit,
    inn_check_ok,
    wagon_check_ok,
)
from cargotrace.reference.names import normalize_party_name, normalize_station_name

CON = duckdb.connect()
SPACES = [" ", "\u00a0", "\u2009", "\u202f", "\u2007"]
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sql(expression: str, value: str | None) -> object:
    return CON.execute(
        f"SELECT {expression} FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]
    ).fetchone()[0]  # type: ignore[index]


def number(value: str | None) -> float | None:
    return sql(sqlexpr.number("v"), value)  # type: ignore[return-value]


def date(value: str | None, fmt: str | None = None) -> dt.date | None:
    return sql(sqlexpr.date("v", fmt), value)  # type: ignore[return-value]


# ----------------------------------------------------------------------------- numbers
def group(integer: int, sep: str) -> str:
    text = f"{integer:,}"
    return text.replace(",", sep)


@FAST
@given(
    st.integers(0, 10**9), st.integers(0, 999), st.sampled_from(SPACES + ["'", "."]), st.booleans()
)
def test_numbers_with_thousands_separators_and_decimal_comma(integer, fraction, sep, with_fraction):
    text = group(integer, sep) + (f",{fraction:03d}" if with_fraction else "")
    expected = integer + (fraction / 1000 if with_fraction else 0)
    if sep == "." and integer >= 1000 and not with_fraction and text.count(".") == 1:
        expected = (
            integer / 1000 if len(text.split(".")[1]) == 3 else expected
        )  # «1.234» is one point two three four
    assert number(text) == pytest.approx(expected)


@FAST
@given(st.integers(0, 10**9), st.integers(0, 99))
def test_numbers_in_english_notation(integer, fraction):
    assert number(f"{integer:,}.{fraction:02d}") == pytest.approx(integer + fraction / 100)


@FAST
@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(
        lambda x: x == 0 or abs(x) > 1e-90
    )
)
def test_plain_repr_of_a_float_reads_back(value):  # exponents of one or two digits
    assert number(repr(value)) == pytest.approx(value)


@FAST
@given(st.text(alphabet="абвгдxyz/-_ н", min_size=1, max_size=8))
def test_words_are_not_numbers(text):
    if not re.search(r"\d", text):
        assert number(text) is None


@pytest.mark.parametrize(
    "text", ["inf", "nan", "-Infinity", "1e999", "1,2,3", "1.2.3", "12,5,", "--5", "1 2,3.4,5"]
)
def test_not_numbers(text):
    assert number(text) is None


@pytest.mark.parametrize(("text", "unit", "value"), [("61 250 кг", "кг", 61250), ("61,2 т", "т", 61.2),
                                                     ("7.5t", "t", 7.5), ("12 тн.", "тн", 12), ("9 Kg", "kg", 9)])  # fmt: skip
def test_units_written_in_values(text, unit, value):
    assert sql(sqlexpr.unit_of("v"), text) == unit
    assert number(sql(sqlexpr.strip_unit("v"), text)) == pytest.approx(value)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- dates
DATES = st.dates(min_value=dt.date(1954, 1, 1), max_value=dt.date(2099, 12, 31))


@FAST
@given(DATES)
def test_every_supported_format_gives_the_same_day(day):
    forms = [day.isoformat(), day.strftime("%d.%m.%Y"), f"{day.day}.{day.month}.{day.year}", day.strftime("%d-%m-%Y"),
             day.strftime("%Y.%m.%d"), day.strftime("%d.%m.%Y") + " г.", day.isoformat() + "T10:15:00"]  # fmt: skip
    serial = (day - dt.date(1899, 12, 30)).days
    if 20000 <= serial <= 80000:  # Excel day numbers 1954-10-03 .. 2119-01-10
        forms += [str(serial), f"{serial}.5"]
    if 1969 <= day.year <= 2068:
        forms.append(day.strftime("%d.%m.%y"))
    for text in forms:
        assert date(text) == day, text


@FAST
@given(DATES)
def test_slashes_are_day_first_and_flagged_when_ambiguous(day):
    text = day.strftime("%d/%m/%Y")
    assert date(text) == day
    assert sql(sqlexpr.date_is_ambiguous("v"), text) == (day.day <= 12 and day.month != day.day)


@FAST
@given(st.integers(1, 31), st.integers(1, 12), st.integers(1950, 2100))
def test_impossible_dates_are_refused(d, m, y):
    try:
        real = dt.date(y, m, d)
    except ValueError:
        real = None
    assert date(f"{d:02d}.{m:02d}.{y}") == real


@FAST
@given(DATES)
def test_a_mapping_format_wins_and_is_not_second_guessed(day):
    us = day.strftime("%m/%d/%Y")
    assert date(us, "%m/%d/%Y") == day
    if day.day > 12:
        assert date(day.strftime("%d/%m/%Y"), "%m/%d/%Y") is None  # not read the other way round


# ----------------------------------------------------------------------------- check digits
@FAST
@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_esr_codes_lose_their_zero_or_check_digit_and_come_back(five):
    code = five + str(esr_check_digit(five))
    assert resolve_esr(code, set()) == (code, None)
    if code.startswith("0"):
        assert (
            resolve_esr(code[1:], {code})[0] == code
        )  # lost leading zero, settled by the station list
    assert resolve_esr(five, {code}) in (
        (code, "esr_check_digit_added"),
        ("0" + five, "esr_leading_zero_restored"),
    )
    assert (
        resolve_esr(five, {code})[0] == code
        or "0" + five[:4] + str(esr_check_digit("0" + five[:4])) == "0" + five
    )


@FAST
@given(st.text(alphabet="0123456789", min_size=5, max_size=5), st.integers(1, 9))
def test_a_wrong_esr_check_digit_is_kept_and_flagged(five, delta):
    wrong = five + str((esr_check_digit(five) + delta) % 10)
    code, flag = resolve_esr(wrong, set())
    assert code == wrong and flag == "esr_check_digit"


@FAST
@given(st.text(alphabet="0123456789", min_size=7, max_size=7), st.sampled_from(["", " ", "-"]))
def test_wagon_numbers(seven, sep):
    good = next(seven + str(d) for d in range(10) if wagon_check_ok(seven + str(d)))
    assert wagon_rule(good[:4] + sep + good[4:]) == (good, None)
    bad = good[:7] + str((int(good[7]) + 1) % 10)
    assert wagon_rule(bad) == (bad, "wagon_check_digit")
    assert wagon_rule(good[:7])[1] == "wagon_format"


@FAST
@given(st.text(alphabet="0123456789 -", max_size=12))
def test_wagon_rule_agrees_with_the_reference_check_digit(text):
    digits, flag = wagon_rule(text)
    assert digits == re.sub(r"[\s-]", "", text)
    assert (flag is None) == wagon_check_ok(digits)


@FAST
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), st.sampled_from("UJZ"),
       st.text(alphabet="0123456789", min_size=6, max_size=6))  # fmt: skip
def test_container_numbers(owner, category, serial):
    body = owner + category + serial
    good = next(body + str(d) for d in range(10) if container_check_ok(body + str(d)))
    assert container_rule(good.lower()[:4] + " " + good[4:10] + "-" + good[10]) == (good, None)
    assert container_rule(good[:10] + str((int(good[10]) + 1) % 10))[1] == "container_check_digit"


@FAST
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_inn_in_a_name_or_a_column(nine):
    inn = next(nine + str(d) for d in range(10) if inn_check_ok(nine + str(d)))
    name, found, flag = party_rule(f"ООО «Ромашка» ИНН {inn}\x1f")
    assert (name, found, flag) == ("ООО «РОМАШКА»", inn, None)
    wrong = inn[:9] + str((int(inn[9]) + 1) % 10)
    assert party_rule(f"Ромашка, ООО\x1f{wrong}") == ("ООО «РОМАШКА»", wrong, "inn_check_digit")


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("spelling", ['ООО "Ромашка"', "ООО «Ромашка»", "Общество с ограниченной ответственностью «Ромашка»",
                                      "Ромашка, ООО", "ромашка ООО", "OOO Ромашка", "LLC «Ромашка»", "  ООО   „Ромашка“ "])  # fmt: skip
def test_legal_forms_and_quotes(spelling):
    assert normalize_party_name(spelling).name == "ООО «РОМАШКА»"


@pytest.mark.parametrize(("raw", "form"), [("ПАО Газпром", "ПАО"), ("PJSC Gazprom", "ПАО"), ("ЗАО «Альфа»", "ЗАО"),
                                           ("CJSC Alfa", "ЗАО"), ("АО «Бета»", "АО"), ("JSC Beta", "АО"),
                                           ("ФГУП «Завод»", "ФГУП"), ("ФКУ «Склад»", "ФКУ"), ("OAO Gamma", "ОАО")])  # fmt: skip
def test_legal_form_aliases(raw, form):
    assert normalize_party_name(raw).legal_form == form


@pytest.mark.parametrize("spelling", ["ст. Находка-Восточная", "Находка-Восточная", "НАХОДКА ВОСТОЧНАЯ", "Находка-Вост.",
                                      "Nakhodka-Vostochnaya", "NAKHODKA VOSTOCHNAYA", "Nakhodka-Vostochnaia", "Nakhodka Vost.",
                                      "станция Нaходка-Восточная"])  # fmt: skip
def test_station_spellings_share_a_key(spelling):
    assert normalize_station_name(spelling) == normalize_station_name("Находка-Восточная")


@pytest.mark.parametrize(("a", "b"), [("Хабаровск I", "Khabarovsk-1"), ("Артём-Приморский 1", "Artyom-Primorsky-1"),
                                      ("Щёлково", "Shchyolkovo"), ("Ёлкино", "Yolkino"), ("рзд Ярославль", "Yaroslavl"),
                                      ("Нижний Новгород", "Nizhniy Novgorod"), ("Уссурийск", "Ussuriysk")])  # fmt: skip
def test_transliterations(a, b):
    assert normalize_station_name(a) == normalize_station_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Северная", "Северный"), ("Хабаровск I", "Хабаровск II"), ("Мурманск", "Мурманск (эксп.)")],
)
def test_different_stations_stay_different(a, b):
    assert normalize_station_name(a) != normalize_station_name(b)
