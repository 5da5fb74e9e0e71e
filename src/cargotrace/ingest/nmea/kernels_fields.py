"""The fields of assembled AIS messages, one compiled pass over a batch's messages (see
``kernels``).

Field offsets, widths and scalings follow ITU-R M.1371 as implemented by pyais 2.x/3.x
(``pyais/messages.py``), including its rounding of coordinates and its stripping of
text. Not-available sentinels become nulls (``*_ok`` false); so does a field cut off by
a short payload (pyais would return whatever bits happen to be present). Rows come out in
message order: a message gives at most one row of each table (type 19 one of each).
"""

from __future__ import annotations

import numpy as np

from cargotrace.ingest.nmea.kernels import kernel, leaf
from cargotrace.ingest.nmea.kernels_scan import REASONS
from cargotrace.ingest.nmea.kernels_time import civil_to_us, valid_civil
from cargotrace.ingest.nmea.messages import DECODED_TYPES, MIN_BITS, MIN_BITS_24

# Columns of the kernel's outputs, by row of its matrices (decode.py names them).
POSITION_INTS = ("mmsi", "timestamp", "msg_type", "heading", "nav_status")
POSITION_FLOATS = ("lat", "lon", "sog", "cog")
STATIC_INTS = (
    *("mmsi", "timestamp", "msg_type", "imo", "ship_type"),
    *("to_bow", "to_stern", "to_port", "to_starboard"),
    *("eta_month", "eta_day", "eta_hour", "eta_minute"),
)
STATIC_FLOATS = ("draught",)
STATIC_TEXTS = (("callsign", 7), ("name", 20), ("destination", 20))
_TEXT_WIDTH = 20

_TOO_SHORT = REASONS.index("too_short")
_BAD_PART = REASONS.index("bad_part_number")
_DECODED = np.zeros(64, dtype=np.bool_)
_DECODED[list(DECODED_TYPES)] = True
_MIN_BITS = np.zeros(64, dtype=np.int64)
for _t, _bits in MIN_BITS.items():
    _MIN_BITS[_t] = _bits
_MIN_BITS[24] = 40  # the part number's end; each part's own minimum below
_MIN_BITS_24 = np.array([MIN_BITS_24[0], MIN_BITS_24[1]], dtype=np.int64)
_READ_CHARS = 80  # past a payload's end, zeros (fields there are null) up to this far


@leaf
def sixbit(c: int) -> int:
    """Armour character -> its 6-bit value."""
    v = c - 48
    return (v - 8 if v > 40 else v) & 63


@leaf
def _uint(v: np.ndarray, off: int, width: int) -> int:
    """Unsigned big-endian field of ``width`` (<= 42) bits at bit ``off`` of the 6-bit values."""
    first, last = off // 6, (off + width - 1) // 6
    x = 0
    for k in range(first, last + 1):
        x = (x << 6) | v[k]
    return (x >> ((last - first + 1) * 6 - off % 6 - width)) & ((1 << width) - 1)


@kernel
def _sint(v: np.ndarray, off: int, width: int) -> int:
    """Two's-complement signed field."""
    x = _uint(v, off, width)
    return x - (1 << width) if x >= 1 << (width - 1) else x


@leaf
def _put(ints: np.ndarray, ok: np.ndarray, col: int, row: int, value: int, valid: bool) -> None:
    ints[col, row] = value
    ok[col, row] = valid


@kernel
def _num(
    v: np.ndarray, nbits: int, off: int, width: int, na: int, has_na: bool
) -> tuple[int, bool]:
    """Field value and whether it is there (inside the payload, not the n/a value)."""
    x = _uint(v, off, width)
    return x, nbits >= off + width and not (has_na and x == na)


