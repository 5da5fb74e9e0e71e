"""Scripts to Latin: Cyrillic (BGN/PCGN-like, as OFAC writes Russian names) and Hangul
(McCune-Reischauer without diacritics, the style of the UN and DPRK lists: 천마산 -> CHON MA
SAN). Then the *skeleton* folds the spelling choices that differ between romanisation
schemes (Y/J/I, KH/H, X/KS, EO/O ...), so "Obshchestvo", "Obschestvo" and «Общество»
meet in one form, whichever way a name was written: both sides of every comparison are
brought into this one Latin space.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH", "З": "Z",
    "И": "I", "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R",
    "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH",
    "Щ": "SHCH", "Ъ": "", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "YU", "Я": "YA",
    "Є": "YE", "І": "I", "Ї": "YI", "Ґ": "G", "Ў": "U", "Ј": "J", "Ђ": "DJ", "Љ": "LJ",
    "Њ": "NJ", "Ћ": "C", "Џ": "DZ", "Ѓ": "G", "Ќ": "K", "Ѕ": "DZ", "Ә": "A", "Ғ": "G",
    "Қ": "K", "Ң": "N", "Ө": "O", "Ұ": "U", "Ү": "U", "Һ": "H",
}  # fmt: skip

# Hangul jamo, McCune-Reischauer without breves (ŏ -> O, ŭ -> U), DPRK-list style (ㅈ -> J).
_INITIALS = ["K", "KK", "N", "T", "TT", "R", "M", "P", "PP", "S", "SS", "", "J", "JJ", "CH", "K", "T", "P", "H"]
_MEDIALS = ["A", "AE", "YA", "YAE", "O", "E", "YO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WO", "WE", "WI",
            "YU", "U", "UI", "I"]  # fmt: skip
_FINALS = ["", "K", "K", "KS", "N", "NJ", "NH", "T", "L", "LK", "LM", "LB", "LS", "LT", "LP", "LH", "M", "P",
           "PS", "T", "T", "NG", "T", "T", "K", "T", "P", "T"]  # fmt: skip

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3


def script_of(text: str) -> str:
    """'latin', 'cyrillic', 'hangul', 'mixed' or 'none' (no letters)."""
    if text.isascii():
        return "latin" if any(c.isalpha() for c in text) else "none"
    seen = set()
    for ch in text:
        if not ch.isalpha():
            continue
        if "\u0400" <= ch <= "\u04ff":
            seen.add("cyrillic")
        elif _HANGUL_FIRST <= ord(ch) <= _HANGUL_LAST or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
            seen.add("hangul")
        elif ord(ch) < 0x0250 or 0x1E00 <= ord(ch) <= 0x1EFF:
            seen.add("latin")
        else:
            seen.add("other")
    if not seen:
        return "none"
    return seen.pop() if len(seen) == 1 else "mixed"


def _hangul_syllable(ch: str) -> str:
    code = ord(ch) - _HANGUL_FIRST
    return _INITIALS[code // 588] + _MEDIALS[(code % 588) // 28] + _FINALS[code % 28]


_CYRILLIC_TABLE = str.maketrans({**_CYRILLIC, **{k.lower(): v for k, v in _CYRILLIC.items()}})
_HANGUL = re.compile("[\uac00-\ud7a3]+")


def _romanise_hangul(match: re.Match[str]) -> str:
    return " " + " ".join(_hangul_syllable(ch) for ch in match.group()) + " "


def to_latin(text: str) -> str:
    """Upper-case Latin rendering: Cyrillic and Hangul transliterated, diacritics dropped.

    Hangul syllables are written apart (천마산 -> "CHON MA SAN"), as the UN list does.
    """
    if text.isascii():
        return text.upper()
    text = unicodedata.normalize("NFC", text)
    if _HANGUL.search(text):
        text = _HANGUL.sub(_romanise_hangul, text)
    text = text.translate(_CYRILLIC_TABLE)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.upper()


# Skeleton: fold the choices romanisation schemes make differently. Order matters.
_SKELETON_STEPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in (
        (r"SHCH|SCH", "SH"),
        (r"TCH", "CH"),
        (r"KH", "H"),
        (r"PH", "F"),
        (r"CK", "K"),
        (r"X", "KS"),
        (r"Q", "K"),
        (r"W", "V"),
        (r"C(?=[EIY])", "TS"),
        (r"C(?!H)", "K"),
        (r"[YJ]", "I"),
        (r"EO", "O"),  # Korean RR eo = MR ŏ
        (r"EU", "U"),  # Korean RR eu = MR ŭ
        (r"OU", "U"),  # French-style Russian (Oustinov)
        (r"IE", "E"),  # Е after a vowel: -iev / -iyev / -yev
        (r"(.)\1+", r"\1"),  # doubled letters: Russkiy / Ruskij, -ii / -iy / -yy
    )
]


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """Fold romanisation variants of one upper-case Latin token (YEVGENIY ~ EVGENII)."""
    if token.isdigit():
        return token
    out = token
    for pattern, repl in _SKELETON_STEPS:
        out = pattern.sub(repl, out)
    if len(out) > 1 and out[0] == "I" and out[1] in "AEOU":
        out = out[1:]  # Yakov / Iakov / Jakov, Yevgeny / Evgeny
    return out


_VOWEL_RUN = re.compile(r"[AEIOU]+")


def phonetic(compact_skeleton: str) -> str:
    """Consonant frame with vowels reduced to one marker per run (LADY R ~ ЛЕДИ Р)."""
    return _VOWEL_RUN.sub("*", compact_skeleton)


_KOREAN_VOWELS = re.compile(r"[AEIOUWY]+")
_KOREAN_FOLD = str.maketrans({"G": "K", "D": "T", "B": "P", "L": "R"})


def korean_key(tokens: tuple[str, ...] | list[str]) -> str:
    """Korean romanisation variants (MR vs RR and DPRK style: Kim/Gim, Pusan/Busan,
    Chon/Jeon/Cheon, Rajin/Najin, Ri/Li/Yi): voicing and liquids folded, ㅈ/ㅊ as one, a
    word-initial liquid or nasal before a vowel dropped, vowels reduced to one marker per
    run. Loose by design: used only for entries that are Korean (DPRK programmes, Hangul
    names), never for Russian or other names."""
    return "".join(_korean_token(t) for t in tokens)


@lru_cache(maxsize=262144)
def _korean_token(token: str) -> str:
    if token.isdigit():
        return token
    text = token.replace("TCH", "J").replace("CH", "J").replace("TS", "J")
    text = re.sub(r"^[RNL](?=[AEIOUWY])", "", text)
    text = _KOREAN_VOWELS.sub("*", text).translate(_KOREAN_FOLD)
    return re.sub(r"([A-Z])\1+", r"\1", text)
