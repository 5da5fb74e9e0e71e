"""Fast path for standard sentence bodies ``!ttVDx,c,n,[seq],[ch],payload,f*hh``.

It reads a small fixed-width header window per sentence (one sliding-window row copy)
and the bytes around ``*`` instead of indexing every delimiter of the batch.  A row it
accepts is fully validated except for its checksum; anything else (long payloads, odd
field widths, garbage) is left to ``nmea_generic``, which also names the reason.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea_generic import MAX_PAYLOAD_CHARS
from cargotrace.ingest.nmea_index import HEX

HEADER = 24  # '!AIVDM,9,9,999,AB,' is 18 bytes
_COMMA = 44


def _digit(col: np.ndarray) -> np.ndarray:
    return (col - np.uint8(48)) <= 9


def _sequence_id(head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comma column ending the 0-3 digit sequence id at column 11 (-1: none) and its value."""
    d0, d1, d2 = _digit(head[:, 11]), _digit(head[:, 12]), _digit(head[:, 13])
    end = np.where(head[:, 11] == _COMMA, 11, -1)
    end = np.where((end < 0) & d0 & (head[:, 12] == _COMMA), 12, end)
    end = np.where((end < 0) & d0 & d1 & (head[:, 13] == _COMMA), 13, end)
    end = np.where((end < 0) & d0 & d1 & d2 & (head[:, 14] == _COMMA), 14, end)
    v0, v1, v2 = (head[:, 11 + j].astype(np.int64) - 48 for j in range(3))
    val = np.where(end == 12, v0, np.where(end == 13, v0 * 10 + v1, v0 * 100 + v1 * 10 + v2))
    return end, np.where(end == 11, -1, val)


def _channel(head: np.ndarray, c3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comma column ending the 0-2 character channel after column ``c3`` and its code."""
    rows = np.arange(len(head))
    h1, h2, h3 = (head[rows, c3 + k].astype(np.int64) for k in (1, 2, 3))
    c4 = np.where(h1 == _COMMA, c3 + 1, np.where(h2 == _COMMA, c3 + 2, -1))
    c4 = np.where((c4 < 0) & (h3 == _COMMA), c3 + 3, c4)
    length = c4 - c3 - 1
    code = np.where(length >= 1, h1, 0) | np.where(length >= 2, h2 << 8, 0)
    return c4, code


def payload_valid(classes: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Every payload character is armour (which also rules out extra commas).

    ``classes`` is the batch's byte classification (0 = armour); an OR-``reduceat`` over the
    (sorted, disjoint) payload ranges checks them all at once.
    """
    if len(start) == 0:
        return np.zeros(0, dtype=bool)
    idx = np.empty(2 * len(start), dtype=np.int64)
    idx[0::2], idx[1::2] = start, np.minimum(start + length, len(classes) - 1)
    return np.bitwise_or.reduceat(classes, idx)[0::2] == 0


def fast_body(
    buf: np.ndarray,
    classes: np.ndarray,
    s0: np.ndarray,
    star: np.ndarray,
    en: np.ndarray,
    has_star: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Parse standard sentence bodies; returns ``(accepted, fields)``.

    ``classes``: per data byte of ``buf``, 0 for payload armour characters.
    """
    head = sliding_window_view(buf, HEADER)[s0]
    ok = has_star & (head[:, 6] == _COMMA) & (head[:, 8] == _COMMA) & (head[:, 10] == _COMMA)
    cnt = head[:, 7].astype(np.int64) - 48
    num = head[:, 9].astype(np.int64) - 48
    ok &= (cnt >= 1) & (cnt <= 9) & (num >= 1) & (num <= cnt)
    c3, seq = _sequence_id(head)
    ok &= c3 >= 0
    c4, chan = _channel(head, np.maximum(c3, 0))
    ok &= c4 >= 0
    pay_start = s0 + c4 + 1
    # ',f*hh' around the star, in one window gather
    tail = sliding_window_view(buf, 5)[np.maximum(star - 2, 0)]
    pay_len = star - 2 - pay_start
    fill = tail[:, 1].astype(np.int64) - 48
    ok &= (tail[:, 0] == _COMMA) & (fill >= 0) & (fill <= 5)
    ok &= (pay_len >= 1) & (pay_len <= MAX_PAYLOAD_CHARS) & (star + 3 <= en)
    ok &= (HEX[tail[:, 3]] < 16) & (HEX[tail[:, 4]] < 16)
    rows = np.flatnonzero(ok)
    ok[rows] = payload_valid(classes, pay_start[rows], pay_len[rows])
    return ok, {
        "cnt": cnt,
        "num": num,
        "seq": seq,
        "chan": chan,
        "fill": fill,
        "pay_start": pay_start,
        "pay_len": pay_len,
    }
