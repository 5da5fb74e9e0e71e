"""Identity reports of a position CSV (NOAA, DMA, the canonical layout with name columns).

Provider CSVs repeat the name, IMO and call sign on every row: each distinct identity of an
MMSI in the file becomes an identity report (`vessel_reports`) at the first and at the last
row that shows it (one report if they are the same), so `vessel_identities` knows its time
span. The draught (`Draft`) counts as part of what is reported, so each draught an identity
shows gets its first and last row too (a draught that returns later in the same file is
known at its first and last rows only). A `Length` column gives the reports' length (the
longest the identity shows: length is not part of what is compared). Rows without a
position (static messages in a provider CSV) are quarantined as positions but their
identity counts.

Two steps: each chunk adds its identities as written, with their first and last (time,
row), to a temp table of the file (`add_chunk`: one GROUP BY over the chunk, a few
thousand rows out of hundreds of thousands, run on a thread while the chunk is stored,
`group_ahead`, the MMSIs of its refused rows grouped again without them); the file's
finish merges the chunks' rows,
normalises each identity once and writes the reports (`finish`). So a file's reports do
not depend on how it was cut into chunks, and the normalising (regular expressions per
identity) runs once per file, not once per chunk.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.types import ChunkContext

TABLE = "ais_file_identities"  # the file's identities as written, per chunk
_COLUMNS = ("imo", "name", "callsign", "ship_type", "draught", "length")
_NOT_AVAILABLE_TYPES = ("", "0", "undefined", "unknown", "not available", "n/a", "none")


def text_sql(col: str) -> str:
    """Upper case, trimmed, AIS '@' padding removed; empty -> NULL."""
    return f"nullif(trim(rtrim(upper({col}), '@ ')), '')"


def imo_sql(col: str) -> str:
    """'IMO 8207721', '8207721.0' -> '8207721'; empty or all zeros (not available) -> NULL."""
    bare = f"regexp_replace(regexp_replace(upper(trim({col})), '^IMO\\s*', ''), '\\.0$', '')"
    return f"(CASE WHEN regexp_full_match({bare}, '0*') THEN NULL ELSE {bare} END)"


def ship_type_sql(col: str) -> str:
    absent = ", ".join(f"'{v}'" for v in _NOT_AVAILABLE_TYPES)
    return f"(CASE WHEN lower(trim({col})) IN ({absent}) THEN NULL ELSE regexp_replace(trim({col}), '\\.0$', '') END)"


def draught_sql(number: str) -> str:
    """Metres from the draught as a number (`sqlexpr.number` of the cell); 0 (not
    available) and anything beyond AIS's 25.5 m (plus a margin) -> NULL."""
    return f"(CASE WHEN {number} > 0 AND {number} <= 30 THEN {number} END)"


def length_sql(number: str) -> str:
    """Metres from a `Length` cell (NOAA, DMA) as a number (`sqlexpr.number` of the cell);
    0 (not available) and beyond 600 m -> NULL."""
    return f"(CASE WHEN {number} > 0 AND {number} <= 600 THEN {number} END)"


def time_row_key(con: duckdb.DuckDBPyConnection, rows: str = "src") -> tuple[str, str]:
    """SQL of the row of the first and of the last (time, row) of a group of `rows`
    (`_timestamp`, `_row`), each the min or max of one number: the time after the chunk's
    first in microseconds, shifted left past the rows, plus the row after the chunk's
    first. A BIGINT when the chunk's span of times and rows fits 62 bits (a day of rows
    needs 37 + 20), else a HUGEINT (2^40 > rows), which cost ~20 % more of the pass."""
    span = con.execute(
        f"SELECT epoch_us(min(_timestamp)), epoch_us(max(_timestamp)), min(_row), max(_row) FROM {rows}"
    ).fetchone()
    if span is None or None in span:
        return "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)"  # no time: no group has a row
    time0, time1, row0, row1 = (int(v) for v in span)
    row_bits = max(1, (row1 - row0).bit_length())
    if (time1 - time0).bit_length() + row_bits <= 62:
        key = f"((epoch_us(_timestamp) - {time0}) << {row_bits}) + (_row - {row0})"
        row = "({}(" + key + f") & {(1 << row_bits) - 1}) + {row0}"
    else:
        row = "CAST({}(epoch_us(_timestamp)::HUGEINT * 1099511627776 + _row) & 1099511627775 AS BIGINT)"
    return row.format("min"), row.format("max")


