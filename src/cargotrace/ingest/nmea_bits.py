"""Six-bit payload de-armouring and bit-field extraction over whole message groups.

The payloads of ``n`` messages are copied into an ``(n, k)`` character matrix (one
sliding-window row gather), re-mapped onto the base64 alphabet with ``bytes.translate``
and decoded by ``binascii.a2b_base64`` into an ``(n, 3k/4)`` big-endian byte matrix: the
AIS armour *is* base64 with another alphabet, so the 6-to-8 bit repacking runs in C for
the whole group at once.  A numeric field is then one shift-and-mask of an (unaligned)
64-bit big-endian view of each row; text fields use the 6-bit value matrix.
"""

from __future__ import annotations

import binascii

import numpy as np
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea_arrow import strings_from_chars

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Armour character -> 6-bit value (bytes outside the alphabet never reach here: the
# sentence scanner rejects them; bytes past a payload's end only feed null fields).
SIXBIT = np.zeros(256, dtype=np.uint8)
for _c in range(256):
    _v = _c - 48
    SIXBIT[_c] = (_v - 8 if _v > 40 else _v) & 63
_TO_B64 = bytes(_B64[v] for v in SIXBIT)
# 6-bit text alphabet: 0-31 -> '@'..'_', 32-63 -> ' '..'?'
_TEXT = np.array([v + 64 if v < 32 else v for v in range(64)], dtype=np.uint8)
_AT, _SPACE = 64, 32


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


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
        self.chars = sliding_window_view(ext, nchars)[pay_start]
        decoded = binascii.a2b_base64(self.chars.tobytes().translate(_TO_B64))
        self.bytes = np.frombuffer(decoded, dtype=np.uint8).reshape(len(pay_start), -1)
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
        if c0 + nchars + 1 > self.chars.shape[1]:
            raise ValueError(f"text at bit {off} beyond the {self.chars.shape[1]}-char rows")
        raw = self.chars[:, c0 : c0 + nchars + 1]
        vals = raw - np.uint8(48)
        vals -= np.uint8(8) * (vals > 40)
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
