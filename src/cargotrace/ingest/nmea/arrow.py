"""Build Arrow string columns straight from byte ranges of a NumPy buffer.

Creating one Python ``str`` per row would reintroduce the per-message loop the decoder
avoids; instead the bytes are gathered in one fancy-indexing pass and handed to Arrow as
(offsets, data, validity) buffers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def gather_ranges(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``buf[starts[i]:starts[i]+lengths[i]]`` (lengths >= 0) in row order
    (read-only when the ranges do not overlap)."""
    lengths = np.maximum(lengths, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=buf.dtype)
    taken = _taken(buf, starts, lengths, total)
    if taken is not None:
        return taken
    offsets = np.cumsum(lengths) - lengths
    pos = np.repeat(starts - offsets, lengths) + np.arange(total)
    return buf[pos]


def _taken(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, total: int
) -> np.ndarray | None:
    """`gather_ranges` by Arrow's `take` over the buffer, when the ranges do not overlap
    (lines, payloads, fields): the ranges in the order of their starts, with the bytes
    between them, are the values of a binary array over ``buf`` itself (no copy), the
    ranges every other value; `take` copies them out in C++, where an index per byte
    gathered cost ~25 times as much. None when ranges overlap."""
    n = len(starts)
    if buf.ndim != 1 or not buf.flags.c_contiguous:
        return None
    ends = starts + lengths
    order = None
    if n > 1 and not bool(np.all(starts[1:] >= starts[:-1])):
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
    if n > 1 and not bool(np.all(starts[1:] >= ends[:-1])):
        return None
    offsets = np.empty(2 * n, dtype=np.int64)
    offsets[0::2], offsets[1::2] = starts, ends
    values = pa.Array.from_buffers(
        pa.large_binary(), 2 * n - 1, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    pick = np.arange(0, 2 * n, 2, dtype=np.int64)
    if order is not None:  # the k-th range asked for is the order.index(k)-th by start
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64)
        pick = 2 * rank
    out = values.take(pa.array(pick))
    data: np.ndarray = np.frombuffer(out.buffers()[2], dtype=buf.dtype, count=total)
    return data


def _bitmap(valid: np.ndarray) -> pa.Buffer | None:
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def strings_from_chars(data: np.ndarray, lengths: np.ndarray, valid: np.ndarray) -> pa.Array:
    """String array from concatenated ASCII ``data`` split by ``lengths`` (0 where null)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.where(valid, lengths, 0), out=offsets[1:])
    n = len(lengths)
    if offsets[-1] < 2**31 - 1:
        arr_type, off = pa.string(), offsets.astype(np.int32)
    else:
        arr_type, off = pa.large_string(), offsets  # type: ignore[assignment]
    arr = pa.Array.from_buffers(
        arr_type, n, [_bitmap(valid), pa.py_buffer(off), pa.py_buffer(data)], null_count=-1
    )
    return arr if arr_type == pa.string() else arr.cast(pa.string())


def strings_from_ranges(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, valid: np.ndarray
) -> pa.Array:
    """String column of byte ranges; non-ASCII bytes become ``?`` (always valid UTF-8)."""
    lengths = np.where(valid, np.maximum(lengths, 0), 0)
    data = gather_ranges(buf, starts, lengths)
    data = np.where(data < 128, data, np.uint8(63)).astype(np.uint8)
    return strings_from_chars(data, lengths, valid)


def raw_lines(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Raw text of reject lines: exact for ASCII, UTF-8 decoded with replacement otherwise."""
    lengths = np.maximum(lengths, 0)
    data = gather_ranges(buf, starts, lengths)
    valid = np.ones(len(starts), dtype=bool)
    if not (data >= 128).any():
        return strings_from_chars(data, lengths, valid)
    rows = [
        bytes(buf[s : s + n]).decode("utf-8", "replace")
        for s, n in zip(starts, lengths, strict=True)
    ]
    return pa.array(rows, type=pa.string())


def dictionary_ids(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """Small integer id per distinct byte string (-1 where not valid)."""
    lengths = np.where(valid, np.maximum(lengths, 0), 0)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    data = gather_ranges(buf, starts, lengths)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    arr = pa.Array.from_buffers(
        pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    ids = arr.dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(valid, ids, -1)
