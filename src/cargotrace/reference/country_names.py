"""Flag states: country names as sanctions lists write them, to ISO 3166 alpha-2."""

from __future__ import annotations

from functools import lru_cache

_OVERRIDES = {
    "RUSSIA": "RU", "IRAN": "IR", "SYRIA": "SY", "VIETNAM": "VN", "BURMA": "MM", "TANZANIA": "TZ",
    "VENEZUELA": "VE", "BOLIVIA": "BO", "MOLDOVA": "MD", "LAOS": "LA", "TURKEY": "TR", "TURKIYE": "TR",
    "KOREA, NORTH": "KP", "NORTH KOREA": "KP", "DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA": "KP",
    "KOREA, SOUTH": "KR", "SOUTH KOREA": "KR", "REPUBLIC OF KOREA": "KR", "HONG KONG": "HK",
    "MACAU": "MO", "TAIWAN": "TW", "PALESTINIAN": "PS", "CONGO, DEMOCRATIC REPUBLIC OF THE": "CD",
    "CONGO, REPUBLIC OF THE": "CG", "ST. KITTS & NEVIS": "KN", "ST. KITTS AND NEVIS": "KN",
    "ST. VINCENT AND THE GRENADINES": "VC", "ST. LUCIA": "LC", "MICRONESIA": "FM",
    "BRITISH VIRGIN ISLANDS": "VG", "SAO TOME AND PRINCIPE": "ST", "COOK ISLANDS": "CK",
    "CZECH REPUBLIC": "CZ", "IVORY COAST": "CI", "COTE D'IVOIRE": "CI", "KOSOVO": "XK",
}  # fmt: skip
_UNKNOWN = {"", "-0-", "NONE IDENTIFIED", "UNKNOWN", "NONE", "STATELESS"}


@lru_cache(maxsize=2048)
def country_code(value: str | None) -> str | None:
    """ISO alpha-2 for a country name or code as lists write it; None when unknown."""
    if value is None:
        return None
    text = " ".join(str(value).split()).upper()
    if text in _UNKNOWN:
        return None
    if text in _OVERRIDES:
        return _OVERRIDES[text]
    if len(text) == 2 and text.isalpha():
        return text
    import pycountry

    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return None
    return str(found[0].alpha_2) if found else None


# Codes in use beyond ISO 3166-1 proper: Kosovo's user-assigned XK (flag states, lists).
_EXTRA_CODES = {"XK": "Kosovo"}


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> country name: pycountry's list, plus XK."""
    import pycountry

    return {str(c.alpha_2): str(c.name) for c in pycountry.countries} | _EXTRA_CODES


def country_name(code: str) -> str | None:
    """The country an ISO 3166-1 alpha-2 code names (pycountry's list, plus XK); None when
    the code names no country."""
    return _countries().get(code)


def country_codes() -> list[str]:
    """Every ISO 3166-1 alpha-2 code that names a country (`country_name`), for SQL joins."""
    return sorted(_countries())


def code_hint(code: str) -> str:
    """Why `code` is not a country code, and where to find the right one."""
    near = country_code(code)
    meant = near is not None and near != code and country_name(near) is not None
    return (
        f"{code!r} is not an ISO 3166-1 alpha-2 country code"
        + (f" (did you mean {near}, {country_name(near or '')}?)" if meant else "")
        + "; use a two-letter ISO 3166-1 alpha-2 code, e.g. KP North Korea, RU Russia, "
        "IR Iran, SY Syria, CN China (the full list: https://www.iso.org/obp/ui/#search/code/)"
    )
