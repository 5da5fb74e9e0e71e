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
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.errors import InputError
from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds import shipment_lookups as lookups
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind, sql_str

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
DEPARTURE_WORDS = (
    "departure",
    "dep",
    "d",
    "dispatch",
    "отправление",
    "отпр",
    "отправка",
    "погрузка",
)
KG = ("kg", "kgs", "кг", "килограмм", "килограммы", "килограммов")
TONNES = ("t", "т", "тн", "тонн", "тонна", "тонны", "tonne", "tonnes", "tons", "ton")
# DuckDB's share while a register streams in: the file's uncommitted rows wait there (spilled
# beyond it); with the reader's chunks and Python a 5 GB file stays under 1.5 GB.
MEMORY_LIMIT = "500MB"
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
    raise InputError(
        f"unknown weight unit {unit!r} in the mapping; use kg or t",
        file=ctx.file_name,
        column="weight",
    )


def _weight_factor(ctx: ChunkContext) -> str:
    """Tonnes per unit: a unit written in the value, else the column's (mapping or header
    suffix), else the row's unit column."""
    column = _column_unit(ctx) or "NULL"
    unit_col = "lower(rtrim(trim(weight_unit), '.'))"
    return (
        f"coalesce(CASE WHEN w_unit IN {_in(KG)} THEN 0.001 WHEN w_unit IN {_in(TONNES)} THEN 1.0 END, {column}, "
        f"CASE WHEN {unit_col} IN {_in(KG)} THEN 0.001 WHEN {unit_col} IN {_in(TONNES)} THEN 1.0 END)"
    )


def _check_weight_unit(ctx: ChunkContext, table: pa.Table) -> None:
    """A weight column with no unit anywhere (header, mapping, unit column, values) makes
    the file unusable as it stands: refuse it, saying how to name the unit."""
    if (
        "weight" not in ctx.columns.fields
        or "weight_unit" in ctx.columns.fields
        or _column_unit(ctx)
    ):
        return
    weights = table.column("weight")
    if weights.null_count == len(weights):
        return
    if not pc.any(
        pc.match_substring_regex(weights, f"[0-9.,\\s]{sqlexpr.UNIT_SUFFIX}\\.?$", ignore_case=True)
    ).as_py():
        header = ctx.headers[ctx.columns.fields["weight"]]
        raise InputError(
            f"the weight column {header!r} says neither kg nor t (no unit in the header, no unit column, "
            f'none in the values); add units.weight = "kg" (or "t") to a mapping file and pass --mapping',
            file=ctx.file_name,
            row=ctx.source.header_row or None,
            column=header,
        )


def _transform(
    con: duckdb.DuckDBPyConnection, ctx: ChunkContext, table: pa.Table
) -> dict[str, pa.Array]:
    _check_weight_unit(ctx, table)
    return {
        **lookups.record_column(table, DEPARTURE_WORDS, ARRIVAL_WORDS),
        **lookups.date_columns(con, ctx, table),
        **lookups.esr_columns(con, table),
        **lookups.cargo_columns(ctx, table),
        **lookups.identity_columns(table),
    }


def _reason_checks(ctx: ChunkContext) -> tuple[str, str, str]:
    # Written out here, not taken from `_attrs`: inside CASE it is computed for the few rows
    # that get that far, not for every row.
    rest = "".join(f", c{i}" for i in ctx.columns.unmapped.values())
    totals_text = f"lower(concat_ws(' ', waybill, record, origin_station, destination_station, cargo, consignor{rest}))"
    return sqlexpr.first_check(
        # CASE, not AND: the whole-row text is built only for the rows the cheap test lets through
        ("CASE WHEN waybill IS NULL OR regexp_matches(waybill, '^(?i:итого|всего|total)') "
         f"THEN regexp_matches({totals_text}, '(^|[\\s\"{{:])(итого|всего|total|subtotal)([^а-яёa-z]|$)') ELSE false END",
         "totals_row", None),
        ("CASE WHEN waybill IS NULL OR strpos(waybill, ' ') > 0 "
         "THEN (waybill IS NULL OR regexp_matches(waybill, '\\s\\S+\\s')) AND _filled = 1 ELSE false END",
         "note_row", None),
        ("waybill IS NULL", "missing_waybill", "waybill"),
        ("_record IS NULL", "unknown_record_type", "record"),
        ("departed_on IS NOT NULL AND _dep IS NULL", "bad_date", "departed_on"),
        ("arrived_on IS NOT NULL AND _arr IS NULL", "bad_date", "arrived_on"),
        ("_dep NOT BETWEEN DATE '1950-01-01' AND current_date + 366", "implausible_date", "departed_on"),
        ("_arr NOT BETWEEN DATE '1950-01-01' AND current_date + 366", "implausible_date", "arrived_on"),
        ("_record = 'departure' AND _dep IS NULL", "missing_date", "departed_on"),
        ("_record = 'arrival' AND _dep IS NULL AND _arr IS NULL", "missing_date", "arrived_on"),
        ("weight IS NOT NULL AND (w_num IS NULL OR w_num <= 0)", "bad_weight", "weight"),
        ("weight IS NOT NULL AND w_factor IS NULL", "unknown_weight_unit", "weight_unit"),
    )  # fmt: skip


