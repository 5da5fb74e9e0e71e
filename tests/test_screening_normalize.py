"""Name normalisation for screening: scripts, skeleton, legal forms, vessel prefixes,
identifiers' check digits, flags."""

from __future__ import annotations

import pytest

from cargotrace.reference.checkdigits import inn_check_ok, ogrn_check_ok
from cargotrace.reference.country_names import country_code
from cargotrace.reference.mid import mmsi_flag
from cargotrace.screening.legalforms import compatible
from cargotrace.screening.normalize import normalize_name
from cargotrace.screening.translit import korean_key, script_of, skeleton, to_latin


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("ЛЕДИ Р", "LEDI R"),
        ("Оборонлогистика", "OBORONLOGISTIKA"),
        ("Щукин Юрий Хасанович", "SHCHUKIN YURIY KHASANOVICH"),
        ("천마산", "CHON MA SAN"),
        ("지성 6", "JI SONG 6"),
        ("Škoda", "SKODA"),
    ],
)
def test_to_latin(text: str, latin: str) -> None:
    assert to_latin(text) == latin


@pytest.mark.parametrize(
    "spellings",
    [
        ("OBSHCHESTVO", "OBSCHESTVO", "OBSHESTVO"),
        ("YEVGENIY", "EVGENII", "EVGENIJ", "JEVGENIJ"),
        ("DMITRIYEV", "DMITRIEV", "DMITRIJEV"),
        ("ROSOBORONEXPORT", "ROSOBORONEKSPORT"),
        ("KHODORKOVSKIY", "HODORKOVSKY"),
        ("TSENTR", "CENTR"),
        ("CHEONMASAN", "CHONMASAN"),
    ],
)
def test_skeleton_folds_romanisation_variants(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(s) for s in spellings}) == 1, [skeleton(s) for s in spellings]


@pytest.mark.parametrize(
    "pair", [("ANGARA", "ANKARA"), ("MARIA", "MARIO"), ("LADY", "LAZY"), ("PUTIN", "PUSIN")]
)
def test_skeleton_keeps_different_names_apart(pair: tuple[str, str]) -> None:
    assert skeleton(pair[0]) != skeleton(pair[1])


def test_korean_key_folds_mr_rr_and_dprk_spellings() -> None:
    assert korean_key(["CHON", "MA", "SAN"]) == korean_key(["CHEONMASAN"])
    assert korean_key(["RAJIN"]) == korean_key(["NAJIN"])
    assert korean_key(["KUM", "UN", "SAN", "3"]) == korean_key(["GEUMUNSAN", "3"])
    assert korean_key(["KUM", "UN", "SAN", "3"]) != korean_key(["GEUMUNSAN", "4"])


def test_script_of() -> None:
    assert script_of("LADY R") == "latin"
    assert script_of("Леди Р") == "cyrillic"
    assert script_of("천마산") == "hangul"
    assert script_of("ООО Vostok") == "mixed"
    assert script_of("12345") == "none"


@pytest.mark.parametrize(
    ("raw", "core", "form"),
    [
        ("ООО «Оборонлогистика»", ("OBORONLOGISTIKA",), "LLC"),
        ("OBORONLOGISTIKA OOO", ("OBORONLOGISTIKA",), "LLC"),
        ('Общество с ограниченной ответственностью "ОБОРОНЛОГИСТИКА"', ("OBORONLOGISTIKA",), "LLC"),
        ("Limited Liability Company Oboronlogistika", ("OBORONLOGISTIKA",), "LLC"),
        ("TRANSMORFLOT LLC", ("TRANSMORFLOT",), "LLC"),
        ("АО «Восток»", ("VOSTOK",), "JSC"),
        ("VOSTOK JSC", ("VOSTOK",), "JSC"),
        ("ПАО Восток", ("VOSTOK",), "PJSC"),
        ("Vostok PJSC", ("VOSTOK",), "PJSC"),
        ("ЗАО Восток", ("VOSTOK",), "CJSC"),
        ("Vostok Closed Joint Stock Company", ("VOSTOK",), "CJSC"),
        ("ОАО Восток", ("VOSTOK",), "OJSC"),
        ("ФГУП «Восток»", ("VOSTOK",), "FSUE"),
        ("Federal State Unitary Enterprise Vostok", ("VOSTOK",), "FSUE"),
        ("ООО Ромашка ИНН 7718857267", ("ROMASHKA",), "LLC"),
        ("в/ч 99001", ("VCH", "99001"), None),
        ("OOO", ("OOO",), None),  # a name is never emptied
    ],
)
def test_legal_forms_split_off(raw: str, core: tuple[str, ...], form: str | None) -> None:
    name = normalize_name(raw)
    assert name.tokens == core
    assert name.legal_form == form


def test_legal_form_families() -> None:
    assert compatible("LLC", "LLC") and compatible("CJSC", "JSC") and compatible("OJSC", "PJSC")
    assert compatible("LLC", None) and compatible("INC", "JSC")
    assert not compatible("LLC", "JSC") and not compatible("FSUE", "LLC")


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("M/V LADY R", ("LADY", "R")),
        ("MV LADY R", ("LADY", "R")),
        ("т/х ЛЕДИ Р", ("LEDI", "R")),
        ("SPARTA IV", ("SPARTA", "4")),
        ("MAIA-1", ("MAIA", "1")),
        ("MAIA1", ("MAIA", "1")),
        ("KUM UN SAN 03", ("KUM", "UN", "SAN", "3")),
    ],
)
def test_vessel_names(raw: str, tokens: tuple[str, ...]) -> None:
    assert normalize_name(raw, vessel=True).tokens == tokens


def test_vessel_names_keep_legal_words_and_first_roman_word() -> None:
    assert normalize_name("SA", vessel=True).tokens == ("SA",)
    assert normalize_name("IV LEAGUE", vessel=True).tokens == ("IV", "LEAGUE")


def test_inn_and_ogrn_check_digits() -> None:
    assert inn_check_ok("7718857267")  # OBORONLOGISTIKA OOO, OFAC SDN remarks
    assert not inn_check_ok("7718857268")
    assert ogrn_check_ok("1117746641572")  # OBORONLOGISTIKA OOO, OFAC SDN remarks
    assert ogrn_check_ok("1027700132195")  # Sberbank
    assert ogrn_check_ok("304500116000157")  # an OGRNIP (15 digits)
    assert not ogrn_check_ok("1117746641573")
    assert not ogrn_check_ok("304500116000158")
    assert not ogrn_check_ok("11177466415")


def test_mmsi_flag_and_country_names() -> None:
    assert mmsi_flag(273990011) == "RU"
    assert mmsi_flag("445123456") == "KP"
    assert mmsi_flag("002730000") is None  # a coast station, not a ship
    assert mmsi_flag(None) is None
    assert country_code("Russia") == "RU"
    assert country_code("Democratic People's Republic of Korea") == "KP"
    assert country_code("St. Kitts & Nevis") == "KN"
    assert country_code("None Identified") is None
    assert country_code("ru") == "RU"
