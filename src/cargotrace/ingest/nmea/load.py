"""Raw NMEA AIS archives into the case: positions, identity reports and quarantined
sentences, streamed batch by batch through the vectorised decoder. The decoder runs on
`DECODE_THREADS` threads (`decoder.decode_nmea_file_on`: blocks scanned and decoded by a
pool, messages assembled in file order), where each batch is also judged by the rules
(`Judge`: refused rows and their texts made quarantine runs); a thread reads ahead
(`read_ahead`), gathering the judged batches in groups (`grouped`), while this thread
stores the group before with DuckDB on one thread: decoding, judging and storing overlap.

Rows, for the ledger's invariant, are AIS messages: read = decoded + rejected, and decoded =
kept + duplicates. Lines that are not AIS (other NMEA sentences, comments) and messages of
types we do not decode are counted as skipped.

Not-available values the decoder keeps (to stay equal to pyais) become NULL here: navigation
status 15, ship type 0 and draught 0 (type 5's draught is stored as `draught_m`; types 5
and 19 give the length as A + B, `to_bow + to_stern`, as `length_m` when both are given). An identity report (types 5, 19, 24) equal in (mmsi, time, imo,
name, call sign, ship type, draught) to an earlier one of the file or to one already in the case
(the same message heard by another receiver) is not stored again; for types 5 and 24 that
message counts as a duplicate (a type 19 message counts through its position); the reports
are checked (flags from the MID, bad IMO numbers and MMSIs) as they are stored. Positions are
deduplicated when the whole file is in: `ais_clean.finish_file`.

Decoded positions without a time or a possible position are quarantined (`ais_rules`;
their raw value is the message's sentence, its sentences joined by newlines for a
multi-part one, `source_row` its last line), stored as runs in the file's Parquet part of
the case folder (`Refused`; `case/quarantine.py`; `cargotrace quarantine` lists them one
row each). The ledger's `detail` gets the decoder's counters (`decoder`), the decoder's
rejects by reason (`rejected_by_reason`) and the part (`quarantine_part`).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cargotrace.case import quarantine as stored_quarantine
from cargotrace.case.settings_scope import duckdb_settings
from cargotrace.case.store import Case
from cargotrace.ingest.kinds import ais_rules
from cargotrace.ingest.kinds.ais_clean import (
    CHECKED_FLAG_SOURCE_SQL,
    CHECKED_FLAG_SQL,
    STAGE,
    checked_reports_sql,
    reports_checked,
)
from cargotrace.ingest.nmea.decoder import DecodedBatch, DecodeStats, decode_nmea_file_on
from cargotrace.ingest.predicates import Col, Compare, IsNull, Num, Rule, both
from cargotrace.ingest.readers.arrow_scan import local_scans
from cargotrace.ingest.readers.read_ahead import read_ahead
from cargotrace.ingest.types import (
    ByteProgress,
    IngestResult,
    Mapping,
    Progress,
    TabularKind,
    sql_str,
)

_STATIC_KEY = ("mmsi", "observed_at", "imo", "name", "callsign", "ship_type", "draught_m")


def load_nmea(
    case: Case,
    spec: TabularKind,
    path: Path,
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None,
) -> None:
    result.detail["format"] = "nmea"
    if isinstance(progress, ByteProgress):
        progress.start_bytes(path.stat().st_size)
    quarantine = Refused(case.root, result, path.name)
    try:
        _load(case, path, result, progress, quarantine)
    except BaseException:
        quarantine.discard()
        raise


def _load(
    case: Case, path: Path, result: IngestResult, progress: Progress | None, quarantine: Refused
) -> None:
    con = case.con
    read = [0]  # bytes read by the decoder (on its thread), reported from this one
    totals, reasons = DecodeStats(), Counter[str]()
    statics = Statics(con, lambda: _provenance(result, path.name))
    with _one_thread(con), _quick_gil():  # the decoders have the other core(s)
        judged = decode_nmea_file_on(
            path,
            DECODE_THREADS,
            Judge(),
            BATCH_LINES,
            progress=lambda n: _set(read, n),
            untimed_fields=not UNTIMED_REFUSED,
        )
        # a thread reads ahead, gathering the next group while this one stores the last
        for group in read_ahead(grouped(judged, GROUP_LINES)):
            # the file's hash (worked out on a thread meanwhile, `loader.run_ingest`'s
            # `hash_aside`) and the ledger's check before anything of it is stored
            result.file_hash  # noqa: B018 - read for its check
            _insert_positions(con, group.positions)
            statics.add(group.statics)
            for runs in group.runs:
                quarantine.add_runs(runs)
            stats = group.stats
            totals += stats
            reasons.update(group.reasons)
            result.rows_read += stats.decoded + stats.rejected
            result.rows_kept += stats.decoded - group.refused
            result.rows_quarantined += stats.rejected + group.refused
            result.rows_skipped += stats.non_ais + stats.undecoded_type
            del group  # its tables go before the next group is gathered
            if isinstance(progress, ByteProgress):
                progress.bytes_read(read[0])
            if progress:
                progress(stats.decoded + stats.rejected)
    statics.flush()  # the decoder is done: DuckDB has every thread again
    quarantine.close(con)
    result.rows_kept -= statics.duplicates  # type 5/24 reports heard again
    result.rows_duplicate += statics.duplicates
    result.detail["decoder"] = asdict(totals)
    result.detail["rejected_by_reason"] = dict(sorted(reasons.items()))
    result.detail["note"] = (
        "rows are AIS messages; non-AIS lines and undecoded message types are skipped; "
        "duplicates are the same message heard again (by another receiver or in another file)"
    )


def _set(box: list[int], value: int) -> None:
    box[0] = value


# Seconds a thread holds the GIL before it hands it over while a log is read (Python's
# default 0.005): DuckDB takes the GIL back several times per statement (its scans of Arrow
# tables, its return), each time waiting for the decoding threads to let go of it; 20 inserts
# of 18,000 rows beside a thread holding the GIL took 0.54 s at 5 ms, 0.32 s at 0.5 ms (0.25
# s alone), the log's inserts 0.55-0.90 s of wall for 0.15-0.18 s of CPU at 5 ms, 0.45-0.71
# s at 0.5 ms (load ~5 on 2 CPUs)
GIL_SWITCH_S = 0.0005


@contextmanager
def _quick_gil() -> Iterator[None]:
    """The GIL handed over every `GIL_SWITCH_S` seconds, the interval as it was after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, GIL_SWITCH_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _one_thread(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """DuckDB on one thread while the decoders run on others: the batch statements are
    small (a second DuckDB thread cost more CPU than it saved), the passes after the file
    get DuckDB's threads back."""
    return duckdb_settings(con, threads=1)


@dataclass
class Judged:
    """A decoded batch judged by the rules (`Judge`, on a decoder's thread): the positions
    the rules keep, the identity reports with a plausible time or none (those of type 5
    and 24 with an implausible one are refused), the refused messages and the decoder's rejects as quarantine runs (their texts built from
    the batch's buffers, which go with the batch)."""

    positions: pa.Table
    statics: pa.Table
    runs: list[pa.Table]
    stats: DecodeStats
    refused: int  # decoded messages the rules refused
    reasons: Counter[str]  # the decoder's rejects by reason

    def merge(self, other: Judged) -> Judged:
        """Both batches as one (``other`` follows ``self``)."""
        return Judged(
            pa.concat_tables([self.positions, other.positions]),
            pa.concat_tables([self.statics, other.statics]),
            self.runs + other.runs,
            self.stats + other.stats,
            self.refused + other.refused,
            self.reasons + other.reasons,
        )


def grouped(batches: Iterable[Judged], lines: int) -> Iterator[Judged]:
    """Consecutive batches merged until they hold `lines` lines: DuckDB's statements have
    a fixed cost each, the decoder's memory grows with its batches."""
    group: Judged | None = None
    for batch in batches:
        group = batch if group is None else group.merge(batch)
        if group.stats.lines >= lines:
            yield group
            group = None
    if group is not None:
        yield group


# Threads decoding a log (and judging its batches): the machine's cores, two at most
# (`decode_nmea_file_on`: the reading, the assembly of messages and the storing take turns
# with them)
DECODE_THREADS = max(1, min(2, os.cpu_count() or 1))


class Judge:
    """`judge(batch)`: the batch's rows judged by `ais_rules` (`Judged`), callable from any
    thread: the rules are evaluated over the batch's Arrow columns (`ais_rules.POSITION_RULES`,
    the rules the SQL of a position CSV comes from), so batches are judged where they are
    decoded, beside the decoding of others, and the case's connection only stores."""

    def __call__(self, batch: DecodedBatch) -> Judged:
        runs: list[pa.Table] = []
        positions, refused = batch.positions, 0
        if positions.num_rows:  # refused positions: quarantined with their sentences
            rules = ais_rules.POSITION_RULES
            rows, codes = _refusals(positions, rules)
            if len(rows):
                runs += _quarantine(batch, "positions", positions, rows, codes, rules)
                keep = np.ones(positions.num_rows, dtype=bool)
                keep[rows] = False
                positions = positions.filter(pa.array(keep))
                refused += len(rows)
        statics = batch.statics
        if statics.num_rows:  # type 5/24 messages with an implausible time: refused
            rows, codes = _refusals(statics, _STATIC_RULES)
            if len(rows):
                runs += _quarantine(batch, "statics", statics, rows, codes, _STATIC_RULES)
                refused += len(rows)
            # no report with an implausible time is stored (type 19's counts through its
            # position, kept or refused)
            columns = {"ts": statics.column("timestamp")}
            plausible = pc.invert(_IMPLAUSIBLE.when.holds(columns))
            if not pc.all(plausible).as_py():
                statics = statics.filter(plausible)
        rejects = batch.rejects
        if rejects.num_rows:
            runs.append(refused_runs(rejects))
        reasons = Counter(_reason_counts(rejects))
        return Judged(positions, statics, runs, batch.stats, refused, reasons)


# The rules refuse a position without a time before looking at anything else (its reason
# `no_timestamp`, whatever its fields): the decoder leaves such positions' fields undecoded
# (`decode_messages`; a log without times is most of its messages)
UNTIMED_REFUSED = ais_rules.POSITION_RULES[0] == Rule(
    IsNull(Col("ts")), "no_timestamp", "timestamp"
)
# identity reports of type 5 and 24 with an implausible time are refused (type 19 counts
# through its position); the others are stored (`Statics.flush`)
_IMPLAUSIBLE = next(r for r in ais_rules.TIME_RULES if r.reason == "implausible_timestamp")
_STATIC_RULES = (
    Rule(
        both(_IMPLAUSIBLE.when, Compare(Col("msg_type"), "<>", Num(19))),
        _IMPLAUSIBLE.reason,
        _IMPLAUSIBLE.column,
    ),
)
# the rules' columns in a decoded batch
_RULE_COLUMNS = {"ts": "timestamp", "lat": "lat", "lon": "lon", "msg_type": "msg_type"}


def _provenance(result: IngestResult, name: str) -> str:
    return f"{sql_str(result.file_hash)}, {sql_str(name)}, NULL"


# DuckDB's share of the memory while a log is read and finished, unless the user set
# CARGOTRACE_MEMORY_LIMIT (the case's default is 800 MB): the 2 GB log peaked at 1,340, 1,402
# and 1,357 MiB under 800 MB, DuckDB's jemalloc holding 550-700 MB of it at the peak (in the
# pass over duplicates), the C heap ~300 MB (the decoder's groups, NumPy, Python), libraries
# ~105 MB (issue 16: 1.5 GB in all)
MEMORY_LIMIT = "512MB"
# Lines decoded at once: the decoder's NumPy work arrays take several bytes per byte of the
# batch (tag-blocked sentences, decoding alone: 200,000 lines peaked at 645 MB, 100,000 at
# 398 MB, 50,000 at 281 MB, in less CPU time too: the work arrays stay in the caches), and
# DuckDB's share comes on top of that (issue 16: 1.5 GB in all)
BATCH_LINES = 50_000
# Lines judged and stored per group of statements (`grouped`): the groups' texts stay (for the
# sentences of refused messages) until the group is stored, and the decoder's thread gathers
# the next group meanwhile (two groups in memory)
GROUP_LINES = 100_000
# refused rows gathered (in Arrow, ~100 bytes each) per write of runs to the part (per insert
# into `quarantine_runs` before the parts: 100,000 peaked at 555 MB on a log refusing 957,106
# messages under a 100 MB DuckDB share, 500,000 at 900 MB)
QUARANTINE_ROWS = 100_000
_REFUSED = pa.schema(
    [
        ("reason", pa.string()),
        ("column_name", pa.string()),
        ("raw", pa.string()),
        ("line_no", pa.int64()),
    ]
)


class Refused:
    """The file's refused messages on their way to the quarantine: gathered in Arrow as runs
    (up to `RUN_ROWS` messages of one reason and column each, with each message's line and
    text) and written, `QUARANTINE_ROWS` messages at a time, to the file's Parquet part in
    the case folder (`case/quarantine.py`: named in the file's ledger row by `close`, in the
    file's transaction). A logger without times refuses most of its messages: one row each
    cost more than decoding them, and DuckDB compressing their texts at the commit as much
    again (the part is written beside the decoding and the storing, zstd, on a thread of its own)."""

    def __init__(self, root: Path, result: IngestResult, name: str) -> None:
        self.root, self.result, self.name = root, result, name
        self.runs: list[pa.Table] = []
        self.rows = 0
        self.path: Path | None = None
        self.writer: pq.ParquetWriter | None = None
        self.stored_runs = self.stored_rows = 0
        # the part's writes (compressing, zstd) on a thread of their own: pyarrow lets go of
        # the GIL, this thread stores the next group meanwhile; one write in flight at most
        self.writing: ThreadPoolExecutor | None = None
        self.written: Future[None] | None = None

    def add_runs(self, runs: pa.Table) -> None:
        """Runs as `as_runs` makes them."""
        self.runs.append(runs)
        self.rows += pc.sum(runs.column("rows")).as_py() or 0
        if self.rows >= QUARANTINE_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.runs:
            return
        runs = pa.concat_tables(self.runs)
        self.runs, self.rows = [], 0
        count = runs.num_rows
        table = pa.Table.from_arrays(
            [
                pa.array(["ais"] * count, pa.string()),
                *runs.columns,
                pa.array([self.result.file_hash] * count, pa.string()),
                pa.array([self.name] * count, pa.string()),
                pa.nulls(count, pa.string()),
                pc.list_element(runs.column("source_rows"), 0),
            ],
            schema=_PART,
        )
        if self.writer is None:
            self.path = stored_quarantine.new_part_path(self.root, self.result.file_hash)
            self.path.parent.mkdir(exist_ok=True)
            self.writer = pq.ParquetWriter(
                self.path, _PART, compression="zstd", write_statistics=False,
                use_dictionary=["kind", "reason", "column_name", "file_hash", "source_file"],
            )  # fmt: skip
            self.writing = ThreadPoolExecutor(1, thread_name_prefix="cargotrace-nmea-part")
        self._wait()
        assert self.writing is not None
        self.written = self.writing.submit(
            self.writer.write_table, table, row_group_size=PART_ROW_GROUP_RUNS
        )
        self.stored_runs += count
        self.stored_rows += int(pc.sum(runs.column("rows")).as_py() or 0)

    def close(self, con: duckdb.DuckDBPyConnection) -> None:
        """The part complete and on disk, named in the file's ledger row (`result.detail`)
        and read by this connection's views of the quarantine from now on (in the file's
        transaction: a rollback takes the views back)."""
        self.flush()
        if self.writer is None or self.path is None:
            return
        self._wait()
        self._stop()
        self.writer.close()
        self.writer = None
        _fsync(self.path)
        _fsync(self.path.parent)
        self.result.detail[stored_quarantine.PART_KEY] = {
            "file": self.path.name, "runs": self.stored_runs, "rows": self.stored_rows
        }  # fmt: skip
        stored_quarantine.attach_parts(con, self.root, pending=self.path.name)

    def discard(self) -> None:
        """The file failed: its part goes (the next writer removes any a kill left)."""
        self._stop()  # the write in flight finished (or failed) first
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _wait(self) -> None:
        """The write in flight done (its error raised here)."""
        written, self.written = self.written, None
        if written is not None:
            written.result()

    def _stop(self) -> None:
        if self.writing is not None:
            self.writing.shutdown(wait=True)
            self.writing = None
        self.written = None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refused_runs(table: pa.Table) -> pa.Table:
    """Refused rows with `reason`, `raw`, `line_no` and (if known) `column_name` as runs
    (`as_runs`)."""
    if "column_name" not in table.column_names:
        table = table.append_column("column_name", pa.nulls(table.num_rows, pa.string()))
    return as_runs(table.select(_REFUSED.names).cast(_REFUSED))


_RUNS = pa.schema(
    [
        ("reason", pa.string()),
        ("column_name", pa.string()),
        ("rows", pa.int64()),
        ("last_row", pa.int64()),
        ("source_rows", pa.list_(pa.int64())),
        ("raw", pa.list_(pa.string())),
    ]
)


_PART = pa.schema(
    [
        ("kind", pa.string()),
        *_RUNS,
        ("file_hash", pa.string()),
        ("source_file", pa.string()),
        ("sheet", pa.string()),
        ("source_row", pa.int64()),
    ]
)
# runs per row group of a part (~100 messages each): DuckDB reads a part row group by row group
PART_ROW_GROUP_RUNS = 2_000


def runs_of(
    reason: str, column: str | None, lines: np.ndarray, raw: pa.Array, run_rows: int | None = None
) -> pa.Table:
    """The runs of refused messages of one reason and column, given in line order (their
    lines and texts): `run_rows` at most per run, the lists over the texts as they are."""
    run_rows = run_rows or stored_quarantine.RUN_ROWS
    count = len(lines)
    starts = np.arange(0, count, run_rows)
    ends = np.r_[starts[1:], count]
    offsets = pa.array(np.r_[starts, count].astype(np.int32))
    return pa.Table.from_arrays(
        [
            pa.array([reason] * len(starts), pa.string()),
            pa.array([column] * len(starts), pa.string()),
            pa.array(ends - starts, pa.int64()),
            pa.array(lines[ends - 1], pa.int64()),
            pa.ListArray.from_arrays(offsets, pa.array(lines, pa.int64())),
            pa.ListArray.from_arrays(offsets, raw),
        ],
        schema=_RUNS,
    )


def as_runs(refused: pa.Table, run_rows: int | None = None) -> pa.Table:
    """Refused rows (`reason`, `column_name`, `raw`, `line_no`) as runs: per (reason,
    column), in line order, `run_rows` at most per run; columns reason, column_name, rows,
    last_row, source_rows (lines) and raw (texts), both lists in line order."""
    key = pc.binary_join_element_wise(
        pc.fill_null(refused.column("reason"), ""),
        pc.fill_null(refused.column("column_name"), ""),
        "\x00",
    )
    codes = pc.dictionary_encode(key).combine_chunks().indices.to_numpy(zero_copy_only=False)
    lines = refused.column("line_no").to_numpy()
    order = np.lexsort((lines, codes))
    taken = refused.take(pa.array(order))
    codes, lines = codes[order], lines[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(codes)) + 1, len(codes)]
    parts = [
        runs_of(
            taken.column("reason")[a].as_py(),
            taken.column("column_name")[a].as_py(),
            lines[a:b],
            taken.column("raw").slice(a, b - a).combine_chunks(),
            run_rows,
        )
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return pa.concat_tables(parts) if parts else _RUNS.empty_table()


def _insert_positions(con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    """Stage the positions the rules kept (`Judge`)."""
    if not table.num_rows:
        return
    # read by DuckDB's replacement scan in this frame, the one that runs the statement (no
    # `arrow_scan.local_scans`: its two statements a group waited for the GIL too)
    nmea_positions = table  # noqa: F841
    con.execute(
        f"""INSERT INTO {STAGE} (mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type,
                               source_row)
        SELECT mmsi, timestamp, lat, lon, sog, cog, heading, nullif(nav_status, 15), msg_type, line_no
        FROM nmea_positions"""
    )


def _refusals(table: pa.Table, rules: tuple[Rule, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `table` (indices, ascending) the rules refuse and, for each, the index in
    `rules` of the first rule that holds (the rules evaluated over the table's Arrow
    columns, `ingest/predicates.py`)."""
    columns = {k: table.column(v) for k, v in _RULE_COLUMNS.items() if v in table.column_names}
    codes = np.full(table.num_rows, -1, np.int8)
    at = np.arange(table.num_rows)  # the rows `columns` hold now
    undecided = np.ones(table.num_rows, bool)  # of those
    for i, rule in enumerate(rules):
        held = rule.when.holds(columns).to_numpy(zero_copy_only=False) & undecided
        codes[at[held]] = i
        undecided &= ~held
        left = int(np.count_nonzero(undecided))
        if left * 2 < len(at) and i + 1 < len(rules):  # the next rules over the rows left
            # (a log without times: a tenth of them after the first rule)
            kept = pa.array(undecided)
            columns = {k: c.filter(kept) for k, c in columns.items()}
            at, undecided = at[undecided], np.ones(left, bool)
    rows = np.flatnonzero(codes >= 0)
    return rows, codes[rows].astype(np.int64)


def _quarantine(
    batch: DecodedBatch,
    name: str,
    table: pa.Table,
    rows: np.ndarray,
    codes: np.ndarray,
    rules: tuple[Rule, ...],
) -> list[pa.Table]:
    """The refused rows of `batch.<name>` (= `table`) as runs of each rule, with their
    sentences as raw values (built in run order: no text is copied twice)."""
    lines = table.column("line_no").to_numpy()
    runs = []
    for code in np.unique(codes):
        mine = rows[codes == code]
        rule = rules[int(code)]
        raw = batch.raw_text(name, mine)
        runs.append(runs_of(rule.reason, rule.column, lines[mine], raw))
    return runs


STATIC_ROWS = 200_000  # identity reports gathered (in Arrow) per dedupe and insert


class Statics:
    """The file's identity reports (types 5, 19, 24) on their way to `vessel_reports`:
    those with an implausible time are refused (types 5, 24) or left out (type 19) batch by
    batch, by `Judge` (their sentences are in the batch), the rest gathered and stored in
    few big statements: those without a time as they are, those with one without repeats
    (each statement looks up the reports already stored, which grow with the file)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, provenance: Callable[[], str]) -> None:
        self.con, self.provenance = con, provenance  # SQL of (file_hash, source_file, sheet)
        self.tables: list[pa.Table] = []
        self.rows = 0
        self.duplicates = 0  # type 5/24 messages equal to an earlier report

    def add(self, table: pa.Table) -> None:
        """Keep the reports for `flush` (`Judge` left out those with an implausible time)."""
        if not table.num_rows:
            return
        self.tables.append(table)
        self.rows += table.num_rows
        if self.rows >= STATIC_ROWS:
            self.flush()

    def flush(self) -> None:
        """Insert the gathered reports without repeats (of each other or of stored ones):
        those without a time as they are (a repeat cannot be told without a time)."""
        if not self.tables:
            return
        nmea_statics = pa.concat_tables(self.tables)
        self.tables, self.rows = [], 0
        # type 5/24 messages, to tell the repeats among them
        messages = nmea_statics.num_rows - _count_equal(nmea_statics.column("msg_type"), 19)
        key = ", ".join(_STATIC_KEY)
        same = " AND ".join(f"v.{c} IS NOT DISTINCT FROM s.{c}" for c in _STATIC_KEY)
        con = self.con
        with local_scans(con):
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE nmea_statics_kept AS
                WITH s AS (
                    SELECT mmsi, timestamp AS observed_at, CAST(imo AS VARCHAR) AS imo, name, callsign,
                           CAST(nullif(ship_type, 0) AS VARCHAR) AS ship_type,
                           CAST(nullif(draught, 0) AS DOUBLE) AS draught_m,
                           CASE WHEN to_bow > 0 AND to_stern > 0 THEN CAST(to_bow + to_stern AS DOUBLE) END AS length_m,
                           msg_type, line_no
                    FROM nmea_statics
                ), timed AS (SELECT * FROM s WHERE observed_at IS NOT NULL),
                bounds AS (SELECT min(observed_at) AS lo, max(observed_at) AS hi FROM timed),
                stored AS (
                    SELECT DISTINCT {key} FROM vessel_reports, bounds
                    WHERE observed_at BETWEEN bounds.lo AND bounds.hi
                )
                SELECT * FROM s WHERE observed_at IS NULL
                UNION ALL
                SELECT * FROM (
                    SELECT * FROM timed s WHERE NOT EXISTS (SELECT 1 FROM stored v WHERE {same})
                    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY line_no) = 1
                )"""
            )
        del nmea_statics
        # the kept reports checked as they are stored (`ais_clean.checked_reports_sql`: flags
        # from the MID, bad IMO numbers and MMSIs), once per (MMSI, IMO): a log's reports
        # repeat a few thousand ships (an UPDATE of the file's reports at its end cost more)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE nmea_statics_checks AS "
            + checked_reports_sql(
                "SELECT mmsi, imo, CAST(NULL AS VARCHAR) AS given_flag, count(*) AS reports "
                "FROM nmea_statics_kept GROUP BY mmsi, imo"
            )
        )
        provenance = self.provenance()
        con.execute(
            f"""INSERT INTO vessel_reports (mmsi, imo, name, callsign, ship_type, draught_m, length_m, observed_at,
                                            flag, flag_source, flags, file_hash, source_file, sheet, source_row)
                SELECT k.mmsi, k.imo, name, callsign, ship_type, draught_m, length_m, observed_at,
                       {CHECKED_FLAG_SQL}, {CHECKED_FLAG_SOURCE_SQL}, flags, {provenance}, line_no
                FROM nmea_statics_kept k JOIN nmea_statics_checks c
                     ON k.mmsi IS NOT DISTINCT FROM c.mmsi AND k.imo IS NOT DISTINCT FROM c.imo"""
        )
        reports_checked(con, "nmea_statics_checks", "reports")
        con.execute("DROP TABLE nmea_statics_checks")
        kept = con.execute("SELECT count(*) FROM nmea_statics_kept WHERE msg_type <> 19").fetchone()
        con.execute("DROP TABLE nmea_statics_kept")
        self.duplicates += messages - int(kept[0] if kept else 0)


def _count_equal(column: pa.ChunkedArray, value: int) -> int:
    return int(pc.sum(pc.equal(column, value)).as_py() or 0)


def _reason_counts(rejects: pa.Table) -> dict[str, int]:
    if not rejects.num_rows:
        return {}
    counts = pc.value_counts(rejects.column("reason").combine_chunks())
    return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}
