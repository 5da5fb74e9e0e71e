"""Cleaning of AIS positions and vessel identity reports, run once per file at the end of
its ingest, inside the file's transaction, as set-based SQL over the file's rows. An NMEA
log's positions wait in a stage for the passes below; a position CSV's are appended as
they are read, its copies and stations set apart chunk by chunk by the same rules
(`position_appends`), and only counted here.

Two passes, in this order:

1. **Duplicates** (`drop_duplicate_positions`). The same message heard by several
   receivers, or a file that repeats part of another, gives positions equal in
   (mmsi, timestamp, msg_type, lat, lon, sog, cog, heading); NULLs compare equal. Of the
   file's positions, those equal to a position of another file already in the case are
   dropped, and so is every copy after the first (in file order) within the file. Positions
   without a timestamp are never dropped (without a time, a repeat cannot be told from a
   new report). Dropped rows count as `rows_duplicate` in the ledger, so rows read = kept +
   quarantined + duplicates still holds.
2. **Identity reports** (`check_identity_reports`). Rows of `vessel_reports` from the file
   without a flag get the flag their MMSI's MID implies (ship MMSIs only; `flag_source =
   'mid'`; a given flag is `'reported'`), and `flags` lists `imo_check_digit` (an IMO
   number that fails its check digit, or is not 7 digits, or is all zeros) and
   `mmsi_invalid` (reference/mid.py). Flagged rows are kept. An NMEA log's reports are
   checked as they are stored (`checked_reports_sql`, counted by `reports_checked`), not
   updated here.

Between 1 and 2, stations that are not vessels (base stations, aids to navigation, SAR
aircraft) move to `ais_stations`, and the file's positions reach `positions` in one append
(no sort), those whose MMSI cannot be a ship's with the flag `mmsi_invalid` (`ais_rules`).

Impossible speeds are not worked out here: a step no ship can sail is a property of the
track, and the track is sorted by vessel and time in `analyze` anyway. Its one rule
(`maritime/track.jump_sql`) gives the table `impossible_fixes` (maritime/interference.py),
which the stages and exports that leave such fixes out read; so a file's ingest never
changes another file's rows, and the ingest is one pass over the file plus an append.

Rows without a time or a possible position never got here: the rules of `ais_rules`
quarantined them before they were stored.

Not-available values (lat 91, lon 181, sog 102.3, cog 360, heading 511, IMO 0, empty
text) are already NULL here: the NMEA decoder and the position CSV SELECT null them.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.case.settings_scope import duckdb_settings
from cargotrace.case.store import quote_ident
from cargotrace.ingest.kinds import position_appends, position_identities
from cargotrace.ingest.kinds.ais_rules import (
    DUPLICATE_KEY,
    STATIONS_COLUMNS,
    is_station_sql,
    mmsi_invalid_sql,
    refused_by_reason,
    station_kind_sql,
)
from cargotrace.ingest.outcome import kept_as
from cargotrace.ingest.readers.arrow_scan import local_scans
from cargotrace.ingest.types import IngestResult, Stage, sql_str
from cargotrace.reference.mid import WITHOUT_MID, mmsi_kind_sql, mmsi_mid_sql

KEY = DUPLICATE_KEY


@dataclass
class CleanStats:
    duplicates_in_file: int = 0
    duplicates_of_case: int = 0
    flags_from_mid: int = 0
    imo_invalid: int = 0
    mmsi_invalid: int = 0  # identity reports
    positions_mmsi_invalid: int = 0  # positions of the file whose MMSI cannot be a ship's


def imo_ok_sql(col: str) -> str:
    """SQL twin of `reference.checkdigits.imo_check_ok` (which accepts 0000000; this does not)."""
    weighted = " + ".join(f"CAST(substr({col}, {i + 1}, 1) AS INTEGER) * {7 - i}" for i in range(6))
    return (
        f"(CASE WHEN regexp_full_match({col}, '[0-9]{{7}}') AND {col} <> '0000000' "
        f"THEN ({weighted}) % 10 = CAST(substr({col}, 7, 1) AS INTEGER) ELSE false END)"
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


STAGE = "ais_stage"  # the file's positions until `finish_positions_file` moves them in
_STAGE_PROVENANCE = ("file_hash", "source_file")  # constant per file: NULL in the stage


def begin_positions_file(con: duckdb.DuckDBPyConnection) -> None:
    """An empty stage for one file's positions (a temp table shaped like `positions`), and
    an empty table of its identities as written (`position_identities`: position CSVs)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM positions LIMIT 0")
    position_identities.begin(con)
    position_appends.begin(con)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {REPORTS_CHECKED}
            (flags_from_mid BIGINT, imo_invalid BIGINT, mmsi_invalid BIGINT)"""
    )


# Hashes sorted at a time (64 MB): a 2 GB NMEA log stages 27 M rows, whose hashes sorted at
# once (with their copies) took the ingest's peak from 1.3 GB to 2.3 GB
HASHES_PER_PASS = 8_000_000
# (Tried, Dec 2026, not taken: a big stage's copies found by `_sorted_copies` in shares of
# at most 4 M rows, the key hash modulo 7, instead of DuckDB's window over the rows whose
# hash repeats. On the 2 GB log, the two side by side at load 9: the passes peaked at
# ~900 MiB against the window's 1,033, but took 472 s against 226 (nine scans of the stage
# per share), and the ingest's peak moved to the stations and the append, 1,042-1,100 MiB.)
# A stage of at most this many rows with a time has its copies found in NumPy
# (`_sorted_copies`: each row's id, line and key hash, then one key column at a time, ~50
# bytes a row at the most); a bigger one by its repeated hashes (`_repeated_hashes`) and
# DuckDB's exact pass over the rows that have them
LISTED_STAGE_ROWS = 4_000_000
# rows of the exact pass named by their row ids in the statement (at most this many; else
# handed over as an Arrow table)
LISTED_ROWS = 10_000


def _sorted_copies(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    """The stage rows with a time that are later copies of an earlier row (in file order:
    line, then row id), found in NumPy: the rows sorted by the hash of their key (then by
    line and id), each compared with the one before, one key column at a time (NULLs
    equal, as `IS NOT DISTINCT FROM`). Returns the copies' row ids, and the row ids of the
    hashes that rows of different keys share (left to DuckDB's exact pass). DuckDB's window
    over the rows whose hash repeats cost two to three times this."""
    # each column is fetched on its own: the scans must give the rows in one order
    with duckdb_settings(con, preserve_insertion_order=True):
        return _sorted_copies_fetched(con)


def _sorted_copies_fetched(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    timed = f"FROM {STAGE} WHERE timestamp IS NOT NULL"
    got = con.execute(f"SELECT rowid AS rid, source_row, {_key_hash()} AS h {timed}").fetchnumpy()
    ids = np.asarray(got["rid"], np.int64)
    hashes = np.asarray(got["h"], np.uint64)
    order = np.lexsort((ids, np.asarray(got["source_row"], np.int64), hashes))
    del got
    hashes, ids = hashes[order], ids[order]
    repeats = hashes[1:] == hashes[:-1]  # row k + 1 has the hash of row k (sorted)
    if not repeats.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    equal = repeats.copy()
    for column in KEY:
        values = con.execute(f"SELECT {quote_ident(column)} AS v {timed}").to_arrow_table()
        equal &= _equal_to_previous(values.column("v"), order)
        del values
    odd = np.unique(hashes[1:][repeats & ~equal])  # hashes of rows of different keys
    later = np.flatnonzero(repeats) + 1
    if not len(odd):
        return ids[later], np.zeros(0, np.int64)
    shared = np.isin(hashes, odd)  # every row of those hashes goes to the exact pass
    return ids[later[~shared[later]]], np.sort(ids[shared])


def _equal_to_previous(column: pa.ChunkedArray, order: np.ndarray) -> np.ndarray:
    """Whether each value of `column` taken in `order` IS NOT DISTINCT FROM the one before
    (NULLs equal, NaNs equal): one less than the rows."""
    array = column.combine_chunks()
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.int64())
    values: np.ndarray = array.fill_null(0).to_numpy(zero_copy_only=False)[order]
    equal: np.ndarray = values[1:] == values[:-1]
    if values.dtype.kind == "f":
        equal |= np.isnan(values[1:]) & np.isnan(values[:-1])
    if array.null_count:
        valid = array.is_valid().to_numpy(zero_copy_only=False)[order]
        equal = (equal & valid[1:] & valid[:-1]) | (~valid[1:] & ~valid[:-1])
    return equal


def _key_hash() -> str:
    """The hash of a row's key (equal keys, NULLs included, hash alike)."""
    return f"hash({', '.join(KEY)})"


def _repeated_hashes(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The hashes of the key that more than one stage row with a time has (`h`), found by
    sorting the hashes in NumPy (DuckDB's GROUP BY of millions of hashes beside the stage
    spilled to disk under the case's memory limit), `HASHES_PER_PASS` at most at a time
    (equal hashes fall in the same pass: hash modulo the passes)."""
    rows = _count(con, f"SELECT count(*) FROM {STAGE} WHERE timestamp IS NOT NULL")
    passes = max(1, -(-rows // HASHES_PER_PASS))
    found = []
    with _share_at_most(con, HASH_PASS_MEMORY_LIMIT):  # the hashes are in NumPy meanwhile
        for part in range(passes):
            share = f" AND {_key_hash()} % {passes} = {part}" if passes > 1 else ""
            hashes = con.execute(
                f"SELECT {_key_hash()} AS h FROM {STAGE} WHERE timestamp IS NOT NULL{share}"
            ).fetchnumpy()["h"]
            hashes.sort()  # in place
            found.append(np.unique(hashes[1:][hashes[1:] == hashes[:-1]]))
            del hashes
    return pa.table({"h": pa.array(np.concatenate(found), pa.uint64())})


# DuckDB's share of the memory while the passes over a stage of more than `HASHES_PER_PASS`
# rows fetch its hashes (when the share is larger): a pass only scans the stage, and its
# pool held cached pages of the spilled stage (~490 MB under the NMEA log's 512 MB) while
# NumPy's hashes and their sorted copies took ~300 MB more: the 2 GB log's peak (1,089 and
# 1,098 MiB), in the passes (issue 16)
HASH_PASS_MEMORY_LIMIT = "192MB"
_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}  # fmt: skip


def _size_bytes(text: str) -> float:
    """A DuckDB memory size ('488.2 MiB', '192MB') in bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", text)
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _share_at_most(con: duckdb.DuckDBPyConnection, limit: str) -> AbstractContextManager[None]:
    """DuckDB's memory limit lowered to `limit` for the block, when it is larger."""
    current = con.execute("SELECT current_setting('memory_limit')").fetchone()
    if current is None or _size_bytes(str(current[0])) <= _size_bytes(limit):
        return nullcontext()
    return duckdb_settings(con, memory_limit=limit)


def _stored_span(con: duckdb.DuckDBPyConnection) -> tuple[object, object] | None:
    """The stage's time span, when the case holds positions in it (else None: no copy of
    another file's position to look for)."""
    span = con.execute(f"SELECT min(timestamp), max(timestamp) FROM {STAGE}").fetchone()
    lo, hi = span if span else (None, None)
    stored = lo is not None and _count(
        con,
        "SELECT count(*) FROM (SELECT 1 FROM positions WHERE timestamp BETWEEN ? AND ? LIMIT 1)",
        [lo, hi],
    )
    return (lo, hi) if stored else None


def _marked(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stage is small enough for the passes with marks (`_Marks`): its rows in
    NumPy, its copies sorted there (`_sorted_copies`)."""
    rows = _count(con, f"SELECT count(*) FROM {STAGE}")
    return rows <= min(LISTED_STAGE_ROWS, HASHES_PER_PASS)


def _stage_dupes(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """`ais_dupes`: stage rows that are copies (of a stored position, or of an earlier row
    of the file); returns (within the file, of the case)."""
    key = ", ".join(KEY)
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM m.{c}" for c in KEY)
    # copies of another file's position (the whole case, within the file's time span; none
    # to look for when the case holds no position in that span), then copies within the
    # file: only keys seen twice are sorted
    con.execute("CREATE OR REPLACE TEMP TABLE ais_dupes (rid BIGINT, in_case BOOLEAN)")
    span = _stored_span(con)
    stored = span is not None
    if span is not None:
        con.execute(
            f"""INSERT INTO ais_dupes
                WITH mine AS (SELECT rowid AS rid, {key} FROM {STAGE} WHERE timestamp IS NOT NULL),
                theirs AS (
                    SELECT DISTINCT {key} FROM positions WHERE timestamp BETWEEN $1 AND $2
                )
                SELECT m.rid, true AS in_case FROM mine m SEMI JOIN theirs t ON {same}""",
            list(span),
        )
    # copies within the file: sorted in NumPy, or (a big stage) candidates first by a hash
    # of the key (the hashes seen twice); then exactly, in DuckDB, those left
    timed = _count(con, f"SELECT count(*) FROM {STAGE} WHERE timestamp IS NOT NULL")
    if timed <= min(LISTED_STAGE_ROWS, HASHES_PER_PASS):
        copies, unsure = _sorted_copies(con)
        ais_copies = pa.table({"rid": copies})  # noqa: F841 - replacement scan
        with local_scans(con):
            con.execute(
                "INSERT INTO ais_dupes SELECT rid, false FROM ais_copies"
                + (" WHERE rid NOT IN (SELECT rid FROM ais_dupes)" if stored else "")
            )
        del ais_copies
        ais_unsure = pa.table({"rid": unsure})  # noqa: F841 - replacement scan
        candidates = (
            f"rowid IN ({', '.join(map(str, unsure.tolist()))})"
            if len(unsure) <= LISTED_ROWS
            else "rowid IN (SELECT rid FROM ais_unsure)"
        )
        exact = len(unsure) > 0
    else:
        repeated = _repeated_hashes(con)  # noqa: F841 - replacement scan
        candidates = f"timestamp IS NOT NULL AND {_key_hash()} IN (SELECT h FROM repeated)"
        exact = len(repeated) > 0
    if exact:
        with local_scans(con):
            con.execute(
                f"""INSERT INTO ais_dupes
                    SELECT rid, false FROM (
                        SELECT rowid AS rid, row_number() OVER (PARTITION BY {key} ORDER BY source_row, rowid) AS copy
                        FROM {STAGE} WHERE {candidates}
                    ) WHERE copy > 1 AND rid NOT IN (SELECT rid FROM ais_dupes)"""
            )
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE NOT in_case), count(*) FILTER (WHERE in_case) FROM ais_dupes"
    ).fetchone()
    assert counts is not None
    return int(counts[0]), int(counts[1])


def _stage_stations(
    con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str
) -> dict[str, int]:
    """Copy the stage's rows of stations that are not vessels (ais_rules) to `ais_stations`
    and add them to `ais_skip` (with the duplicates: the stage rows that do not reach
    `positions`); returns the rows copied by station kind."""
    kind = station_kind_sql("mmsi", "msg_type")
    con.execute(  # the cheap test first: its few rows are named
        f"""CREATE OR REPLACE TEMP TABLE ais_station_rows AS
            SELECT rid, station_kind, rid IN (SELECT rid FROM ais_dupes) AS dupe FROM (
                SELECT rowid AS rid, {kind} AS station_kind FROM {STAGE}
                WHERE {is_station_sql("mmsi", "msg_type")})
            WHERE station_kind IS NOT NULL"""
    )
    counts = dict(
        con.execute(
            "SELECT station_kind, count(*) FROM ais_station_rows WHERE NOT dupe GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    if counts:
        columns = ", ".join(f"s.{c.strip()}" for c in STATIONS_COLUMNS.split(","))
        con.execute(
            f"""INSERT INTO ais_stations (station_kind, {STATIONS_COLUMNS}, file_hash, source_file, sheet, source_row)
                SELECT a.station_kind, {columns}, {sql_str(file_hash)}, {sql_str(file_name)}, s.sheet, s.source_row
                FROM {STAGE} s JOIN ais_station_rows a ON s.rowid = a.rid WHERE NOT a.dupe"""
        )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ais_skip AS
           SELECT rid FROM ais_dupes UNION ALL SELECT rid FROM ais_station_rows WHERE NOT dupe"""
    )
    con.execute("DROP TABLE ais_station_rows")
    return {str(k): int(v) for k, v in counts.items()}


def _stage_select(
    con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str, invalid: str | None, prefix: str
) -> tuple[list[str], str]:
    """The stage's columns and the SELECT list that appends them to `positions`: the file's
    provenance, and `mmsi_invalid` in `flags` where `invalid` (SQL) holds (no flags if None);
    `prefix` qualifies the stage's columns (e.g. ``s.``)."""
    columns = [r[0] for r in con.execute(f"DESCRIBE {STAGE}").fetchall()]
    values = {
        "file_hash": sql_str(file_hash),
        "source_file": sql_str(file_name),
        "flags": f"CASE WHEN {invalid} THEN 'mmsi_invalid' END" if invalid else "NULL",
    }
    return columns, ", ".join(values.get(c, prefix + quote_ident(c)) for c in columns)


def _move_stage(con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str) -> tuple[int, int]:
    """The file's positions, without the duplicates and the stations, into `positions` in
    one append (no sort: rows carry their file and row). The file's positions whose MMSI
    cannot be a ship's get `mmsi_invalid` (ais_rules), worked out once per MMSI of the file,
    not per row. Returns (rows appended, positions of the file flagged mmsi_invalid)."""
    kept = (
        ""
        if not _count(con, "SELECT count(*) FROM ais_skip")
        else "WHERE rowid NOT IN (SELECT rid FROM ais_skip)"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_bad_mmsi AS
            SELECT coalesce(mmsi, -1) AS mmsi  -- no MMSI is invalid too, as -1 is
            FROM (SELECT DISTINCT mmsi FROM {STAGE} {kept}) WHERE {mmsi_invalid_sql("mmsi")}"""
    )
    bad_mmsi = _count(con, "SELECT count(*) FROM ais_bad_mmsi") > 0
    invalid = "coalesce(mmsi, -1) IN (SELECT mmsi FROM ais_bad_mmsi)"
    columns, select = _stage_select(con, file_hash, file_name, invalid if bad_mmsi else None, "")
    # rows carry their number: insertion order is free. One thread: the append is the
    # ingest's peak of memory (a second thread's row groups beside the stage took the 3 M-row
    # NOAA benchmark's peak from ~1.0 to ~1.15 GB) and costs no more CPU on one
    with duckdb_settings(con, preserve_insertion_order=False, threads=1):
        appended = _count(
            con,
            f"INSERT INTO positions ({', '.join(map(quote_ident, columns))}) "
            f"SELECT {select} FROM {STAGE} {kept}",
        )
        flagged = (
            _count(
                con, f"SELECT count(*) FROM {STAGE} {kept} {'AND' if kept else 'WHERE'} {invalid}"
            )
            if bad_mmsi
            else 0
        )
    for table in (STAGE, "ais_dupes", "ais_skip", "ais_bad_mmsi"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return appended, flagged


class _Marks:
    """What the passes find of each stage row, in the stage's scan order (a stage of at
    most `LISTED_STAGE_ROWS` rows): its copies, then its stations. DuckDB pairs them with
    the stage's rows by POSITIONAL JOIN, a scan of both (`table`, checked once against the
    row ids): the anti-joins on row ids it replaces cost ~60 ms per 370,000 rows each, and
    the passes made four of them."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.rid = np.asarray(
            con.execute(f"SELECT rowid AS rid FROM {STAGE}").fetchnumpy()["rid"], np.int64
        )
        self.dupe = np.zeros(len(self.rid), bool)
        self.in_case = np.zeros(len(self.rid), bool)
        self.station = np.zeros(len(self.rid), bool)
        steps = np.diff(self.rid)
        # row ids one after the other (a stage only appended to): a row's place is its id
        # less the first; else found by a search
        self._first = int(self.rid[0]) if len(self.rid) and bool(np.all(steps == 1)) else None
        self._order = None if bool(np.all(steps > 0)) else np.argsort(self.rid)
        del steps
        ais_marks = self.table()  # noqa: F841 - replacement scan
        with local_scans(con):
            apart = _count(
                con,
                f"""SELECT count(*) FROM {STAGE} s POSITIONAL JOIN ais_marks m
                    WHERE s.rowid IS DISTINCT FROM m._rid""",
            )
        if apart:
            raise AssertionError(f"{apart} stage rows are not where their marks are")

    def at(self, rids: np.ndarray) -> np.ndarray:
        """The places (scan order) of the stage rows with these row ids."""
        if self._first is not None:
            return rids - self._first
        if self._order is None:
            return np.searchsorted(self.rid, rids)
        return self._order[np.searchsorted(self.rid[self._order], rids)]

    def table(self) -> pa.Table:
        """`_rid`, `_keep` (to `positions`: neither a copy nor a station), `_station`."""
        return pa.table(
            {"_rid": self.rid, "_keep": ~(self.dupe | self.station), "_station": self.station}
        )


def _marked_dupes(
    con: duckdb.DuckDBPyConnection, marks: _Marks, span: tuple[object, object] | None
) -> tuple[int, int]:
    """`_stage_dupes` for a stage with marks: the copies marked, not listed in a table;
    `span` the file's time span when the case holds positions in it. Returns (within the
    file, of the case)."""
    key = ", ".join(KEY)
    if span is not None:
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM m.{c}" for c in KEY)
        found = con.execute(
            f"""WITH mine AS (SELECT rowid AS rid, {key} FROM {STAGE} WHERE timestamp IS NOT NULL),
                theirs AS (
                    SELECT DISTINCT {key} FROM positions WHERE timestamp BETWEEN $1 AND $2
                )
                SELECT m.rid FROM mine m SEMI JOIN theirs t ON {same}""",
            list(span),
        ).fetchnumpy()["rid"]
        marks.in_case[marks.at(np.asarray(found, np.int64))] = True
    copies, unsure = _sorted_copies(con)
    marks.dupe[marks.at(copies)] = True
    if len(unsure):
        ais_unsure = pa.table({"rid": unsure})  # noqa: F841 - replacement scan
        candidates = (
            f"rowid IN ({', '.join(map(str, unsure.tolist()))})"
            if len(unsure) <= LISTED_ROWS
            else "rowid IN (SELECT rid FROM ais_unsure)"
        )
        with local_scans(con):
            exact = con.execute(
                f"""SELECT rid FROM (
                        SELECT rowid AS rid, row_number() OVER (PARTITION BY {key} ORDER BY source_row, rowid) AS copy
                        FROM {STAGE} WHERE {candidates}
                    ) WHERE copy > 1"""
            ).fetchnumpy()["rid"]
        marks.dupe[marks.at(np.asarray(exact, np.int64))] = True
    in_file = int(np.count_nonzero(marks.dupe & ~marks.in_case))
    marks.dupe |= marks.in_case
    return in_file, int(np.count_nonzero(marks.in_case))


def _marked_stations(
    con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str, marks: _Marks
) -> dict[str, int]:
    """`_stage_stations` for a stage with marks: the stations among the rows that are not
    copies, marked and copied to `ais_stations`; returns the rows copied by station kind."""
    kind = station_kind_sql("s.mmsi", "s.msg_type")
    ais_marks = marks.table()
    with local_scans(con):  # the cheap test first: its few rows are named
        found = con.execute(
            f"""SELECT rid, station_kind FROM (
                    SELECT s.rowid AS rid, {kind} AS station_kind
                    FROM {STAGE} s POSITIONAL JOIN ais_marks m
                    WHERE m._keep AND {is_station_sql("s.mmsi", "s.msg_type")})
                WHERE station_kind IS NOT NULL"""
        ).to_arrow_table()
    if not found.num_rows:
        return {}
    marks.station[marks.at(found.column("rid").to_numpy())] = True
    counts = pc.value_counts(found.column("station_kind").combine_chunks()).to_pylist()
    ais_marks = marks.table()  # noqa: F841 - replacement scan
    columns = ", ".join(f"s.{c.strip()}" for c in STATIONS_COLUMNS.split(","))
    with local_scans(con):
        con.execute(
            f"""INSERT INTO ais_stations (station_kind, {STATIONS_COLUMNS}, file_hash, source_file, sheet, source_row)
                SELECT {kind}, {columns}, {sql_str(file_hash)}, {sql_str(file_name)}, s.sheet, s.source_row
                FROM {STAGE} s POSITIONAL JOIN ais_marks m WHERE m._station"""
        )
    return {str(c["values"]): int(c["counts"]) for c in sorted(counts, key=lambda c: c["values"])}


def _marked_move(
    con: duckdb.DuckDBPyConnection, file_hash: str, file_name: str, marks: _Marks
) -> tuple[int, int]:
    """`_move_stage` for a stage with marks: the rows marked to keep into `positions` in
    one append, the MMSIs that cannot be a ship's worked out once per MMSI (with their
    rows, counted). Returns (rows appended, positions of the file flagged mmsi_invalid)."""
    ais_marks = marks.table()  # noqa: F841 - replacement scan
    with local_scans(con):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE ais_bad_mmsi AS
                SELECT coalesce(mmsi, -1) AS mmsi, rows  -- no MMSI is invalid too, as -1 is
                FROM (SELECT s.mmsi, count(*) AS rows FROM {STAGE} s POSITIONAL JOIN ais_marks m
                      WHERE m._keep GROUP BY s.mmsi)
                WHERE {mmsi_invalid_sql("mmsi")}"""
        )
    flagged = _count(con, "SELECT sum(rows) FROM ais_bad_mmsi")
    invalid = "coalesce(s.mmsi, -1) IN (SELECT mmsi FROM ais_bad_mmsi)"
    columns, select = _stage_select(con, file_hash, file_name, invalid if flagged else None, "s.")
    # as `_move_stage`: insertion order is free, one thread
    with duckdb_settings(con, preserve_insertion_order=False, threads=1), local_scans(con):
        appended = _count(
            con,
            f"INSERT INTO positions ({', '.join(map(quote_ident, columns))}) "
            f"SELECT {select} FROM {STAGE} s POSITIONAL JOIN ais_marks m WHERE m._keep",
        )
    for table in (STAGE, "ais_bad_mmsi"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return appended, flagged


def _appended(con: duckdb.DuckDBPyConnection, file_hash: str) -> tuple[int, int]:
    """(the file's positions, those flagged mmsi_invalid as they were appended)."""
    counts = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE flags = 'mmsi_invalid')
           FROM positions WHERE file_hash = ?""",
        [file_hash],
    ).fetchone()
    assert counts is not None
    return int(counts[0]), int(counts[1])


def checked_reports_sql(reports: str) -> str:
    """The reports of `reports` (a query with at least `mmsi`, `imo` and `given_flag`, the
    flag the report gave: NULL, upper case, trimmed) checked: its columns, `derived_flag`
    (the MID's flag of a ship's MMSI, when none was given) and `flags` (see module doc).
    The MMSI's kind and MID flag, and the IMO's check, are worked out once per number (a
    log's reports repeat a few thousand ships)."""
    kind, mid = mmsi_kind_sql("d.mmsi"), mmsi_mid_sql("d.mmsi")
    no_mid = ", ".join(f"'{k}'" for k in sorted(WITHOUT_MID))
    return f"""WITH r AS ({reports}), ships AS (
                SELECT d.mmsi, {kind} AS kind, m.flag AS mid_flag
                FROM (SELECT DISTINCT mmsi FROM r WHERE mmsi IS NOT NULL) d
                LEFT JOIN mid_flags m ON m.mid = {mid}
            ), imos AS (
                SELECT imo, {imo_ok_sql("imo")} AS imo_ok
                FROM (SELECT DISTINCT imo FROM r WHERE imo IS NOT NULL)
            )
            SELECT r.*,
                   CASE WHEN r.given_flag IS NULL AND kind = 'ship' THEN mid_flag END AS derived_flag,
                   nullif(concat_ws(',',
                       CASE WHEN r.imo IS NOT NULL AND NOT imo_ok THEN 'imo_check_digit' END,
                       CASE WHEN r.mmsi IS NOT NULL AND (kind = 'invalid' OR (kind NOT IN ({no_mid}) AND mid_flag IS NULL))
                            THEN 'mmsi_invalid' END), '') AS flags
            FROM r LEFT JOIN ships s ON s.mmsi = r.mmsi LEFT JOIN imos i ON i.imo = r.imo"""


# a checked report's stored flag and its source (columns of `checked_reports_sql`)
CHECKED_FLAG_SQL = "coalesce(given_flag, derived_flag)"
CHECKED_FLAG_SOURCE_SQL = """CASE WHEN given_flag IS NOT NULL THEN 'reported'
                                  WHEN derived_flag IS NOT NULL THEN 'mid' END"""


def checked_counts_sql(reports: str = "1") -> str:
    """What `check_identity_reports` counts, over checked reports (`checked_reports_sql`),
    each standing for `reports` reports (SQL; a count of equal ones)."""
    return f"""coalesce(sum({reports}) FILTER (WHERE derived_flag IS NOT NULL), 0) AS flags_from_mid,
               coalesce(sum({reports}) FILTER (WHERE flags LIKE '%imo_check_digit%'), 0) AS imo_invalid,
               coalesce(sum({reports}) FILTER (WHERE flags LIKE '%mmsi_invalid%'), 0) AS mmsi_invalid"""


# the counts of reports checked as they were stored (an NMEA log's, `reports_checked`):
# `finish_positions_file` then checks none again
REPORTS_CHECKED = "ais_reports_checked"


def reports_checked(con: duckdb.DuckDBPyConnection, checks: str, reports: str) -> None:
    """Count the checks of the temp table `checks` (`checked_reports_sql`'s columns, each
    row standing for `reports` reports, SQL) as the file's: its reports are checked as they
    are stored, not again at its end (`finish_positions_file`)."""
    con.execute(f"INSERT INTO {REPORTS_CHECKED} SELECT {checked_counts_sql(reports)} FROM {checks}")


def check_identity_reports(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """Derive missing flags from the MID and flag bad IMO numbers and MMSIs (see module doc)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_reports AS
            {
            checked_reports_sql(
                "SELECT rowid AS rid, mmsi, imo, nullif(upper(trim(flag)), '') AS given_flag "
                "FROM vessel_reports WHERE file_hash = ?"
            )
        }""",
        [file_hash],
    )
    con.execute(
        f"""UPDATE vessel_reports SET flag = {CHECKED_FLAG_SQL},
                  flag_source = {CHECKED_FLAG_SOURCE_SQL}, flags = a.flags
           FROM ais_reports a WHERE vessel_reports.rowid = a.rid"""
    )
    counts = con.execute(f"SELECT {checked_counts_sql()} FROM ais_reports").fetchone()
    con.execute("DROP TABLE ais_reports")
    assert counts is not None
    return {"flags_from_mid": counts[0], "imo_invalid": counts[1], "mmsi_invalid": counts[2]}


def _identity_checks(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """`check_identity_reports` of the file, or the counts of its reports checked as they
    were stored (`reports_checked`)."""
    done = con.execute(
        f"SELECT count(*), sum(flags_from_mid), sum(imo_invalid), sum(mmsi_invalid) "
        f"FROM {REPORTS_CHECKED}"
    ).fetchone()
    if not done or not done[0]:
        return check_identity_reports(con, file_hash)
    return {
        "flags_from_mid": int(done[1]),
        "imo_invalid": int(done[2]),
        "mmsi_invalid": int(done[3]),
    }


# The steps of `finish_positions_file` (the commit after them is the last): an NMEA log's
# passes over its stage, then its identity reports; a position CSV's identity reports
STAGED_STEPS = ("removing duplicates", "setting stations apart", "appending the positions",
                "checking identity reports", "writing to the case")  # fmt: skip
APPENDED_STEPS = ("checking identity reports", "writing to the case")


def finish_positions_file(
    con: duckdb.DuckDBPyConnection, result: IngestResult, on_stage: Stage | None = None
) -> CleanStats:
    """The end of one AIS file: an NMEA log's positions wait in the stage (its passes move
    dropped duplicates from kept to duplicate); a position CSV's are in `positions`
    already, its duplicates and stations set apart (`position_appends`: counted here).
    `on_stage(what, step, steps)` says which step runs (progress: the commit is the last)."""
    staged = bool(_count(con, f"SELECT count(*) FROM (SELECT 1 FROM {STAGE} LIMIT 1)"))
    names = STAGED_STEPS if staged else APPENDED_STEPS

    def step(what: str) -> None:
        if on_stage:
            on_stage(what, names.index(what) + 1, len(names))

    stats = CleanStats()
    if staged:  # an NMEA log
        step("removing duplicates")
        marks = _Marks(con) if _marked(con) else None
        stats.duplicates_in_file, stats.duplicates_of_case = (
            _stage_dupes(con) if marks is None else _marked_dupes(con, marks, _stored_span(con))
        )
        dropped = stats.duplicates_in_file + stats.duplicates_of_case
        result.rows_kept -= dropped
        result.rows_duplicate += dropped
        step("setting stations apart")
        file_hash, name = result.file_hash, result.path.name
        stations = (  # not vessels
            _stage_stations(con, file_hash, name)
            if marks is None
            else _marked_stations(con, file_hash, name, marks)
        )
        step("appending the positions")
        appended, stats.positions_mmsi_invalid = (
            _move_stage(con, file_hash, name)
            if marks is None
            else _marked_move(con, file_hash, name, marks)
        )
    else:  # a position CSV, appended already without its copies and stations
        stats.duplicates_in_file, stats.duplicates_of_case, stations = position_appends.finish(
            con, result.file_hash
        )
        result.rows_kept += sum(stations.values())  # kept, in ais_stations
        result.rows_duplicate += stats.duplicates_in_file + stats.duplicates_of_case
        appended, stats.positions_mmsi_invalid = _appended(con, result.file_hash)
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if stations:
        result.detail["not_vessels"] = stations
    # what the kept rows are, for the summary
    result.detail["kept_as"] = kept_as(appended, sum(stations.values()), result.rows_kept)
    result.detail["quarantined_by_reason"] = refused_by_reason(con, result.file_hash)
    step("checking identity reports")
    position_identities.finish(con, result.file_hash, result.path.name)  # a position CSV's
    for name, value in _identity_checks(con, result.file_hash).items():
        setattr(stats, name, value)
    step("writing to the case")  # the commit follows
    result.detail["cleaning"] = asdict(stats)
    return stats


def begin_file(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Start of one file's ingest (in its transaction): AIS positions wait in a stage."""
    if kind == "ais":
        begin_positions_file(con)


def finish_file(
    con: duckdb.DuckDBPyConnection, kind: str, result: IngestResult, on_stage: Stage | None = None
) -> None:
    """End of one file's ingest (in its transaction): the passes its kind needs, if any
    (`on_stage`: which one runs, for the progress)."""
    if kind == "ais":
        finish_positions_file(con, result, on_stage)
    elif kind == "vessels":
        result.detail["cleaning"] = check_identity_reports(con, result.file_hash)
