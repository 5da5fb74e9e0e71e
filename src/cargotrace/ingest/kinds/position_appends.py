"""A position CSV appended straight into `positions`, chunk by chunk, in the file's
transaction: what of each chunk stays out of `positions` is worked out before the chunk is
appended (`set_apart`, the kind's `after` step), so nothing is deleted afterwards.

The rules are those of `ais_clean` for a staged file (an NMEA log), applied in file order:

* a copy (equal in `ais_rules.DUPLICATE_KEY`, NULLs equal) of a position of another file
  in the case is dropped (`in_case`); so is a copy of an earlier row of the file;
* of the other rows, those of stations that are not vessels go to `ais_stations`.

A row of the file is compared with the earlier ones through a 64-bit hash of its key: the
hashes of the rows stored so far are held with each row's sheet and number (in NumPy, or
past `HASHES_IN_MEMORY` in a temp table, `KEYS`); a row whose hash an earlier row has is
a candidate, and is a copy only if one of those earlier rows (read back from `positions`
or `ais_stations` by their numbers, or from the chunk) has its key.

Why not append everything and delete the copies and stations at the end: DuckDB writes a
transaction's big appends to the database file as they come, and commits them as written
unless rows were deleted from them; then the commit appends every row again (3 M rows:
~4 s more). A stage (a temp table, moved into `positions` at the end) costs a copy of every
row too.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.ingest.kinds.ais_rules import (
    DUPLICATE_KEY,
    STATIONS_COLUMNS,
    is_station_sql,
    station_kind_sql,
)
from cargotrace.ingest.types import ChunkContext, sql_str

SET_APART = "ais_chunk_apart"  # `_row`s of the chunk kept out of `positions` (loader)
KEYS = "ais_file_keys"  # (h, sheet, _row) of each row of the file stored so far
DUPES = "ais_file_dupes"  # (_row, in_case): the file's copies
CHUNKS = "ais_file_chunks"  # a row per chunk set apart so far
_TABLES = (SET_APART, KEYS, DUPES, CHUNKS, "ais_chunk_candidates", "ais_chunk_dupes",
           "ais_chunk_maybe", "ais_chunk_earlier")  # fmt: skip


def begin(con: duckdb.DuckDBPyConnection) -> None:
    """The file's empty tables."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SET_APART} (_row BIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} (h UBIGINT, sheet VARCHAR, _row BIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {DUPES} (_row BIGINT, in_case BOOLEAN)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CHUNKS} (n INTEGER)")


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


# Rows named by a list of numbers (a filter DuckDB applies before it computes the
# SELECT's columns) rather than by a subquery (a join after it), up to this many
LISTED_ROWS = 10_000


def _rows_sql(rows: np.ndarray, table: str) -> str:
    """SQL condition: `_row` is one of `rows` (also in `table`'s `_row`, which holds them
    when they are too many to list)."""
    if len(rows) <= LISTED_ROWS:
        return f"_row IN ({', '.join(map(str, rows.tolist()))})" if len(rows) else "false"
    return f"_row IN (SELECT _row FROM {table})"


