"""Line buffers for the vectorised NMEA decoder.

Every later stage works on one contiguous ``uint8`` buffer plus per-line offset arrays, so
that splitting, validating and bit-twiddling are whole-array NumPy operations rather than a
Python loop per line.  This module builds such blocks from an in-memory sequence of lines
or from a (possibly gzipped) file read in bounded chunks.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

# Zero bytes appended to every buffer: look-ahead reads (``buf[p + k]``) and fixed-width
# gathers (time tokens, payload character matrices) never have to bounds-check.
PAD = 128
_SPACE = np.uint8(32)  # bytes <= 32 (space and control characters) are stripped

_CHUNK_BYTES = 8 << 20
# A "line" longer than this cannot be an AIS sentence; keep only its head so that a file
# without newlines cannot make the reader buffer it whole.
_MAX_LINE_BYTES = 1 << 20
_KEEP_OF_LONG_LINE = 4096


@dataclass
class LineBlock:
    """A batch of lines in one padded buffer.

    ``starts``/``ends`` delimit each line with surrounding whitespace already stripped;
    ``carried`` marks fragments re-fed from the previous batch (they were counted there).
    """

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    line_no: np.ndarray
    carried: np.ndarray

    @property
    def size(self) -> int:
        """Number of data bytes (without the zero padding)."""
        return len(self.buf) - PAD

    def __len__(self) -> int:
        return len(self.starts)


def _padded(data: bytes) -> np.ndarray:
    buf = np.zeros(len(data) + PAD, dtype=np.uint8)
    buf[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return buf


def _strip(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Strip spaces/control bytes in place; iterates per stripped *character*, not per line."""
    active = np.flatnonzero(ends > starts)
    while active.size:
        active = active[buf[ends[active] - 1] <= _SPACE]
        ends[active] -= 1
        active = active[ends[active] > starts[active]]
    active = np.flatnonzero(ends > starts)
    while active.size:
        active = active[buf[starts[active]] <= _SPACE]
        starts[active] += 1
        active = active[ends[active] > starts[active]]


def _make_block(
    data: bytes, starts: np.ndarray, ends: np.ndarray, line_no: np.ndarray
) -> LineBlock:
    buf = _padded(data)
    starts = starts.astype(np.int64, copy=True)
    ends = ends.astype(np.int64, copy=True)
    _strip(buf, starts, ends)
    return LineBlock(buf, starts, ends, line_no.astype(np.int64), np.zeros(len(starts), bool))


def block_from_bytes(
    data: bytes, first_line_no: int = 1, newlines: np.ndarray | None = None
) -> LineBlock:
    """Split newline-separated bytes; a trailing newline does not start an empty line.

    ``newlines`` (positions of every ``\\n`` in ``data``) may be passed when already known.
    """
    nl = newlines if newlines is not None else np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(data)]))
    if len(data) == 0 or data.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    line_no = np.arange(first_line_no, first_line_no + len(starts), dtype=np.int64)
    return _make_block(data, starts, ends, line_no)


def _encode(line: str | bytes | bytearray | memoryview) -> bytes:
    if isinstance(line, str):
        return line.encode("utf-8", "surrogatepass")
    return bytes(line)


def _join_lines(lines: Sequence[str] | Sequence[bytes]) -> tuple[bytes, np.ndarray]:
    """Concatenate lines and return their byte lengths (lines may contain newlines)."""
    n = len(lines)
    try:
        joined = "".join(lines)  # type: ignore[arg-type]
        data = joined.encode("utf-8", "surrogatepass")
        if len(data) == len(joined):  # pure ASCII: character lengths are byte lengths
            return data, np.fromiter(map(len, lines), dtype=np.int64, count=n)
    except TypeError:
        try:
            data = b"".join(lines)  # type: ignore[arg-type]
            return data, np.fromiter(map(len, lines), dtype=np.int64, count=n)
        except TypeError:
            pass
    parts = [_encode(x) for x in lines]
    return b"".join(parts), np.fromiter(map(len, parts), dtype=np.int64, count=n)


def block_from_lines(lines: Sequence[str] | Sequence[bytes], line_no: np.ndarray) -> LineBlock:
    """Build a block from individual lines; each element is exactly one line."""
    data, lengths = _join_lines(lines)
    ends = np.cumsum(lengths, dtype=np.int64)
    return _make_block(data, ends - lengths, ends, line_no)


