"""The tables decoded AIS messages go to, and which messages are decoded.

The fields themselves are read by ``kernels_fields`` (offsets, widths and scalings of
ITU-R M.1371 as implemented by pyais 2.x/3.x).
"""

from __future__ import annotations

import pyarrow as pa

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
