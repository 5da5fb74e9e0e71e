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
_INITIALS = [
    "K",
    "KK",
    "N",
    "T",
    "TT",
    "R",
    "M",
    "P",
    "PP",
    "S",
    "SS",
    "",
    "J",
    "JJ",
    "CH",
    "K",
    "T",
    "P",
    "H",
]
_MEDIALS = ["A", "AE", "YA", "YAE", "O", "E", "YO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WO", "WE", "WI",
            "YU", "U", "UI", "I"]  # fmt: skip
_FINALS = ["", "K", "K", "KS", "N", "NJ", "NH", "T", "L", "LK", "LM", "LB", "LS", "LT", "LP", "LH", "M", "P",
           "PS", "T", "T", "NG", "T", "T", "K", "T", "P", "T"]  # fmt: skip

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3


_LATIN_RANGES = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_CYRILLIC_RANGES = "\u0400-\u04ff"
_HANGUL_RANGES = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
_SCRIPTS = (
    ("latin", re.compile(f"[{_LATIN_RANGES}]")),
    ("cyrillic", re.compile(f"[{_CYRILLIC_RANGES}]")),
    ("hangul", re.compile(f"[{_HANGUL_RANGES}]")),
    ("other", re.compile(f"[^\\W\\d_{_LATIN_RANGES}{_CYRILLIC_RANGES}{_HANGUL_RANGES}]")),
)


def script_of(text: str) -> str:
    """'latin', 'cyrillic', 'hangul', 'mixed' or 'none' (no letters)."""
    if text.isascii():
        return "latin" if any(c.isalpha() for c in text) else "none"
    seen = [name for name, pattern in _SCRIPTS if pattern.search(text)]
    if not seen:
        return "none"
    return seen[0] if len(seen) == 1 else "mixed"


def _hangul_syllable(ch: str) -> str:
    code = ord(ch) - _HANGUL_FIRST
    return _INITIALS[code // 588] + _MEDIALS[(code % 588) // 28] + _FINALS[code % 28]


_PUNCTUATION = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "№": "#",
    "\u00a0": " ",
}
_CYRILLIC_TABLE = str.maketrans(
    {**_CYRILLIC, **{k.lower(): v for k, v in _CYRILLIC.items()}, **_PUNCTUATION}
)
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
        text = " ".join(_HANGUL.sub(_romanise_hangul, text).split())
    text = text.translate(_CYRILLIC_TABLE)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return text.upper()


# Skeleton: fold the choices romanisation schemes make differently, in three passes:
# consonant spellings and Y/J -> I; vowel digraphs (Korean eo/eu, French-style ou, -ie-);
# doubled letters (Russkiy / Ruskij, -ii / -iy / -yy) before and after the digraphs.
_CONSONANTS = re.compile(r"SHCH|SCH|TCH|KH|PH|CK|X|Q|W|C(?=[EIY])|C(?!H)|[YJ]")
_CONSONANT_MAP = {"SHCH": "SH", "SCH": "SH", "TCH": "CH", "KH": "H", "PH": "F", "CK": "K", "X": "KS", "Q": "K",
                  "W": "V", "Y": "I", "J": "I"}  # fmt: skip
_DIGRAPHS = re.compile(r"EO|EU|OU|IE")
_DIGRAPH_MAP = {"EO": "O", "EU": "U", "OU": "U", "IE": "E"}
_DOUBLES = re.compile(r"(.)\1+")


def _consonant(match: re.Match[str]) -> str:
    text = match.group()
    if text == "C":  # C before E/I/Y sounds TS (Centr / Tsentr), elsewhere K (Company / Kompaniya)
        nxt = match.string[match.end() : match.end() + 1]
        return "TS" if nxt in ("E", "I", "Y") and nxt else "K"
    return _CONSONANT_MAP[text]


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """Fold romanisation variants of one upper-case Latin token (YEVGENIY ~ EVGENII)."""
    if token.isdigit():
        return token
    out = _DOUBLES.sub(r"\1", _CONSONANTS.sub(_consonant, token))
    out = _DOUBLES.sub(r"\1", _DIGRAPHS.sub(lambda m: _DIGRAPH_MAP[m.group()], out))
    if len(out) > 3 and out[0] == "I" and out[1] in "AEOU":
        out = out[1:]  # Yakov / Iakov / Jakov, Yevgeny / Evgeny
    return out


_VOWEL_RUN = re.compile(r"[AEIOU]+")


def phonetic(compact_skeleton: str) -> str:
    """Consonant frame with vowels reduced to one marker per run (LADY R ~ ЛЕДИ Р)."""
    return _VOWEL_RUN.sub("*", compact_skeleton)


_KOREAN_VOWELS = re.compile(r"[AEIOUWY]+")
_KOREAN_INITIAL = re.compile(r"^[RNL](?=[AEIOUWY])")
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
    text = _KOREAN_INITIAL.sub("", text)
    text = _KOREAN_VOWELS.sub("*", text).translate(_KOREAN_FOLD)
    return _DOUBLES.sub(r"\1", text)
