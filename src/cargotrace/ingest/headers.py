"""Messy headers, normalised once: case, punctuation, ё/е and unit suffixes.

`Вес груза, кг` and `weight (t)` both become a field name plus a unit. Aliases are matched
after the same normalisation, so `№ накладной`, `Номер накладной.` and `WAYBILL` all hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cargotrace.errors import InputError

UNIT_WORDS = {
    "кг": "kg", "kg": "kg", "килограмм": "kg", "kgs": "kg",
    "т": "t", "тн": "t", "тонн": "t", "t": "t", "tonnes": "t", "tons": "t", "tonne": "t",
}  # fmt: skip
_UNIT_SUFFIX = re.compile(r"^(?P<base>.*?)[\s,(\[/_]+(?P<unit>кг|kgs?|тн|тонн|т|t|tonnes|tons|tonne)[)\].]*$")
_PUNCT = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"[\s_]+")


def normalize_header(raw: str) -> tuple[str, str | None]:
    """Return (normalised name, unit or None) for a header cell."""
    text = raw.replace("\ufeff", "").strip().lower().replace("ё", "е")
    unit = None
    match = _UNIT_SUFFIX.match(text)
    if match and match.group("base").strip():
        text, unit = match.group("base"), UNIT_WORDS[match.group("unit")]
    text = _PUNCT.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text, unit


@dataclass(frozen=True)
class Field:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def keys(self) -> set[str]:
        return {normalize_header(alias)[0] for alias in (self.name, *self.aliases)}


@dataclass
class ColumnMap:
    """Which source column (index) feeds which field, plus units read from headers."""

    fields: dict[str, int]
    units: dict[str, str]
    unmapped: dict[str, int]


def map_columns(
    headers: list[str],
    fields: list[Field],
    *,
    file: str,
    explicit: dict[str, str] | None = None,
) -> ColumnMap:
    normalized = [normalize_header(h) for h in headers]
    by_key: dict[str, int] = {}
    for index, (key, _unit) in enumerate(normalized):
        by_key.setdefault(key, index)
    mapping: dict[str, int] = {}
    units: dict[str, str] = {}
    for field in fields:
        if explicit and field.name in explicit:
            wanted = normalize_header(explicit[field.name])[0]
            if wanted not in by_key:
                raise InputError(
                    f"mapping names column {explicit[field.name]!r} for {field.name!r}, "
                    f"but the header has {headers}",
                    file=file,
                    row=1,
                )
            mapping[field.name] = by_key[wanted]
            continue
        for key in field.keys():
            if key in by_key:
                mapping[field.name] = by_key[key]
                break
    for name, index in mapping.items():
        unit = normalized[index][1]
        if unit:
            units[name] = unit
    missing = [f.name for f in fields if f.required and f.name not in mapping]
    if missing:
        raise InputError(
            f"required column(s) {missing} not found in the header {headers}; "
            f"name them with --mapping MAP.toml ([columns] {missing[0]} = \"<your header>\")",
            file=file,
            row=1,
            column=missing[0],
        )
    used = set(mapping.values())
    unmapped = {headers[i]: i for i in range(len(headers)) if i not in used and headers[i]}
    return ColumnMap(mapping, units, unmapped)
