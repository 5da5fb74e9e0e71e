"""Normalising place and party names so spellings of one name compare equal.

Station names become a *key*: lower case, ё/е folded, «ст.», «рзд», «о.п.» and similar
station-type words dropped, qualifiers («Вост.», «Пасс.», «Сорт.») reduced to one stem,
Roman numerals made Arabic, and both scripts brought to one Latin skeleton, so
`ст. Находка-Восточная`, `NAKHODKA-VOSTOCHNAYA` and `Nakhodka Vost.` share a key.
Party names become `ФОРМА «НАЗВАНИЕ»` with the legal form in its Russian abbreviation
(ООО, АО, ПАО, ...; from the full words or the Latin forms LLC, JSC, OOO, ...), quotes
and spacing unified, and an INN written inside the name taken out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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


# --------------------------------------------------------------------------- stations
_CYRILLIC_SKELETON = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia", "і": "i", "ў": "u",
}  # fmt: skip
_CYRILLIC_TABLE = str.maketrans(_CYRILLIC_SKELETON)
# Latin spellings brought to the same skeleton, in order (ISO 9 / GOST diacritics first).
_LATIN_STEPS = [
    ("ŝ", "shch"), ("č", "ch"), ("š", "sh"), ("ž", "zh"), ("ë", "e"), ("ě", "e"), ("é", "e"),
    ("è", "e"), ("ý", "y"), ("ú", "u"), ("á", "a"), ("í", "i"), ("ó", "o"), ("ʹ", ""), ("ʺ", ""),
    ("'", ""), ("’", ""), ("`", ""), ('"', ""), ("shh", "shch"), ("kh", "h"),
    ("x", "ks"), ("w", "v"), ("q", "k"), ("j", "i"),
]  # fmt: skip
_VOWELS = "aeiou"
_CYRILLIC_LOOKALIKES = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_DOUBLE = re.compile(r"([a-z])\1+")
_APOSTROPHES = re.compile("['’ʹʺ`\"]")
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}  # upper-case Latin only: «Хабаровск I»
_QUALIFIERS = {  # abbreviation -> stem; a qualifier after the first word keeps only its stem
    "вост": "восточн", "зап": "западн", "сев": "северн", "юж": "южн", "пасс": "пассажирск",
    "сорт": "сортировочн", "тов": "товарн", "центр": "центральн", "гл": "главн",
}  # fmt: skip


def _latin_word(word: str) -> str:
    for latin, target in _LATIN_STEPS:
        word = word.replace(latin, target)
    word = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in word if not unicodedata.combining(ch))


def _word_skeleton(word: str) -> str:
    if re.search(r"[а-яёіў]", word):
        if re.search(r"[a-z]", word):
            word = word.translate(_CYRILLIC_LOOKALIKES)  # Нaходка typed with a Latin a
        word = word.translate(_CYRILLIC_TABLE)
    else:
        word = _latin_word(word)
    # y before or after a vowel is й (ya, yu, ye, yo, -ay, -oy; also ые), else ы.
    word = _DOUBLE.sub(r"\1", re.sub(r"y(?=[aeiou])|(?<=[aeiou])y", "i", word))
    word = _DOUBLE.sub(r"\1", word.replace("yi", "i").replace("ie", "e").replace("io", "e"))
    return re.sub(r"(yi|iy|y)$", "i", word)


def skeleton(text: str) -> str:
    """Both scripts to one Latin skeleton (lower case, no diacritics, folded vowels)."""
    return " ".join(_word_skeleton(w) for w in text.lower().split())


_STEMS = {skeleton(k): skeleton(v) for k, v in _QUALIFIERS.items()}
_TYPE_WORDS = {skeleton(w) for w in ("ст", "станция", "рзд", "разъезд", "пост")} | {
    "stn",
    "station",
    "razyezd",
}
_STEM_WORD = re.compile(
    r"^(" + "|".join(sorted(set(_STEMS.values()), key=len, reverse=True)) + r")[a-z]*$"
)


@lru_cache(maxsize=65536)
def normalize_station_name(name: str | None) -> str | None:
    """The matching key of a station name (see the module docstring); None for blanks."""
    if name is None:
        return None
    text = _NON_WORD.sub(" ", _APOSTROPHES.sub("", name.replace("ё", "е").replace("Ё", "Е")))
    words: list[str] = []
    for token in text.split():
        word = _ROMAN.get(token) or _word_skeleton(token.lower())
        if word in _TYPE_WORDS:
            continue
        if words:
            word = _STEMS.get(word, word)
            match = _STEM_WORD.match(word)
            word = match.group(1) if match else word
        words.append(word)
    return " ".join(words) or None


# --------------------------------------------------------------------------- parties
_FORMS: list[tuple[str, tuple[str, ...]]] = [
    ("ООО", ("общество с ограниченной ответственностью", "ооо", "ooo", "llc", "l.l.c.", "ltd", "limited liability company")),
    ("ПАО", ("публичное акционерное общество", "пао", "pao", "pjsc", "public joint stock company")),
    ("НАО", ("непубличное акционерное общество", "нао", "nao")),
    ("ЗАО", ("закрытое акционерное общество", "зао", "zao", "cjsc", "closed joint stock company")),
    ("ОАО", ("открытое акционерное общество", "оао", "oao", "ojsc", "open joint stock company")),
    ("АО", ("акционерное общество", "ао", "ao", "jsc", "joint stock company", "joint-stock company")),
    ("ФГУП", ("федеральное государственное унитарное предприятие", "фгуп", "fgup", "fsue")),
    ("ФГБУ", ("федеральное государственное бюджетное учреждение", "фгбу", "fgbu")),
    ("ФКУ", ("федеральное казенное учреждение", "федеральное казённое учреждение", "фку", "fku")),
    ("ФКП", ("федеральное казенное предприятие", "федеральное казённое предприятие", "фкп", "fkp")),
    ("ГУП", ("государственное унитарное предприятие", "гуп", "gup")),
    ("МУП", ("муниципальное унитарное предприятие", "муп", "mup")),
    ("ИП", ("индивидуальный предприниматель", "ип")),
]  # fmt: skip
_FORM_OF = {alias: form for form, aliases in _FORMS for alias in aliases}
_FORM_RE = "|".join(re.escape(a) for a in sorted(_FORM_OF, key=len, reverse=True))
_LEADING_FORM = re.compile(rf"^\s*({_FORM_RE})(?=[\s\"«“„'(]|$)\s*", re.IGNORECASE)
_TRAILING_FORM = re.compile(rf"[\s,]+({_FORM_RE})\s*$", re.IGNORECASE)
_INN = re.compile(r"[\s,;(/]*\b(?:ИНН|INN)\s*[:№#]?\s*(\d{10}|\d{12})\b\)?", re.IGNORECASE)
_QUOTES = re.compile(r"[\"«»“”„‟'‘’`]+")
_QUOTED = re.compile(r"[«\"“„](.+)[»\"”“]")


@dataclass(frozen=True)
class PartyName:
    name: str | None  # canonical `ФОРМА «НАЗВАНИЕ»`
    legal_form: str | None
    inn: str | None  # found inside the name


@lru_cache(maxsize=65536)
def normalize_party_name(raw: str | None) -> PartyName:
    """Legal form to its Russian abbreviation, quotes and spaces unified, INN taken out."""
    if raw is None or not raw.strip():
        return PartyName(None, None, None)
    text = " ".join(raw.split())
    inn = None
    match = _INN.search(text)
    if match:
        inn = match.group(1)
        text = (text[: match.start()] + " " + text[match.end() :]).strip()
    form = None
    for pattern in (_LEADING_FORM, _TRAILING_FORM):
        found = pattern.search(text)
        if found:
            form = _FORM_OF[found.group(1).lower()]
            text = (text[: found.start()] + " " + text[found.end() :]).strip()
            break
    quoted = _QUOTED.search(text)
    rest = ""
    if quoted:
        rest = _tidy(text[: quoted.start()] + " " + text[quoted.end() :])
        text = quoted.group(1)
    body = _tidy(text)
    if not body:
        return PartyName(_tidy(f"{form or ''} {rest}") or None, form, inn)
    name = f"{form} «{body}»" if form and form != "ИП" else f"{form or ''} {body}".strip()
    return PartyName(f"{name} {rest}".strip(), form, inn)


def _tidy(text: str) -> str:
    return " ".join(_QUOTES.sub(" ", text).split()).strip(" ,;-").upper()
