"""Rail waybill records (the leaked logistics data): contract §2 "shipments".

One SELECT types and checks a chunk: dates, ESR codes, wagons, containers, cargo classes
and parties come from lookup tables built on distinct values (`shipment_lookups`); weights
are read per row. A row is quarantined for the first reason that applies (the order of
`_REASONS` below); failed check digits and repaired codes only *flag* a kept row.

Reasons: totals_row, note_row, missing_waybill, unknown_record_type, bad_date,
implausible_date, missing_date, bad_weight, unknown_weight_unit.
Flags: {origin,destination}_esr_{check_digit,check_digit_added,leading_zero_restored,length,
not_numeric}, wagon_check_digit, wagon_format, container_check_digit, container_format,
ambiguous_date, arrival_before_departure, weight_missing, weight_implausible,
{consignor,consignee}_inn_{check_digit,format,mismatch}.
"""

from __future__ import annotations

import duckdb

from cargotrace.errors import InputError
from cargotrace.ingest import shipment_lookups as lookups
from cargotrace.ingest import sqlexpr
from cargotrace.ingest.headers import Field
from cargotrace.ingest.loader import ChunkContext, TabularKind, sql_str

FIELDS = [
    Field("waybill", ("номер накладной", "накладная", "№ накладной", "номер отправки", "№ отправки",
                      "waybill no", "waybill number", "consignment", "consignment no"), required=True),
    Field("record", ("операция", "тип записи", "тип операции", "operation", "record type")),
    Field("departed_on", ("дата отправления", "дата отправки", "дата погрузки", "departure date",
                          "date of departure", "departed", "dispatch date")),
    Field("arrived_on", ("дата прибытия", "дата раскредитования", "arrival date", "arrived")),
    Field("origin_station", ("станция отправления", "ст отправления", "origin", "origin station",
                             "from station", "departure station")),
    Field("origin_esr", ("код станции отправления", "код ст отправления", "еср отправления",
                         "код еср станции отправления", "origin esr", "origin code", "origin station code")),
    Field("destination_station", ("станция назначения", "ст назначения", "destination", "destination station",
                                  "to station", "arrival station")),
    Field("destination_esr", ("код станции назначения", "код ст назначения", "еср назначения",
                              "код еср станции назначения", "destination esr", "destination code",
                              "destination station code")),
    Field("cargo", ("наименование груза", "груз", "наименование", "cargo name", "commodity", "description",
                    "cargo description")),
    Field("cargo_code", ("код груза", "код етснг", "етснг", "код гнг", "гнг", "etsng", "gng", "cargo code")),
    Field("weight", ("вес", "вес груза", "масса", "масса груза", "вес нетто", "масса нетто",
                     "weight_t", "weight_kg", "net weight", "mass", "weight")),
    Field("weight_unit", ("единица веса", "ед изм", "единица измерения", "unit", "weight unit")),
    Field("consignor", ("грузоотправитель", "отправитель", "shipper", "sender")),
    Field("consignor_inn", ("инн грузоотправителя", "грузоотправитель инн", "инн отправителя",
                            "consignor inn", "shipper inn")),
    Field("consignee", ("грузополучатель", "получатель", "receiver", "recipient")),
    Field("consignee_inn", ("инн грузополучателя", "грузополучатель инн", "инн получателя",
                            "consignee inn", "receiver inn")),
    Field("wagon", ("номер вагона", "вагон", "№ вагона", "wagon no", "wagon number", "car number")),
    Field("container", ("номер контейнера", "контейнер", "№ контейнера", "container no", "container number")),
]  # fmt: skip

ARRIVAL_WORDS = ("arrival", "arr", "a", "прибытие", "приб", "выгрузка", "раскредитование")
DEPARTURE_WORDS = ("departure", "dep", "d", "dispatch", "отправление", "отпр", "отправка", "погрузка")
KG = ("kg", "kgs", "кг", "килограмм", "килограммы", "килограммов")
TONNES = ("t", "т", "тн", "тонн", "тонна", "тонны", "tonne", "tonnes", "tons", "ton")
MAX_PLAUSIBLE_T = 1000.0  # one record above this is flagged (a kg column read as tonnes?)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def _column_unit(ctx: ChunkContext) -> str | None:
    unit = ctx.mapping.units.get("weight") or ctx.columns.units.get("weight")
    if unit is None:
        return None
    unit = unit.strip().lower().rstrip(".")
    if unit in KG:
        return "0.001"
    if unit in TONNES:
        return "1.0"
    raise InputError(f"unknown weight unit {unit!r} in the mapping; use kg or t", file=ctx.file_name, column="weight")


