"""Names brought to one comparable form: script, case, punctuation, vessel prefixes
("M/V", «т/х»), legal forms (ООО/LLC ...), Roman numerals in vessel names, and the
romanisation skeleton (see `translit`). Pure functions over a few strings each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cargotrace.screening.legalforms import split_legal_form
from cargotrace.screening.translit import korean_key, phonetic, script_of, skeleton, to_latin

_VESSEL_PREFIX = re.compile(
    r"^\s*(?:M\s*/\s*[VTY]|M\.\s*[VTY]\.?|MV|MT|MY|S\.\s*S\.|S/S|SS|F\s*/\s*V|FV|R\s*/\s*V|RV|T\s*/\s*S|"
    r"Т\s*/\s*Х|ТХ|М\s*/\s*В|М\s*/\s*Т|Д\s*/\s*Э|П\s*/\s*Х|Т\s*/\s*К|А\s*/\s*Л|Л\s*/\s*К|СРТМ|БМРТ)"
    r"(?:\s+|\.\s*)(?=\S)",
    re.IGNORECASE,
)
_MILITARY_UNIT = re.compile(r"\b(?:в\s*/\s*ч|войсковая\s+часть)(?=\W|\d|$)", re.IGNORECASE)
_IDENTIFIERS = re.compile(
    r"\b(?:ИНН|INN|ОГРН|OGRN|ОГРНИП|OGRNIP|КПП|KPP)\s*[:№#]?\s*\d{9,15}\b", re.IGNORECASE
)
_APOSTROPHES = str.maketrans("", "", "'’`ʹʺ\u02bc")
_DIGIT = re.compile(r"\d")
_DIGIT_EDGE = re.compile(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9A-Z]+")
_ROMAN = {
    "I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7", "VIII": "8",
    "IX": "9", "X": "10", "XI": "11", "XII": "12", "XIII": "13", "XIV": "14", "XV": "15",
    "XVI": "16", "XVII": "17", "XVIII": "18", "XIX": "19", "XX": "20",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class NormName:
    """One name, normalised. `tokens` are upper-case Latin without legal form or prefix;
    `skel` the same tokens folded to their romanisation skeleton; the rest is derived
    once here because every comparison reads it."""

    raw: str
    tokens: tuple[str, ...]
    skel: tuple[str, ...]
    legal_form: str | None
    script: str
    prefix_dropped: bool
    text: str
    skel_text: str
    sorted_skel: str
    compact: str
    numbers: tuple[str, ...]
    phonetic: str
    korean: str

    @classmethod
    def build(
        cls,
        raw: str,
        tokens: list[str],
        skel: list[str],
        legal_form: str | None,
        prefix_dropped: bool,
    ) -> NormName:
        compact = "".join(skel)
        return cls(
            raw, tuple(tokens), tuple(skel), legal_form, script_of(raw), prefix_dropped,
            " ".join(tokens), " ".join(skel), " ".join(sorted(skel)), compact,
            tuple(sorted(t for t in skel if t.isdigit())), phonetic(compact), korean_key(tokens),
        )  # fmt: skip

    @property
    def key(self) -> str:
        """Stable identity of the normalised name (legal form included)."""
        return f"{self.sorted_skel}|{self.legal_form or ''}"


def _clean(raw: str) -> str:
    text = raw
    if _DIGIT.search(text):
        text = _IDENTIFIERS.sub(" ", text)
    if not text.isascii():
        text = _MILITARY_UNIT.sub(" VCH ", text)
    return text.translate(_APOSTROPHES)


def latin_tokens(text: str) -> list[str]:
    """Upper-case Latin word tokens (digits split from letters: MAIA-1 -> MAIA, 1)."""
    latin = to_latin(text)
    if _DIGIT.search(latin):
        latin = _DIGIT_EDGE.sub(" ", latin)
    return [(t.lstrip("0") or "0") if t.isdigit() else t for t in _NON_WORD.split(latin) if t]


def normalize_name(raw: str, *, vessel: bool = False) -> NormName:
    """Normalise a party name (legal forms split off) or, with `vessel`, a ship's name
    (prefixes like M/V dropped, Roman numerals after the first word read as numbers)."""
    text = _clean(raw or "")
    prefix_dropped = False
    if vessel:
        stripped = _VESSEL_PREFIX.sub("", text, count=1)
        prefix_dropped = stripped != text
        text = stripped
    tokens = latin_tokens(text)
    legal_form = None
    if vessel:
        tokens = [tokens[0], *(_ROMAN.get(t, t) for t in tokens[1:])] if tokens else tokens
        skel = [skeleton(t) for t in tokens]
    else:
        skel = [skeleton(t) for t in tokens]
        start, end, legal_form = split_legal_form(skel)
        tokens, skel = tokens[start:end], skel[start:end]
    return NormName.build(raw or "", tokens, skel, legal_form, prefix_dropped)


class NameCache:
    """Memoised `normalize_name` for repeated spellings."""

    def __init__(self, *, vessel: bool) -> None:
        self.vessel = vessel
        self._cache: dict[str, NormName] = {}

    def __call__(self, raw: str) -> NormName:
        hit = self._cache.get(raw)
        if hit is None:
            hit = self._cache[raw] = normalize_name(raw, vessel=self.vessel)
        return hit