def set_apart(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """The chunk's kept rows (`normalized` without `chunk_bad`) that stay out of
    `positions`, into `SET_APART`: copies (counted in `DUPES`) and stations (stored in
    `ais_stations` here). Runs where the loader lets DuckDB read Arrow tables from local
    variables (`arrow_scan.local_scans`)."""
    key = ", ".join(DUPLICATE_KEY)
    same = " AND ".join(f"e.{c} IS NOT DISTINCT FROM c.{c}" for c in DUPLICATE_KEY)
    sheet = sql_str(ctx.source.sheet) if ctx.source.sheet else "CAST(NULL AS VARCHAR)"
    mine = f"file_hash = {sql_str(ctx.file_hash)}"
    # the kept rows: their key's hash (none without a time: never a copy) and whether the
    # cheap test of a station holds
    kept = con.execute(
        f"""SELECT _row, CASE WHEN timestamp IS NOT NULL THEN hash({key}) END AS h,
                   {is_station_sql("mmsi", "msg_type")} AS station
            FROM normalized WHERE _row NOT IN (SELECT _row FROM chunk_bad)"""
    ).to_arrow_table()
    timed = kept.filter(pc.is_valid(kept.column("h"))) if kept.column("h").null_count else kept
    rows = timed.column("_row").to_numpy()
    hashes = timed.column("h").to_numpy()
    con.execute("CREATE OR REPLACE TEMP TABLE ais_chunk_dupes (_row BIGINT, in_case BOOLEAN)")
    # copies of another file's position (within the chunk's span of times; none to look
    # for when the case holds no other position in it)
    span = con.execute("SELECT min(_timestamp), max(_timestamp) FROM src").fetchone()
    lo, hi = span if span else (None, None)
    others = f"timestamp BETWEEN $1 AND $2 AND NOT ({mine})"
    if lo is not None and _count(
        con, f"SELECT count(*) FROM (SELECT 1 FROM positions WHERE {others} LIMIT 1)", [lo, hi]
    ):
        con.execute(
            f"""INSERT INTO ais_chunk_dupes
                WITH c AS (
                    SELECT _row, {key} FROM normalized
                    WHERE timestamp IS NOT NULL AND _row NOT IN (SELECT _row FROM chunk_bad)
                ), e AS (SELECT DISTINCT {key} FROM positions WHERE {others})
                SELECT c._row, true FROM c SEMI JOIN e ON {same}""",
            [lo, hi],
        )
    # copies of an earlier row of the file: candidates by the hash (seen earlier in the
    # chunk, or stored from an earlier chunk), then exactly
    if not _count(con, f"SELECT count(*) FROM {CHUNKS}"):
        _SEEN[_key(con, ctx.file_hash)] = _Seen()  # the file's first chunk
    con.execute(f"INSERT INTO {CHUNKS} VALUES (1)")
    # sorted once: looked up, then held (the rows of equal hashes in any order: all of them
    # are read back, `_earlier_rows_sql`); not a stable sort, 2.5x slower on 650,000 hashes
    order = np.argsort(hashes)
    ordered = hashes[order]
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    stored = _stored_hashes(con, ordered, ctx.file_hash)
    # (looked up by a binary search in the few candidate hashes: `np.isin` sorts the
    # chunk's once they are more than a few dozen)
    candidate = _found_in(np.union1d(twice, stored), hashes)
    candidates = rows[candidate]
    if len(candidates):
        listed = pa.table({"_row": candidates, "h": hashes[candidate]})
        con.execute("CREATE OR REPLACE TEMP TABLE ais_chunk_candidates AS SELECT * FROM listed")
        del listed
        at = _earlier_rows_sql(con, stored, ctx.file_hash)
        con.execute(
            f"""INSERT INTO ais_chunk_dupes
                WITH c AS (
                    SELECT _row, {key} FROM normalized
                    WHERE {_rows_sql(candidates, "ais_chunk_candidates")}
                ), e AS (  -- the earlier rows with a candidate's hash: stored, or in the chunk
                    SELECT -1 AS _row, {key} FROM positions WHERE {mine} AND {at}
                    UNION ALL
                    SELECT -1 AS _row, {key} FROM ais_stations WHERE {mine} AND {at}
                    UNION ALL
                    SELECT _row, {key} FROM c
                )
                SELECT c._row, false FROM c
                WHERE c._row NOT IN (SELECT _row FROM ais_chunk_dupes)
                  AND EXISTS (SELECT 1 FROM e WHERE e._row < c._row AND {same})"""
        )
    dupes = con.execute("SELECT _row FROM ais_chunk_dupes").fetchnumpy()["_row"]
    # the chunk's stations that are not copies, stored in `ais_stations` (a cheap test
    # first: its few rows are named)
    maybe = kept.filter(kept.column("station")).column("_row").to_numpy()
    maybe = maybe[~np.isin(maybe, dupes)]
    if len(maybe):
        listed = pa.table({"_row": maybe})
        con.execute("CREATE OR REPLACE TEMP TABLE ais_chunk_maybe AS SELECT * FROM listed")
        del listed
        stations = con.execute(
            f"""INSERT INTO ais_stations (station_kind, {STATIONS_COLUMNS}, file_hash, source_file, sheet, source_row)
                SELECT station_kind, {STATIONS_COLUMNS}, {sql_str(ctx.file_hash)}, {sql_str(ctx.file_name)}, {sheet}, _row
                FROM (SELECT {station_kind_sql("mmsi", "msg_type")} AS station_kind, * FROM normalized
                      WHERE {_rows_sql(maybe, "ais_chunk_maybe")})
                WHERE station_kind IS NOT NULL
                RETURNING source_row"""
        ).fetchnumpy()["source_row"]
    else:
        stations = np.zeros(0, np.int64)
    apart = pa.table({"_row": np.concatenate([dupes, stations]).astype(np.int64)})  # noqa: F841
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SET_APART} AS SELECT * FROM apart")
    con.execute(f"INSERT INTO {DUPES} SELECT * FROM ais_chunk_dupes")
    # the chunk's stored rows, for the chunks after it (sorted by their hashes)
    rows = rows[order]
    if len(dupes):
        stays = ~np.isin(rows, dupes)
        ordered, rows = ordered[stays], rows[stays]
    _remember(con, ordered, rows, ctx)


