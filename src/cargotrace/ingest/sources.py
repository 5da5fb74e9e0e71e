"""Opening untrusted input files: content hash, size limits, gzip/zip wrappers, encodings.

Leaked files are untrusted. Nothing here executes content; wrappers are unpacked as
streams with a hard cap on the uncompressed size so a decompression bomb is refused early.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from pathlib import Path
from typing import IO

from cargotrace.errors import InputError

MAX_INPUT_BYTES = 20 * 1024**3  # 20 GiB uncompressed, configurable per call
MAX_RATIO = 200  # uncompressed/compressed above this on a zip entry is treated as a bomb
SNIFF_BYTES = 1 << 20


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an ingested file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _CappedReader(io.RawIOBase):
    """Reads from a stream but refuses to yield more than `cap` bytes (bomb guard)."""

    def __init__(self, inner: IO[bytes], cap: int, name: str) -> None:
        self._inner = inner
        self._cap = cap
        self._seen = 0
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        self._seen += len(data)
        if self._seen > self._cap:
            raise InputError(
                f"uncompressed content exceeds {self._cap:,} bytes; refused as a possible "
                f"decompression bomb (raise the limit if the file is genuine)",
                file=self._name,
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_binary(path: Path, *, max_bytes: int = MAX_INPUT_BYTES) -> IO[bytes]:
    """Open a possibly gzip- or zip-wrapped file as a stream of its content bytes."""
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir():
        raise InputError("is a folder, expected a file", file=str(path))
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        inner: IO[bytes] = gzip.open(path, "rb")
        cap = min(max_bytes, max(path.stat().st_size, 1) * 1000)
        return io.BufferedReader(_CappedReader(inner, cap, str(path)), 1 << 20)
    if magic == b"PK\x03\x04" and path.suffix.lower() == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise InputError(
                f"zip archive holds {len(members)} files; unpack it and ingest the files one by one",
                file=str(path),
            )
        member = members[0]
        if member.file_size > max_bytes or member.file_size > MAX_RATIO * max(member.compress_size, 1) + (1 << 20):
            raise InputError(
                f"zip member {member.filename!r} claims {member.file_size:,} bytes from "
                f"{member.compress_size:,}; refused as a possible decompression bomb",
                file=str(path),
            )
        cap = min(max_bytes, member.file_size)
        return io.BufferedReader(_CappedReader(archive.open(member), cap, str(path)), 1 << 20)
    if path.stat().st_size > max_bytes:
        raise InputError(f"file is larger than the limit of {max_bytes:,} bytes", file=str(path))
    return open(path, "rb")


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), Windows-1251 or KOI8-R, from a sample of the bytes."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
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
    # In real Russian text lower-case letters dominate; cp1251 puts them at 0xE0-0xFF and
    # KOI8-R at 0xC0-0xDF, so the decoding whose frequent lower-case vowels win is right.
    vowels = set("оеаиуыяюэ")
    scores = {}
    for encoding in ("cp1251", "koi8_r"):
        text = sample.decode(encoding, errors="replace")
        scores[encoding] = sum(1 for ch in text if ch in vowels)
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
