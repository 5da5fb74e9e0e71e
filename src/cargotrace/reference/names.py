"""Normalising place and party names so spellings of one name compare equal."""

from __future__ import annotations

import re

_ABBREVIATIONS = re.compile(r"\b(ст|станция|рзд|разъезд|пост|st|stn|station)\b\.?", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+")

# Latin transliteration (GOST 7.79 / common practice) to Cyrillic, longest digraphs first.
_LATIN_TO_CYRILLIC = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("yu", "ю"), ("ya", "я"), ("yo", "е"), ("ye", "е"), ("iy", "ий"), ("yy", "ый"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"),
    ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"),
    ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("c", "к"),
    ("h", "х"), ("w", "в"), ("x", "кс"), ("j", "й"), ("q", "к"),
]  # fmt: skip


def transliterate_to_cyrillic(text: str) -> str:
    out = text.lower()
    for latin, cyrillic in _LATIN_TO_CYRILLIC:
        out = out.replace(latin, cyrillic)
    return out


def normalize_station_name(name: str | None) -> str | None:
    """Case, ё/е, «ст.» and similar abbreviations, punctuation; Latin transliterated."""
    if name is None:
        return None
    text = name.lower().replace("ё", "е")
    text = _ABBREVIATIONS.sub(" ", text)
    if re.search(r"[a-z]", text) and not re.search(r"[а-я]", text):
        text = transliterate_to_cyrillic(text)
        text = text.replace("ый", "ый").replace("ы", "ы")
    text = _NON_WORD.sub(" ", text).strip()
    # Soft and hard signs and й/и are the usual transliteration losses; fold them.
    text = text.replace("ь", "").replace("ъ", "").replace("й", "и")
    return re.sub(r"\s+", " ", text) or None


def normalize_vessel_name(name: str | None) -> str | None:
    if name is None:
        return None
    text = re.sub(r"^(m/v|mv|m\.v\.|m/t|mt|т/х|м/в)\s+", "", name.strip().lower())
    text = re.sub(r"\s*\(.*?\)\s*", " ", text)
    return re.sub(r"[^\w]+", " ", text).strip().upper() or None