def _weighed(ctx: ChunkContext) -> str:
    """`src` with the weight read: plain numbers (`61250`, `61250,5`, `61 250,5`) by one
    cast; anything else (units, other separators) by the full rules of `sqlexpr`."""
    fast = "try_cast(replace(replace(weight, ' ', ''), ',', '.') AS DOUBLE)"
    slow = sqlexpr.parse_number(sqlexpr.compact_number(sqlexpr.strip_unit("weight")))
    return f"""
        WITH quick AS (SELECT *, {fast} AS w_fast FROM src),
        weighed AS (
            SELECT *, CASE WHEN isfinite(w_fast) THEN NULL ELSE {sqlexpr.unit_of("weight")} END AS w_unit,
                   CASE WHEN isfinite(w_fast) THEN w_fast ELSE {slow} END AS w_num
            FROM quick)
        SELECT *, {_weight_factor(ctx)} AS w_factor FROM weighed"""


def _checked(ctx: ChunkContext) -> str:
    """`src` weighed, with `_check`: the number of the first reason that refuses the row
    (each condition evaluated once, for `_reason` and `_column` alike)."""
    number, _, _ = _reason_checks(ctx)
    return f"SELECT *, {number} AS _check FROM ({_weighed(ctx)})"


def _reasons(ctx: ChunkContext) -> str:
    _, reason, column = _reason_checks(ctx)
    return f"SELECT _row, {reason} AS _reason, {column} AS _column FROM ({_checked(ctx)})"


# target column -> the column of `src` it takes unchanged (the derived columns of
# `shipment_lookups` and the trimmed cells): a kind typed ahead hands these over as they are
COPIED = {
    "row_hash": "_hash", "waybill": "waybill", "wagon": "_wagon", "container": "_container",
    "record": "_record", "departed_on": "_dep", "arrived_on": "_arr", "origin_station": "origin_station",
    "origin_esr": "_origin_esr", "destination_station": "destination_station",
    "destination_esr": "_destination_esr", "cargo": "cargo", "cargo_code": "cargo_code",
    "cargo_class": "_cargo_class", "cargo_rule": "_cargo_rule", "consignor": "_consignor",
    "consignee": "_consignee", "consignor_inn": "_consignor_inn", "consignee_inn": "_consignee_inn",
}  # fmt: skip


def _worked_out(ctx: ChunkContext) -> str:
    """The columns worked out per row (weight, flags, the reason), `_row`."""
    _, reason, column = _reason_checks(ctx)
    flags = (
        "nullif(concat_ws(',', 'origin_' || _origin_esr_flag, 'destination_' || _destination_esr_flag, "
        "_wagon_flag, _container_flag, CASE WHEN _dep_ambiguous OR _arr_ambiguous THEN 'ambiguous_date' END, "
        "CASE WHEN _arr < _dep THEN 'arrival_before_departure' END, "
        "CASE WHEN weight IS NULL THEN 'weight_missing' END, "
        f"CASE WHEN w_num * w_factor > {MAX_PLAUSIBLE_T} THEN 'weight_implausible' END, "
        "'consignor_' || _consignor_flag, 'consignee_' || _consignee_flag), '')"
    )
    return (
        f"round(w_num * w_factor, 6) AS weight_t, {flags} AS flags, "
        f"_row, {reason} AS _reason, {column} AS _column"
    )


def _attributes(ctx: ChunkContext) -> str:
    """`attributes`: the unmapped cells (`_attrs`), NULL when all are empty. As wide as those
    cells: a kind typed ahead builds it where the rows are stored (`TabularKind.stored`).
    The parties' INNs have columns of their own: merged into this JSON they made it the
    widest text of most rows (~1 CPU s of DuckDB's storing per million rows, plus the JSON
    built and merged per distinct pair), schema version 4."""
    return "_attrs AS attributes"


def _computed(ctx: ChunkContext) -> str:
    return f"SELECT {_worked_out(ctx)} FROM ({_checked(ctx)})"


def _select(ctx: ChunkContext) -> str:
    copied = ", ".join(f"{source} AS {target}" for target, source in COPIED.items())
    return f"SELECT {copied}, {_worked_out(ctx)}, {_attributes(ctx)} FROM ({_checked(ctx)})"


SHIPMENTS = TabularKind(
    "shipments", "shipments", FIELDS, _select, dedupe_against_table=True, stream=True,
    transform=_transform, reasons=_reasons, memory_limit=MEMORY_LIMIT, type_ahead=True,
    copied=COPIED, computed=_computed, stored=_attributes,
)  # fmt: skip
