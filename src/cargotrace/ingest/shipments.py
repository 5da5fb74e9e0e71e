"""Rail waybill records (the leaked logistics data): contract §2 "shipments"."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.headers import Field
from cargotrace.ingest.loader import ChunkContext, TabularKind
from cargotrace.reference.cargo import load_vocabulary
from cargotrace.reference.checkdigits import container_check_ok, normalize_esr, wagon_check_ok

FIELDS = [
    Field("waybill", ("номер накладной", "накладная", "№ накладной", "waybill no", "consignment"), required=True),
    Field("record", ("операция", "тип записи", "operation", "record type")),
    Field("departed_on", ("дата отправления", "departure date", "date of departure", "departed")),
    Field("arrived_on", ("дата прибытия", "arrival date", "arrived")),
    Field("origin_station", ("станция отправления", "origin", "from station")),
    Field("origin_esr", ("код станции отправления", "origin esr", "origin code")),
    Field("destination_station", ("станция назначения", "destination", "to station")),
    Field("destination_esr", ("код станции назначения", "destination esr", "destination code")),
    Field("cargo", ("наименование груза", "груз", "cargo name", "commodity", "description")),
    Field("cargo_code", ("код груза", "код етснг", "код гнг", "etsng", "gng")),
    Field("weight", ("вес", "вес груза", "масса", "weight_t", "weight_kg", "net weight", "mass")),
    Field("weight_unit", ("единица веса", "ед изм", "unit")),
    Field("consignor", ("грузоотправитель", "shipper", "sender")),
    Field("consignee", ("грузополучатель", "receiver", "recipient")),
    Field("wagon", ("номер вагона", "вагон", "wagon no", "car number")),
    Field("container", ("номер контейнера", "контейнер", "container no")),
]

_ARRIVAL_WORDS = ("arrival", "прибытие", "приб", "arr", "a")
_DEPARTURE_WORDS = ("departure", "отправление", "отпр", "dep", "d")


def _weight_factor(ctx: ChunkContext) -> str:
    """Tonnes per unit: from the mapping, the header suffix, or a unit column per row."""
    unit = ctx.mapping.units.get("weight") or ctx.columns.units.get("weight")
    if unit:
        return "0.001" if unit.lower() in ("kg", "кг") else "1.0"
    return (
        "CASE WHEN lower(weight_unit) IN ('kg', 'кг', 'kgs') THEN 0.001 "
        "WHEN lower(weight_unit) IN ('t', 'т', 'тн', 'tonnes', 'tons') THEN 1.0 END"
    )


def _prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Lookup tables built from distinct values (ESR codes, wagons, cargo texts)."""
    esr_values = [r[0] for r in con.execute(
        "SELECT DISTINCT v FROM (SELECT origin_esr AS v FROM src UNION SELECT destination_esr FROM src) WHERE v IS NOT NULL"
    ).fetchall()]  # fmt: skip
    esr = [normalize_esr(v) for v in esr_values]
    con.register("esr_lookup_arrow", pa.table({
        "raw": pa.array(esr_values, pa.string()),
        "esr": pa.array([e for e, _ in esr], pa.string()),
        "flag": pa.array([f for _, f in esr], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE esr_lookup AS SELECT * FROM esr_lookup_arrow")
    wagons = [r[0] for r in con.execute("SELECT DISTINCT wagon FROM src WHERE wagon IS NOT NULL").fetchall()]
    wagon_digits = [re.sub(r"\D", "", w) for w in wagons]
    con.register("wagon_lookup_arrow", pa.table({
        "raw": pa.array(wagons, pa.string()),
        "wagon": pa.array(wagon_digits, pa.string()),
        "ok": pa.array([wagon_check_ok(w) for w in wagon_digits], pa.bool_()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE wagon_lookup AS SELECT * FROM wagon_lookup_arrow")
    containers = [r[0] for r in con.execute("SELECT DISTINCT container FROM src WHERE container IS NOT NULL").fetchall()]
    con.register("container_lookup_arrow", pa.table({
        "raw": pa.array(containers, pa.string()),
        "ok": pa.array([container_check_ok(c) for c in containers], pa.bool_()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE container_lookup AS SELECT * FROM container_lookup_arrow")
    cargos = con.execute(
        "SELECT DISTINCT coalesce(cargo, '') AS cargo, coalesce(cargo_code, '') AS code FROM src"
    ).fetchall()
    vocabulary = load_vocabulary(ctx.case_dir)
    classes = [vocabulary.classify(text, code) for text, code in cargos]
    con.register("cargo_lookup_arrow", pa.table({
        "cargo": pa.array([c for c, _ in cargos], pa.string()),
        "code": pa.array([k for _, k in cargos], pa.string()),
        "cargo_class": pa.array([c for c, _ in classes], pa.string()),
        "cargo_rule": pa.array([r for _, r in classes], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE cargo_lookup AS SELECT * FROM cargo_lookup_arrow")
    for name in ("esr_lookup_arrow", "wagon_lookup_arrow", "container_lookup_arrow", "cargo_lookup_arrow"):
        con.unregister(name)


def _select(ctx: ChunkContext) -> str:
    fmt = ctx.mapping.date_format
    record = (
        f"CASE WHEN record IS NULL OR lower(record) IN {_DEPARTURE_WORDS} THEN 'departure' "
        f"WHEN lower(record) IN {_ARRIVAL_WORDS} THEN 'arrival' END"
    )
    factor = _weight_factor(ctx)
    weight_num = sqlexpr.number("weight")
    reason, column = sqlexpr.first_reason(
        ("waybill IS NULL", "missing_waybill", "waybill"),
        (f"({record}) IS NULL", "unknown_record_type", "record"),
        (f"departed_on IS NOT NULL AND {sqlexpr.date('departed_on', fmt)} IS NULL", "bad_date", "departed_on"),
        (f"arrived_on IS NOT NULL AND {sqlexpr.date('arrived_on', fmt)} IS NULL", "bad_date", "arrived_on"),
        (f"({record}) = 'departure' AND departed_on IS NULL", "missing_date", "departed_on"),
        (f"({record}) = 'arrival' AND departed_on IS NULL AND arrived_on IS NULL", "missing_date", "arrived_on"),
        (f"weight IS NOT NULL AND {weight_num} IS NULL", "bad_weight", "weight"),
        (f"weight IS NOT NULL AND {weight_num} <= 0", "bad_weight", "weight"),
        (f"weight IS NOT NULL AND ({factor}) IS NULL", "unknown_weight_unit", "weight_unit"),
        (f"{sqlexpr.date('departed_on', fmt)} NOT BETWEEN DATE '1950-01-01' AND current_date + 366", "implausible_date", "departed_on"),
    )
    flags = (
        "nullif(concat_ws(',', "
        "o.flag, d.flag, "
        "CASE WHEN w.ok = false THEN 'wagon_check_digit' END, "
        "CASE WHEN k.ok = false THEN 'container_check_digit' END, "
        f"CASE WHEN {sqlexpr.date_is_ambiguous('departed_on')} THEN 'ambiguous_date' END, "
        "CASE WHEN weight IS NULL THEN 'weight_missing' END), '')"
    )
    return f"""
        SELECT s._hash AS row_hash, s.waybill, coalesce(w.wagon, s.wagon) AS wagon,
               upper(regexp_replace(s.container, '[\\s-]', '', 'g')) AS container,
               {record} AS record,
               {sqlexpr.date('s.departed_on', fmt)} AS departed_on,
               {sqlexpr.date('s.arrived_on', fmt)} AS arrived_on,
               s.origin_station, o.esr AS origin_esr, s.destination_station, d.esr AS destination_esr,
               s.cargo, s.cargo_code, c.cargo_class, c.cargo_rule,
               round({weight_num.replace('weight', 's.weight')} * ({factor}), 6) AS weight_t,
               s.consignor, s.consignee, {flags} AS flags, s._attrs AS attributes,
               s._row, s._raw, {reason} AS _reason, {column} AS _column
        FROM src s
        LEFT JOIN esr_lookup o ON o.raw = s.origin_esr
        LEFT JOIN esr_lookup d ON d.raw = s.destination_esr
        LEFT JOIN wagon_lookup w ON w.raw = s.wagon
        LEFT JOIN container_lookup k ON k.raw = s.container
        LEFT JOIN cargo_lookup c ON c.cargo = coalesce(s.cargo, '') AND c.code = coalesce(s.cargo_code, '')
    """


SHIPMENTS = TabularKind("shipments", "shipments", FIELDS, _select, prepare=_prepare, dedupe_against_table=True)
