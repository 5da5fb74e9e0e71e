"""AIS position CSVs: the canonical layout, NOAA MarineCadastre and the Danish Maritime
Authority layout, recognised by their headers (contract §2 "ais").

Rows without a time or a possible position (lat 91 / lon 181 "not available", lat -101.5,
lon 205, years 1960 or 9999) are quarantined by the rules of `ais_rules`, shared with the
NMEA path. Other not-available values become NULL and the row is kept: sog outside 0-102.2 (102.3), cog outside
0-359.9 (360), heading outside 0-359 (511), navigation status 15 or unknown text; in the
identity columns, IMO 0, ship type 0 or "undefined", empty names (AIS '@' padding removed).
Duplicates, stations and identity checks run once the whole file is in
(`ais_clean.finish_file`); impossible speeds are analyze's (table impossible_fixes).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds import ais_rules
from cargotrace.ingest.kinds.ais_clean import STAGE
from cargotrace.ingest.readers.arrow_text import any_contains_byte
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind
from cargotrace.reference.ais_values import kinematics_sql

FIELDS = [
    Field("mmsi", ("mmsi", "userid", "user id"), required=True),
    Field(
        "timestamp",
        ("basedatetime", "timestamp", "time", "datetime", "# timestamp", "t", "time utc"),
        required=True,
    ),
    Field("lat", ("latitude", "lat", "y"), required=True),
    Field("lon", ("longitude", "lon", "long", "lng", "x"), required=True),
    Field("sog", ("sog", "speed", "speed over ground")),
    Field("cog", ("cog", "course", "course over ground")),
    Field("heading", ("heading", "true heading", "hdg")),
    Field("nav_status", ("status", "navigational status", "nav status", "navstatus")),
    Field("msg_type", ("message type", "msgtype", "type", "message id", "msg type")),
    Field("name", ("vesselname", "vessel name", "name", "shipname")),
    Field("imo", ("imo",)),
    Field("callsign", ("callsign", "call sign")),
    Field("ship_type", ("vesseltype", "ship type", "shiptype")),
    Field("draught", ("draft", "draught")),
    Field("length", ("length", "length m", "loa")),
]

# Text statuses as the Danish Maritime Authority writes them, to ITU-R M.1371 codes.
NAV_STATUS_TEXT = {
    "under way using engine": 0, "at anchor": 1, "not under command": 2,
    "restricted maneuverability": 3, "constrained by her draught": 4, "moored": 5,
    "aground": 6, "engaged in fishing": 7, "under way sailing": 8, "ais-sart": 14,
    "unknown value": 15, "undefined": 15,
}  # fmt: skip


def _status_sql(col: str) -> str:
    cases = " ".join(f"WHEN '{text}' THEN {code}" for text, code in NAV_STATUS_TEXT.items())
    return (
        f"coalesce(try_cast(try_cast({col} AS DOUBLE) AS SMALLINT), CASE lower({col}) {cases} END)"
    )


def _timestamp_sql(col: str) -> str:
    return sqlexpr.timestamp(col)


def _mmsi_sql(col: str) -> str:
    return f"try_cast(try_cast({col} AS DOUBLE) AS BIGINT)"


# Each typed column: (field, the SQL that types it, the Arrow type, whether Arrow's cast
# needs the values checked against a pattern first). A column that Arrow's cast reads the way
# that SQL does is cast in Arrow; any other goes through the SQL (one definition of the rule).
# Numbers: Arrow also reads exponents, nan and inf, which `sqlexpr.number` reads otherwise or
# not at all: such columns take the SQL.
_ISO_TIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?$"
_TYPED: tuple[tuple[str, Callable[[str], str], pa.DataType, str | None], ...] = (
    ("mmsi", _mmsi_sql, pa.int64(), None),
    ("timestamp", _timestamp_sql, pa.timestamp("us", "UTC"), _ISO_TIME),
    ("lat", sqlexpr.number, pa.float64(), None),
    ("lon", sqlexpr.number, pa.float64(), None),
    ("sog", sqlexpr.number, pa.float64(), None),
    ("cog", sqlexpr.number, pa.float64(), None),
    ("heading", sqlexpr.number, pa.float64(), None),
    ("nav_status", lambda col: _status_sql(col), pa.int16(), None),
)  # fmt: skip


# `_ISO_TIME` in its commonest form, `YYYY-MM-DDTHH:MM:SS` (or a space for the T), tested
# on the bytes of the cells: ~5x faster than the regular expression, which takes the rest
_ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]


def _iso_seconds(values: pa.ChunkedArray) -> bool:
    """True when every cell is `YYYY-MM-DD[T ]HH:MM:SS` (19 bytes, no NULL); False when
    that cannot be told from the bytes alone (then `_ISO_TIME` decides)."""
    for chunk in values.chunks:
        if not len(chunk):
            continue
        if chunk.null_count or not pa.types.is_string(chunk.type):
            return False
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, np.int32)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        if not bool((np.diff(offsets) == 19).all()):
            return False
        cells = np.frombuffer(data_buffer, np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 19)
        digits = cells[:, _ISO_DIGITS]
        if not (
            bool(((digits >= ord("0")) & (digits <= ord("9"))).all())
            and bool((cells[:, [4, 7]] == ord("-")).all())
            and bool((cells[:, [13, 16]] == ord(":")).all())
            and bool(((cells[:, 10] == ord("T")) | (cells[:, 10] == ord(" "))).all())
        ):
            return False
    return True


def _may_have_exponent(values: pa.ChunkedArray) -> bool:
    """Whether some cell holds an `e` or `E` (an exponent, which `sqlexpr.number` does not
    read as Arrow does): a byte test on the buffers."""
    return any_contains_byte(values, ord("e")) or any_contains_byte(values, ord("E"))


def _arrow_cast(
    values: pa.ChunkedArray, arrow_type: pa.DataType, plain: str | None
) -> pa.ChunkedArray | None:
    """The column cast by Arrow, or None when Arrow cannot read it as the SQL would."""
    if (
        plain is not None
        and not (plain == _ISO_TIME and _iso_seconds(values))
        and not pc.all(pc.match_substring_regex(values, plain)).as_py()
    ):
        return None
    naive = pa.timestamp("us") if pa.types.is_timestamp(arrow_type) else arrow_type
    try:
        cast = values.cast(naive)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. 2023-02-30, 4,5, 99999 as int16
        return None
    if pa.types.is_floating(arrow_type) and (
        not pc.all(pc.is_finite(cast)).as_py() or _may_have_exponent(values)
    ):
        return None
    return cast.cast(arrow_type)  # a naive time is UTC


def _by_arrow(
    values: pa.ChunkedArray, arrow_type: pa.DataType, plain: str | None, arrow: bool = True
) -> pa.ChunkedArray | None:
    """The column typed without the SQL (all NULL, or cast by Arrow), or None."""
    if values.null_count == len(values):
        return pa.chunked_array([pa.nulls(len(values), arrow_type)])
    return _arrow_cast(values, arrow_type, plain) if arrow else None


def _by_sql(
    con: duckdb.DuckDBPyConnection,
    values: pa.ChunkedArray,
    sql: Callable[[str], str],
    arrow_type: pa.DataType,
) -> pa.ChunkedArray:
    column_values = pa.table({"v": values})  # noqa: F841 - replacement scan
    typed = con.execute(f"SELECT {sql('v')} AS v FROM column_values").to_arrow_table().column(0)
    return typed.cast(arrow_type)


def _typed(
    con: duckdb.DuckDBPyConnection, values: pa.ChunkedArray, sql: Callable[[str], str],
    arrow_type: pa.DataType, plain: str | None, arrow: bool = True,
) -> pa.ChunkedArray:  # fmt: skip
    cast = _by_arrow(values, arrow_type, plain, arrow)
    return cast if cast is not None else _by_sql(con, values, sql, arrow_type)


# The columns are cast by Arrow two at a time (Arrow lets go of the GIL): the thread that
# stores the chunks has more to do than the one that reads the next (the CSV parse)
_TYPER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cargotrace-ais-typing")


def _transform(
    con: duckdb.DuckDBPyConnection, ctx: ChunkContext, table: pa.Table
) -> dict[str, pa.ChunkedArray]:
    """The typed columns `_mmsi`, `_timestamp`, `_lat`, ... of the chunk, in one vectorised
    pass: the SELECT then only checks ranges. A column Arrow cannot read as the SQL does
    is typed by the SQL, on this thread (it has the connection)."""
    fmt = ctx.mapping.date_format  # a mapping's time format: the SQL, which tries it first
    jobs = []
    for name, sql, arrow_type, plain in _TYPED:
        arrow = not (name == "timestamp" and fmt)
        if not arrow:
            sql = lambda col: sqlexpr.timestamp(col, fmt)  # noqa: E731, PLW2901
        cast = _TYPER.submit(_by_arrow, table.column(name), arrow_type, plain, arrow)
        jobs.append((name, sql, arrow_type, cast))
    typed = {}
    for name, sql, arrow_type, cast in jobs:
        done = cast.result()
        typed[f"_{name}"] = (
            done if done is not None else _by_sql(con, table.column(name), sql, arrow_type)
        )
    return typed


def _select(ctx: ChunkContext) -> str:
    ts, lat, lon, mmsi = "_timestamp", "_lat", "_lon", "_mmsi"  # typed by `_transform`
    reason, column = ais_rules.reason_sql(
        [
            (f"{mmsi} IS NULL", "bad_mmsi", "mmsi"),
            (f"{mmsi} NOT BETWEEN 1 AND 999999999", "bad_mmsi", "mmsi"),
            (f"timestamp IS NOT NULL AND {ts} IS NULL", "bad_timestamp", "timestamp"),
            (f"lat IS NOT NULL AND {lat} IS NULL", "bad_latitude", "lat"),
            (f"lon IS NOT NULL AND {lon} IS NULL", "bad_longitude", "lon"),
            *ais_rules.position_checks(ts, lat, lon),
        ]
    )
    return f"""
        SELECT {mmsi} AS mmsi, {ts} AS timestamp, {lat} AS lat, {lon} AS lon,
               {kinematics_sql("_sog", "_cog", "_heading", "_nav_status")},
               coalesce(try_cast(msg_type AS SMALLINT), CAST(NULL AS SMALLINT)) AS msg_type,
               CAST(NULL AS VARCHAR) AS flags,  -- ais_clean
               name, imo, callsign, ship_type, draught, length,
               _row, {reason} AS _reason, {column} AS _column
        FROM src
    """


_NOT_AVAILABLE_TYPES = ("", "0", "undefined", "unknown", "not available", "n/a", "none")


def _text_sql(col: str) -> str:
    """Upper case, trimmed, AIS '@' padding removed; empty -> NULL."""
    return f"nullif(trim(rtrim(upper({col}), '@ ')), '')"


def _imo_sql(col: str) -> str:
    """'IMO 8207721', '8207721.0' -> '8207721'; empty or all zeros (not available) -> NULL."""
    bare = f"regexp_replace(regexp_replace(upper(trim({col})), '^IMO\\s*', ''), '\\.0$', '')"
    return f"(CASE WHEN regexp_full_match({bare}, '0*') THEN NULL ELSE {bare} END)"


def _ship_type_sql(col: str) -> str:
    absent = ", ".join(f"'{v}'" for v in _NOT_AVAILABLE_TYPES)
    return f"(CASE WHEN lower(trim({col})) IN ({absent}) THEN NULL ELSE regexp_replace(trim({col}), '\\.0$', '') END)"


def _draught_sql(number: str) -> str:
    """Metres from the draught as a number (`sqlexpr.number` of the cell); 0 (not
    available) and anything beyond AIS's 25.5 m (plus a margin) -> NULL."""
    return f"(CASE WHEN {number} > 0 AND {number} <= 30 THEN {number} END)"


