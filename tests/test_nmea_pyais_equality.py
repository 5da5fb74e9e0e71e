"""Field-by-field equality of the vectorised decoder with pyais on real AIS logs.

pyais is the reference for bit layouts, scaling and rounding.  Deliberate, documented
differences are applied to pyais's output before comparing (``_expected``):

* Checksums: pyais does not verify them when streaming (``is_valid`` is only reported),
  we reject bad ones.  A pyais message counts as decodable only if ``msg.is_valid``.
* Trailing receiver metadata (``...*hh,1328182324603``): pyais takes the *last*
  comma field as ``fill*checksum``, so it would see fill bits 0 and checksum -1 on such
  lines.  We feed pyais the sentence cut right after ``*hh`` (tag blocks kept), which is
  what it is designed to parse.
* Payloads too short to carry a position (or type 5's IMO, 24A's name, 24B's ship type)
  are rejected as ``too_short`` (``nmea_messages.MIN_BITS``); pyais returns None/partial
  values.  Fields cut off by a short payload are null here, pyais returns partial bits.
* Not-available sentinels are nulls (lat 91, lon 181, sog 102.3, cog 360, heading 511;
  type 27: sog 63, cog 511; IMO 0; empty strings).
* ``ship_type`` is the raw ITU code.  For types 5 and 19 pyais maps reserved codes onto
  a category (86 -> 85, 39 -> 0 ...), for 24B it does not; the reference is therefore the
  raw byte read with pyais's own bit vector, and pyais's enum of our value must equal its
  ``ship_type``.
* Type 24B of auxiliary craft (MMSI 98xxxyyyy) has no dimensions (pyais decodes the
  mother ship MMSI there instead).
* Timestamps: the receive time (tag block ``c:``, or the first epoch field after the
  checksum), computed here independently; type 4 uses its own UTC time when valid.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyais.constants import ShipType
from pyais.messages import NMEAMessage
from pyais.stream import ByteStream

from cargotrace.ingest.nmea.decoder import decode_nmea_file
from cargotrace.ingest.nmea.messages import DECODED_TYPES, MIN_BITS, MIN_BITS_24

from conftest import shared_data

FILES = [
    ("aisdb", "test_data_20211101.nm4"),
    ("aisdb", "test_data_201201.nmea"),
    ("amsa", "ais.txt.gz"),
    ("amsa", "exact-earth-augmented-3.txt"),
    ("gpsd", "sample.aivdm"),
]
POSITION_TYPES = {1, 2, 3, 4, 18, 19, 27}
STATIC_TYPES = {5, 19, 24}
DIM_BITS = {5: 240, 19: 271, 24: 132}


def _read_lines(path: Path) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read().split(b"\n")


def _for_pyais(line: bytes) -> bytes:
    """Cut trailing receiver metadata so pyais parses fill bits and checksum correctly.

    A receive time found there is moved into a tag block ``c:`` field, where pyais reports
    it as ``tag_block.receiver_timestamp``.
    """
    line = line.strip()
    bang = line.find(b"!")
    star = line.find(b"*", bang) if bang >= 0 else -1
    if star < 0:
        return line
    when = next((f for f in line[star + 3 :].split(b",") if f.isdigit() and len(f) >= 9), None)
    line = line[: star + 3]
    if when is None or line.startswith(b"\\"):
        return line
    tag = b"c:" + when
    return b"\\" + tag + b"*" + b"%02X" % reduce(xor, tag, 0) + b"\\" + line


def _receive_time(msg: NMEAMessage) -> datetime | None:
    """Receive time of a message: the ``c:`` of its first sentence's tag block."""
    if msg.tag_block is None:
        return None
    msg.tag_block.init()
    stamp = msg.tag_block.receiver_timestamp
    return _epoch(int(stamp)) if stamp else None


def _epoch(value: int) -> datetime:
    seconds = value / 1000 if value > 1e11 else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _present(nbits: int, off: int, width: int) -> bool:
    return nbits >= off + width


def _na(value: Any, *sentinels: Any) -> Any:
    if value is None or value in sentinels or value == "":
        return None
    return value


def _position_expected(d: Any, t: int, nbits: int) -> dict[str, Any]:
    if t == 27:
        return {
            "lat": _na(d.lat, 91.0),
            "lon": _na(d.lon, 181.0),
            "sog": _na(d.speed, 63.0),
            "cog": _na(d.course, 511.0),
            "heading": None,
            "nav_status": int(d.status),
        }
    course_off = 116 if t in (1, 2, 3) else 112
    out: dict[str, Any] = {"lat": _na(d.lat, 91.0), "lon": _na(d.lon, 181.0)}
    if t == 4:
        out |= {"sog": None, "cog": None, "heading": None, "nav_status": None}
        return out
    out |= {
        "sog": _na(d.speed, 102.3),
        "cog": _na(d.course, 360.0) if _present(nbits, course_off, 12) else None,
        "heading": _na(d.heading, 511) if _present(nbits, course_off + 12, 9) else None,
        "nav_status": int(d.status) if t in (1, 2, 3) else None,
    }
    return out


