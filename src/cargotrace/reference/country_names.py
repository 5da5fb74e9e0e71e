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