def concat_blocks(first: LineBlock, second: LineBlock) -> LineBlock:
    """Prepend ``first`` (carried fragments) to ``second``."""
    shift = first.size
    buf = np.concatenate((first.buf[:shift], second.buf))
    return LineBlock(
        buf,
        np.concatenate((first.starts, second.starts + shift)),
        np.concatenate((first.ends, second.ends + shift)),
        np.concatenate((first.line_no, second.line_no)),
        np.concatenate((first.carried, second.carried)),
    )


def open_maybe_gzip(path: str | os.PathLike[str]) -> tuple[BinaryIO, BinaryIO]:
    """Open ``path`` for binary reading, transparently gunzipping by magic number.

    Returns ``(reader, raw)``: ``raw.tell()`` gives the on-disk bytes consumed, which is
    what a progress bar over the file size needs even for compressed input.
    """
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw  # type: ignore[return-value]
    return raw, raw


class _ChunkLines:
    """Accumulate read chunks until they hold ``batch_lines`` complete lines.

    Newline positions are found once per chunk (NumPy) and handed on with each batch.
    """

    def __init__(self, batch_lines: int) -> None:
        self.batch_lines = max(1, int(batch_lines))
        self.parts: list[bytes] = []
        self.newlines: list[np.ndarray] = []
        self.count = 0  # newlines held
        self.size = 0
        self.tail_len = 0  # bytes after the last newline
        self.skipping = False  # inside an over-long line: drop bytes until its newline

    def add(self, chunk: bytes) -> Iterator[tuple[bytes, np.ndarray]]:
        if self.skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                return
            self.skipping = False
            chunk = chunk[nl:]  # keep the newline that terminates the truncated line
        nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        self.parts.append(chunk)
        self.newlines.append(nl + self.size)
        self.size += len(chunk)
        self.count += len(nl)
        self.tail_len = len(chunk) - int(nl[-1]) - 1 if len(nl) else self.tail_len + len(chunk)
        if self.count >= self.batch_lines:
            yield from self._cut_batches()
        if self.tail_len > _MAX_LINE_BYTES:
            self._truncate_long_line()

    def _joined(self) -> tuple[bytes, np.ndarray]:
        data = b"".join(self.parts)
        nl = np.concatenate(self.newlines) if self.newlines else np.zeros(0, np.int64)
        return data, nl

    def _keep(self, data: bytes, nl: np.ndarray) -> None:
        self.parts, self.newlines = [data], [nl]
        self.size, self.count = len(data), len(nl)

    def _truncate_long_line(self) -> None:
        data, nl = self._joined()
        keep = len(data) - self.tail_len + _KEEP_OF_LONG_LINE
        self._keep(data[:keep], nl)
        self.tail_len, self.skipping = _KEEP_OF_LONG_LINE, True

    def _cut_batches(self) -> Iterator[tuple[bytes, np.ndarray]]:
        data, nl = self._joined()
        pos, k = 0, 0
        while len(nl) - k >= self.batch_lines:
            cut = int(nl[k + self.batch_lines - 1]) + 1
            yield data[pos:cut], nl[k : k + self.batch_lines] - pos
            pos, k = cut, k + self.batch_lines
        self._keep(data[pos:], nl[k:] - pos)

    def finish(self) -> Iterator[tuple[bytes, np.ndarray]]:
        data, nl = self._joined()
        self._keep(b"", np.zeros(0, np.int64))
        if data:
            yield data, nl


def iter_file_blocks(
    path: str | os.PathLike[str],
    batch_lines: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LineBlock]:
    """Yield blocks of at most ``batch_lines`` lines of a plain or gzipped file.

    Memory stays bounded by one batch plus one read chunk whatever the file size.
    """
    reader, raw = open_maybe_gzip(path)
    acc = _ChunkLines(batch_lines)
    line_no = 1
    try:
        while True:
            chunk = reader.read(_CHUNK_BYTES)
            batches = acc.add(chunk) if chunk else acc.finish()
            for data, newlines in batches:
                if progress is not None:
                    progress(raw.tell())
                block = block_from_bytes(data, line_no, newlines)
                line_no += len(block)
                yield block
            if not chunk:
                break
    finally:
        reader.close()
        raw.close()