def _length_sql(number: str) -> str:
    """Metres from a `Length` cell (NOAA, DMA) as a number (`sqlexpr.number` of the cell);
    0 (not available) and beyond 600 m -> NULL."""
    return f"(CASE WHEN {number} > 0 AND {number} <= 600 THEN {number} END)"


def _time_row_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """SQL of the row of the first and of the last (time, row) of a group of `src`'s rows
    (`_timestamp`, `_row`), each the min or max of one number: the time after the chunk's
    first in microseconds, shifted left past the rows, plus the row after the chunk's
    first. A BIGINT when the chunk's span of times and rows fits 62 bits (a day of rows
    needs 37 + 20), else a HUGEINT (2^40 > rows), which cost ~20 % more of the pass."""
    span = con.execute(
        "SELECT epoch_us(min(_timestamp)), epoch_us(max(_timestamp)), min(_row), max(_row) FROM src"
    ).fetchone()
    if span is None or None in span:
        return "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)"  # no time: no group has a row
    time0, time1, row0, row1 = (int(v) for v in span)
    row_bits = max(1, (row1 - row0).bit_length())
    if (time1 - time0).bit_length() + row_bits <= 62:
        key = f"((epoch_us(timestamp) - {time0}) << {row_bits}) + (_row - {row0})"
        row = "({}(" + key + f") & {(1 << row_bits) - 1}) + {row0}"
    else:
        row = "CAST({}(epoch_us(timestamp)::HUGEINT * 1099511627776 + _row) & 1099511627775 AS BIGINT)"
    return row.format("min"), row.format("max")