# The hashes of the file's stored rows are held in NumPy (each chunk's sorted, with its
# rows: looked up by a binary search in each), while they are at most this many (256 MB);
# beyond, in `KEYS` alone (hash, sheet, row), where joins find them (~3x the time)
HASHES_IN_MEMORY = 16_000_000
Held = tuple[np.ndarray, np.ndarray, str | None]  # sorted hashes, their rows, the sheet
# A bit per value of a hash's top `FILTER_BITS` bits, set for the held hashes (16 MB, ~2 %
# of the bits per million hashes): a chunk's hashes whose bit is clear are in no held
# chunk, and only the few others are searched in each (searching all of them in every
# earlier chunk grew with the square of the file: ~1.2 CPU-s of 3 M rows)
FILTER_BITS = 27
_TOP = np.uint64(64 - FILTER_BITS)


class _Seen:
    """The hashes of a file's stored rows, held: each chunk's, sorted, and their filter."""

    def __init__(self) -> None:
        self.chunks: list[Held] = []
        self.bits = np.zeros(1 << (FILTER_BITS - 3), np.uint8)  # pages taken as bits are set

    def __len__(self) -> int:
        return sum(len(seen) for seen, _, _ in self.chunks)

    def maybe(self, ordered: np.ndarray) -> np.ndarray:
        """The hashes of `ordered` whose filter bit is set (all those held among them)."""
        at, bit = _filter_bits(ordered)
        found: np.ndarray = ordered[(self.bits[at] & bit) != 0]
        return found

    def add(self, chunk: Held) -> None:
        self.chunks.append(chunk)
        at, bit = _filter_bits(chunk[0])  # sorted hashes: each byte's bits together
        if len(at):
            starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
            self.bits[at[starts]] |= np.bitwise_or.reduceat(bit, starts)


def _filter_bits(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The byte of `_Seen.bits` of each hash, and its bit in it."""
    top = hashes >> _TOP
    return (top >> np.uint64(3)).astype(np.intp), np.left_shift(
        np.uint8(1), (top & np.uint64(7)).astype(np.uint8)
    )


# the stored rows' hashes by connection and file (they only find candidates: a stale entry,
# left by a failed ingest, names none that the exact check takes; a file's first chunk
# starts anew; two cases ingesting one file at once, in threads, keep apart)
_SEEN: dict[tuple[int, str], _Seen | None] = {}


def _key(con: duckdb.DuckDBPyConnection, file_hash: str) -> tuple[int, str]:
    return id(con), file_hash


def _held(con: duckdb.DuckDBPyConnection, file_hash: str) -> _Seen | None:
    """The file's held hashes (None: in `KEYS` alone)."""
    key = _key(con, file_hash)
    if key not in _SEEN:
        _SEEN[key] = _Seen()
    return _SEEN[key]


def _stored_hashes(
    con: duckdb.DuckDBPyConnection, ordered: np.ndarray, file_hash: str
) -> np.ndarray:
    """The hashes of `ordered` (the chunk's, sorted) that a stored row of the file has."""
    held = _held(con, file_hash)
    if held is not None:
        maybe = held.maybe(ordered)
        found = [maybe[_found_in(seen, maybe)] for seen, _, _ in held.chunks]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, np.uint64)
    chunk_hashes = pa.table({"h": pa.array(np.unique(ordered), pa.uint64())})  # noqa: F841
    return con.execute(  # replacement scan of `chunk_hashes` (the loader's local scans)
        f"SELECT DISTINCT k.h FROM {KEYS} k SEMI JOIN chunk_hashes c ON k.h = c.h"
    ).fetchnumpy()["h"]


