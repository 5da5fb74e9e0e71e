"""Derived columns of shipment chunks, computed on *distinct* values in Arrow.

A million waybill rows hold a few thousand distinct ESR codes, wagons, dates, cargo texts
and parties. Each column is dictionary-encoded (Arrow, C++), the rules run once per
distinct value (check digits and names in Python, dates in DuckDB SQL), and `take` spreads
the results back over the rows. The SELECT then needs no joins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.types import ChunkContext
from cargotrace.reference.cargo import load_vocabulary
from cargotrace.reference.checkdigits import (
    container_check_ok,
    esr_check_digit,
    inn_check_ok,
    normalize_esr,
)
from cargotrace.reference.names import normalize_party_name

Columns = dict[str, pa.Array]
SEP = "\x1f"


def _encode(column: pa.ChunkedArray | pa.Array) -> tuple[list[Any], pa.Array]:
    """(distinct values, index of each row's value; NULL rows keep a NULL index)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = pc.dictionary_encode(array)
    return encoded.dictionary.to_pylist(), encoded.indices


def spread(
    column: pa.ChunkedArray | pa.Array,
    rule: Callable[[Any], Sequence[Any]],
    types: Sequence[pa.DataType],
) -> list[pa.Array]:
    """Apply `rule` (value -> tuple of outputs) to each distinct value, one array per output.
    Text outputs stay dictionary-encoded (row indices + the distinct results): no copy per row."""
    values, indices = _encode(column)
    results = [rule(v) for v in values]
    out = []
    for k, kind in enumerate(types):
        distinct = pa.array([r[k] for r in results], kind)
        out.append(
            pa.DictionaryArray.from_arrays(indices, distinct)
            if kind == pa.string()
            else pc.take(distinct, indices)
        )
    return out


def joined(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Two text columns as one key (NULL as empty), for pairs such as (cargo, code)."""
    empty = pa.scalar("", pa.string())
    return pc.binary_join_element_wise(pc.fill_null(a, empty), pc.fill_null(b, empty), SEP)


# --------------------------------------------------------------------------- rules
def _esr_ok(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and esr_check_digit(code[:5]) == int(code[5])


_normalize_esr = lru_cache(maxsize=1 << 18)(normalize_esr)


def resolve_esr(raw: str, known: set[str]) -> tuple[str | None, str | None]:
    """`normalize_esr`, except that a 5-digit code which reads both as a code that lost its
    leading zero and as a code without its check digit is settled by the case's station
    list when exactly one reading is a known station."""
    code, flag = _normalize_esr(raw)
    if known and flag in ("esr_leading_zero_restored", "esr_check_digit_added"):
        digits = re.sub(r"\D", "", raw)
        if len(digits) == 5:
            readings = [
                (c, f) for c, f in (("0" + digits, "esr_leading_zero_restored"),
                                    (digits + str(esr_check_digit(digits)), "esr_check_digit_added"))
                if _esr_ok(c) and c in known
            ]  # fmt: skip
            if len(readings) == 1:
                return readings[0]
    return code, flag


_TWICE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # digit sum of 2 x d


@lru_cache(maxsize=1 << 20)
def wagon_rule(raw: str) -> tuple[str, str | None]:
    """(digits, flag): 8 digits whose last is the check digit (weights 2,1,2,1,2,1,2 on the
    first seven, digits of each product summed, up to a multiple of ten)."""
    digits = raw if raw.isdigit() else re.sub(r"[\s-]", "", raw)
    if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
        return digits, "wagon_format"
    d = [ord(c) - 48 for c in digits]
    total = _TWICE[d[0]] + d[1] + _TWICE[d[2]] + d[3] + _TWICE[d[4]] + d[5] + _TWICE[d[6]]
    return digits, None if (10 - total % 10) % 10 == d[7] else "wagon_check_digit"


def container_rule(raw: str) -> tuple[str, str | None]:
    clean = re.sub(r"[\s-]", "", raw.upper())
    if container_check_ok(clean):
        return clean, None
    return clean, "container_check_digit" if re.fullmatch(
        r"[A-Z]{3}[UJZ]\d{7}", clean
    ) else "container_format"


def party_rule(key: str) -> tuple[str | None, str | None, str | None]:
    """(canonical name, INN, flag) of `name SEP inn-column`: the column's INN first, else one
    written inside the name; flagged when it fails its check digit, is not 10 or 12 digits,
    or disagrees with the one in the name."""
    name, _, inn_text = key.partition(SEP)
    party = normalize_party_name(name or None)
    column_inn = re.sub(r"[\s-]", "", inn_text) or None
    inn = column_inn or party.inn
    flag = None
    if column_inn and not re.fullmatch(r"\d{10}|\d{12}", column_inn):
        flag = "inn_format"
    elif inn and not inn_check_ok(inn):
        flag = "inn_check_digit"
    elif column_inn and party.inn and column_inn != party.inn:
        flag = "inn_mismatch"
    return party.name or (name or None), inn, flag


# --------------------------------------------------------------------------- columns
def esr_columns(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Columns:
    known = {
        r[0]
        for r in con.execute("SELECT DISTINCT esr FROM stations WHERE esr IS NOT NULL").fetchall()
    }
    out: Columns = {}
    for end in ("origin", "destination"):
        esr, flag = spread(
            table.column(f"{end}_esr"), lambda v: resolve_esr(v, known), (pa.string(), pa.string())
        )
        out[f"_{end}_esr"], out[f"_{end}_esr_flag"] = esr, flag
    return out


def date_columns(con: duckdb.DuckDBPyConnection, ctx: ChunkContext, table: pa.Table) -> Columns:
    """Dates parsed once per distinct text by the SQL of `sqlexpr`."""
    fmt = ctx.mapping.date_format
    out: Columns = {}
    for field, short in (("departed_on", "dep"), ("arrived_on", "arr")):
        values, indices = _encode(table.column(field))
        date_values = pa.table(  # noqa: F841 - read by DuckDB's replacement scan
            {"i": pa.array(range(len(values)), pa.int64()), "v": pa.array(values, pa.string())}
        )
        parsed = con.execute(  # `date_values` reaches DuckDB by its replacement scan (no register)
            f"SELECT {sqlexpr.date('v', fmt)} AS d, {'false' if fmt else sqlexpr.date_is_ambiguous('v')} AS a "
            f"FROM date_values ORDER BY i"
        ).to_arrow_table()
        out[f"_{short}"] = pc.take(parsed.column("d").combine_chunks(), indices)
        out[f"_{short}_ambiguous"] = pc.take(parsed.column("a").combine_chunks(), indices)
    return out


def record_column(table: pa.Table, departure: Sequence[str], arrival: Sequence[str]) -> Columns:
    """departure / arrival / NULL (unknown word); an empty cell means departure."""

    def rule(value: str) -> tuple[str | None]:
        word = value.strip().lower().rstrip(".")
        return ("departure" if word in departure else "arrival" if word in arrival else None,)

    [record] = spread(table.column("record"), rule, (pa.string(),))
    given = pc.is_valid(table.column("record"))
    return {"_record": pc.if_else(given, record, pa.scalar("departure"))}


def cargo_columns(ctx: ChunkContext, table: pa.Table) -> Columns:
    vocabulary = load_vocabulary(ctx.case_dir)

    def rule(key: str) -> tuple[str, str]:
        text, _, code = key.partition(SEP)
        return vocabulary.classify(text, code)

    cargo_class, rule_text = spread(
        joined(table.column("cargo"), table.column("cargo_code")), rule, (pa.string(), pa.string())
    )
    return {"_cargo_class": cargo_class, "_cargo_rule": rule_text}


def identity_columns(table: pa.Table) -> Columns:
    wagon, wagon_flag = spread(table.column("wagon"), wagon_rule, (pa.string(), pa.string()))
    container, container_flag = spread(
        table.column("container"), container_rule, (pa.string(), pa.string())
    )
    out: Columns = {
        "_wagon": wagon,
        "_wagon_flag": wagon_flag,
        "_container": container,
        "_container_flag": container_flag,
    }
    for role in ("consignor", "consignee"):
        inns = table.column(f"{role}_inn")
        if inns.null_count == len(inns):  # no INN column: the name is the key (`name` = `name SEP`)
            key = table.column(role)
        else:
            key = joined(table.column(role), inns)
            present = pc.or_(pc.is_valid(table.column(role)), pc.is_valid(inns))
            key = pc.if_else(present, key, pa.scalar(None, pa.string()))
        name, inn, flag = spread(key, party_rule, (pa.string(), pa.string(), pa.string()))
        out[f"_{role}"], out[f"_{role}_inn"], out[f"_{role}_flag"] = name, inn, flag
    return out