def _identities(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Provider CSVs repeat the name, IMO and call sign on every row: each distinct identity
    of an MMSI in the chunk becomes an identity report at the first and at the last row that
    shows it (one report if they are the same), so `vessel_identities` knows its time span.
    The draught (`Draft`) counts as part of what is reported, so each draught an identity
    shows gets its first and last row too (a draught that returns later in the same chunk
    is known at its first and last rows only). A `Length` column gives the reports' length
    (the longest the identity shows: length is not part of what is compared).
    Rows without a position (static messages in a provider CSV) are quarantined as positions
    but their identity counts."""
    if not {"name", "imo", "callsign", "ship_type", "draught", "length"} & set(ctx.columns.fields):
        return
    # each identity as written first (few per chunk), in a table of its own: as a CTE of the
    # statement below, DuckDB ran this pass over the chunk more than once. The length is a
    # key here and is typed once per group (its regular expressions cost more per row than
    # the rest of the pass). The rows are read from `src` (typed `_mmsi`, `_timestamp`), the
    # refused ones known from `chunk_bad`: the SELECT's rules are not worked out again
    first, last = _time_row_key(con)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_chunk_ids AS
           SELECT mmsi, imo, name, callsign, ship_type, draught, length,  -- the length as written: typed per group below
                  min(timestamp) AS t0, {first} AS r0, max(timestamp) AS t1, {last} AS r1
           FROM (SELECT _mmsi AS mmsi, _timestamp AS timestamp, * EXCLUDE (mmsi, timestamp) FROM src)
           WHERE _row NOT IN (SELECT _row FROM chunk_bad WHERE _reason <> 'no_position')  -- static reports: identity, no place
             AND coalesce(imo, name, callsign, ship_type, draught, length) IS NOT NULL
           GROUP BY ALL"""
    )
    # normalised once per identity into a table: the two SELECTs of the reports below read
    # it (as a CTE, it ran twice). The draught and length cells are read as numbers once
    # per distinct cell (a few dozen in a chunk of 10,000 identities: parsing each
    # identity's cost ~60 % of this pass), then ranged
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_chunk_spans AS
            WITH draughts AS (
                SELECT _cell, {_draught_sql("_n")} AS draught_m FROM (
                    SELECT _cell, {sqlexpr.number("_cell")} AS _n
                    FROM (SELECT DISTINCT draught AS _cell FROM ais_chunk_ids WHERE draught IS NOT NULL))
            ), lengths AS (
                SELECT _cell, {_length_sql("_n")} AS length_m FROM (
                    SELECT _cell, {sqlexpr.number("_cell")} AS _n
                    FROM (SELECT DISTINCT length AS _cell FROM ais_chunk_ids WHERE length IS NOT NULL))
            ), ids AS (  -- normalised
                SELECT i.mmsi, i.t0, i.r0, i.t1, i.r1, {_imo_sql("i.imo")} AS imo, {_text_sql("i.name")} AS name,
                       {_text_sql("i.callsign")} AS callsign, {_ship_type_sql("i.ship_type")} AS ship_type,
                       d.draught_m, l.length_m
                FROM ais_chunk_ids i LEFT JOIN draughts d ON d._cell = i.draught
                LEFT JOIN lengths l ON l._cell = i.length
            )
            SELECT mmsi, imo, name, callsign, ship_type, draught_m, max(length_m) AS length_m,
                   min(t0) AS t0, arg_min(r0, (t0, r0)) AS r0, max(t1) AS t1, arg_max(r1, (t1, r1)) AS r1
            FROM ids WHERE coalesce(imo, name, callsign, ship_type, CAST(draught_m AS VARCHAR), CAST(length_m AS VARCHAR)) IS NOT NULL
            GROUP BY mmsi, imo, name, callsign, ship_type, draught_m"""
    )
    con.execute(
        """INSERT INTO vessel_reports (mmsi, imo, name, callsign, ship_type, draught_m, length_m, observed_at,
                                       file_hash, source_file, source_row)
           SELECT mmsi, imo, name, callsign, ship_type, draught_m, length_m, t0, $1, $2, r0 FROM ais_chunk_spans
           UNION ALL
           SELECT mmsi, imo, name, callsign, ship_type, draught_m, length_m, t1, $1, $2, r1 FROM ais_chunk_spans WHERE t1 > t0""",
        [ctx.file_hash, ctx.file_name],
    )
    con.execute("DROP TABLE ais_chunk_spans")
    con.execute("DROP TABLE ais_chunk_ids")


POSITIONS = TabularKind(
    "ais",
    "positions",
    FIELDS,
    _select,
    after=_identities,
    stream=True,
    stage=STAGE,
    transform=_transform,
    row_hashes=False,  # repeats are dropped by key: `ais_clean`
)
