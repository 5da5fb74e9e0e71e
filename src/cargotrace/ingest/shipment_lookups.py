"""Lookup tables for shipment chunks, built from *distinct* values (a few thousand per
million rows): ESR codes, wagon and container numbers, dates, cargo classes, parties.

Python does the check digits and name rules once per distinct value; SQL joins the
results back to every row. Each table is `raw -> normalised value, flag`.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.loader import ChunkContext
from cargotrace.reference.cargo import load_vocabulary
from cargotrace.reference.checkdigits import container_check_ok, esr_check_digit, inn_check_ok, normalize_esr, wagon_check_ok
from cargotrace.reference.names import normalize_party_name


def _distinct(con: duckdb.DuckDBPyConnection, *columns: str) -> list[str]:
    union = " UNION ".join(f"SELECT {c} AS v FROM src" for c in columns)
    return [r[0] for r in con.execute(f"SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL").fetchall()]


def _register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, pa.Array]) -> None:
    con.register(f"{name}_arrow", pa.table(columns))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def _esr_ok(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and esr_check_digit(code[:5]) == int(code[5])


def resolve_esr(raw: str, known: set[str]) -> tuple[str | None, str | None]:
    """`normalize_esr`, except that a 5-digit code which reads both as a code that lost its
    leading zero and as a code without its check digit is settled by the case's station
    list when exactly one reading is a known station."""
    code, flag = normalize_esr(raw)
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 5 and known:
        zero = "0" + digits
        added = digits + str(esr_check_digit(digits))
        readings = [(c, f) for c, f in ((zero, "esr_leading_zero_restored"), (added, "esr_check_digit_added"))
                    if (_esr_ok(c) and c in known)]  # fmt: skip
        if len(readings) == 1:
            return readings[0]
    return code, flag


def esr_lookup(con: duckdb.DuckDBPyConnection) -> None:
    values = _distinct(con, "origin_esr", "destination_esr")
    known = {r[0] for r in con.execute("SELECT DISTINCT esr FROM stations WHERE esr IS NOT NULL").fetchall()} if values else set()
    resolved = [resolve_esr(v, known) for v in values]
    _register(con, "esr_lookup", {
        "raw": pa.array(values, pa.string()),
        "esr": pa.array([e for e, _ in resolved], pa.string()),
        "flag": pa.array([f for _, f in resolved], pa.string()),
    })  # fmt: skip


def wagon_lookup(con: duckdb.DuckDBPyConnection) -> None:
    values = _distinct(con, "wagon")
    digits = [re.sub(r"[\s-]", "", w) for w in values]
    flags = [None if wagon_check_ok(d) else ("wagon_check_digit" if re.fullmatch(r"\d{8}", d) else "wagon_format") for d in digits]
    _register(con, "wagon_lookup", {
        "raw": pa.array(values, pa.string()),
        "wagon": pa.array(digits, pa.string()),
        "flag": pa.array(flags, pa.string()),
    })  # fmt: skip


def container_lookup(con: duckdb.DuckDBPyConnection) -> None:
    values = _distinct(con, "container")
    clean = [re.sub(r"[\s-]", "", c.upper()) for c in values]
    flags = [None if container_check_ok(c) else
             ("container_check_digit" if re.fullmatch(r"[A-Z]{3}[UJZ]\d{7}", c) else "container_format") for c in clean]  # fmt: skip
    _register(con, "container_lookup", {
        "raw": pa.array(values, pa.string()),
        "container": pa.array(clean, pa.string()),
        "flag": pa.array(flags, pa.string()),
    })  # fmt: skip


def date_lookup(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Dates parsed once per distinct text, in SQL (the expressions of `sqlexpr`)."""
    fmt = ctx.mapping.date_format
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE date_lookup AS
            SELECT v AS raw, {sqlexpr.date('v', fmt)} AS d,
                   {'false' if fmt else sqlexpr.date_is_ambiguous('v')} AS ambiguous
            FROM (SELECT departed_on AS v FROM src UNION SELECT arrived_on FROM src) WHERE v IS NOT NULL"""
    )


def cargo_lookup(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    cargos = con.execute("SELECT DISTINCT coalesce(cargo, '') AS cargo, coalesce(cargo_code, '') AS code FROM src").fetchall()
    vocabulary = load_vocabulary(ctx.case_dir)
    classes = [vocabulary.classify(text, code) for text, code in cargos]
    _register(con, "cargo_lookup", {
        "cargo": pa.array([c for c, _ in cargos], pa.string()),
        "code": pa.array([k for _, k in cargos], pa.string()),
        "cargo_class": pa.array([c for c, _ in classes], pa.string()),
        "cargo_rule": pa.array([r for _, r in classes], pa.string()),
    })  # fmt: skip


def party_lookup(con: duckdb.DuckDBPyConnection) -> None:
    """Consignor/consignee: canonical name, the INN (column first, else inside the name),
    and a flag when the INN fails its check digit or disagrees with the one in the name."""
    pairs = con.execute(
        """SELECT DISTINCT coalesce(n, '') AS n, coalesce(i, '') AS i FROM (
               SELECT consignor AS n, consignor_inn AS i FROM src UNION ALL SELECT consignee, consignee_inn FROM src)
           WHERE n IS NOT NULL OR i IS NOT NULL"""
    ).fetchall()
    names, inns, flags = [], [], []
    for name, inn_text in pairs:
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
        names.append(party.name)
        inns.append(inn)
        flags.append(flag)
    _register(con, "party_lookup", {
        "raw": pa.array([n for n, _ in pairs], pa.string()),
        "inn_raw": pa.array([i for _, i in pairs], pa.string()),
        "name": pa.array(names, pa.string()),
        "inn": pa.array(inns, pa.string()),
        "flag": pa.array(flags, pa.string()),
    })  # fmt: skip
