"""Decode assembled AIS messages, grouped by type, into the positions/statics tables.

Field offsets, widths and scalings follow ITU-R M.1371 as implemented by pyais 2.x/3.x
(``pyais/messages.py``), including its rounding of coordinates.  Not-available sentinels
become nulls; a field that is cut off by a short payload is null too (pyais would return
whatever bits happen to be present).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.ingest.nmea.bits import Bits
from cargotrace.ingest.nmea.kernels_time import civil_times

POSITION_SCHEMA = pa.schema(
    [
        ("line_no", pa.int64()),
        ("mmsi", pa.int64()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("msg_type", pa.int8()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("sog", pa.float64()),
        ("cog", pa.float64()),
        ("heading", pa.int16()),
        ("nav_status", pa.int8()),
        ("source", pa.string()),
    ]
)
STATIC_SCHEMA = pa.schema(
    [
        ("line_no", pa.int64()),
        ("mmsi", pa.int64()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("msg_type", pa.int8()),
        ("imo", pa.int64()),
        ("callsign", pa.string()),
        ("name", pa.string()),
        ("ship_type", pa.int16()),
        ("to_bow", pa.int16()),
        ("to_stern", pa.int16()),
        ("to_port", pa.int16()),
        ("to_starboard", pa.int16()),
        ("draught", pa.float64()),
        ("destination", pa.string()),
        ("eta_month", pa.int8()),
        ("eta_day", pa.int8()),
        ("eta_hour", pa.int8()),
        ("eta_minute", pa.int8()),
        ("source", pa.string()),
    ]
)
DECODED_TYPES = (1, 2, 3, 4, 5, 18, 19, 24, 27)
# Shortest payload (bits) still worth a row: position reports must carry the whole
# lat/lon, type 5 its IMO, 24A the full name, 24B the ship type.  Shorter -> "too_short".
MIN_BITS = {1: 116, 2: 116, 3: 116, 4: 134, 5: 70, 18: 112, 19: 112, 27: 79}
MIN_BITS_24 = {0: 160, 1: 48}
# Payload characters each type's fields are read from: a numeric field through the 8
# characters starting at its first (off // 6 + 8), text one character past its end.
READ_CHARS = {1: 29, 2: 29, 3: 29, 4: 25, 5: 71, 18: 28, 19: 57, 24: 34, 27: 22}


@dataclass
class Column:
    """A column under construction: NumPy values + validity, or a finished Arrow array."""

    values: np.ndarray | pa.Array
    valid: np.ndarray | None = None


def latlon(raw: np.ndarray) -> np.ndarray:
    """1/10000 minute -> degrees rounded to 6 dp, bit-identical to pyais ``to_lat_lon``.

    ``round(v / 600000, 6) == floor((10 v + 3) / 6) / 1e6`` exactly (5v/3 is never a tie),
    in integer arithmetic, so no float rounding can differ.
    """
    degrees: np.ndarray = np.floor_divide(10 * raw + 3, 6) / 1e6
    return degrees


def latlon_600(raw: np.ndarray) -> np.ndarray:
    """1/10 minute -> degrees, identical to pyais ``to_lat_lon_600``."""
    degrees: np.ndarray = np.floor_divide(10000 * raw + 3, 6) / 1e6
    return degrees


def _num(bits: Bits, off: int, width: int, na: int | None = None, signed: bool = False) -> Column:
    raw = bits.sint(off, width) if signed else bits.uint(off, width)
    valid = bits.present(off, width)
    if na is not None:
        valid = valid & (raw != na)
    return Column(raw, valid)


def _scaled(col: Column, fn: Callable[[np.ndarray], np.ndarray]) -> Column:
    return Column(fn(col.values), col.valid)


def _lat_lon(
    bits: Bits, lon_off: int, lon_w: int, lat_off: int, per_degree: int
) -> dict[str, Column]:
    """Signed lon/lat (lat one bit narrower); 181/91 degrees mean not available."""
    scale = latlon if per_degree == 600_000 else latlon_600
    lon = _num(bits, lon_off, lon_w, 181 * per_degree, signed=True)
    lat = _num(bits, lat_off, lon_w - 1, 91 * per_degree, signed=True)
    return {"lat": _scaled(lat, scale), "lon": _scaled(lon, scale)}


def _tenth(col: Column) -> Column:
    return _scaled(col, lambda v: v.astype(np.float64) / 10.0)


def _as_float(col: Column) -> Column:
    return _scaled(col, lambda v: v.astype(np.float64))


def _null(n: int) -> Column:
    return Column(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))


def position_class_a(bits: Bits) -> dict[str, Column]:
    """Types 1, 2, 3."""
    return {
        "nav_status": _num(bits, 38, 4),
        "sog": _tenth(_num(bits, 50, 10, 1023)),
        **_lat_lon(bits, 61, 28, 89, 600_000),
        "cog": _tenth(_num(bits, 116, 12, 3600)),
        "heading": _num(bits, 128, 9, 511),
    }


def position_class_b(bits: Bits) -> dict[str, Column]:
    """Types 18 and 19 (no navigational status)."""
    return {
        "nav_status": _null(len(bits.nbits)),
        "sog": _tenth(_num(bits, 46, 10, 1023)),
        **_lat_lon(bits, 57, 28, 85, 600_000),
        "cog": _tenth(_num(bits, 112, 12, 3600)),
        "heading": _num(bits, 124, 9, 511),
    }


def position_base_station(bits: Bits) -> dict[str, Column]:
    """Type 4: position only (the reported UTC time is handled by ``base_station_time``)."""
    n = len(bits.nbits)
    return {
        "nav_status": _null(n),
        "sog": _null(n),
        **_lat_lon(bits, 79, 28, 107, 600_000),
        "cog": _null(n),
        "heading": _null(n),
    }


def position_long_range(bits: Bits) -> dict[str, Column]:
    """Type 27: 1/10 minute positions, integer knots (63 = n/a) and degrees (511 = n/a)."""
    return {
        "nav_status": _num(bits, 40, 4),
        "sog": _as_float(_num(bits, 79, 6, 63)),
        **_lat_lon(bits, 44, 18, 62, 600),
        "cog": _as_float(_num(bits, 85, 9, 511)),
        "heading": _null(len(bits.nbits)),
    }


def base_station_time(bits: Bits) -> tuple[np.ndarray, np.ndarray]:
    """UTC time a type 4 reports; valid only when every component is in range."""
    y, mo, d = bits.uint(38, 14), bits.uint(52, 4), bits.uint(56, 5)
    h, mi, s = bits.uint(61, 5), bits.uint(66, 6), bits.uint(72, 6)
    us, ok = civil_times(y, mo, d, h, mi, s)
    return us, ok & (s <= 59) & bits.present(38, 40)


def _dims(bits: Bits, off: int) -> dict[str, Column]:
    return {
        "to_bow": _num(bits, off, 9),
        "to_stern": _num(bits, off + 9, 9),
        "to_port": _num(bits, off + 18, 6),
        "to_starboard": _num(bits, off + 24, 6),
    }


def static_voyage(bits: Bits) -> dict[str, Column]:
    """Type 5 (ETA parts are null at their not-available values 0/0/24/60)."""
    return {
        "imo": _num(bits, 40, 30, 0),
        "callsign": Column(bits.text(70, 7)),
        "name": Column(bits.text(112, 20)),
        "ship_type": _num(bits, 232, 8),
        **_dims(bits, 240),
        "eta_month": _num(bits, 274, 4, 0),
        "eta_day": _num(bits, 278, 5, 0),
        "eta_hour": _num(bits, 283, 5, 24),
        "eta_minute": _num(bits, 288, 6, 60),
        "draught": _tenth(_num(bits, 294, 8)),
        "destination": Column(bits.text(302, 20)),
    }


def static_class_b_extended(bits: Bits) -> dict[str, Column]:
    """Type 19 identity part."""
    return {"name": Column(bits.text(143, 20)), "ship_type": _num(bits, 263, 8), **_dims(bits, 271)}


def static_report(bits: Bits, part: np.ndarray, mmsi: np.ndarray) -> dict[str, Column]:
    """Type 24: part A carries the name, part B ship type, call sign and dimensions.

    For auxiliary craft (MMSI 98xxxyyyy) part B holds the mother ship's MMSI instead of
    dimensions (as pyais decodes it), so the dimensions are null.
    """
    is_a, is_b = part == 0, part == 1
    out = {
        "name": Column(_where(is_a, bits.text(40, 20))),
        "callsign": Column(_where(is_b, bits.text(90, 7))),
        "ship_type": _masked(_num(bits, 40, 8), is_b),
    }
    not_aux = is_b & ~((mmsi >= 980_000_000) & (mmsi <= 989_999_999))
    for name_, col in _dims(bits, 132).items():
        out[name_] = _masked(col, not_aux)
    return out


def _where(keep: np.ndarray, arr: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(keep), arr, pa.scalar(None, type=arr.type))


def _masked(col: Column, keep: np.ndarray) -> Column:
    valid = keep if col.valid is None else col.valid & keep
    return Column(col.values, valid)
