"""Fast NMEA 0183 AIS decoder (``!xxVDM`` / ``!xxVDO``).

Why not pyais per line: a Python object per sentence caps throughput at a few ten
thousand messages per second.  Here a batch of lines lives in one ``uint8`` buffer;
locating and checking the sentences (``sentences``) and reading the messages' fields
(``decode``) are compiled passes over it (Numba, ``kernels*.py``: why by hand there),
fragment reassembly is NumPy over the whole batch (``assemble``) and the tables are
built from Arrow buffers.  Field values match pyais (same offsets, scaling and rounding; checked on real
logs in ``tests/test_nmea_pyais_equality.py``) with these deliberate differences:

* checksums are verified (``bad_checksum`` rejects; pyais only flags them);
* not-available values are null: lat 91, lon 181, sog 102.3, cog 360, heading 511, type 27
  sog 63 / cog 511, IMO 0, empty strings, ETA month/day 0, hour 24, minute 60;
* a field cut off by a short payload is null (pyais returns the partial bits), and a
  payload too short for its type's core fields is a ``too_short`` reject
  (``nmea_messages.MIN_BITS``);
* ``ship_type`` is the raw ITU code (pyais folds reserved codes of types 5/19 into a
  category, e.g. 86 -> 85);
* type 4's ``timestamp`` is the UTC time it reports when valid, else the receive time.

Supported layouts (one sentence per line):

* plain ``!AIVDM,...*hh`` with any two-character talker;
* NMEA 4.10 tag blocks ``\\s:src,c:epoch*hh\\!AIVDM,...`` (``c:`` in s or ms, ``s:`` source);
* a time token before the sentence, separated by space/comma/semicolon
  (``1635731889 !AIVDM...``, ``2021-11-01T00:00:05Z,!AIVDM...``);
* trailing receiver metadata after the checksum, the first epoch-like field being the
  receive time (``!AIVDM,...*hh,1328182324603`` exactEarth, USCG
  ``...*hh,d-109,S2105,...,r003669946,1325394060,1325394001``).

Threads: a block's lines are scanned (``scan_block``) and its assembled messages decoded
(``decode_assembled``) independently of other blocks; only the assembly carries state (the
fragments of multi-part messages left at a block's end, ``NmeaDecoder.assemble``).
``decode_nmea_file_on`` runs the first two on a pool of threads (the kernels let go of the
GIL while they run, as do NumPy and Arrow in their loops) and the assembly in order: the
rows are those of one thread.

Accounting (over a whole stream, i.e. one ``decode_lines`` call or the sum of all batches
of ``decode_nmea_file``):

* ``lines == non_ais + sentences``
* ``sentences == sentences_in_messages + rejected_sentences``
* ``messages == decoded + undecoded_type + rejected_messages``
* ``rejected == rejected_sentences + rejected_messages == rejects.num_rows``
* ``decoded == positions.num_rows + statics.num_rows - (type 19 rows in statics)``
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
import pyarrow as pa

from cargotrace.ingest.nmea.arrow import raw_lines, strings_from_ranges
from cargotrace.ingest.nmea.assemble import Assembled, Grouping, group, messages
from cargotrace.ingest.nmea.decode import Context, MessageResult, decode_messages
from cargotrace.ingest.nmea.lines import (
    FileLines,
    LineBlock,
    block_from_lines,
    concat_blocks,
    iter_file_blocks,
    iter_file_lines,
)
from cargotrace.ingest.nmea.messages import POSITION_SCHEMA, STATIC_SCHEMA
from cargotrace.ingest.nmea.sentences import CODE, REASONS, Sentences, scan_sentences

__all__ = [
    "REJECT_SCHEMA",
    "DecodeStats",
    "DecodedBatch",
    "NmeaDecoder",
    "decode_lines",
    "decode_nmea_file",
    "decode_nmea_file_on",
]

REJECT_SCHEMA = pa.schema([("line_no", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])
_REASONS = pa.array(REASONS, type=pa.string())


@dataclass
class DecodeStats:
    """Counters of one batch; see the module docstring for the invariants they obey."""

    lines: int = 0
    non_ais: int = 0
    sentences: int = 0
    messages: int = 0
    decoded: int = 0
    undecoded_type: int = 0
    rejected: int = 0  # rejected sentences/messages (bad checksum, malformed, orphan)
    rejected_sentences: int = 0
    rejected_messages: int = 0
    sentences_in_messages: int = 0

    def __add__(self, other: DecodeStats) -> DecodeStats:
        return DecodeStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass
class DecodedBatch:
    """Decoded rows of one batch of lines, in file order.

    ``positions``: types 1-3, 4, 18, 19, 27; ``statics``: types 5, 19, 24 (identity and
    voyage data; columns beyond the core ones: ``eta_month``..``eta_minute`` for type 5 and
    ``source``); ``rejects``: one row per rejected sentence or message with its reason.
    """

    positions: pa.Table
    statics: pa.Table
    rejects: pa.Table
    stats: DecodeStats
    raw: RawText | None = None  # the text of rows of positions/statics (None: no rows)

    @staticmethod
    def empty() -> DecodedBatch:
        return DecodedBatch(
            POSITION_SCHEMA.empty_table(),
            STATIC_SCHEMA.empty_table(),
            REJECT_SCHEMA.empty_table(),
            DecodeStats(),
        )

    def merge(self, other: DecodedBatch) -> DecodedBatch:
        """Concatenate two batches (``other`` follows ``self``)."""
        return DecodedBatch(
            pa.concat_tables([self.positions, other.positions]),
            pa.concat_tables([self.statics, other.statics]),
            pa.concat_tables([self.rejects, other.rejects]),
            self.stats + other.stats,
            RawText.joined(self.raw, other.raw),
        )

    def raw_text(self, table: str, rows: np.ndarray) -> pa.Array:
        """The text of the given rows of ``positions`` or ``statics`` (``table``): the line
        of a one-sentence message, the lines of a multi-part one joined by newlines. Built
        for the rows asked only (those refused, for the quarantine)."""
        if self.raw is None:
            if len(rows):
                raise IndexError("this batch has no rows")
            return pa.array([], pa.string())
        return self.raw.text(table, rows)


@dataclass
class RawText:
    """What it takes to give back the text of decoded rows: the block's buffer and, per
    table, the message index of each row (see `DecodedBatch.raw_text`)."""

    block: LineBlock
    s: Sentences
    a: Assembled
    messages: dict[str, np.ndarray]
    follows: RawText | None = None  # the rows after these, in a merged batch

    def text(self, table: str, rows: np.ndarray) -> pa.Array:
        mine = self.messages[table]
        own = rows[rows < len(mine)]
        parts = [_message_raw(self.block, self.s, self.a, mine[own])] if len(own) else []
        later = rows[rows >= len(mine)]
        if len(later):
            if self.follows is None:
                raise IndexError(f"row {int(later[0])} is past the batch's {table}")
            parts.append(self.follows.text(table, later - len(mine)))
        return pa.concat_arrays(parts) if parts else pa.array([], pa.string())

    @staticmethod
    def joined(first: RawText | None, second: RawText | None) -> RawText | None:
        if first is None or second is None:
            return first or second
        tail = first
        while tail.follows is not None:
            tail = tail.follows
        tail.follows = second
        return first


def _reject_table(line_no: np.ndarray, codes: np.ndarray, raw: pa.Array) -> pa.Table:
    order = np.argsort(line_no, kind="stable")
    return pa.Table.from_arrays(
        [
            pa.array(line_no[order], type=pa.int64()),
            _REASONS.take(pa.array(codes[order].astype(np.int64))),
            raw.take(pa.array(order)),
        ],
        schema=REJECT_SCHEMA,
    )


@dataclass
class Scanned:
    """A block of lines and its sentences, split and checked (`scan_block`)."""

    block: LineBlock
    s: Sentences


@dataclass
class Assembly:
    """A scanned block's messages found (`NmeaDecoder.assemble`), ready for
    `decode_assembled` (which builds them)."""

    block: LineBlock
    s: Sentences
    g: Grouping


def scan_block(block: LineBlock) -> Scanned:
    """Split and check the sentences of a block: each line on its own, so blocks are
    scanned independently (on any thread, in any order)."""
    s = scan_sentences(block)
    if block.too_long is not None:  # cut lines: whatever their head parsed as
        s.status[block.too_long[s.line]] = CODE["line_too_long"]
    return Scanned(block, s)


def _scan_lines(lines: FileLines) -> Scanned:
    """`scan_block` of a batch of lines as read (its block built on the same thread)."""
    return scan_block(lines.block())


def _joined(first: Scanned, second: Scanned) -> Scanned:
    """Two scanned blocks as one (``first``'s lines first), as if scanned together: line
    indexes and byte positions of ``second`` move past ``first``'s."""
    block = concat_blocks(first.block, second.block)
    shift, lines = first.block.size, len(first.block)
    a, b = first.s, second.s

    def cat(name: str, by: int = 0) -> np.ndarray:
        later = getattr(b, name)
        return np.concatenate((getattr(a, name), later + by if by else later))

    src_start = np.concatenate((a.src_start, np.where(b.src_len >= 0, b.src_start + shift, 0)))
    fixed = {
        "line": cat("line", lines),
        "pay_start": cat("pay_start", shift),
        "src_start": src_start,
    }
    s = Sentences(**{f.name: fixed.get(f.name, cat(f.name)) for f in fields(Sentences)})
    return Scanned(block, s)


def decode_assembled(asm: Assembly, untimed_fields: bool = True) -> DecodedBatch:
    """The rows, rejects and counters of an assembled block (on any thread, in any order;
    `untimed_fields`: `decode_messages`)."""
    block, s = asm.block, asm.s
    a = messages(s, block.buf, asm.g)
    ctx = _context(block, s, a)
    res = decode_messages(a, ctx, untimed_fields)
    raw = RawText(block, s, a, {"positions": res.position_messages, "statics": res.static_messages})
    return DecodedBatch(
        res.positions, res.statics, _rejects(block, s, a, res), _stats(block, s, a, res), raw
    )


class NmeaDecoder:
    """Stateful batch decoder: unfinished multi-part messages carry over to the next batch.

    The carry is bounded (``nmea_assemble.MAX_PENDING`` fragments); ``flush`` reports what
    is left at the end of the stream as ``orphan_fragment`` rejects.
    """

    def __init__(self) -> None:
        self._carry_raw: list[bytes] = []
        self._carry_line_no: list[int] = []

    def decode_block(self, block: LineBlock, untimed_fields: bool = True) -> DecodedBatch:
        """Decode one block of lines (plus any fragments carried from the previous one)."""
        return decode_assembled(self.assemble(scan_block(block)), untimed_fields)

    def assemble(self, scanned: Scanned) -> Assembly:
        """The messages of a scanned block, the fragments carried from the block before
        first; what is left unfinished at its end is carried to the next. The one step of
        the decoding that depends on the blocks before (`decode_nmea_file` runs the others
        on several threads)."""
        if self._carry_raw:
            carried = block_from_lines(self._carry_raw, np.array(self._carry_line_no))
            carried.carried[:] = True
            scanned = _joined(scan_block(carried), scanned)
        block, s = scanned.block, scanned.s
        g = group(s, block.buf)
        self._keep_pending(block, s, g.pending)
        return Assembly(block, s, g)

    def _keep_pending(self, block: LineBlock, s: Sentences, pending: np.ndarray) -> None:
        lines = s.line[pending]
        # Few fragments at most (bounded): a Python loop here is fine.
        self._carry_raw = [bytes(block.buf[block.starts[i] : block.ends[i]]) for i in lines]
        self._carry_line_no = [int(block.line_no[i]) for i in lines]

    def flush(self) -> DecodedBatch:
        """End of stream: every fragment still waiting for its siblings is an orphan."""
        n = len(self._carry_raw)
        if n == 0:
            return DecodedBatch.empty()
        raw = pa.array([r.decode("utf-8", "replace") for r in self._carry_raw], pa.string())
        table = _reject_table(
            np.array(self._carry_line_no, dtype=np.int64),
            np.full(n, CODE["orphan_fragment"], dtype=np.uint8),
            raw,
        )
        self._carry_raw, self._carry_line_no = [], []
        stats = DecodeStats(rejected=n, rejected_sentences=n)
        out = DecodedBatch.empty()
        out.rejects, out.stats = table, stats
        return out


def _context(block: LineBlock, s: Sentences, a: Assembled) -> Context:
    has_src = s.src_len >= 0
    src = None
    if has_src.any():
        src = strings_from_ranges(block.buf, s.src_start, s.src_len, has_src).take(
            pa.array(a.first)
        )
    return Context(
        line_no=block.line_no[s.line[a.last]],
        time_us=a.time_us,
        has_time=a.has_time,
        source=src,
    )


def _rejects(block: LineBlock, s: Sentences, a: Assembled, res: MessageResult) -> pa.Table:
    """Sentence rejects (malformed, orphan) and message rejects (too short, bad part)."""
    bad = np.flatnonzero(s.status != 0)
    sent = np.concatenate((bad, a.orphans))
    codes = np.concatenate((s.status[bad], np.full(len(a.orphans), CODE["orphan_fragment"])))
    lines = s.line[sent]
    # A rejected multi-part message is reported at its last sentence, raw = all its lines.
    msg_last_lines = s.line[a.last[res.reject_rows]]
    all_lines = np.concatenate((lines, msg_last_lines))
    raw = raw_lines(
        block.buf, block.starts[all_lines], block.ends[all_lines] - block.starts[all_lines]
    )
    raw = _join_multipart_raw(block, s, a, res, raw, len(lines))
    return _reject_table(
        block.line_no[all_lines],
        np.concatenate((codes, res.reject_codes)).astype(np.uint8),
        raw,
    )


def _join_multipart_raw(
    block: LineBlock, s: Sentences, a: Assembled, res: MessageResult, raw: pa.Array, offset: int
) -> pa.Array:
    return _join_fragments(block, s, a, res.reject_rows, raw, offset)


def _join_fragments(
    block: LineBlock, s: Sentences, a: Assembled, messages: np.ndarray, raw: pa.Array, offset: int
) -> pa.Array:
    """`raw` (texts of the messages' last lines from `offset` on) with the text of each
    multi-part message replaced by all its lines joined by newlines."""
    multi = np.flatnonzero(a.multi[messages] >= 0)
    if not multi.size:
        return raw
    texts = raw.to_pylist()
    for k in multi:  # multi-part messages are few among those asked for
        frags = a.fragments(messages[k])
        parts = [bytes(block.buf[block.starts[i] : block.ends[i]]) for i in s.line[frags]]
        texts[offset + k] = b"\n".join(parts).decode("utf-8", "replace")
    return pa.array(texts, type=pa.string())


def _message_raw(block: LineBlock, s: Sentences, a: Assembled, messages: np.ndarray) -> pa.Array:
    """The text of each message: its line (its lines for a multi-part one)."""
    lines = s.line[a.last[messages]]
    raw = raw_lines(block.buf, block.starts[lines], block.ends[lines] - block.starts[lines])
    return _join_fragments(block, s, a, messages, raw, 0)


def _stats(block: LineBlock, s: Sentences, a: Assembled, res: MessageResult) -> DecodeStats:
    fresh = ~block.carried
    n_lines = int(fresh.sum())
    n_sent = int(fresh[s.line].sum())
    rej_sent = int((s.status != 0).sum()) + len(a.orphans)
    rej_msg = len(res.reject_rows)
    return DecodeStats(
        lines=n_lines,
        non_ais=n_lines - n_sent,
        sentences=n_sent,
        messages=len(a),
        decoded=res.decoded,
        undecoded_type=res.undecoded,
        rejected=rej_sent + rej_msg,
        rejected_sentences=rej_sent,
        rejected_messages=rej_msg,
        sentences_in_messages=a.consumed,
    )


def decode_lines(lines: Sequence[str] | Sequence[bytes], first_line_no: int = 1) -> DecodedBatch:
    """Decode a complete set of lines (each element is one line; never raises on content).

    Multi-part messages left incomplete at the end are reported as orphans.
    """
    line_no = np.arange(first_line_no, first_line_no + len(lines), dtype=np.int64)
    dec = NmeaDecoder()
    batch = dec.decode_block(block_from_lines(lines, line_no)).merge(dec.flush())
    if batch.stats.rejected:  # orphans found by the final flush go into line order
        batch.rejects = batch.rejects.sort_by("line_no")
    return batch


def decode_nmea_file(
    path: str | os.PathLike[str],
    batch_lines: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[DecodedBatch]:
    """Stream-decode a plain or gzip (detected by magic number) NMEA file in bounded memory.

    Yields one ``DecodedBatch`` per ``batch_lines`` lines; multi-part messages spanning a
    batch boundary are reassembled (rows appear in the batch of their last sentence).  A
    fragment carried over and later found orphaned is reported in the batch where that is
    known, so a batch's rejects may include earlier line numbers.  ``progress`` gets the
    on-disk bytes read so far.  An empty file yields nothing.
    """
    dec = NmeaDecoder()
    prev: DecodedBatch | None = None
    for block in iter_file_blocks(path, batch_lines, progress):
        batch = dec.decode_block(block)
        if prev is not None:
            yield prev
        prev = batch
    tail = dec.flush()
    if prev is not None:
        yield prev.merge(tail)
    elif tail.rejects.num_rows:
        yield tail


T = TypeVar("T")


def decode_nmea_file_on(
    path: str | os.PathLike[str],
    threads: int,
    then: Callable[[DecodedBatch], T],
    batch_lines: int = 200_000,
    progress: Callable[[int], None] | None = None,
    untimed_fields: bool = True,
) -> Iterator[T]:
    """`then(batch)` of each batch of the file, in file order, the batches decoded on
    `threads` threads (`then` runs there too): the lines are read and the messages assembled
    (`NmeaDecoder.assemble`: the carry of multi-part messages) in the caller's thread, block
    after block, while the pool builds and scans the blocks ahead and decodes those
    assembled. At most `2 * threads` blocks are in flight. The batches are those of
    `decode_nmea_file`, except that the orphans the end of the file leaves are a batch of
    their own (when there are any). With `threads` <= 1 all of it runs in the caller's thread. `untimed_fields` False:
    the fields of positions without a time are not decoded (`decode_messages`)."""
    dec = NmeaDecoder()
    batches = iter_file_lines(path, batch_lines, progress)
    if threads <= 1:
        for lines in batches:
            yield then(dec.decode_block(lines.block(), untimed_fields))
    else:
        pool = ThreadPoolExecutor(threads, thread_name_prefix="cargotrace-nmea")
        scans: deque[Future[Scanned]] = deque()
        outs: deque[Future[T]] = deque()

        def assemble_next() -> None:  # the oldest scanned block: its messages, then decoded
            asm = dec.assemble(scans.popleft().result())
            outs.append(pool.submit(lambda: then(decode_assembled(asm, untimed_fields))))

        try:
            for lines in batches:
                scans.append(pool.submit(_scan_lines, lines))
                del lines
                if len(scans) >= threads:
                    assemble_next()
                while len(outs) + len(scans) > 2 * threads:
                    yield outs.popleft().result()
            while scans:
                assemble_next()
            while outs:
                yield outs.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    tail = dec.flush()
    if tail.rejects.num_rows:
        yield then(tail)
