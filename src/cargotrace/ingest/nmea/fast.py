"""Fast path for standard sentence bodies ``!ttVDx,c,n,[s],[c],payload,f*hh``.

It reads a small fixed-width header window per sentence (one sliding-window row copy)
and the bytes around ``*`` instead of indexing every delimiter of the batch.  Only the
standard shapes are accepted: a 0-1 digit sequence id and a 0-1 character channel.  A row it
accepts is fully validated except for its checksum; anything else (long payloads, odd
field widths, garbage) is left to ``nmea_generic``, which also names the reason.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea.generic import MAX_PAYLOAD_CHARS
from cargotrace.ingest.nmea.index import HEX

HEADER = 16  # '!AIVDM,9,9,9,A,' is 15 bytes
_COMMA = 44


def _seq_and_channel(head: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standard ``seq,chan,`` after column 10: 0-1 digit sequence id, 0-1 char channel.

    Returns ``(ok, c4, seq, chan)`` with ``c4`` the column of the comma before the payload.
    Longer sequence ids / channels are legal but rare and left to the generic parser.
    """
    c11, c12, c13, c14 = (head[:, k] for k in (11, 12, 13, 14))
    seq_empty = c11 == _COMMA
    seq_one = ((c11 - np.uint8(48)) <= 9) & (c12 == _COMMA)
    ch = np.where(seq_empty, c12, c13)
    after = np.where(seq_empty, c13, c14)
    chan_empty = ch == _COMMA
    chan_one = ~chan_empty & (after == _COMMA)
    ok = (seq_empty | seq_one) & (chan_empty | chan_one)
    c4 = np.where(seq_empty, 12, 13) + chan_one
    seq = np.where(seq_empty, -1, c11.astype(np.int64) - 48)
    chan = np.where(chan_one, ch, 0).astype(np.int64)
    return ok, c4, seq, chan


def payload_valid(classes: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Every payload character is armour (which also rules out extra commas).

    ``classes`` is the batch's byte classification (0 = armour); an OR-``reduceat`` over the
    (sorted, disjoint) payload ranges checks them all at once.
    """
    if len(start) == 0:
        return np.zeros(0, dtype=bool)
    idx = np.empty(2 * len(start), dtype=np.int64)
    idx[0::2], idx[1::2] = start, np.minimum(start + length, len(classes) - 1)
    clean: np.ndarray = np.bitwise_or.reduceat(classes, idx)[0::2] == 0
    return clean


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
    sc_ok, c4, seq, chan = _seq_and_channel(head)
    ok &= sc_ok
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
