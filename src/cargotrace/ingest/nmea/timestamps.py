"""Vectorised parsing of the receive-time tokens found around NMEA sentences.

Archives stamp sentences with a Unix epoch (seconds, optionally fractional, or
milliseconds) or an ISO-8601 time.  Tokens are gathered into a fixed-width ``uint8``
matrix and parsed column by column, so the cost is a handful of NumPy operations per
batch however many lines carry a time.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.sqlexpr import MAX_UTC_OFFSET_MINUTES

WIDTH = 40  # longest accepted token ("2021-11-01T00:00:05.123456789+05:30" is 35)
MS_THRESHOLD = 100_000_000_000  # epochs above 1e11 are milliseconds (year 5138 in seconds)
_MAX_EPOCH_DIGITS = 13
_US = 1_000_000
_DIGIT = 48
_ISO_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_ISO_LITERALS = ((4, b"-"), (7, b"-"), (13, b":"), (16, b":"))
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: np.ndarray = era * 146097 + doe - 719468
    return days


def valid_civil(
    y: np.ndarray, mo: np.ndarray, d: np.ndarray, h: np.ndarray, mi: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """Range-check a broken-down UTC time (leap second 60 accepted)."""
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = _DAYS_IN_MONTH[np.clip(mo, 0, 12)] + ((mo == 2) & leap)
    ok = (y >= 1) & (y <= 9999) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= dim)
    valid: np.ndarray = ok & (h >= 0) & (h <= 23) & (mi >= 0) & (mi <= 59) & (s >= 0) & (s <= 60)
    return valid


def civil_to_us(
    y: np.ndarray, mo: np.ndarray, d: np.ndarray, h: np.ndarray, mi: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """Microseconds since the Unix epoch of a broken-down UTC time."""
    days = days_from_civil(y, mo, d)
    us: np.ndarray = (((days * 24 + h) * 60 + mi) * 60 + s) * _US
    return us


def _token_matrix(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``(n, WIDTH)`` bytes of each token, zero past its end.

    Only the columns up to the longest token are gathered (epoch-only batches need 13).
    """
    width = int(lengths.max())
    mat = np.zeros((len(starts), WIDTH), dtype=np.uint8)
    mat[:, :width] = sliding_window_view(buf, width)[starts]
    mat[:, :width][np.arange(width) >= lengths[:, None]] = 0
    return mat


def _digits_value(dig: np.ndarray, first: int, count: np.ndarray, max_count: int) -> np.ndarray:
    """Integer value of ``count`` (per row, <= max_count) digits starting at column ``first``."""
    acc = np.zeros(len(dig), dtype=np.int64)
    for k in range(max_count):
        take = k < count
        acc = np.where(take, acc * 10 + dig[:, first + k], acc)
    return acc


