"""Opening untrusted input files: content hash, size limits, gzip/zip wrappers, encodings.

Leaked files are untrusted. Nothing here executes content; wrappers are unpacked as
streams with a hard cap on the uncompressed size so a decompression bomb is refused early,
and a plain file far beyond the configured size is refused before it is read.

The size limit is `MAX_INPUT_BYTES` unless the environment variable
`CARGOTRACE_MAX_INPUT_BYTES` says otherwise (bytes, or with a K/M/G suffix); the limit on
one line of text (CSV, NMEA) is `MAX_LINE_BYTES` unless `CARGOTRACE_MAX_LINE_BYTES` says
otherwise.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, cast

from cargotrace.errors import InputError

MAX_INPUT_BYTES = 20 * 1024**3  # 20 GiB uncompressed by default
MAX_RATIO = 200  # uncompressed/compressed above this (past RATIO_FLOOR) is treated as a bomb
RATIO_FLOOR = 32 * 1024**2  # small archives may expand this far whatever their ratio
SNIFF_BYTES = 1 << 20
ENV_LIMIT = "CARGOTRACE_MAX_INPUT_BYTES"
MAX_LINE_BYTES = 1 << 20  # one line of CSV or NMEA text; real records are far shorter
ENV_LINE_LIMIT = "CARGOTRACE_MAX_LINE_BYTES"
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1251": "Windows-1251",
                  "koi8_r": "KOI8-R", "cp866": "DOS Cyrillic (CP866)", "utf-16": "UTF-16"}  # fmt: skip


def max_input_bytes() -> int:
    """The configured limit on the (uncompressed) size of one input file."""
    return _size_setting(ENV_LIMIT, MAX_INPUT_BYTES)


def max_line_bytes() -> int:
    """The configured limit on one line of a text input (CSV, NMEA)."""
    return _size_setting(ENV_LINE_LIMIT, MAX_LINE_BYTES)


def _size_setting(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().upper()
    if not text:
        return default
    factor = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1], 1)
    try:
        return int(float(text.rstrip("KMGB") or "0") * factor)
    except (ValueError, OverflowError):
        raise InputError(f"{name}={text!r} is not a size (e.g. 500M, 20G)") from None


def line_too_long(line: int, limit: int, file: str) -> InputError:
    """The refusal of a text file with a line beyond `max_line_bytes()`."""
    return InputError(
        f"line {line:,} is longer than {limit:,} characters, far beyond any record: a file without "
        f"line breaks or not text at all? Refused (set {ENV_LINE_LIMIT} higher if the file is genuine)",
        file=file,
    )


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an ingested file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


class _CappedReader(io.RawIOBase):
    """Reads from a stream but refuses to yield more than `cap` bytes (bomb guard)."""

    def __init__(
        self, inner: IO[bytes], cap: int, name: str, why: str, disk: IO[bytes] | None = None
    ) -> None:
        self._inner = inner
        self._disk = disk  # the file under `inner`, closed with it
        self._cap = cap
        self._seen = 0
        self._name = name
        self._why = why

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"compressed content is damaged: {exc}", file=self._name) from None
        self._seen += len(data)
        if self._seen > self._cap:
            raise InputError(
                f"uncompressed content exceeds {self._cap:,} bytes ({self._why}); refused as a "
                "possible decompression bomb",
                file=self._name,
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        if self._disk is not None:
            self._disk.close()
        super().close()


def wrapper_of(path: Path) -> str | None:
    """'gzip', 'zip' or None, from the first bytes (not the name)."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"PK\x03\x04" and path.suffix.lower() == ".zip":
        return "zip"
    return None


def inner_name(path: Path) -> str:
    """The name of the content: `x.csv` for `x.csv.gz`, the member's name for a `.zip`."""
    wrapper = wrapper_of(path)
    if wrapper == "gzip":
        return path.name[:-3] if path.name.lower().endswith(".gz") else path.stem
    if wrapper == "zip":
        return _zip_member(path)[1].filename
    return path.name


