"""Comparing identifiers (waybills, wagons) typed in two scripts: one definition.

Russian waybill numbers mix Cyrillic letters and digits (`ЭА498498`); a record typed on a
Latin keyboard, or re-keyed from a scan, carries Latin look-alikes (`ЭA498498`, Latin A).
Such a waybill is the same consignment. An identifier's *key* is its text upper-cased, with
every Latin letter that has a Cyrillic twin folded to that twin (A→А, B→В, C→С, E→Е, H→Н,
K→К, M→М, O→О, P→Р, T→Т, X→Х, Y→У), Ё→Е, and everything but letters and digits removed
(spaces, dashes, slashes). An identifier holding both Latin and Cyrillic letters is
*mixed-script*: a sign of look-alikes, reported.

`id_key` (Python) and `id_key_sql` (DuckDB SQL) are generated from the same table and
tested to agree.
"""

from __future__ import annotations

import re

# Latin capital -> the Cyrillic capital it cannot be told apart from in print.
CONFUSABLES: dict[str, str] = {
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М",
    "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У", "Ё": "Е",
}  # fmt: skip
_FROM = "".join(CONFUSABLES)
_TO = "".join(CONFUSABLES.values())
_TABLE = str.maketrans(CONFUSABLES)
_NOT_ID = re.compile(r"[^0-9A-ZА-ЯЁ]")
_LATIN = "[A-Za-z]"
_CYRILLIC = "[А-Яа-яЁё]"


def id_key(text: str | None) -> str | None:
    """The comparison key of an identifier (None when nothing is left)."""
    if text is None:
        return None
    key = _NOT_ID.sub("", text.upper().translate(_TABLE))
    return key or None


def id_key_sql(expr: str) -> str:
    """`id_key` as a DuckDB SQL expression over `expr` (an identifier already in its key
    form — digits and Cyrillic capitals other than Ё — is taken as it is, the common case)."""
    return (
        f"CASE WHEN regexp_full_match({expr}, '[0-9А-ЕЖ-Я]+') THEN {expr} "
        f"ELSE nullif(regexp_replace(translate(upper({expr}), '{_FROM}', '{_TO}'), "
        f"'[^0-9A-ZА-ЯЁ]', '', 'g'), '') END"
    )


def is_mixed_script(text: str | None) -> bool:
    return (
        text is not None
        and re.search(_LATIN, text) is not None
        and re.search(_CYRILLIC, text) is not None
    )


def mixed_script_sql(expr: str) -> str:
    """`is_mixed_script` as a DuckDB SQL expression over `expr`."""
    return (
        f"coalesce(regexp_matches({expr}, '{_LATIN}') AND regexp_matches({expr}, '{_CYRILLIC}'), "
        "false)"
    )
