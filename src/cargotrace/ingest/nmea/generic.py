"""General (delimiter-index based) parsing of irregular text around and in sentences.

Used for NMEA 4.10 tag blocks, trailing receiver fields and sentence bodies that the fast
path does not accept.  Every function works on a ``Scan`` of some buffer - typically a
``Regions`` copy holding only the irregular text - and returns per-row arrays; reason
codes are written into ``status`` only where it is still 0, so the first failure wins.
"""

from __future__ import annotations

import numpy as np

from cargotrace.ingest.nmea.index import HEX, Index, Scan, xor_ranges
from cargotrace.ingest.nmea.timestamps import parse_time_tokens

MAX_PAYLOAD_CHARS = 200  # as pyais: longer sentence payloads are corrupt concatenations
SEPARATORS = np.frombuffer(b" ,;\t", dtype=np.uint8)
# A tag-block key follows a comma, the opening backslash or (in a Regions copy) the
# separator newline / start of buffer.
_TAG_KEY_PRECEDERS = np.frombuffer(b",\\\n", dtype=np.uint8)


def flag(status: np.ndarray, cond: np.ndarray, code: int) -> None:
    """Record reason ``code`` where ``cond`` holds and no earlier reason was recorded."""
    status[(status == 0) & cond] = code


def _tag_field(
    sc: Scan, keys: np.ndarray, letter: int, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value range of the ``letter:`` field of each tag block ``[lo, hi)``."""
    key, found = Index(keys[sc.buf[keys] == letter]).first(lo, hi)
    vstart = key + 2
    nxt, has_next = sc.comma.first(vstart, hi)
    vend = np.where(has_next, nxt, hi)
    return np.where(found, vstart, lo), np.where(found, vend, lo), found


def parse_tag_blocks(sc: Scan, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    """Checksum, ``c:`` time and ``s:`` source of tag blocks ``sc.buf[lo:hi]``.

    ``lo``/``hi`` exclude the enclosing backslashes.  A tag block without ``*hh`` is
    accepted unverified; a wrong or malformed one sets ``bad``.
    """
    buf = sc.buf
    tstar, has_star = sc.star.first(lo, hi)
    tstar = np.where(has_star, tstar, hi)
    hex_ok = (HEX[buf[tstar + 1]] < 16) & (HEX[buf[tstar + 2]] < 16) & (tstar + 3 == hi)
    want = (HEX[buf[tstar + 1]].astype(np.int64) << 4) | HEX[buf[tstar + 2]]
    got = xor_ranges(buf, lo, tstar)
    key = sc.colon.pos[:-1] - 1
    key = key[key >= 0]
    keys = key[(key == 0) | np.isin(buf[np.maximum(key - 1, 0)], _TAG_KEY_PRECEDERS)]
    cs, ce, has_c = _tag_field(sc, keys, 99, lo, tstar)  # 'c'
    t_us, t_ok = parse_time_tokens(buf, cs, ce, min_digits=1)
    ss, se, has_s = _tag_field(sc, keys, 115, lo, tstar)  # 's'
    return {
        "bad": has_star & (~hex_ok | (got != want)),
        "time_us": t_us,
        "has_time": has_c & t_ok,
        "src_start": ss,
        "src_len": np.where(has_s & (se > ss), se - ss, -1),  # empty "s:" -> no source
    }


def suffix_times(sc: Scan, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First epoch/ISO time among the comma-separated fields of ``sc.buf[lo:hi]``."""
    buf, comma = sc.buf, sc.comma
    n = len(lo)
    i0, ncom = comma.count(lo, hi)
    counts = ncom + 1
    tok_row = np.repeat(np.arange(n), counts)
    k = np.arange(len(tok_row)) - (np.cumsum(counts) - counts)[tok_row]
    cidx = i0[tok_row] + k
    tok_start = np.where(k == 0, lo[tok_row], comma.at(cidx - 1) + 1)
    tok_end = np.where(k == counts[tok_row] - 1, hi[tok_row], comma.at(cidx))
    # Only tokens that can be a time (start with a digit, >= 9 chars) are parsed.
    first = buf[tok_start]
    maybe = np.flatnonzero((tok_end - tok_start >= 9) & (first >= 48) & (first <= 57))
    us, ok = parse_time_tokens(buf, tok_start[maybe], tok_end[maybe])
    us, rows = us[ok], tok_row[maybe[ok]]
    first_of_row = np.ones(len(rows), dtype=bool)
    first_of_row[1:] = rows[1:] != rows[:-1]
    time_us = np.zeros(n, dtype=np.int64)
    has = np.zeros(n, dtype=bool)
    time_us[rows[first_of_row]] = us[first_of_row]
    has[rows[first_of_row]] = True
    return time_us, has


def checksum(
    sc: Scan, s0: np.ndarray, en: np.ndarray, status: np.ndarray, codes: dict[str, int]
) -> np.ndarray:
    """Verify ``*hh`` of sentences ``[s0, en)``; returns the ``*`` positions (``en`` if none)."""
    buf = sc.buf
    star, has_star = sc.star.first(s0, en)
    star = np.where(has_star, star, en)
    h1, h2 = HEX[buf[star + 1]], HEX[buf[star + 2]]
    hex_ok = has_star & (star + 3 <= en) & (h1 < 16) & (h2 < 16)
    flag(status, ~hex_ok, codes["no_checksum"])
    want = (h1.astype(np.int64) << 4) | h2
    flag(status, hex_ok & (xor_ranges(buf, s0 + 1, star) != want), codes["bad_checksum"])
    return star


def small_int(
    buf: np.ndarray, start: np.ndarray, length: np.ndarray, max_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Optional decimal field of at most ``max_len`` digits; empty gives -1."""
    val = np.zeros(len(start), dtype=np.int64)
    ok = (length >= 0) & (length <= max_len)
    for k in range(max_len):
        d = buf[start + k].astype(np.int64) - 48
        inside = k < length
        ok &= ~inside | ((d >= 0) & (d <= 9))
        val = np.where(inside, val * 10 + d, val)
    return np.where(length == 0, -1, val), ok


def fields(
    sc: Scan, s0: np.ndarray, star: np.ndarray, status: np.ndarray, codes: dict[str, int]
) -> dict[str, np.ndarray]:
    """Split ``!xxVDM,cnt,num,seq,chan,payload,fill`` and range-check every field."""
    buf = sc.buf
    i0 = np.searchsorted(sc.comma.pos, star) - 6  # the sixth comma before '*' ...
    six = (i0 >= 0) & (sc.comma.at(i0) > s0)  # ... lies inside the sentence
    six &= (i0 <= 0) | (sc.comma.at(i0 - 1) < s0)  # and no seventh does
    flag(status, ~six, codes["field_count"])
    i0 = np.maximum(i0, 0)
    # Clamp so that rows with missing commas still index inside the padded buffer.
    c = [np.minimum(sc.comma.at(i0 + k), star) for k in range(6)]
    flag(status, c[0] != s0 + 6, codes["bad_tag"])
    cnt = buf[c[0] + 1].astype(np.int64) - 48
    num = buf[c[1] + 1].astype(np.int64) - 48
    frag_ok = (c[1] - c[0] == 2) & (c[2] - c[1] == 2) & (cnt >= 1) & (cnt <= 9)
    flag(status, ~(frag_ok & (num >= 1) & (num <= cnt)), codes["bad_fragment"])
    seq, seq_ok = small_int(buf, c[2] + 1, c[3] - c[2] - 1, 3)
    flag(status, ~seq_ok, codes["bad_sequence_id"])
    chan_len = c[4] - c[3] - 1
    flag(status, chan_len > 2, codes["bad_channel"])
    c1, c2 = buf[c[3] + 1].astype(np.int64), buf[c[3] + 2].astype(np.int64)
    chan = np.where(chan_len >= 1, c1, 0) | np.where(chan_len >= 2, c2 << 8, 0)
    pay_start, pay_len = c[4] + 1, c[5] - c[4] - 1
    flag(status, pay_len <= 0, codes["empty_payload"])
    flag(status, pay_len > MAX_PAYLOAD_CHARS, codes["payload_too_long"])
    flag(status, ~sc.armour_only_between(i0 + 4), codes["bad_payload_char"])
    fill = buf[c[5] + 1].astype(np.int64) - 48
    flag(status, (star - c[5] != 2) | (fill < 0) | (fill > 5), codes["bad_fill_bits"])
    return {
        "cnt": cnt,
        "num": num,
        "seq": seq,
        "chan": chan,
        "fill": fill,
        "pay_start": pay_start,
        "pay_len": pay_len,
    }
