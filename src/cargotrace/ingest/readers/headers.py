"""Messy headers, normalised once: case, punctuation, ё/е and unit suffixes.

`Вес груза, кг` and `weight (t)` both become a field name plus a unit. Aliases are matched
after the same normalisation, so `№ накладной`, `Номер накладной.` and `WAYBILL` all hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from cargotrace.errors import InputError

UNIT_WORDS = {
    "кг": "kg", "kg": "kg", "килограмм": "kg", "kgs": "kg",
    "т": "t", "тн": "t", "тонн": "t", "t": "t", "tonnes": "t", "tons": "t", "tonne": "t",
}  # fmt: skip
# The separator run must start where the base ends (the look-behind) and is taken whole
# (possessive): without both, a long run of spaces or commas costs quadratic time.
_UNIT_SUFFIX = re.compile(
    r"^(?P<base>.*?)(?<![\s,(\[/_])[\s,(\[/_]++(?P<unit>кг|kgs?|тн|тонн|т|t|tonnes|tons|tonne)[)\].]*+$"
)
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


def find_header_row(
    rows: list[list[str]], hint: set[str] | None, *, search: int = 30
) -> int | None:
    """The 1-based row among the first `search` that names the most known columns (at least
    two), so title rows above a header are skipped; None when no row qualifies."""
    if not hint:
        return None
    best, best_hits = None, 1
    for index, row in enumerate(rows[:search]):
        hits = len({normalize_header(v)[0] for v in row if v and v.strip()} & hint)
        if hits > best_hits:
            best, best_hits = index + 1, hits
    return best


def unique_headers(raw: list[str], blank: str = "column {n}") -> list[str]:
    """Header cells stripped, blanks named by position, repeats numbered («Станция (2)»)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for n, cell in enumerate(raw, start=1):
        name = " ".join(str(cell or "").replace("\ufeff", "").split()) or blank.format(n=n)
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name} ({count})")
    return out


@dataclass(frozen=True)
class Field:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    # a required field may be made from others instead: not missing when they are all found
    # (UN/LOCODE lists write a port's code as `country` + `location`)
    unless: tuple[str, ...] = ()

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
    row: int | None = 1,
) -> ColumnMap:
    """Fields to column indexes: the mapping's names first, then names and aliases."""
    normalized = [normalize_header(h) for h in headers]
    by_key: dict[str, int] = {}
    for index, (key, _unit) in enumerate(normalized):
        by_key.setdefault(key, index)
    known = {f.name for f in fields}
    unknown = sorted(set(explicit or {}) - known)
    if unknown:
        raise InputError(
            f"mapping names unknown field(s) {unknown}; the fields are {sorted(known)}", file=file
        )
    mapping: dict[str, int] = {}
    units: dict[str, str] = {}
    for field in fields:
        if explicit and field.name in explicit:
            wanted = explicit[field.name]
            found = (
                headers.index(wanted)
                if wanted in headers
                else by_key.get(normalize_header(wanted)[0])
            )
            if found is None:
                raise InputError(
                    f"mapping names column {wanted!r} for {field.name!r}, but the file has no "
                    f"such column; {header_hint(headers, {wanted: {normalize_header(wanted)[0]}})}",
                    file=file,
                    row=row,
                )
            mapping[field.name] = found
    taken = set(mapping.values())
    for field in fields:
        if field.name in mapping:
            continue
        for key in sorted(field.keys(), key=lambda k: (k != normalize_header(field.name)[0], k)):
            if key in by_key and by_key[key] not in taken:
                mapping[field.name] = by_key[key]
                taken.add(by_key[key])
                break
    for name, index in mapping.items():
        unit = normalized[index][1]
        if unit:
            units[name] = unit
    missing = [
        f.name
        for f in fields
        if f.required
        and f.name not in mapping
        and not (f.unless and all(u in mapping for u in f.unless))
    ]
    if missing:
        by_name = {f.name: f for f in fields}
        raise InputError(
            f"required column(s) {missing} not found; "
            f"{header_hint(headers, {m: by_name[m].keys() for m in missing})}; "
            + (
                "the header looks mis-decoded: name the file's encoding in a mapping "
                '(encoding = "cp866", "cp1251", "koi8-r", ...), then the columns if still needed'
                if _mis_decoded(headers)
                else f'name them with --mapping MAP.toml (columns.{missing[0]} = "<your header>")'
            ),
            file=file,
            row=row,
            column=missing[0],
        )
    used = set(mapping.values())
    unmapped = {headers[i]: i for i in range(len(headers)) if i not in used and headers[i]}
    return ColumnMap(mapping, units, unmapped)


# A header of at most this many columns is listed whole in an error; a longer one (the World
# Port Index has 107) by the few columns closest to each one missing.
LISTED_HEADERS = 12
CLOSEST_HEADERS = 3


def header_hint(headers: list[str], wanted: dict[str, set[str]]) -> str:
    """The file's header as an error shows it: whole when short, else, for each column wanted
    (a field's name -> its normalised name and aliases), the `CLOSEST_HEADERS` columns most
    like it (rapidfuzz's WRatio over the normalised headers) and how many others there are."""
    if len(headers) <= LISTED_HEADERS:
        return f"the header has {headers}"
    normalized = [normalize_header(h)[0] for h in headers]
    shown: set[int] = set()
    parts = []
    for name, keys in wanted.items():
        scores = process.cdist(sorted(keys), normalized, scorer=fuzz.WRatio).max(axis=0)
        closest = [int(i) for i in np.argsort(-scores, kind="stable")[:CLOSEST_HEADERS]]
        shown.update(closest)
        parts.append(f"closest to {name!r}: " + ", ".join(repr(headers[i]) for i in closest))
    return (
        f"of the file's {len(headers)} columns, "
        + "; ".join(parts)
        + f" (and {len(headers) - len(shown)} others)"
    )


_ODD_SYMBOLS = frozenset("\u00a4\u00a6\u00a9\u00ad\u00ae\u00b6\ufffd")  # ¤ ¦ © soft-hyphen ® ¶ �
_SWAPPED_CASE = re.compile(r"(?<![А-яЁё])[а-яё][А-ЯЁ]{2,}")  # "мНЛЕП": Windows-1251 read as KOI8-R


def _mis_decoded(headers: list[str]) -> bool:
    """Text read in the wrong encoding: replacement characters, C1 controls, box-drawing and
    block characters (DOS Cyrillic read as KOI8-R), symbols no header has (DOS Cyrillic read
    as Windows-1251: `Ќ®¬Ґа`), or words in swapped case (KOI8-R and Windows-1251 confused)."""
    for header in headers:
        if _SWAPPED_CASE.search(header):
            return True
        for ch in header:
            if ch in _ODD_SYMBOLS or "\x80" <= ch <= "\x9f" or "\u2500" <= ch <= "\u259f":
                return True
    return False