def _zip_member(path: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive: {exc}", file=str(path)) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        archive.close()
        raise InputError(
            f"zip archive holds {len(members)} files; unpack it and ingest the files one by one",
            file=str(path),
        )
    if members[0].flag_bits & 0x1:
        archive.close()
        raise InputError("zip member is encrypted; decrypt it first", file=str(path))
    return archive, members[0]


def gzip_cap(compressed_bytes: int, limit: int) -> tuple[int, str]:
    """How far a gzip member may expand before it is refused, and why, with the way out."""
    cap = min(limit, max(compressed_bytes * MAX_RATIO, RATIO_FLOOR))
    if cap == limit:
        return cap, f"the limit of {limit:,} bytes; set {ENV_LIMIT} higher if the file is genuine"
    return cap, (f"more than {MAX_RATIO}x its compressed size; if the file is genuine, "
                 "unpack it and ingest the plain file")  # fmt: skip


def capped_gzip(raw: IO[bytes], name: str, limit: int) -> IO[bytes]:
    """The gzip content of an open file, refused past `gzip_cap` (decompression bomb)."""
    cap, why = gzip_cap(os.fstat(raw.fileno()).st_size, limit)
    inner: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    return io.BufferedReader(_CappedReader(inner, cap, name, why), 1 << 20)


# Bytes of a file on disk read so far, for a progress bar over its size: while a meter is
# set for a file (`byte_meter`), the readers `open_binary` opens on it report their offset.
class _Meter:
    """The meter of one file: offsets read go to `report`, unless a reader that reads ahead
    of the rows it hands out holds them (`held_meter`) and reports its own share."""

    def __init__(self, path: Path, report: Callable[[int], None]) -> None:
        self.path = path
        self.report = report
        self.read_bytes = 0
        self.held = False
        self._shown = 0

    def note(self, offset: int) -> None:
        self.read_bytes = offset
        if not self.held:
            self.show(offset)

    def show(self, offset: int) -> None:
        """Report `offset`, never less than before (a sniff may read ahead of the rows)."""
        self._shown = max(self._shown, offset)
        self.report(self._shown)


_METER: ContextVar[_Meter | None] = ContextVar("meter", default=None)


@contextmanager
def byte_meter(path: Path, report: Callable[[int], None]) -> Iterator[None]:
    """Have `report(offset)` called as the file at `path` is read (on-disk bytes)."""
    token = _METER.set(_Meter(path.resolve(), report))
    try:
        yield
    finally:
        _METER.reset(token)


class HeldMeter:
    """For a reader that reads far ahead of the rows it hands out (Arrow buffers up to
    FAST_BUFFER_BYTES before the first row): the bar shows the bytes read so far times the
    share of the rows read so far that were handed out, so it reaches the end with the last
    row handed out, not with the last byte read."""

    def __init__(self) -> None:
        self._meter = _METER.get()
        self.rows_read = 0
        self.rows_out = 0
        if self._meter is not None:
            self._meter.held = True

    def handed_out(self, rows: int) -> None:
        self.rows_out += rows
        if self._meter is not None and self.rows_read:
            share = min(1.0, self.rows_out / self.rows_read)
            self._meter.show(int(self._meter.read_bytes * share))

    def release(self) -> None:
        if self._meter is not None:
            self._meter.held = False
            self._meter.show(self._meter.read_bytes)


class _MeteredReader(io.RawIOBase):
    """A file on disk whose read offset goes to a meter."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count: int = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._report(self._raw.tell())
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_disk(path: Path) -> IO[bytes]:
    """The file itself, metered when a meter is set for it."""
    meter = _METER.get()
    if meter is None or meter.path != path.resolve():
        return open(path, "rb")
    return io.BufferedReader(_MeteredReader(open(path, "rb", buffering=0), meter.note), 1 << 20)


def open_binary(path: Path, *, max_bytes: int | None = None) -> IO[bytes]:
    """Open a possibly gzip- or zip-wrapped file as a stream of its content bytes."""
    limit = max_input_bytes() if max_bytes is None else max_bytes
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir():
        raise InputError("is a folder, expected a file", file=str(path))
    size = path.stat().st_size
    wrapper = wrapper_of(path)
    if wrapper == "gzip":
        if size > limit:
            raise InputError(
                f"file is larger than the limit of {limit:,} bytes ({ENV_LIMIT})", file=str(path)
            )
        cap, why = gzip_cap(size, limit)
        disk = _open_disk(path)
        inner = cast(IO[bytes], gzip.GzipFile(fileobj=disk, mode="rb"))
        return io.BufferedReader(_CappedReader(inner, cap, str(path), why, disk), 1 << 20)
    if wrapper == "zip":
        archive, member = _zip_member(path)
        ratio_cap = max(MAX_RATIO * max(member.compress_size, 1), RATIO_FLOOR)
        if member.file_size > limit or member.file_size > ratio_cap:
            archive.close()
            raise InputError(
                f"zip member {member.filename!r} claims {member.file_size:,} bytes from "
                f"{member.compress_size:,}; refused as a possible decompression bomb "
                f"(limit {min(limit, ratio_cap):,} bytes)",
                file=str(path),
            )
        cap = min(limit, member.file_size)
        return io.BufferedReader(
            _CappedReader(archive.open(member), cap, str(path), "its declared size"), 1 << 20
        )
    if size > limit:
        raise InputError(
            f"file is larger than the limit of {limit:,} bytes ({ENV_LIMIT})", file=str(path)
        )
    return _open_disk(path)


def read_sample(path: Path, size: int = SNIFF_BYTES) -> bytes:
    with open_binary(path) as handle:
        return handle.read(size)


# --------------------------------------------------------------------------- encodings
# Frequent Russian bigrams: the right decoding of Cyrillic bytes turns up many of them, a
# wrong one (a permuted alphabet) few. Compared case-insensitively, so ALL-CAPS registers work.
_BIGRAMS = ("ст", "но", "то", "на", "ен", "ов", "ни", "ра", "во", "ко", "ал", "пр", "ро", "ан",
            "по", "ел", "ер", "ка", "ть", "ор", "ре", "ес", "ый", "ия", "ой", "ие", "ве", "та",
            "ва", "не", "на", "ли", "ог", "от", "гр", "уз", "ен", "ци", "ан", "ая")  # fmt: skip


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1251, KOI8-R or DOS Cyrillic
    (CP866, what Russian DOS-era and some 1C exports write)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3:
            try:
                sample[: exc.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
    return _best_cyrillic(sample)


def _best_cyrillic(sample: bytes) -> str:
    scores = {}
    for encoding in ("cp1251", "koi8_r", "cp866"):
        text = sample.decode(encoding, errors="replace").lower()
        scores[encoding] = sum(text.count(bigram) for bigram in _BIGRAMS)
    return max(scores, key=lambda name: (scores[name], name == "cp1251"))


def detect_delimiter(first_lines: list[str]) -> str:
    """The delimiter (`,` `;` tab or `|`) that splits the header line most consistently."""
    candidates = [",", ";", "\t", "|"]
    header = first_lines[0] if first_lines else ""
    best, best_score = ",", -1.0
    for delim in candidates:
        count = header.count(delim)
        if count == 0:
            continue
        consistent = sum(1 for line in first_lines[1:] if line.count(delim) >= count)
        score = count + consistent * 0.5
        if score > best_score:
            best, best_score = delim, score
    return best


class Utf8Stream(io.RawIOBase):
    """The bytes of a text stream re-encoded as UTF-8 (for Arrow's CSV reader).

    Decoding is strict: an undecodable byte raises InputError naming the line it is on.
    UTF-8 input passes through unchanged (Arrow validates it); a leading BOM is dropped.
    """

    def __init__(self, inner: IO[bytes], encoding: str, name: str) -> None:
        self._inner = inner
        self._encoding = encoding
        self.passthrough = encoding in ("utf-8", "utf-8-sig")  # else transcoded (valid UTF-8)
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._pending = memoryview(b"")
        self._name = name
        self._lines = 0
        self._first = True
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_block(self) -> bytes:
        block = self._inner.read(1 << 22)
        final = not block
        if self.passthrough:
            out = block
        else:
            try:
                out = self._decoder.decode(block, final=final).encode("utf-8")
            except UnicodeDecodeError as exc:
                line = self._lines + block[: exc.start].count(b"\n") + 1
                raise InputError(
                    f"text is not valid {ENCODING_NAMES.get(self._encoding, self._encoding)} "
                    f"(byte 0x{block[exc.start]:02x}); re-save the file in one encoding",
                    file=self._name,
                    row=line,
                ) from None
            self._lines += block.count(b"\n")
        if self._first and out.startswith(codecs.BOM_UTF8):
            out = out[3:]
        self._first = False
        self._done = final
        return out

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not len(self._pending) and not self._done:
            self._pending = memoryview(self._next_block())
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._inner.close()
        super().close()
