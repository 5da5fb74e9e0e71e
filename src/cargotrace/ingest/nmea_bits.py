"""Six-bit payload de-armouring and bit-field extraction over whole message groups.

The payload characters of ``n`` messages are mapped to 6-bit values in an ``(n, k)``
matrix and packed into 60-bit words (ten characters each) held in ``uint64``.  A field is
then one or two shift-and-mask operations on a word column, for all messages at once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cargotrace.ingest.nmea_arrow import strings_from_chars

_WORD_CHARS = 10
_WORD_BITS = 60
_SHIFTS = np.arange(_WORD_BITS - 6, -1, -6, dtype=np.uint64)
SIXBIT = np.zeros(256, dtype=np.uint8)
for _c in range(48, 120):
    if _c <= 87 or _c >= 96:
        SIXBIT[_c] = (_c - 48 - 8) if _c - 48 > 40 else _c - 48
# 6-bit text alphabet: 0-31 -> '@'..'_', 32-63 -> ' '..'?'
_TEXT = np.array([v + 64 if v < 32 else v for v in range(64)], dtype=np.uint8)
_AT, _SPACE = 64, 32


def sixbit_matrix(
    ext: np.ndarray, pay_start: np.ndarray, pay_len: np.ndarray, nchars: int
) -> np.ndarray:
    """First ``nchars`` 6-bit values of each payload (zeros past its end)."""
    cols = np.arange(nchars)
    vals = SIXBIT[ext[pay_start[:, None] + cols]]
    vals[cols >= pay_len[:, None]] = 0
    return vals


def pack_words(vals: np.ndarray) -> np.ndarray:
    """Pack an ``(n, 10*w)`` 6-bit matrix into ``(n, w)`` big-endian 60-bit words."""
    n, k = vals.shape
    v = vals.reshape(n, k // _WORD_CHARS, _WORD_CHARS).astype(np.uint64)
    return np.bitwise_or.reduce(v << _SHIFTS, axis=2)


class Bits:
    """Bit access for a group of messages sharing one layout."""

    def __init__(
        self,
        ext: np.ndarray,
        pay_start: np.ndarray,
        pay_len: np.ndarray,
        fill: np.ndarray,
        nbits_max: int,
    ) -> None:
        nchars = -(-nbits_max // 6) + 1  # +1: text extraction reads one column ahead
        nchars = -(-nchars // _WORD_CHARS) * _WORD_CHARS
        self.vals = sixbit_matrix(ext, pay_start, pay_len, nchars)
        self.words = pack_words(self.vals)
        self.nbits = pay_len * 6 - fill

    def present(self, off: int, width: int) -> np.ndarray:
        """Whether the field lies wholly inside the payload (truncated fields are null)."""
        return self.nbits >= off + width

    def uint(self, off: int, width: int) -> np.ndarray:
        """Unsigned field (``width`` <= 60) as int64."""
        a, b = divmod(off, _WORD_BITS)
        w = self.words
        if b + width <= _WORD_BITS:
            val = w[:, a] >> np.uint64(_WORD_BITS - b - width)
        else:
            lo_bits = width - (_WORD_BITS - b)
            val = (w[:, a] << np.uint64(lo_bits)) | (w[:, a + 1] >> np.uint64(_WORD_BITS - lo_bits))
        return (val & np.uint64((1 << width) - 1)).astype(np.int64)

    def int(self, off: int, width: int) -> np.ndarray:
        """Two's-complement signed field as int64."""
        val = self.uint(off, width)
        return np.where(val >= 1 << (width - 1), val - (1 << width), val)

    def text(self, off: int, nchars: int) -> pa.Array:
        """6-bit text field, stripped exactly like pyais; empty or truncated -> null."""
        c0, r = divmod(off, 6)
        block = self.vals[:, c0 : c0 + nchars].astype(np.uint16)
        if r:
            nxt = self.vals[:, c0 + 1 : c0 + nchars + 1]
            block = ((block << 6) | nxt) >> (6 - r)
        chars = _TEXT[block & 63]
        start, end = _pyais_strip(chars)
        keep = (np.arange(nchars) >= start[:, None]) & (np.arange(nchars) < end[:, None])
        lengths = end - start
        valid = self.present(off, 6 * nchars) & (lengths > 0)
        keep &= valid[:, None]
        return strings_from_chars(chars[keep], np.where(valid, lengths, 0), valid)


def _last_true(mask: np.ndarray) -> np.ndarray:
    """1 + index of the last True per row (0 if none)."""
    k = mask.shape[1]
    return np.where(mask.any(axis=1), k - np.argmax(mask[:, ::-1], axis=1), 0)


def _pyais_strip(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``text.rstrip('@').strip()`` per row (the only whitespace is ' ')."""
    cols = np.arange(chars.shape[1])
    end_at = _last_true(chars != _AT)
    nonspace = (chars != _SPACE) & (cols < end_at[:, None])
    end = _last_true(nonspace)
    start = np.where(end > 0, np.argmax(nonspace, axis=1), 0)
    return start, end
