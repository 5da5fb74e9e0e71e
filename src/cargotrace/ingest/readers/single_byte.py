"""Text in a single-byte encoding (Windows-1251, KOI8-R, CP866, ...) parsed as bytes and
made UTF-8 column by column.

Arrow's CSV parser reads such a file as it is (the delimiters, quotes and line breaks are
the ASCII bytes they are in UTF-8), its cells as binary: a third fewer bytes to parse than
the file transcoded first, and the transcoding then runs per column of each parsed batch:

* a column of ASCII bytes only (codes, dates, numbers) is UTF-8 already (a view, no copy);
* a column of few distinct values (stations, cargo, parties) is transcoded on its distinct
  values (`dictionary_encode`), then spread over the rows (`take`);
* any other column is transcoded whole: Python's codec over its data buffer, the offsets
  moved by the bytes each character gains (a lookup table per byte, NumPy).

A byte the encoding does not define (0x98 in Windows-1251) is refused as the reader of
transcoded text refuses it (`Checked`, on the raw blocks, naming the line it is on).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from functools import lru_cache
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.errors import InputError

BLOCK_BYTES = 1 << 22
# a column whose distinct values in a batch are at most this share of its rows is
# transcoded on those values
DISTINCT_SHARE = 0.3


@lru_cache(maxsize=16)
def single_byte(encoding: str) -> bool:
    """Whether every byte of `encoding` is one character (or undefined), the ASCII bytes
    themselves: Arrow can then parse the raw bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name.startswith("utf") or name in ("utf_8", "utf_16", "utf_32"):
        return False
    try:
        ascii_ok = bytes(range(128)).decode(name) == bytes(range(128)).decode("ascii")
    except UnicodeDecodeError:
        return False
    return ascii_ok and all(len(ch) <= 1 for ch in _characters(name))


def _characters(encoding: str) -> list[str]:
    """The character of each byte ('' when the encoding leaves it undefined)."""
    out = []
    for byte in range(256):
        try:
            out.append(bytes([byte]).decode(encoding))
        except UnicodeDecodeError:
            out.append("")
    return out


@lru_cache(maxsize=16)
def _undefined(encoding: str) -> bytes:
    return bytes(b for b, ch in enumerate(_characters(encoding)) if not ch)


@lru_cache(maxsize=16)
def _extra_bytes(encoding: str) -> np.ndarray:
    """UTF-8 bytes each byte's character takes beyond one (0 for ASCII and undefined)."""
    return np.array([max(len(ch.encode("utf-8")) - 1, 0) for ch in _characters(encoding)], np.int32)


class Checked(io.RawIOBase):
    """The bytes of `inner` as they are, refusing a byte `encoding` does not define with the
    message of `sources.Utf8Stream` (the encoding's name, the byte, the line)."""

    def __init__(self, inner: IO[bytes], encoding: str, name: str, label: str) -> None:
        self._inner = inner
        self._undefined = [bytes([b]) for b in _undefined(encoding)]
        self._name, self._label = name, label
        self._lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        if not size:
            return 0
        block = bytes(memoryview(buffer)[:size]) if self._undefined else b""
        found = [at for at in (block.find(u) for u in self._undefined) if at >= 0]
        if found:
            at = min(found)
            raise InputError(
                f"text is not valid {self._label} (byte 0x{block[at]:02x}); re-save the file in one encoding",
                file=self._name,
                row=self._lines + block[:at].count(b"\n") + 1,
            )
        if self._undefined:
            self._lines += block.count(b"\n")
        return int(size)

    def close(self) -> None:
        self._inner.close()
        super().close()


class Transcoder:
    """Binary columns of parsed batches as UTF-8 text (see the module's docstring)."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._extra = _extra_bytes(encoding)
        self._many: set[str] = set()  # columns found to hold mostly distinct values

    def batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            columns = [
                self.column(name, c)
                for name, c in zip(batch.schema.names, batch.columns, strict=True)
            ]
            yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names)

    def column(self, name: str, array: pa.Array) -> pa.Array:
        data = _data(array)
        if not data.size or int(data.max()) < 0x80:
            return array.view(pa.string())  # ASCII: UTF-8 as it is
        if name not in self._many:
            encoded = pc.dictionary_encode(array)
            if len(encoded.dictionary) <= DISTINCT_SHARE * len(array):
                return self._whole(encoded.dictionary).take(encoded.indices)
            self._many.add(name)  # the next batches' values will be as varied
        return self._whole(array)

    def _whole(self, array: pa.Array) -> pa.Array:
        """The array transcoded through its data buffer: Python's codec for the bytes, the
        offsets moved by the bytes gained before each value (cumulative, NumPy)."""
        if array.offset and array.null_count:
            array = pa.concat_arrays([array])  # its validity bits from the first bit
        offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
        data = _data(array)
        text = data.tobytes().decode(self._encoding).encode("utf-8")
        gained = np.zeros(data.size + 1, np.int32)
        np.cumsum(self._extra[data], out=gained[1:])
        relative = offsets - offsets[0]
        return pa.StringArray.from_buffers(
            len(array),
            pa.py_buffer(relative + gained[relative]),
            pa.py_buffer(text),
            array.buffers()[0] if array.null_count else None,
            array.null_count,
        )


def _data(array: pa.Array) -> np.ndarray:
    """The bytes of a binary array's values (from its first value's to its last's end)."""
    offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
    start, end = int(offsets[0]), int(offsets[-1])
    return np.frombuffer(array.buffers()[2] or b"", np.uint8, end - start, start)
