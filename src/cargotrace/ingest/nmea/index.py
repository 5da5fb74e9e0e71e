"""Delimiter indexes over byte buffers, and compaction of irregular text regions.

Finding every ``,``/``*``/``:`` of a whole batch costs a full pass plus a large
``nonzero``; the fast path avoids it for standard sentences, and only the irregular regions
(tag blocks, trailing receiver fields, non-standard sentences) are copied into a compact
buffer (``Regions``) and indexed there, so the cost follows the amount of irregular text.
"""

from __future__ import annotations

import numpy as np

from cargotrace.ingest.nmea.arrow import gather_ranges
from cargotrace.ingest.nmea.lines import PAD

BIG = np.iinfo(np.int64).max // 4
HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    HEX[_c] = 10 + _i

# One ``bytes.translate`` pass classifies every byte: 0 = valid payload armour character,
# otherwise a delimiter class or _OTHER (':' is both armour and a tag-block delimiter).
_OTHER, _STAR, _COMMA, _COLON = 1, 2, 3, 4
_TABLE = bytearray(_OTHER for _ in range(256))
for _c in range(256):
    if 48 <= _c <= 87 or 96 <= _c <= 119:
        _TABLE[_c] = 0
for _c, _k in ((42, _STAR), (44, _COMMA), (58, _COLON)):
    _TABLE[_c] = _k
CLASS_TABLE = bytes(_TABLE)


class Index:
    """Sorted positions of one delimiter byte, with an out-of-range sentinel appended."""

    def __init__(self, positions: np.ndarray) -> None:
        self.pos = np.append(positions, BIG)

    def first(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position of the first occurrence in ``[lo, hi)`` and whether there is one."""
        p = self.pos[np.minimum(np.searchsorted(self.pos, lo), len(self.pos) - 1)]
        return p, p < hi

    def count(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the first occurrence at/after ``lo`` and the count within ``[lo, hi)``."""
        i0: np.ndarray = np.searchsorted(self.pos, lo)
        return i0, np.searchsorted(self.pos, hi) - i0

    def at(self, i: np.ndarray) -> np.ndarray:
        found: np.ndarray = self.pos[np.clip(i, 0, len(self.pos) - 1)]
        return found


class Scan:
    """``*``, ``,`` and ``:`` indexes of ``buf[:size]`` from a single classification pass."""

    def __init__(self, buf: np.ndarray, size: int) -> None:
        self.buf = buf
        cls = np.frombuffer(buf[:size].tobytes().translate(CLASS_TABLE), np.uint8)
        special = np.flatnonzero(cls != 0)
        kind = cls[special]
        self.star = Index(special[kind == _STAR])
        self.comma = Index(special[kind == _COMMA])
        is_colon = kind == _COLON
        self.colon = Index(special[is_colon])
        # Rank of each comma among all non-armour bytes: two consecutive commas enclose only
        # armour characters exactly when their ranks are consecutive.
        self.comma_rank = np.flatnonzero(kind[~is_colon] == _COMMA)

    def armour_only_between(self, i: np.ndarray) -> np.ndarray:
        """Whether only armour characters lie between comma ``i`` and comma ``i + 1``."""
        rank = self.comma_rank
        if len(rank) == 0:
            return np.zeros(len(i), dtype=bool)
        last = len(rank) - 1
        only: np.ndarray = rank[np.clip(i + 1, 0, last)] == rank[np.clip(i, 0, last)] + 1
        return only


class Regions:
    """Byte ranges ``buf[lo:hi]`` copied back to back (newline-separated) and indexed.

    ``lo``/``hi`` are the ranges in the compact buffer; ``shift`` maps a compact position of
    row ``i`` back to the original buffer (``original = compact + shift[i]``).
    """

    def __init__(self, buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        lens = np.maximum(hi - lo, 0)
        self.lo = np.cumsum(lens + 1) - (lens + 1)
        self.hi = self.lo + lens
        total = int((lens + 1).sum())
        cbuf = np.zeros(total + PAD, dtype=np.uint8)
        cbuf[:total] = gather_ranges(buf, lo, lens + 1)  # +1: room for the separator
        cbuf[self.hi] = 10
        self.buf = cbuf
        self.shift = lo - self.lo
        self.scan = Scan(cbuf, total)


def xor_ranges(buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """XOR of ``buf[lo:hi]`` per range; ranges must be sorted and non-overlapping."""
    out = np.zeros(len(lo), dtype=np.uint8)
    nz = np.flatnonzero(hi > lo)
    if nz.size:
        idx = np.empty(2 * nz.size, dtype=np.int64)
        idx[0::2], idx[1::2] = lo[nz], hi[nz]
        out[nz] = np.bitwise_xor.reduceat(buf, idx)[0::2]
    return out


def first_at_or_after(
    positions: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First of the sorted ``positions`` in ``[lo, hi)`` (value clamped to ``hi``), found."""
    pos = np.append(positions, BIG)
    p = pos[np.searchsorted(pos, lo)]
    found = p < hi
    return np.where(found, p, hi), found
