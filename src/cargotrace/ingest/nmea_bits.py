"""Six-bit payload de-armouring and bit-field extraction over whole message groups.

The payloads of ``n`` messages are copied into an ``(n, k)`` character matrix (one
sliding-window row gather), de-armoured arithmetically and repacked four 6-bit values at
a time into three bytes with SWAR shifts on ``uint32`` lanes, giving an ``(n, 3k/4)``
big-endian byte matrix of the payload bits.  A numeric field is then one shift-and-mask
of an (unaligned) 64-bit big-endian view of each row; text fields use the 6-bit values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea_arrow import strings_from_chars

# Armour character -> 6-bit value (bytes outside the alphabet never reach here: the
# sentence scanner rejects them; bytes past a payload's end only feed null fields).
SIXBIT = np.zeros(256, dtype=np.uint8)
for _c in range(256):
    _v = _c - 48
    SIXBIT[_c] = (_v - 8 if _v > 40 else _v) & 63
# 6-bit text alphabet: 0-31 -> '@'..'_', 32-63 -> ' '..'?'
_TEXT = np.array([v + 64 if v < 32 else v for v in range(64)], dtype=np.uint8)
_AT, _SPACE = 64, 32


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def sixbit_values(chars: np.ndarray) -> np.ndarray:
    """Armour characters -> 6-bit values (non-armour bytes only ever feed null fields)."""
    vals = chars - np.uint8(48)
    vals -= np.uint8(8) * (vals > 40)
    return vals & np.uint8(63)


def repack(vals: np.ndarray) -> np.ndarray:
    """``(n, 4k)`` 6-bit values -> ``(n, 3k)`` bytes holding the same bit string."""
    n = len(vals)
    x = vals.view(">u4").astype(np.uint32)  # [v0 v1 v2 v3] per lane
    x = ((x & np.uint32(0x3F003F00)) >> np.uint32(2)) | (x & np.uint32(0x003F003F))
    x = ((x & np.uint32(0x0FFF0000)) >> np.uint32(4)) | (x & np.uint32(0x00000FFF))
    out = x.astype(">u4").view(np.uint8).reshape(n, -1, 4)[:, :, 1:]  # 24 bits per lane
    return np.ascontiguousarray(out).reshape(n, -1)


class Bits:
    """Bit access for a group of messages sharing one layout."""

    def __init__(
        self,
        ext: np.ndarray,
        pay_start: np.ndarray,
        pay_len: np.ndarray,
        fill: np.ndarray,
        read_bits: int,
    ) -> None:
        """``read_bits``: how far fields are read (64-bit windows: ``(off // 8 + 8) * 8``)."""
        nchars = _round_up(-(-read_bits // 6), 4)
        self.vals = sixbit_values(sliding_window_view(ext, nchars)[pay_start])
        self.bytes = repack(self.vals)
        self.nbits = pay_len * 6 - fill

    def present(self, off: int, width: int) -> np.ndarray:
        """Whether the field lies wholly inside the payload (truncated fields are null)."""
        return self.nbits >= off + width

    def uint(self, off: int, width: int) -> np.ndarray:
        """Unsigned field (``off % 8 + width <= 64``) as int64."""
        first, shift = divmod(off, 8)
        rows, row_bytes = self.bytes.shape
        if first + 8 > row_bytes:
            raise ValueError(f"field at bit {off} beyond the {row_bytes}-byte rows")
        word = np.ndarray(
            shape=(rows,),
            dtype=">u8",
            buffer=self.bytes,
            offset=first,
            strides=(row_bytes,),
        )
        val = (word >> np.uint64(64 - shift - width)) & np.uint64((1 << width) - 1)
        return val.astype(np.int64)

    def int(self, off: int, width: int) -> np.ndarray:
        """Two's-complement signed field as int64."""
        val = self.uint(off, width)
        return np.where(val >= 1 << (width - 1), val - (1 << width), val)

    def text(self, off: int, nchars: int) -> pa.Array:
        """6-bit text field, stripped exactly like pyais; empty or truncated -> null."""
        c0, r = divmod(off, 6)
        if c0 + nchars + 1 > self.vals.shape[1]:
            raise ValueError(f"text at bit {off} beyond the {self.vals.shape[1]}-char rows")
        vals = self.vals[:, c0 : c0 + nchars + 1]
        block = vals[:, :nchars].astype(np.uint16)
        if r:
            block = ((block << 6) | vals[:, 1:]) >> (6 - r)
        chars = _TEXT[block & 63]
        start, end = _pyais_strip(chars)
        cols = np.arange(nchars)
        lengths = end - start
        valid = self.present(off, 6 * nchars) & (lengths > 0)
        keep = (cols >= start[:, None]) & (cols < end[:, None]) & valid[:, None]
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