def begin(con: duckdb.DuckDBPyConnection) -> None:
    """The file's table of identities as written (empty)."""
    _AHEAD.clear()  # a chunk's left by an earlier file (e.g. a dry run) is never asked for
    _TAKEN.pop(id(con), None)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {TABLE} (
                mmsi BIGINT, imo VARCHAR, name VARCHAR, callsign VARCHAR, ship_type VARCHAR,
                draught VARCHAR, length VARCHAR,
                t0 TIMESTAMPTZ, r0 BIGINT, t1 TIMESTAMPTZ, r1 BIGINT)"""
    )


_GROUP = "_mmsi, imo, name, callsign, ship_type, draught, length"
_HAS_IDENTITY = "coalesce(imo, name, callsign, ship_type, draught, length) IS NOT NULL"
# Each chunk's identities are grouped while the chunk is stored (on a thread, a cursor of
# the case reading the chunk's Arrow columns): its GROUP BY of the text columns took ~8 %
# of the file's thread. Keyed by the chunk's context and its first and last row.
_GROUPING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cargotrace-ais-identities")
_AHEAD: dict[tuple[int, int, int], Future[pa.Table]] = {}
# ... and, taken by `add_chunk`, added to `TABLE` once done (at the next chunk or the
# file's finish): each with the condition on `_mmsi` of the groups worked out again
_TAKEN: dict[int, list[tuple[Future[pa.Table], str]]] = {}
AGAIN_MMSIS = 1_000  # the most MMSIs of refused rows whose groups are worked out again


def group_ahead(
    con: duckdb.DuckDBPyConnection,
    ctx: ChunkContext,
    fields: pa.Table,
    mmsi: pa.ChunkedArray,
    timestamp: pa.ChunkedArray,
) -> None:
    """Start grouping the chunk's identities (`fields`: its trimmed cells and `_row`; its
    typed MMSIs and times), every row's as if none were refused: `add_chunk` takes the
    groups and works out again those of the MMSIs of its refused rows."""
    if not set(_COLUMNS) & set(ctx.columns.fields) or not fields.num_rows:
        return
    rows = fields.column("_row")
    span = pc.min_max(rows).as_py()
    cells = {c: fields.column(c) for c in _COLUMNS}
    chunk = pa.table({"_mmsi": mmsi, **cells, "_timestamp": timestamp, "_row": rows})
    _AHEAD[(id(ctx), span["min"], span["max"])] = _GROUPING.submit(_groups, con.cursor(), chunk)


def _groups(cursor: duckdb.DuckDBPyConnection, chunk: pa.Table) -> pa.Table:
    with cursor:
        cursor.register("ais_chunk_cells", chunk)
        first, last = time_row_key(cursor, "ais_chunk_cells")
        return cursor.execute(
            f"""SELECT {_GROUP}, min(_timestamp), {first}, max(_timestamp), {last}
                FROM ais_chunk_cells WHERE {_HAS_IDENTITY} GROUP BY {_GROUP}"""
        ).to_arrow_table()


def add_chunk(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """The chunk's identities as written (`src`: typed `_mmsi`, `_timestamp`; the refused
    rows in `chunk_bad`: the SELECT's rules are not worked out again), each with its first
    and last (time, row) in the chunk, added to `TABLE`. The cells are grouped as written
    (the length too: typed per identity in `finish`, its regular expressions cost more
    per row than the rest of the pass). Grouped ahead (`group_ahead`), the groups of the
    MMSIs that have a refused row (NULL too) are worked out again here, without it."""
    _add_taken(con, waiting=1)
    if not set(_COLUMNS) & set(ctx.columns.fields):
        return
    refused = "_row IN (SELECT _row FROM chunk_bad WHERE _reason <> 'no_position')"  # static reports: identity, no place
    where = f"NOT {refused} AND {_HAS_IDENTITY}"
    span = con.execute("SELECT min(_row), max(_row) FROM src").fetchone()
    pending = _AHEAD.pop((id(ctx), *span), None) if span else None
    mmsis = []
    if pending is not None:
        mmsis = [
            m for (m,) in con.execute(f"SELECT DISTINCT _mmsi FROM src WHERE {refused}").fetchall()
        ]
    if pending is not None and len(mmsis) <= AGAIN_MMSIS:  # else all grouped again, here
        listed = [str(int(m)) for m in mmsis if m is not None]
        again = " OR ".join(
            ([f"_mmsi IN ({', '.join(listed)})"] if listed else [])
            + (["_mmsi IS NULL"] if None in mmsis else [])
        )
        _TAKEN.setdefault(id(con), []).append((pending, again))
        if not again:
            return
        where += f" AND ({again})"
    first, last = time_row_key(con)
    con.execute(
        f"""INSERT INTO {TABLE}
           SELECT {_GROUP}, min(_timestamp), {first}, max(_timestamp), {last}
           FROM src WHERE {where} GROUP BY {_GROUP}"""
    )


def _add_taken(con: duckdb.DuckDBPyConnection, waiting: int) -> None:
    """Add the groups `add_chunk` took to `TABLE`: those done, and the oldest ones until
    at most `waiting` are left (each holds its chunk's text columns)."""
    taken = _TAKEN.get(id(con), [])
    while taken and (len(taken) > waiting or taken[0][0].done()):
        pending, again = taken.pop(0)
        con.register("ais_chunk_identities", pending.result())
        kept = f" WHERE NOT coalesce({again}, false)" if again else ""
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM ais_chunk_identities{kept}")
        con.unregister("ais_chunk_identities")


def finish(con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str) -> int:
    """The file's identity reports into `vessel_reports` (in the file's transaction): its
    identities normalised once each, merged over the chunks; returns the reports written.
    Drops `TABLE`."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [TABLE]
    ).fetchone()
    if not exists or not exists[0]:
        _TAKEN.pop(id(con), None)
        return 0
    _add_taken(con, waiting=0)
    # normalised once per identity as written into a table: the two SELECTs of the reports
    # below read it (as a CTE, it ran twice). The draught and length cells are read as
    # numbers once per distinct cell (a few dozen in ten thousand identities: parsing each
    # identity's cost ~60 % of this pass), then ranged
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_file_spans AS
            WITH draughts AS (
                SELECT _cell, {draught_sql("_n")} AS draught_m FROM (
                    SELECT _cell, {sqlexpr.number("_cell")} AS _n
                    FROM (SELECT DISTINCT draught AS _cell FROM {TABLE} WHERE draught IS NOT NULL))
            ), lengths AS (
                SELECT _cell, {length_sql("_n")} AS length_m FROM (
                    SELECT _cell, {sqlexpr.number("_cell")} AS _n
                    FROM (SELECT DISTINCT length AS _cell FROM {TABLE} WHERE length IS NOT NULL))
            ), ids AS (  -- normalised
                SELECT i.mmsi, i.t0, i.r0, i.t1, i.r1, {imo_sql("i.imo")} AS imo, {text_sql("i.name")} AS name,
                       {text_sql("i.callsign")} AS callsign, {ship_type_sql("i.ship_type")} AS ship_type,
                       d.draught_m, l.length_m
                FROM {TABLE} i LEFT JOIN draughts d ON d._cell = i.draught
                LEFT JOIN lengths l ON l._cell = i.length
            )
            SELECT mmsi, imo, name, callsign, ship_type, draught_m, max(length_m) AS length_m,
                   min(t0) AS t0, arg_min(r0, (t0, r0)) AS r0, max(t1) AS t1, arg_max(r1, (t1, r1)) AS r1
            FROM ids WHERE coalesce(imo, name, callsign, ship_type, CAST(draught_m AS VARCHAR), CAST(length_m AS VARCHAR)) IS NOT NULL
            GROUP BY mmsi, imo, name, callsign, ship_type, draught_m"""
    )
    written = con.execute(
        """INSERT INTO vessel_reports (mmsi, imo, name, callsign, ship_type, draught_m, length_m, observed_at,
                                       file_hash, source_file, source_row)
           SELECT mmsi, imo, name, callsign, ship_type, draught_m, length_m, t0, $1, $2, r0 FROM ais_file_spans
           UNION ALL
           SELECT mmsi, imo, name, callsign, ship_type, draught_m, length_m, t1, $1, $2, r1 FROM ais_file_spans WHERE t1 > t0""",
        [file_hash, file_name],
    ).fetchone()
    con.execute("DROP TABLE ais_file_spans")
    con.execute(f"DROP TABLE {TABLE}")
    return int(written[0]) if written else 0
