"""Receive-time tokens and civil dates, compiled (see ``kernels``).

Archives stamp sentences with a Unix epoch (seconds, optionally fractional, or
milliseconds) or an ISO-8601 time; ``parse_token`` reads one such token from the batch
buffer. A token is read as if copied into a ``WIDTH``-byte row, zero past its end: the
positions the offset parser looks at are clamped to that row, as the rows always were.
"""

from __future__ import annotations

import numpy as np

from cargotrace.ingest.nmea.kernels import helper, is_digit, leaf
from cargotrace.ingest.sqlexpr import MAX_UTC_OFFSET_MINUTES

WIDTH = 40  # longest accepted token ("2021-11-01T00:00:05.123456789+05:30" is 35)
MS_THRESHOLD = 100_000_000_000  # epochs above 1e11 are milliseconds (year 5138 in seconds)
_MAX_EPOCH_DIGITS = 13
_US = 1_000_000
_MAX_OFFSET = MAX_UTC_OFFSET_MINUTES
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_ISO_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18], dtype=np.int64)


@helper
def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@helper
def valid_civil(y: int, mo: int, d: int, h: int, mi: int, s: int) -> bool:
    """Range-check a broken-down UTC time (leap second 60 accepted)."""
    if not (1 <= y <= 9999 and 1 <= mo <= 12):
        return False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    dim = _DAYS_IN_MONTH[mo] + (1 if mo == 2 and leap else 0)
    return 1 <= d <= dim and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 60


@helper
def civil_to_us(y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
    """Microseconds since the Unix epoch of a broken-down UTC time."""
    days = days_from_civil(y, mo, d)
    return (((days * 24 + h) * 60 + mi) * 60 + s) * _US


@leaf
def _at(buf: np.ndarray, start: int, length: int, col: int) -> int:
    """Byte ``col`` of the token's row (zero past its end; columns clamped to the row)."""
    if col > WIDTH - 1:
        col = WIDTH - 1
    return int(buf[start + col]) if col < length else 0


@helper
def _digit_at(buf: np.ndarray, start: int, length: int, col: int) -> int:
    c = _at(buf, start, length, col)
    return c - 48 if is_digit(c) else 0


@helper
def _parse_epoch(buf: np.ndarray, start: int, length: int, min_digits: int) -> tuple[int, bool]:
    """``[digits][.digits]`` -> (microseconds, ok)."""
    dots = 0
    dot_at = -1
    clean = True
    for i in range(length):
        c = buf[start + i]
        if c == 46:
            dots += 1
            if dot_at < 0:
                dot_at = i
        elif not is_digit(c):
            clean = False
    int_len = dot_at if dots == 1 else length
    frac_len = length - int_len - 1 if dots == 1 else 0
    ok = clean and dots <= 1 and min_digits <= int_len <= _MAX_EPOCH_DIGITS
    ok = ok and (dots == 0 or frac_len >= 1)
    if not ok:
        return 0, False
    whole = 0
    for k in range(int_len):
        whole = whole * 10 + _digit_at(buf, start, length, k)
    frac = 0
    for k in range(6):
        frac = frac * 10 + (_digit_at(buf, start, length, int_len + 1 + k) if k < frac_len else 0)
    if whole > MS_THRESHOLD:
        return whole * 1000 + frac // 1000, True
    return whole * _US + frac, True


@helper
def _number(buf: np.ndarray, start: int, length: int, a: int, b: int) -> int:
    acc = 0
    for k in range(a, b):
        acc = acc * 10 + _digit_at(buf, start, length, k)
    return acc


@helper
def _parse_offset(buf: np.ndarray, start: int, length: int, p: int) -> tuple[int, bool]:
    """UTC offset (µs) at column ``p``: nothing, ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM``."""
    c0 = _at(buf, start, length, p)
    rest = length - p
    sign = -1 if c0 == 45 else 1
    signed = c0 == 43 or c0 == 45
    hh_ok = is_digit(_at(buf, start, length, p + 1)) and is_digit(_at(buf, start, length, p + 2))
    hh = _digit_at(buf, start, length, p + 1) * 10 + _digit_at(buf, start, length, p + 2)
    m_first = 4 if _at(buf, start, length, p + 3) == 58 else 3
    mm_ok = is_digit(_at(buf, start, length, p + m_first))
    mm_ok = mm_ok and is_digit(_at(buf, start, length, p + m_first + 1))
    mm = _digit_at(buf, start, length, p + m_first) * 10
    mm += _digit_at(buf, start, length, p + m_first + 1)
    with_min = signed and hh_ok and mm_ok and rest == m_first + 2
    hours_only = signed and hh_ok and rest == 3
    ok = rest == 0 or ((c0 == 90 or c0 == 122) and rest == 1) or with_min or hours_only
    ok = ok and hh * 60 + mm <= _MAX_OFFSET and mm <= 59  # no place is beyond ±14:00
    offset = hh * 60 + mm if with_min else (hh * 60 if hours_only else 0)
    return sign * offset * 60 * _US, ok


@helper
def _parse_iso(buf: np.ndarray, start: int, length: int) -> tuple[int, bool]:
    """``YYYY-MM-DD[T ]HH:MM:SS[.f][Z|+HH:MM|+HHMM|+HH]`` -> (microseconds, ok)."""
    ok = length >= 19
    for col in _ISO_DIGITS:
        ok = ok and is_digit(_at(buf, start, length, col))
    ok = ok and _at(buf, start, length, 4) == 45 and _at(buf, start, length, 7) == 45
    ok = ok and _at(buf, start, length, 13) == 58 and _at(buf, start, length, 16) == 58
    sep = _at(buf, start, length, 10)
    ok = ok and (sep == 84 or sep == 116 or sep == 32)
    y, mo, d = _number(buf, start, length, 0, 4), _number(buf, start, length, 5, 7), 0
    d = _number(buf, start, length, 8, 10)
    h, mi = _number(buf, start, length, 11, 13), _number(buf, start, length, 14, 16)
    s = _number(buf, start, length, 17, 19)
    has_frac = _at(buf, start, length, 19) == 46
    nfrac = 0
    if has_frac:
        while 20 + nfrac < WIDTH and is_digit(_at(buf, start, length, 20 + nfrac)):
            nfrac += 1
        ok = ok and nfrac >= 1
    frac = 0
    for k in range(6):
        frac = frac * 10 + (_digit_at(buf, start, length, 20 + k) if k < nfrac else 0)
    tz_us, tz_ok = _parse_offset(buf, start, length, 20 + nfrac if has_frac else 19)
    ok = ok and tz_ok and valid_civil(y, mo, d, h, mi, s)
    if not ok:
        return 0, False
    return civil_to_us(y, mo, d, h, mi, s) + frac - tz_us, True


@helper
def parse_token(buf: np.ndarray, start: int, end: int, min_digits: int) -> tuple[int, bool]:
    """The token ``buf[start:end]`` as an epoch or ISO-8601 time: (µs since epoch, ok).

    ``min_digits`` keeps short numbers (signal levels, counters in trailing receiver
    metadata) from being taken as epochs. ``buf`` must carry ``WIDTH`` bytes of padding.
    """
    length = end - start
    if length < 1 or length > WIDTH:
        return 0, False
    us, ok = _parse_epoch(buf, start, length, min_digits)
    if ok:
        return us, True
    if length >= 19 and _at(buf, start, length, 4) == 45:
        return _parse_iso(buf, start, length)
    return 0, False