def _weight_factor(ctx: ChunkContext) -> str:
    """Tonnes per unit: a unit written in the value, else the column's (mapping or header
    suffix), else the row's unit column."""
    column = _column_unit(ctx) or "NULL"
    unit_col = "lower(rtrim(trim(weight_unit), '.'))"
    return (
        f"coalesce(CASE WHEN w_unit IN {_in(KG)} THEN 0.001 WHEN w_unit IN {_in(TONNES)} THEN 1.0 END, {column}, "
        f"CASE WHEN {unit_col} IN {_in(KG)} THEN 0.001 WHEN {unit_col} IN {_in(TONNES)} THEN 1.0 END)"
    )


def _check_weight_unit(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """A weight column with no unit anywhere (header, mapping, unit column, values) makes
    the file unusable as it stands: refuse it, saying how to name the unit."""
    if "weight" not in ctx.columns.fields or "weight_unit" in ctx.columns.fields or _column_unit(ctx):
        return
    with_unit = con.execute(f"SELECT count(*) FROM src WHERE {sqlexpr.unit_of('weight')} IS NOT NULL").fetchone()
    if with_unit and with_unit[0] == 0 and con.execute("SELECT count(weight) FROM src").fetchone()[0]:  # type: ignore[index]
        header = ctx.headers[ctx.columns.fields["weight"]]
        raise InputError(
            f"the weight column {header!r} says neither kg nor t (no unit in the header, no unit column, "
            f'none in the values); add [units] weight = "kg" (or "t") to a mapping file and pass --mapping',
            file=ctx.file_name,
            row=ctx.source.header_row or None,
            column=header,
        )


def _prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    _check_weight_unit(con, ctx)
    lookups.esr_lookup(con)
    lookups.wagon_lookup(con)
    lookups.container_lookup(con)
    lookups.date_lookup(con, ctx)
    lookups.cargo_lookup(con, ctx)
    lookups.party_lookup(con)


def _reasons() -> tuple[str, str]:
    totals_text = "lower(concat_ws(' ', waybill, record, origin_station, destination_station, cargo, consignor, _attrs))"
    return sqlexpr.first_reason(
        (f"(waybill IS NULL OR regexp_matches(lower(waybill), '^(итого|всего|total)')) "
         f"AND regexp_matches({totals_text}, '(^|[\\s\"{{:])(итого|всего|total|subtotal)\\b')", "totals_row", None),
        ("_filled = 1 AND (waybill IS NULL OR regexp_matches(waybill, '\\s\\S+\\s'))", "note_row", None),
        ("waybill IS NULL", "missing_waybill", "waybill"),
        ("rec IS NULL", "unknown_record_type", "record"),
        ("departed_on IS NOT NULL AND dep IS NULL", "bad_date", "departed_on"),
        ("arrived_on IS NOT NULL AND arr IS NULL", "bad_date", "arrived_on"),
        ("dep NOT BETWEEN DATE '1950-01-01' AND current_date + 366", "implausible_date", "departed_on"),
        ("arr NOT BETWEEN DATE '1950-01-01' AND current_date + 366", "implausible_date", "arrived_on"),
        ("rec = 'departure' AND dep IS NULL", "missing_date", "departed_on"),
        ("rec = 'arrival' AND dep IS NULL AND arr IS NULL", "missing_date", "arrived_on"),
        ("weight IS NOT NULL AND (w_num IS NULL OR w_num <= 0)", "bad_weight", "weight"),
        ("weight IS NOT NULL AND w_factor IS NULL", "unknown_weight_unit", "weight_unit"),
    )  # fmt: skip


def _select(ctx: ChunkContext) -> str:
    record = (
        "CASE WHEN record IS NULL THEN 'departure' "
        f"WHEN lower(rtrim(record, '.')) IN {_in(DEPARTURE_WORDS)} THEN 'departure' "
        f"WHEN lower(rtrim(record, '.')) IN {_in(ARRIVAL_WORDS)} THEN 'arrival' END"
    )
    reason, column = _reasons()
    flags = (
        "nullif(concat_ws(',', 'origin_' || o.flag, 'destination_' || d.flag, w.flag, k.flag, "
        "CASE WHEN dep_ambiguous OR arr_ambiguous THEN 'ambiguous_date' END, "
        "CASE WHEN arr < dep THEN 'arrival_before_departure' END, "
        "CASE WHEN weight IS NULL THEN 'weight_missing' END, "
        f"CASE WHEN weight_t > {MAX_PLAUSIBLE_T} THEN 'weight_implausible' END, "
        "'consignor_' || po.flag, 'consignee_' || pe.flag), '')"
    )
    attributes = (
        "CASE WHEN po.inn IS NULL AND pe.inn IS NULL THEN _attrs ELSE CAST(json_merge_patch(coalesce(_attrs, '{}'), "
        "CASE WHEN pe.inn IS NULL THEN json_object('consignor_inn', po.inn) "
        "WHEN po.inn IS NULL THEN json_object('consignee_inn', pe.inn) "
        "ELSE json_object('consignor_inn', po.inn, 'consignee_inn', pe.inn) END) AS VARCHAR) END"
    )
    return f"""
        WITH typed AS (
            SELECT s.*, dd.d AS dep, coalesce(dd.ambiguous, false) AS dep_ambiguous,
                   da.d AS arr, coalesce(da.ambiguous, false) AS arr_ambiguous, {record} AS rec,
                   {sqlexpr.compact_number(sqlexpr.strip_unit('s.weight'))} AS w_text,
                   {sqlexpr.unit_of('s.weight')} AS w_unit
            FROM src s
            LEFT JOIN date_lookup dd ON dd.raw = s.departed_on
            LEFT JOIN date_lookup da ON da.raw = s.arrived_on
        ), weighed AS (
            SELECT *, {sqlexpr.parse_number('w_text')} AS w_num, {_weight_factor(ctx)} AS w_factor FROM typed
        ), checked AS (
            SELECT *, round(w_num * w_factor, 6) AS weight_t, {reason} AS _reason, {column} AS _column FROM weighed
        )
        SELECT t._hash AS row_hash, t.waybill, coalesce(w.wagon, t.wagon) AS wagon,
               coalesce(k.container, t.container) AS container, t.rec AS record,
               t.dep AS departed_on, t.arr AS arrived_on,
               t.origin_station, o.esr AS origin_esr, t.destination_station, d.esr AS destination_esr,
               t.cargo, t.cargo_code, c.cargo_class, c.cargo_rule, t.weight_t,
               coalesce(po.name, t.consignor) AS consignor, coalesce(pe.name, t.consignee) AS consignee,
               {flags} AS flags, {attributes} AS attributes,
               t._row, t._reason, t._column
        FROM checked t
        LEFT JOIN esr_lookup o ON o.raw = t.origin_esr
        LEFT JOIN esr_lookup d ON d.raw = t.destination_esr
        LEFT JOIN wagon_lookup w ON w.raw = t.wagon
        LEFT JOIN container_lookup k ON k.raw = t.container
        LEFT JOIN cargo_lookup c ON c.cargo = coalesce(t.cargo, '') AND c.code = coalesce(t.cargo_code, '')
        LEFT JOIN party_lookup po ON po.raw = coalesce(t.consignor, '') AND po.inn_raw = coalesce(t.consignor_inn, '')
        LEFT JOIN party_lookup pe ON pe.raw = coalesce(t.consignee, '') AND pe.inn_raw = coalesce(t.consignee_inn, '')
    """


SHIPMENTS = TabularKind(
    "shipments", "shipments", FIELDS, _select, prepare=_prepare, dedupe_against_table=True, stream=True
)
