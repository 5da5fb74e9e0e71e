"""Line buffers for the NMEA decoder.

Every later stage works on one contiguous ``uint8`` buffer plus per-line offset arrays, so
that splitting, validating and bit-twiddling are compiled passes or whole-array NumPy
operations rather than a Python loop per line.  This module builds such blocks from an in-memory sequence of lines
or from a (possibly gzipped) file read in bounded chunks.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cargotrace.errors import InputError
from cargotrace.ingest.readers.sources import (
    MAX_LINE_BYTES,
    capped_gzip,
    max_input_bytes,
    max_line_bytes,
    open_binary,
)

# Zero bytes appended to every buffer: look-ahead reads (``buf[p + k]``) and fixed-width
# gathers (time tokens, payload character matrices) never have to bounds-check.
PAD = 128
_SPACE = np.uint8(32)  # bytes <= 32 (space and control characters) are stripped

_CHUNK_BYTES = 8 << 20
# A "line" longer than this (default; `sources.max_line_bytes()` reads the setting) cannot
# be an AIS sentence; keep only its head so that a file without newlines cannot make the
# reader buffer it whole. Its sentence is rejected as `line_too_long`.
_MAX_LINE_BYTES = MAX_LINE_BYTES
_KEEP_OF_LONG_LINE = 4096


@dataclass
class LineBlock:
    """A batch of lines in one padded buffer.

    ``starts``/``ends`` delimit each line with surrounding whitespace already stripped;
    ``carried`` marks fragments re-fed from the previous batch (they were counted there);
    ``too_long`` (None: none) marks lines that were longer than the line limit.
    """

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    line_no: np.ndarray
    carried: np.ndarray
    too_long: np.ndarray | None = None  # lines cut to their head (longer than the limit)

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
        None
        if first.too_long is None and second.too_long is None
        else np.concatenate((_too_long(first), _too_long(second))),
    )


def _too_long(block: LineBlock) -> np.ndarray:
    return np.zeros(len(block), bool) if block.too_long is None else block.too_long


def open_maybe_gzip(path: str | os.PathLike[str]) -> tuple[BinaryIO, BinaryIO]:
    """Open ``path`` for binary reading, transparently gunzipping by magic number.

    Returns ``(reader, raw)``: ``raw.tell()`` gives the on-disk bytes consumed, which is
    what a progress bar over the file size needs even for compressed input.
    """
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":  # the ratio cap of `open_binary`; raw keeps the on-disk offset
        return capped_gzip(raw, str(path), max_input_bytes()), raw  # type: ignore[return-value]
    if magic == b"PK\x03\x04":  # a zip: its one member, with the bomb checks of `open_binary`
        return open_binary(Path(path)), raw  # type: ignore[return-value]
    return raw, raw


class _ChunkLines:
    """Accumulate read chunks until they hold ``batch_lines`` complete lines.

    Newline positions are found once per chunk (NumPy) and handed on with each batch. A
    line longer than ``max_line`` is cut to its head as soon as it is seen (so memory stays
    bounded whatever the lines) and handed on with the batch's other cut lines, whose
    sentences the decoder rejects as ``line_too_long``.
    """

    def __init__(self, batch_lines: int, max_line: int = _MAX_LINE_BYTES) -> None:
        self.batch_lines = max(1, int(batch_lines))
        self.max_line = max(int(max_line), 1)
        self.keep = min(_KEEP_OF_LONG_LINE, self.max_line)  # the head kept of a long line
        self.parts: list[bytes] = []
        self.newlines: list[np.ndarray] = []
        self.count = 0  # newlines held
        self.size = 0
        self.tail_len = 0  # bytes after the last newline
        self.skipping = False  # inside an over-long line: drop bytes until its newline
        self.cut_lines: list[int] = []  # offsets (in the held bytes) of lines cut to their head

    def add(self, chunk: bytes) -> Iterator[tuple[bytes, np.ndarray, list[int]]]:
        if self.skipping:
            cut = chunk.find(b"\n")
            if cut < 0:
                return
            self.skipping = False
            chunk = chunk[cut:]  # keep the newline that terminates the truncated line
        nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        if len(nl):
            lengths = np.diff(nl, prepend=-1) - 1
            lengths[0] += self.tail_len  # the first line began in the bytes held
            if (lengths > self.max_line).any():  # rare: cut the long lines of this chunk
                chunk = self._shorten(chunk, nl, lengths)
                nl = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        self.parts.append(chunk)
        self.newlines.append(nl + self.size)
        self.size += len(chunk)
        self.count += len(nl)
        self.tail_len = len(chunk) - int(nl[-1]) - 1 if len(nl) else self.tail_len + len(chunk)
        if self.count >= self.batch_lines:
            yield from self._cut_batches()
        if self.tail_len > self.max_line:
            self._cut_tail()
            self.skipping = True

    def _shorten(self, chunk: bytes, nl: np.ndarray, lengths: np.ndarray) -> bytes:
        """The chunk with each complete line longer than the limit cut to its head."""
        pieces: list[bytes] = []
        written = pos = 0
        for i in np.flatnonzero(lengths > self.max_line):
            begin, end = (int(nl[i - 1]) + 1 if i else 0), int(nl[i])
            if i == 0 and self.tail_len:  # began in the held bytes: cut those, drop the rest
                self._cut_tail()
            else:
                self.cut_lines.append(self.size + written + begin - pos)
                pieces.append(chunk[pos : begin + self.keep])
                written += len(pieces[-1])
            pos = end
        pieces.append(chunk[pos:])
        return b"".join(pieces)

    def _joined(self) -> tuple[bytes, np.ndarray]:
        data = b"".join(self.parts)
        nl = np.concatenate(self.newlines) if self.newlines else np.zeros(0, np.int64)
        return data, nl

    def _keep(self, data: bytes, nl: np.ndarray) -> None:
        self.parts, self.newlines = [data], [nl]
        self.size, self.count = len(data), len(nl)

    def _cut_tail(self) -> None:
        """Cut the line being held (after the last newline) to its head."""
        data, nl = self._joined()
        start = len(data) - self.tail_len
        self._keep(data[: start + self.keep], nl)
        self.cut_lines.append(start)
        self.tail_len = min(self.tail_len, self.keep)

    def _cut_batches(self) -> Iterator[tuple[bytes, np.ndarray, list[int]]]:
        data, nl = self._joined()
        pos, k = 0, 0
        while len(nl) - k >= self.batch_lines:
            cut = int(nl[k + self.batch_lines - 1]) + 1
            cut_lines = [c - pos for c in self.cut_lines if pos <= c < cut]
            yield data[pos:cut], nl[k : k + self.batch_lines] - pos, cut_lines
            pos, k = cut, k + self.batch_lines
        self.cut_lines = [c - pos for c in self.cut_lines if c >= pos]
        self._keep(data[pos:], nl[k:] - pos)

    def finish(self) -> Iterator[tuple[bytes, np.ndarray, list[int]]]:
        data, nl = self._joined()
        cut_lines, self.cut_lines = self.cut_lines, []
        self._keep(b"", np.zeros(0, np.int64))
        if data:
            yield data, nl, cut_lines


@dataclass
class FileLines:
    """A batch of a file's lines as read, before its `LineBlock` is built (`block`: on any
    thread, e.g. that which scans it)."""

    data: bytes
    newlines: np.ndarray  # positions of the newlines in ``data``
    cut_lines: list[int]  # offsets of the lines cut to their head
    first_line_no: int

    def __len__(self) -> int:
        """Lines: a trailing newline does not start an empty line."""
        ends_open = len(self.data) > 0 and not self.data.endswith(b"\n")
        return len(self.newlines) + int(ends_open)

    def block(self) -> LineBlock:
        block = block_from_bytes(self.data, self.first_line_no, self.newlines)
        if self.cut_lines:  # line index = newlines before the line's first byte
            block.too_long = np.zeros(len(block), bool)
            block.too_long[np.searchsorted(self.newlines, self.cut_lines)] = True
        return block


def iter_file_lines(
    path: str | os.PathLike[str],
    batch_lines: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[FileLines]:
    """Yield batches of at most ``batch_lines`` lines of a plain or gzipped file, as read.

    Memory stays bounded by one batch plus one read chunk whatever the file size.
    """
    reader, raw = open_maybe_gzip(path)
    acc = _ChunkLines(batch_lines, max_line_bytes())
    line_no = 1
    try:
        while True:
            try:
                chunk = reader.read(_CHUNK_BYTES)
            except (OSError, EOFError, zlib.error) as exc:  # a damaged or cut .gz
                raise InputError(
                    f"cannot read past line {line_no - 1 + acc.count}: compressed content is damaged ({exc})",
                    file=str(path),
                ) from None
            except InputError as exc:  # damaged, or a decompression bomb (the gzip cap)
                raise InputError(
                    f"cannot read past line {line_no - 1 + acc.count}: {exc.detail}", file=str(path)
                ) from None
            batches = acc.add(chunk) if chunk else acc.finish()
            for data, newlines, cut_lines in batches:
                if progress is not None:
                    progress(raw.tell())
                lines = FileLines(data, newlines, cut_lines, line_no)
                line_no += len(lines)
                yield lines
            if not chunk:
                break
    finally:
        reader.close()
        raw.close()


def iter_file_blocks(
    path: str | os.PathLike[str],
    batch_lines: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LineBlock]:
    """Yield blocks of at most ``batch_lines`` lines of a plain or gzipped file
    (`iter_file_lines`, each batch's block built)."""
    for lines in iter_file_lines(path, batch_lines, progress):
        yield lines.block()
