"""Six-bit payload de-armouring and bit-field extraction over whole message groups.

The payloads of ``n`` messages are copied into an ``(n, k)`` character matrix (one
sliding-window row gather) and de-armoured to 6-bit values with ``bytes.translate``.  A numeric field is
read from an unaligned big-endian 64-bit view of the eight characters it starts in (no
copy), whose 6-bit lanes are squeezed into 48 contiguous bits with three SWAR
shift-and-mask steps; the field is then one more shift and mask - for all rows at once.
Text fields use the 6-bit value matrix directly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea.arrow import strings_from_chars

# Armour character -> 6-bit value (bytes outside the alphabet never reach here: the
# sentence scanner rejects them; bytes past a payload's end only feed null fields).
SIXBIT = np.zeros(256, dtype=np.uint8)
for _c in range(256):
    _v = _c - 48
    SIXBIT[_c] = (_v - 8 if _v > 40 else _v) & 63
_AT, _SPACE = 64, 32
_WINDOW_CHARS = 8  # 8 x 6 = 48 bits: any field of <= 42 bits fits after its first char
_SWAR = (  # (mask of the high lanes, shift, mask of the low lanes)
    (np.uint64(0x3F003F003F003F00), np.uint64(2), np.uint64(0x003F003F003F003F)),
    (np.uint64(0x0FFF00000FFF0000), np.uint64(4), np.uint64(0x00000FFF00000FFF)),
    (np.uint64(0x00FFFFFF00000000), np.uint64(8), np.uint64(0x0000000000FFFFFF)),
)


_SIXBIT_TABLE = bytes(SIXBIT)


def sixbit_values(chars: np.ndarray) -> np.ndarray:
    """Armour characters -> 6-bit values (one ``bytes.translate``; read-only result)."""
    values = chars.tobytes().translate(_SIXBIT_TABLE)
    return np.frombuffer(values, dtype=np.uint8).reshape(chars.shape)


class Bits:
    """Bit access for a group of messages sharing one layout."""

    def __init__(
        self,
        sources: tuple[np.ndarray, np.ndarray],
        in_second: np.ndarray,
        pay_start: np.ndarray,
        pay_len: np.ndarray,
        fill: np.ndarray,
        nchars: int,
    ) -> None:
        """Payloads start at ``pay_start`` in ``sources[0]`` (or ``[1]`` where ``in_second``).

        ``nchars``: payload characters to load (fields must end within them).
        """
        first, second = (sliding_window_view(src, nchars) for src in sources)
        if in_second.any():
            chars = np.empty((len(pay_start), nchars), dtype=np.uint8)
            chars[~in_second] = first[pay_start[~in_second]]
            chars[in_second] = second[pay_start[in_second]]
        else:
            chars = first[pay_start]
        self.vals = sixbit_values(chars)
        self.nbits = pay_len * 6 - fill

    def present(self, off: int, width: int) -> np.ndarray:
        """Whether the field lies wholly inside the payload (truncated fields are null)."""
        inside: np.ndarray = self.nbits >= off + width
        return inside

    def uint(self, off: int, width: int) -> np.ndarray:
        """Unsigned field (``width <= 42``) as int64."""
        first, shift = divmod(off, 6)
        rows, row_len = self.vals.shape
        if first + _WINDOW_CHARS > row_len:
            raise ValueError(f"field at bit {off} beyond the {row_len}-char rows")
        window = np.ndarray(
            shape=(rows,), dtype=">u8", buffer=self.vals, offset=first, strides=(row_len,)
        )
        x = window.astype(np.uint64)
        for high, step, low in _SWAR:
            x = ((x & high) >> step) | (x & low)
        val = (x >> np.uint64(48 - shift - width)) & np.uint64((1 << width) - 1)
        return val.astype(np.int64)

    def sint(self, off: int, width: int) -> np.ndarray:
        """Two's-complement signed field as int64."""
        val = self.uint(off, width)
        return np.where(val >= 1 << (width - 1), val - (1 << width), val)

    def text(self, off: int, nchars: int) -> pa.Array:
        """6-bit text field, stripped exactly like pyais; empty or truncated -> null."""
        c0, r = divmod(off, 6)
        if c0 + nchars + 1 > self.vals.shape[1]:
            raise ValueError(f"text at bit {off} beyond the {self.vals.shape[1]}-char rows")
        vals = self.vals[:, c0 : c0 + nchars + 1]
        six = vals[:, :nchars]
        if r:
            pair = (six.astype(np.uint16) << 6) | vals[:, 1:]
            six = ((pair >> (6 - r)) & 63).astype(np.uint8)
        chars = six | ((six < 32).view(np.uint8) << 6)  # 0-31 -> '@'..'_', 32-63 as is
        start, end = _pyais_strip(chars)
        cols = np.arange(nchars)
        lengths = end - start
        valid = self.present(off, 6 * nchars) & (lengths > 0)
        keep = (cols >= start[:, None]) & (cols < end[:, None]) & valid[:, None]
        return strings_from_chars(chars[keep], np.where(valid, lengths, 0), valid)


def _pyais_strip(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``text.rstrip('@').strip()`` per row (the only whitespace is ' ').

    Row-wise max/min of column numbers instead of ``argmax``: cheaper on short rows.
    """
    n = chars.shape[1]
    after = np.arange(1, n + 1, dtype=np.int16)  # 1 + column
    end_at = ((chars != _AT) * after).max(axis=1)
    nonspace = (chars != _SPACE) & (after <= end_at[:, None])
    end = (nonspace * after).max(axis=1)
    start = np.where(nonspace, after - 1, n).min(axis=1)
    return np.minimum(start, end).astype(np.int64), end.astype(np.int64)
