"""AIS position CSVs: the canonical layout, NOAA MarineCadastre and the Danish Maritime
Authority layout, recognised by their headers (contract §2 "ais").

Rows without a time or a possible position (lat 91 / lon 181 "not available", lat -101.5,
lon 205, years 1960 or 9999) are quarantined by the rules of `ais_rules`, shared with the
NMEA path. Other not-available values become NULL and the row is kept: sog outside 0-102.2 (102.3), cog outside
0-359.9 (360), heading outside 0-359 (511), navigation status 15 or unknown text; in the
identity columns, IMO 0, ship type 0 or "undefined", empty names (AIS '@' padding removed).
Each chunk is appended straight into `positions`, without its copies and its stations
(`position_appends`: worked out before the append); identity reports
(`position_identities`) and identity checks are made once the whole file is in
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
from cargotrace.ingest.kinds import ais_rules, position_appends, position_identities
from cargotrace.ingest.kinds.ais_rules import mmsi_invalid_sql
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
    typed["_flags"] = _mmsi_flags(con, typed["_mmsi"])
    return typed


def _typed_and_grouping(
    con: duckdb.DuckDBPyConnection, ctx: ChunkContext, table: pa.Table
) -> dict[str, pa.ChunkedArray]:
    """`_transform`, and the chunk's identities grouped while it is stored (on a thread:
    `position_identities.group_ahead`)."""
    typed = _transform(con, ctx, table)
    position_identities.group_ahead(con, ctx, table, typed["_mmsi"], typed["_timestamp"])
    return typed


def _mmsi_flags(con: duckdb.DuckDBPyConnection, mmsi: pa.ChunkedArray) -> pa.ChunkedArray:
    """`mmsi_invalid` for the rows whose MMSI cannot be a ship's (`ais_rules`), else NULL:
    the rule worked out once per distinct MMSI of the chunk (a few thousand of hundreds of
    thousands of rows), the rows flagged as they are appended to `positions`."""
    chunk_mmsis = pa.table({"mmsi": pc.unique(mmsi).drop_null()})  # noqa: F841 - replacement scan
    invalid = (
        con.execute(f"SELECT mmsi FROM chunk_mmsis WHERE {mmsi_invalid_sql('mmsi')}")
        .to_arrow_table()
        .column(0)
    )
    if not len(invalid):
        return pa.chunked_array([pa.nulls(len(mmsi), pa.string())])
    flagged = pc.is_in(mmsi, value_set=invalid.combine_chunks())
    return pc.if_else(flagged, pa.scalar("mmsi_invalid"), pa.scalar(None, pa.string()))


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
               _flags AS flags,  -- `_mmsi_flags`
               name, imo, callsign, ship_type, draught, length,
               _row, {reason} AS _reason, {column} AS _column
        FROM src
    """


def _after(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Once the chunk's refused rows are known: its identities (reported at the file's
    finish) and its rows that stay out of `positions` (copies, stations)."""
    position_identities.add_chunk(con, ctx)
    position_appends.set_apart(con, ctx)


POSITIONS = TabularKind(
    "ais",
    "positions",
    FIELDS,
    _select,
    after=_after,
    # appended straight into `positions`, chunk by chunk, in the file's transaction
    stream=True,
    set_apart=position_appends.SET_APART,
    transform=_typed_and_grouping,
    row_hashes=False,  # repeats are dropped by key: `ais_clean`
)
