"""Byte-level tests on Arrow text columns, read straight from their buffers with NumPy.

Arrow's string kernels (`starts_with`, `match_substring`, ...) pay a per-cell cost that
dominates on short cells: ten prefix/suffix tests on a million-row column took ~40 ms where a
look at the first and last byte of every cell takes ~3 ms. These helpers answer "does any
cell ...?" from the offsets and data buffers, so a column is copied (trimmed, split) only when
some cell needs it. UTF-8 is self-synchronising, so a byte test never mistakes the middle of
a character for an ASCII character.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

# the ASCII white space a cell may start or end with, and U+00A0 (no-break space, C2 A0)
_EDGE_BYTE = np.zeros(256, bool)
_EDGE_BYTE[[0x20, 0x09, 0x0D, 0x0A]] = True
# first bytes of every character Unicode counts as white space or a control: ASCII up to
# the space, C2 (U+0080-00BF: NEL, no-break space), E1 (U+1680, U+180E), E2 (U+2000-206F),
# E3 (U+3000), EF (U+FEFF)
_SPACE_LEAD = np.zeros(256, bool)
_SPACE_LEAD[[*range(0x21), 0x7F, 0xC2, 0xE1, 0xE2, 0xE3, 0xEF]] = True
_BLOCK = 1 << 20  # bytes compared at once


def _chunks(column: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a text array: cell i is data[offsets[i]:offsets[i + 1]]."""
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        raise TypeError(f"a text column was expected, not {chunk.type}")
    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64), data


def _offsets(chunk: pa.Array) -> np.ndarray:
    """The offsets of a text array as they are (not widened: a copy of the column's)."""
    _, offsets_buffer, _ = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    return np.frombuffer(offsets_buffer, width)[chunk.offset : chunk.offset + len(chunk) + 1]