def _fraction_us(dig: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Microseconds of a fractional-second digit run (extra digits truncated)."""
    rows = np.arange(len(dig))
    acc = np.zeros(len(dig), dtype=np.int64)
    for k in range(6):
        col = np.minimum(first + k, WIDTH - 1)
        acc = acc * 10 + np.where(k < count, dig[rows, col], 0)
    return acc


def _leading_run(mask: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Length of the run of True in each row of ``mask`` starting at column ``first``."""
    cols = np.arange(mask.shape[1])
    after = mask | (cols < first[:, None])
    stop = np.where(after.all(axis=1), mask.shape[1], np.argmin(after, axis=1))
    run: np.ndarray = np.maximum(stop - first, 0)
    return run


def _parse_epoch(
    mat: np.ndarray, lengths: np.ndarray, min_digits: int
) -> tuple[np.ndarray, np.ndarray]:
    """``[digits][.digits]`` -> (microseconds, ok)."""
    cols = np.arange(WIDTH)
    inside = cols < lengths[:, None]
    isdig = (mat >= 48) & (mat <= 57)
    dot = (mat == 46) & inside
    ndot = dot.sum(axis=1)
    clean = (isdig | dot | ~inside).all(axis=1)
    int_len = np.where(ndot == 1, np.argmax(dot, axis=1), lengths)
    frac_len = np.where(ndot == 1, lengths - int_len - 1, 0)
    ok = clean & (ndot <= 1) & (int_len >= min_digits) & (int_len <= _MAX_EPOCH_DIGITS)
    ok &= (ndot == 0) | (frac_len >= 1)
    dig = np.where(isdig, mat.astype(np.int64) - _DIGIT, 0)
    whole = _digits_value(dig, 0, int_len, _MAX_EPOCH_DIGITS)
    frac = _fraction_us(dig, int_len + 1, frac_len)
    is_ms = whole > MS_THRESHOLD
    us = np.where(is_ms, whole * 1000 + frac // 1000, whole * _US + frac)
    return us, ok


def _parse_iso(mat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD[T ]HH:MM:SS[.f][Z|+HH:MM|+HHMM|+HH]`` -> (microseconds, ok)."""
    n = len(mat)
    rows = np.arange(n)
    isdig = (mat >= 48) & (mat <= 57)
    dig = np.where(isdig, mat.astype(np.int64) - _DIGIT, 0)
    ok = (lengths >= 19) & isdig[:, list(_ISO_DIGITS)].all(axis=1)
    for col, lit in _ISO_LITERALS:
        ok &= mat[:, col] == lit[0]
    ok &= np.isin(mat[:, 10], np.frombuffer(b"Tt ", np.uint8))

    def num(a: int, b: int) -> np.ndarray:
        return _digits_value(dig, a, np.full(n, b - a), b - a)

    y, mo, d, h, mi, s = num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
    has_frac = mat[:, 19] == 46
    nfrac = np.where(has_frac, _leading_run(isdig, np.full(n, 20)), 0)
    ok &= ~has_frac | (nfrac >= 1)
    frac = _fraction_us(dig, np.full(n, 20), nfrac)
    p = np.where(has_frac, 20 + nfrac, 19)
    tz_us, tz_ok = _parse_offset(mat, dig, isdig, rows, p, lengths)
    ok &= tz_ok & valid_civil(y, mo, d, h, mi, s)
    us = civil_to_us(y, mo, d, h, mi, s) + frac - tz_us
    return us, ok


def _parse_offset(
    mat: np.ndarray,
    dig: np.ndarray,
    isdig: np.ndarray,
    rows: np.ndarray,
    p: np.ndarray,
    lengths: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """UTC offset at column ``p``: nothing, ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM``."""

    def at(k: int) -> np.ndarray:
        column: np.ndarray = np.minimum(p + k, WIDTH - 1)
        return column

    c0 = mat[rows, at(0)]
    rest = lengths - p
    sign = np.where(c0 == 45, -1, 1)
    signed = (c0 == 43) | (c0 == 45)
    hh_ok = isdig[rows, at(1)] & isdig[rows, at(2)]
    hh = dig[rows, at(1)] * 10 + dig[rows, at(2)]
    colon = mat[rows, at(3)] == 58
    m_first = np.where(colon, 4, 3)
    mm_ok = isdig[rows, np.minimum(p + m_first, WIDTH - 1)]
    mm_ok &= isdig[rows, np.minimum(p + m_first + 1, WIDTH - 1)]
    mm = dig[rows, np.minimum(p + m_first, WIDTH - 1)] * 10
    mm = mm + dig[rows, np.minimum(p + m_first + 1, WIDTH - 1)]
    with_min = signed & hh_ok & mm_ok & (rest == m_first + 2)
    hours_only = signed & hh_ok & (rest == 3)
    ok = (rest == 0) | (((c0 == 90) | (c0 == 122)) & (rest == 1)) | with_min | hours_only
    ok &= (hh * 60 + mm <= MAX_UTC_OFFSET_MINUTES) & (mm <= 59)  # no place is beyond ±14:00
    offset = np.where(with_min, hh * 60 + mm, np.where(hours_only, hh * 60, 0))
    return sign * offset * 60 * _US, ok


def parse_time_tokens(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, min_digits: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Parse the tokens ``buf[starts[i]:ends[i]]`` as epoch or ISO-8601 times.

    Returns ``(microseconds_since_epoch int64, ok bool)``.  ``min_digits`` keeps short
    numbers (signal levels, counters in trailing receiver metadata) from being taken as
    epochs.  ``buf`` must carry at least ``WIDTH`` bytes of padding after any token.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts
    us = np.zeros(len(starts), dtype=np.int64)
    ok = np.zeros(len(starts), dtype=bool)
    fits = np.flatnonzero((lengths >= 1) & (lengths <= WIDTH))
    if fits.size == 0:
        return us, ok
    mat = _token_matrix(buf, starts[fits], lengths[fits])
    e_us, e_ok = _parse_epoch(mat, lengths[fits], min_digits)
    us[fits], ok[fits] = e_us, e_ok
    iso = np.flatnonzero(~e_ok & (lengths[fits] >= 19) & (mat[:, 4] == 45))
    if iso.size:
        i_us, i_ok = _parse_iso(mat[iso], lengths[fits][iso])
        us[fits[iso]], ok[fits[iso]] = i_us, i_ok
    return us, ok