def _ship_type(msg: NMEAMessage, d: Any, off: int, nbits: int) -> int | None:
    if not _present(nbits, off, 8):
        return None
    raw = msg.bv.get(off, 8)
    assert int(ShipType.from_value(raw)) == int(d.ship_type) or d.msg_type == 24
    return raw


def _static_expected(msg: NMEAMessage, d: Any, t: int, nbits: int) -> dict[str, Any]:
    def text(name: str, off: int, nchars: int) -> str | None:
        value = getattr(d, name, None)
        return _na(value) if _present(nbits, off, 6 * nchars) else None

    def num(name: str, off: int, width: int) -> Any:
        value = getattr(d, name, None)
        return None if value is None or not _present(nbits, off, width) else int(value)

    out: dict[str, Any] = dict.fromkeys(
        ["imo", "callsign", "name", "ship_type", "draught", "destination"]
    )
    dim = DIM_BITS[t]
    dims = {"to_bow": (dim, 9), "to_stern": (dim + 9, 9), "to_port": (dim + 18, 6)}
    dims["to_starboard"] = (dim + 24, 6)
    if t == 5:
        out |= {
            "imo": _na(d.imo, 0),
            "callsign": text("callsign", 70, 7),
            "name": text("shipname", 112, 20),
            "ship_type": _ship_type(msg, d, 232, nbits),
            "draught": d.draught if _present(nbits, 294, 8) else None,
            "destination": text("destination", 302, 20),
        }
    elif t == 19:
        out |= {"name": text("shipname", 143, 20), "ship_type": _ship_type(msg, d, 263, nbits)}
    elif d.partno == 0:
        out["name"] = text("shipname", 40, 20)
    else:
        out |= {"callsign": text("callsign", 90, 7), "ship_type": num("ship_type", 40, 8)}
        if 980_000_000 <= d.mmsi <= 989_999_999:
            dims = {}
    if t == 24 and d.partno == 0:
        dims = {}
    for name in ("to_bow", "to_stern", "to_port", "to_starboard"):
        out[name] = num(name, *dims[name]) if name in dims else None
    return out


def _too_short(t: int, nbits: int, d: Any) -> bool:
    if t == 24:
        return nbits < MIN_BITS_24.get(d.partno, 0)
    return nbits < MIN_BITS.get(t, 0)


def _type4_time(d: Any) -> datetime | None:
    try:
        if d.second > 59:
            return None
        return datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, tzinfo=UTC)
    except ValueError:
        return None


def pyais_reference(path: Path) -> list[dict[str, Any]]:
    """pyais decodes of the supported types, with the documented rules applied."""
    out = []
    for msg in ByteStream([_for_pyais(x) for x in _read_lines(path)]):
        if not msg.is_valid:
            continue
        try:
            d = msg.decode()
        except Exception:  # noqa: BLE001 - unknown types / 24 part 2,3: not decodable
            continue
        t, nbits = d.msg_type, len(msg.bv)
        if t not in DECODED_TYPES or _too_short(t, nbits, d):
            continue
        when = _receive_time(msg)
        row: dict[str, Any] = {"mmsi": d.mmsi, "msg_type": t, "timestamp": when}
        if t == 4:
            row["timestamp"] = _type4_time(d) or when
        row["source"] = msg.tag_block.source_station if msg.tag_block is not None else None
        if t in POSITION_TYPES:
            row |= _position_expected(d, t, nbits)
        if t in STATIC_TYPES:
            row |= _static_expected(msg, d, t, nbits)
        out.append(row)
    return out


def our_rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Decoded rows in message order (type 19 positions and statics merged)."""
    batches = list(decode_nmea_file(path, batch_lines=5_000))
    positions = pa.concat_tables([b.positions for b in batches])
    statics = pa.concat_tables([b.statics for b in batches])
    decoded = sum(b.stats.decoded for b in batches)
    by_line: dict[int, dict[str, Any]] = {}
    for row in positions.to_pylist():
        by_line[row.pop("line_no")] = row
    for row in statics.to_pylist():
        line = row.pop("line_no")
        for key in ("eta_month", "eta_day", "eta_hour", "eta_minute"):
            row.pop(key)
        by_line.setdefault(line, {}).update(row)
    return [by_line[k] for k in sorted(by_line)], decoded


@pytest.mark.parametrize(("folder", "name"), FILES)
def test_equal_to_pyais(folder: str, name: str) -> None:
    path = shared_data("ais", folder, name)
    expected = pyais_reference(path)
    ours, decoded = our_rows(path)
    assert decoded == len(ours) == len(expected)
    for i, (mine, ref) in enumerate(zip(ours, expected, strict=True)):
        assert mine == ref, f"message #{i} differs"