def _pieces(
    column: pa.ChunkedArray | pa.Array,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(starts, ends, data) of the valid cells of each chunk, as byte offsets into data."""
    for chunk in _chunks(column):
        if not len(chunk) or chunk.null_count == len(chunk):
            continue
        offsets, data = _buffers(chunk)
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = np.asarray(chunk.is_valid())
            starts, ends = starts[valid], ends[valid]
        yield starts, ends, data


def any_empty(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether some valid cell is the empty string (a chunk without NULLs: from its offsets
    as they are, not widened to 64 bits)."""
    for chunk in _chunks(column):
        if not len(chunk):
            continue
        if chunk.null_count:
            if any(bool((ends == starts).any()) for starts, ends, _ in _pieces(chunk)):
                return True
            continue
        offsets = _offsets(chunk)
        if bool((offsets[1:] == offsets[:-1]).any()):
            return True
    return False


def any_contains_byte(column: pa.ChunkedArray | pa.Array, byte: int) -> bool:
    """Whether some valid cell holds `byte` (an ASCII byte: it is never part of another
    character in UTF-8). The data buffer is scanned in blocks of _BLOCK bytes, so no
    temporary grows with the column (a chunk may hold 192 MB of text)."""
    for starts, ends, data in _pieces(column):
        if not len(starts):
            continue
        tiled = len(starts) == 1 or bool((starts[1:] == ends[:-1]).all())
        end = int(ends.max())
        for lo in range(int(starts.min()), end, _BLOCK):
            found = data[lo : min(lo + _BLOCK, end)] == byte
            if not found.any():
                continue
            if tiled:
                return True  # the cells tile the buffer: a byte in it is in a cell
            hits = np.flatnonzero(found) + lo  # null slots may own bytes: locate each hit
            cell = np.searchsorted(starts, hits, side="right") - 1
            if bool(((cell >= 0) & (hits < ends[np.clip(cell, 0, None)])).any()):
                return True
    return False


def any_edge_space(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether some valid cell starts or ends with an ASCII space, tab, CR, LF or U+00A0.

    A chunk without NULLs (Arrow's CSV reader gives those) is tested on the bytes at its
    offsets, without masks: the byte at an empty cell's start is the first byte of the next
    filled cell, the byte before its end the last byte of the filled cell before it, so each
    byte looked at starts or ends a filled cell (the empty cells at either end are left
    out). A chunk whose text holds no byte up to the space nor C2 (U+00A0's first) has no
    such cell and is not looked at further: a comparison of its bytes, not a look-up per
    cell (the first and last bytes of every cell of 14 columns took 0.55 s of the main
    thread's 7.3 CPU s of a 3 M-row NOAA file, Dec 2026; most of its columns hold no space).
    Else each cell's first (last) byte is looked up once in a table of the bytes a cell may
    not start (end) with, U+00A0's included, and only the cells found are looked at again."""
    for chunk in _chunks(column):
        if not len(chunk) or chunk.null_count == len(chunk):
            continue
        if chunk.null_count:
            if _any_edge_masked(chunk):
                return True
            continue
        offsets = _offsets(chunk)
        lo, hi = int(offsets[0]), int(offsets[-1])
        if hi == lo:  # every cell empty
            continue
        data = np.frombuffer(chunk.buffers()[2], np.uint8)
        text = data[lo:hi]
        if not (bool((text <= 0x20).any()) or bool((text == 0xC2).any())):
            continue  # no such byte in any cell (most columns: numbers, codes, times)
        starts = offsets[: int(np.searchsorted(offsets, hi))]  # cells starting before the end
        ends = offsets[int(np.searchsorted(offsets, lo, side="right")) :]  # ending after the start
        first = data[starts]
        if _FIRST_TEST[first].any() and _starts_with_edge(first, starts, data):
            return True
        last = data[ends - 1]
        if _LAST_TEST[last].any() and _ends_with_edge(last, ends, data):
            return True
    return False


_FIRST_TEST = _EDGE_BYTE.copy()
_FIRST_TEST[0xC2] = True  # U+00A0 is C2 A0
_LAST_TEST = _EDGE_BYTE.copy()
_LAST_TEST[0xA0] = True


def _starts_with_edge(first: np.ndarray, starts: np.ndarray, data: np.ndarray) -> bool:
    if _EDGE_BYTE[first].any():
        return True
    lead = starts[first == 0xC2] + 1  # valid UTF-8: a lead byte has a byte after it
    return bool((data[lead[lead < len(data)]] == 0xA0).any())


def _ends_with_edge(last: np.ndarray, ends: np.ndarray, data: np.ndarray) -> bool:
    if _EDGE_BYTE[last].any():
        return True
    tail = ends[last == 0xA0] - 2  # valid UTF-8: a continuation byte has a byte before it
    return bool((data[tail[tail >= 0]] == 0xC2).any())


def _any_edge_masked(chunk: pa.Array) -> bool:
    """`any_edge_space` of a chunk with NULLs: the valid cells' first and last bytes (a
    NULL slot may own bytes), looked up in the table, empty cells masked out."""
    for starts, ends, data in _pieces(chunk):
        if not len(starts) or not len(data):  # no cell, or every cell empty
            continue
        filled = ends > starts
        first = data[np.minimum(starts, len(data) - 1)]
        last = data[np.maximum(ends - 1, 0)]
        if (_EDGE_BYTE[first] & filled).any() or (_EDGE_BYTE[last] & filled).any():
            return True
        two = ends - starts >= 2
        nbsp_first, nbsp_last = two & (first == 0xC2), two & (last == 0xA0)
        if nbsp_first.any() and (data[starts[nbsp_first] + 1] == 0xA0).any():
            return True
        if nbsp_last.any() and (data[ends[nbsp_last] - 2] == 0xC2).any():
            return True
    return False


def may_be_blank_rows(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Row numbers (from 0) of the valid cells that may be blank (empty or white space only):
    the empty ones and those whose first byte starts a white-space character. Every blank
    cell is among them; the exact test need only look at these."""
    found, base = [], 0
    for chunk in _chunks(column):
        if len(chunk) and chunk.null_count < len(chunk):
            offsets, data = _buffers(chunk)
            starts, ends = offsets[:-1], offsets[1:]
            candidate = ends == starts
            filled = ~candidate
            candidate[filled] = _SPACE_LEAD[data[starts[filled]]]
            if chunk.null_count:
                candidate &= np.asarray(chunk.is_valid())
            found.append(np.flatnonzero(candidate) + base)
        base += len(chunk)
    return np.concatenate(found) if found else np.zeros(0, np.int64)