def _found_in(seen: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mask of `values` found in the sorted array `seen`."""
    if not len(seen):
        return np.zeros(len(values), bool)
    at = np.searchsorted(seen, values).clip(0, len(seen) - 1)
    found: np.ndarray = seen[at] == values
    return found


_JOINED = """EXISTS (SELECT 1 FROM ais_chunk_earlier
                      WHERE at_row = source_row AND at_sheet IS NOT DISTINCT FROM sheet)"""


def _earlier_rows_sql(con: duckdb.DuckDBPyConnection, wanted: np.ndarray, file_hash: str) -> str:
    """SQL condition over `positions` or `ais_stations`: the file's stored row is one of
    those whose hash is in `wanted` (sorted): their sheets and row numbers listed (zone
    maps skip the rest), or, too many or no longer held, joined from a table."""
    held = _held(con, file_hash)
    if held is None:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE ais_chunk_earlier AS
                SELECT sheet AS at_sheet, _row AS at_row FROM {KEYS}
                WHERE h IN (SELECT h FROM ais_chunk_candidates)"""
        )
        return _JOINED
    by_sheet: dict[str | None, list[np.ndarray]] = {}
    for seen, rows, sheet in held.chunks:
        first = np.searchsorted(seen, wanted, side="left")
        last = np.searchsorted(seen, wanted, side="right")
        for lo, hi in zip(first[last > first].tolist(), last[last > first].tolist(), strict=True):
            by_sheet.setdefault(sheet, []).append(rows[lo:hi])
    found = {sheet: np.concatenate(parts) for sheet, parts in by_sheet.items()}
    if not found:
        return "false"
    if sum(map(len, found.values())) > LISTED_ROWS:
        sheets = [sheet for sheet, rows in found.items() for _ in rows]
        numbers = np.concatenate(list(found.values()))
        earlier = pa.table({"at_sheet": pa.array(sheets, pa.string()), "at_row": numbers})  # noqa: F841
        con.execute("CREATE OR REPLACE TEMP TABLE ais_chunk_earlier AS SELECT * FROM earlier")
        return _JOINED
    return (
        "("
        + " OR ".join(
            f"(sheet IS NOT DISTINCT FROM {sql_str(sheet) if sheet is not None else 'NULL'} "
            f"AND source_row IN ({', '.join(map(str, rows.tolist()))}))"
            for sheet, rows in found.items()
        )
        + ")"
    )


def _remember(
    con: duckdb.DuckDBPyConnection, ordered: np.ndarray, rows: np.ndarray, ctx: ChunkContext
) -> None:
    """The chunk's stored rows (their hashes sorted, `ordered`), for the chunks after it:
    held in NumPy, or in `KEYS` once the file's are more than `HASHES_IN_MEMORY` (then every
    one held so far goes there)."""
    chunk: Held = (ordered, rows, ctx.source.sheet)
    held = _held(con, ctx.file_hash)
    if held is not None:
        held.add(chunk)
        if len(held) <= HASHES_IN_MEMORY:
            return
        _SEEN[_key(con, ctx.file_hash)] = None  # from now on in `KEYS` alone
    for seen, seen_rows, sheet in held.chunks if held is not None else [chunk]:
        spilled = pa.table({"h": pa.array(seen, pa.uint64()), "_row": seen_rows})  # noqa: F841
        at = sql_str(sheet) if sheet is not None else "CAST(NULL AS VARCHAR)"
        con.execute(f"INSERT INTO {KEYS} SELECT h, {at}, _row FROM spilled")


def finish(con: duckdb.DuckDBPyConnection, file_hash: str) -> tuple[int, int, dict[str, int]]:
    """(copies within the file, copies of the case, the file's station rows by kind);
    drops the file's tables."""
    counts = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT in_case), count(*) FILTER (WHERE in_case) FROM {DUPES}"
    ).fetchone()
    stations = con.execute(
        "SELECT station_kind, count(*) FROM ais_stations WHERE file_hash = ? GROUP BY 1 ORDER BY 1",
        [file_hash],
    ).fetchall()
    for table in _TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    _SEEN.pop(_key(con, file_hash), None)
    assert counts is not None
    return int(counts[0]), int(counts[1]), {str(k): int(v) for k, v in stations}