@kernel
def _latlon(
    v: np.ndarray, nbits: int, off: int, width: int, per_degree: int, na_degrees: int
) -> tuple[float, bool]:
    """Signed coordinate in 1/``per_degree`` degrees -> degrees rounded to 6 dp, as pyais.

    ``round(v / 600000, 6) == floor((10 v + 3) / 6) / 1e6`` exactly (5v/3 is never a tie),
    in integer arithmetic, so no float rounding can differ (1/10 minute: 10000 v)."""
    x = _sint(v, off, width)
    valid = nbits >= off + width and x != na_degrees * per_degree
    scale = 10 if per_degree == 600_000 else 10_000
    return ((scale * x + 3) // 6) / 1e6, valid


@kernel
def _position(
    v: np.ndarray,
    nbits: int,
    t: int,
    row: int,
    ints: np.ndarray,
    floats: np.ndarray,
    ok: np.ndarray,
) -> None:
    """nav_status, heading (ints 3, 4), lat, lon, sog, cog (floats 0-3) of a position."""
    nf = len(POSITION_INTS)
    if t <= 3:  # class A
        lon, lat, sog, cog, hdg, nav = (61, 28), (89, 27), (50, 1023), (116, 3600), 128, 38
    elif t == 4:  # base station: position only
        lon, lat, sog, cog, hdg, nav = (79, 28), (107, 27), (-1, 0), (-1, 0), -1, -1
    elif t == 27:  # long range: 1/10 minute, integer knots (63 n/a) and degrees (511 n/a)
        lon, lat, sog, cog, hdg, nav = (44, 18), (62, 17), (79, 63), (85, 511), -1, 40
    else:  # class B (18, 19)
        lon, lat, sog, cog, hdg, nav = (57, 28), (85, 27), (46, 1023), (112, 3600), 124, -1
    per_degree = 600 if t == 27 else 600_000
    x, valid = _latlon(v, nbits, lon[0], lon[1], per_degree, 181)
    floats[1, row], ok[nf + 1, row] = x, valid
    x, valid = _latlon(v, nbits, lat[0], lat[1], per_degree, 91)
    floats[0, row], ok[nf, row] = x, valid
    if sog[0] >= 0:
        width = 6 if t == 27 else 10
        n, valid = _num(v, nbits, sog[0], width, sog[1], True)
        floats[2, row], ok[nf + 2, row] = (n if t == 27 else n / 10.0), valid
    if cog[0] >= 0:
        width = 9 if t == 27 else 12
        n, valid = _num(v, nbits, cog[0], width, cog[1], True)
        floats[3, row], ok[nf + 3, row] = (n if t == 27 else n / 10.0), valid
    if hdg >= 0:
        n, valid = _num(v, nbits, hdg, 9, 511, True)
        _put(ints, ok, 3, row, n, valid)
    if nav >= 0:
        n, valid = _num(v, nbits, nav, 4, 0, False)
        _put(ints, ok, 4, row, n, valid)


@kernel
def _base_station_time(v: np.ndarray, nbits: int) -> tuple[int, bool]:
    """UTC time a type 4 reports; valid only when every component is in range."""
    y, mo, d = _uint(v, 38, 14), _uint(v, 52, 4), _uint(v, 56, 5)
    h, mi, s = _uint(v, 61, 5), _uint(v, 66, 6), _uint(v, 72, 6)
    if valid_civil(y, mo, d, h, mi, s) and s <= 59 and nbits >= 78:
        return civil_to_us(y, mo, d, h, mi, s), True
    return 0, False


@kernel
def _text(v: np.ndarray, nbits: int, off: int, nchars: int, out: np.ndarray, pos: int) -> int:
    """6-bit text written at ``out[pos:]``, stripped like pyais (``rstrip('@').strip()``);
    its length, 0 when empty or cut off (null)."""
    if nbits < off + 6 * nchars:
        return 0
    end_at = 0
    for j in range(nchars):
        six = _uint(v, off + 6 * j, 6)
        c = six + 64 if six < 32 else six  # 0-31 -> '@'..'_', 32-63 as is
        out[pos + j] = c
        if c != 64:
            end_at = j + 1
    start, end = nchars, 0
    for j in range(end_at):
        if out[pos + j] != 32:
            end = j + 1
            if start == nchars:
                start = j
    start = min(start, end)
    for j in range(end - start):
        out[pos + j] = out[pos + start + j]
    return end - start


@kernel
def _dims(
    v: np.ndarray, nbits: int, off: int, row: int, ints: np.ndarray, ok: np.ndarray, keep: bool
) -> None:
    for col, (delta, width) in enumerate(((0, 9), (9, 9), (18, 6), (24, 6))):
        n, valid = _num(v, nbits, off + delta, width, 0, False)
        _put(ints, ok, 5 + col, row, n, valid and keep)


@kernel
def _static(
    v: np.ndarray,
    nbits: int,
    t: int,
    mmsi: int,
    row: int,
    ints: np.ndarray,
    floats: np.ndarray,
    ok: np.ndarray,
    texts: np.ndarray,
    lengths: np.ndarray,
) -> None:
    """The identity/voyage columns of a type 5, 19 or 24 (its part checked before)."""
    pos = row * _TEXT_WIDTH
    if t == 5:
        n, valid = _num(v, nbits, 40, 30, 0, True)
        _put(ints, ok, 3, row, n, valid)
        lengths[0, row] = _text(v, nbits, 70, 7, texts[0], pos)
        lengths[1, row] = _text(v, nbits, 112, 20, texts[1], pos)
        n, valid = _num(v, nbits, 232, 8, 0, False)
        _put(ints, ok, 4, row, n, valid)
        _dims(v, nbits, 240, row, ints, ok, True)
        for col, (off, width, na) in enumerate(
            ((274, 4, 0), (278, 5, 0), (283, 5, 24), (288, 6, 60))
        ):
            n, valid = _num(v, nbits, off, width, na, True)
            _put(ints, ok, 9 + col, row, n, valid)
        n, valid = _num(v, nbits, 294, 8, 0, False)
        floats[0, row], ok[len(STATIC_INTS), row] = n / 10.0, valid
        lengths[2, row] = _text(v, nbits, 302, 20, texts[2], pos)
    elif t == 19:
        lengths[1, row] = _text(v, nbits, 143, 20, texts[1], pos)
        n, valid = _num(v, nbits, 263, 8, 0, False)
        _put(ints, ok, 4, row, n, valid)
        _dims(v, nbits, 271, row, ints, ok, True)
    elif _uint(v, 38, 2) == 0:  # 24 part A: the name
        lengths[1, row] = _text(v, nbits, 40, 20, texts[1], pos)
    else:  # 24 part B: ship type, call sign, dimensions (an auxiliary craft's: its mother
        # ship's MMSI instead, as pyais decodes it, so no dimensions)
        lengths[0, row] = _text(v, nbits, 90, 7, texts[0], pos)
        n, valid = _num(v, nbits, 40, 8, 0, False)
        _put(ints, ok, 4, row, n, valid)
        _dims(v, nbits, 132, row, ints, ok, not (980_000_000 <= mmsi <= 989_999_999))


@kernel
def decode_fields(
    buf: np.ndarray,
    mbuf: np.ndarray,
    in_mbuf: np.ndarray,
    pay_start: np.ndarray,
    pay_len: np.ndarray,
    fill: np.ndarray,
    time_us: np.ndarray,
    has_time: np.ndarray,
    untimed_fields: bool,
) -> tuple[np.ndarray, ...]:
    """Decode every message (payload ``buf`` or, where ``in_mbuf``, ``mbuf`` at
    ``pay_start``). Returns ``(types, codes, positions..., statics...)``: per message its
    type and reject code (too short, bad part number), then per table the message of each
    row, its int and float columns (rows of matrices, in the orders above) with their
    validity (ints first), and for statics the texts (``STATIC_TEXTS``: each column's
    chars back to back, and each row's length, 0 = null).

    ``untimed_fields`` false: a position of a type timed by its line (not type 4) that has
    no time gets its row with ``msg_type`` only."""
    n = len(pay_start)
    types = np.zeros(n, dtype=np.int64)
    codes = np.zeros(n, dtype=np.uint8)
    p_msg = np.empty(n, dtype=np.int64)
    p_int = np.zeros((len(POSITION_INTS), n), dtype=np.int64)
    p_flt = np.zeros((len(POSITION_FLOATS), n), dtype=np.float64)
    p_ok = np.zeros((len(POSITION_INTS) + len(POSITION_FLOATS), n), dtype=np.bool_)
    s_msg = np.empty(n, dtype=np.int64)
    s_int = np.zeros((len(STATIC_INTS), n), dtype=np.int64)
    s_flt = np.zeros((len(STATIC_FLOATS), n), dtype=np.float64)
    s_ok = np.zeros((len(STATIC_INTS) + len(STATIC_FLOATS), n), dtype=np.bool_)
    s_txt = np.zeros((len(STATIC_TEXTS), n * _TEXT_WIDTH), dtype=np.uint8)
    s_len = np.zeros((len(STATIC_TEXTS), n), dtype=np.int64)
    longest = 0
    for m in range(n):
        longest = max(longest, pay_len[m])
    v = np.zeros(longest + _READ_CHARS, dtype=np.int64)
    rows, srows = 0, 0
    for m in range(n):
        src = mbuf if in_mbuf[m] else buf
        start, length = pay_start[m], pay_len[m]
        t = sixbit(src[start])
        types[m] = t
        nbits = length * 6 - fill[m]
        if not _DECODED[t]:
            continue
        if nbits < _MIN_BITS[t]:
            codes[m] = _TOO_SHORT
            continue
        for k in range(length):
            v[k] = sixbit(src[start + k])
        v[length : length + _READ_CHARS] = 0
        mmsi = _uint(v, 8, 30)
        if t != 5 and t != 24:  # a position
            p_msg[rows] = m
            _put(p_int, p_ok, 2, rows, t, True)
            _put(p_int, p_ok, 1, rows, time_us[m], has_time[m])
            if t == 4:
                us, valid = _base_station_time(v, nbits)
                if valid:
                    _put(p_int, p_ok, 1, rows, us, True)
            if untimed_fields or t == 4 or has_time[m]:
                _put(p_int, p_ok, 0, rows, mmsi, True)
                _position(v, nbits, t, rows, p_int, p_flt, p_ok)
            rows += 1
        if t == 5 or t == 19 or t == 24:  # identity/voyage data
            if t == 24:
                part = _uint(v, 38, 2)
                if part >= 2:
                    codes[m] = _BAD_PART
                    continue
                if nbits < _MIN_BITS_24[part]:
                    codes[m] = _TOO_SHORT
                    continue
            s_msg[srows] = m
            _put(s_int, s_ok, 0, srows, mmsi, True)
            _put(s_int, s_ok, 1, srows, time_us[m], has_time[m])
            _put(s_int, s_ok, 2, srows, t, True)
            _static(v, nbits, t, mmsi, srows, s_int, s_flt, s_ok, s_txt, s_len)
            srows += 1
    for f in range(len(STATIC_TEXTS)):  # each text column's chars back to back
        to = 0
        for r in range(srows):
            for j in range(s_len[f, r]):
                s_txt[f, to + j] = s_txt[f, r * _TEXT_WIDTH + j]
            to += s_len[f, r]
    return (
        types,
        codes,
        p_msg[:rows].copy(),  # kept with the batch (its rows' texts): not the n-sized array
        p_int[:, :rows],
        p_flt[:, :rows],
        p_ok[:, :rows],
        s_msg[:srows].copy(),
        s_int[:, :srows],
        s_flt[:, :srows],
        s_ok[:, :srows],
        s_txt,
        s_len[:, :srows],
    )
