"""The sentences of a batch of lines, one compiled pass per line (see ``kernels``).

For each line: is it an AIS sentence (``!`` + two-character talker + ``VDM``/``VDO``, not a
``#`` comment or ``$`` sentence), what precedes it (an NMEA 4.10 tag block with its
checksum, ``c:`` time and ``s:`` source, or a receive-time token), its checksum and fields
(a standard body read at fixed columns, any other by its commas, naming the first thing
wrong), and a receive time among trailing fields when none came before. Reason codes are
those of ``sentences.REASONS``; the first failure wins.
"""

from __future__ import annotations

import numpy as np

from cargotrace.ingest.nmea.kernels import (
    HEX,
    find_byte,
    helper,
    is_armour,
    is_digit,
    kernel,
    leaf,
    xor_range,
)
from cargotrace.ingest.nmea.kernels_time import parse_token

MAX_PAYLOAD_CHARS = 200  # as pyais: longer sentence payloads are corrupt concatenations
REASONS: tuple[str, ...] = (  # why a sentence or message is rejected; 0: it is not
    "",
    "bad_prefix",
    "bad_tag_checksum",
    "no_checksum",
    "bad_checksum",
    "field_count",
    "bad_tag",
    "bad_fragment",
    "bad_sequence_id",
    "bad_channel",
    "empty_payload",
    "payload_too_long",
    "bad_payload_char",
    "bad_fill_bits",
    "orphan_fragment",
    "too_short",
    "bad_part_number",
    "line_too_long",  # the line was longer than the line limit; its head is kept as evidence
)
BAD_PREFIX = REASONS.index("bad_prefix")
BAD_TAG_CHECKSUM = REASONS.index("bad_tag_checksum")
NO_CHECKSUM = REASONS.index("no_checksum")
BAD_CHECKSUM = REASONS.index("bad_checksum")
FIELD_COUNT = REASONS.index("field_count")
BAD_TAG = REASONS.index("bad_tag")
BAD_FRAGMENT = REASONS.index("bad_fragment")
BAD_SEQUENCE_ID = REASONS.index("bad_sequence_id")
BAD_CHANNEL = REASONS.index("bad_channel")
EMPTY_PAYLOAD = REASONS.index("empty_payload")
PAYLOAD_TOO_LONG = REASONS.index("payload_too_long")
BAD_PAYLOAD_CHAR = REASONS.index("bad_payload_char")
BAD_FILL_BITS = REASONS.index("bad_fill_bits")
_COMMA, _STAR, _BANG, _BACKSLASH, _COLON = 44, 42, 33, 92, 58
_SUFFIX_DIGITS = 9  # a receive time among trailing fields: an epoch of >= 9 digits (or ISO)


@helper
def sentence_start(buf: np.ndarray, lo: int, hi: int) -> int:
    """Position of the line's sentence ``!xxVDM``/``!xxVDO``, -1 if it holds none."""
    for p in range(lo, hi):
        if buf[p] == _BANG and buf[p + 3] == 86 and buf[p + 4] == 68:
            c = buf[p + 5]
            if c == 77 or c == 79:
                first = buf[lo]
                ok = p + 6 <= hi and first != 35 and first != 36
                return p if ok else -1
    return -1


@leaf
def _is_separator(c: int) -> bool:
    return c == 32 or c == 44 or c == 59 or c == 9  # space , ; tab


@helper
def _tag_field(buf: np.ndarray, lo: int, hi: int, letter: int) -> tuple[int, int, bool]:
    """Value range of the ``letter:`` field of the tag block ``buf[lo:hi]``.

    A key is a letter followed by ``:`` at the block's start or after ``,``, ``\\`` or a
    newline."""
    for k in range(lo, hi):
        if buf[k] == letter and buf[k + 1] == _COLON:
            if k == lo or buf[k - 1] == _COMMA or buf[k - 1] == _BACKSLASH or buf[k - 1] == 10:
                start = k + 2
                comma = find_byte(buf, start, hi, _COMMA)
                return start, (comma if comma >= 0 else hi), True
    return lo, lo, False


@helper
def _tag_block(buf: np.ndarray, lo: int, hi: int, i: int, out_i: tuple[np.ndarray, ...]) -> int:
    """Checksum, ``c:`` time and ``s:`` source of the tag block ``buf[lo:hi]`` (without its
    backslashes) into row ``i`` of the time/source columns; returns a reason or 0.

    A block without ``*hh`` is accepted unverified."""
    time_us, has_time, src_start, src_len = out_i
    star = find_byte(buf, lo, hi, _STAR)
    status = 0
    if star < 0:
        star = hi
    else:
        h1, h2 = HEX[buf[star + 1]], HEX[buf[star + 2]]
        if not (h1 < 16 and h2 < 16 and star + 3 == hi):
            status = BAD_TAG_CHECKSUM
        elif xor_range(buf, lo, star) != (int(h1) << 4 | h2):
            status = BAD_TAG_CHECKSUM
    cs, ce, has_c = _tag_field(buf, lo, star, 99)  # 'c'
    us, ok = parse_token(buf, cs, ce, 1)
    if has_c and ok:
        time_us[i], has_time[i] = us, True
    ss, se, has_s = _tag_field(buf, lo, star, 115)  # 's'
    src_start[i] = ss
    src_len[i] = se - ss if has_s and se > ss else -1  # empty "s:" -> no source
    return status


@helper
def _time_prefix(
    buf: np.ndarray, lo: int, s0: int, i: int, time_us: np.ndarray, has_time: np.ndarray
) -> int:
    """A time token before the sentence (separators between them); returns a reason or 0.

    Only separators, or a UTF-8 byte order mark, are no prefix at all."""
    end = s0
    while end > lo and _is_separator(buf[end - 1]):
        end -= 1
    us, ok = parse_token(buf, lo, end, 9)
    if ok:
        time_us[i], has_time[i] = us, True
        return 0
    bom = end - lo == 3 and buf[lo] == 0xEF and buf[lo + 1] == 0xBB and buf[lo + 2] == 0xBF
    return 0 if end == lo or bom else BAD_PREFIX


@helper
def _fast_body(
    buf: np.ndarray, s0: int, star: int, en: int
) -> tuple[bool, int, int, int, int, int, int]:
    """A standard body ``!ttVDx,c,n,[s],[c],payload,f*hh`` read at fixed columns: a 0-1
    digit sequence id, a 0-1 character channel, a payload of armour only. Returns
    (accepted, cnt, num, seq, chan, fill, pay_start); the checksum is not checked here."""
    if buf[s0 + 6] != _COMMA or buf[s0 + 8] != _COMMA or buf[s0 + 10] != _COMMA:
        return False, 0, 0, 0, 0, 0, 0
    cnt, num = int(buf[s0 + 7]) - 48, int(buf[s0 + 9]) - 48
    if not (1 <= cnt <= 9 and 1 <= num <= cnt):
        return False, 0, 0, 0, 0, 0, 0
    c11, c12, c13, c14 = buf[s0 + 11], buf[s0 + 12], buf[s0 + 13], buf[s0 + 14]
    seq_empty = c11 == _COMMA
    if not (seq_empty or (is_digit(c11) and c12 == _COMMA)):
        return False, 0, 0, 0, 0, 0, 0
    ch, after = (c12, c13) if seq_empty else (c13, c14)
    chan_one = ch != _COMMA and after == _COMMA
    if not (ch == _COMMA or chan_one):
        return False, 0, 0, 0, 0, 0, 0
    pay_start = s0 + (12 if seq_empty else 13) + (1 if chan_one else 0) + 1
    pay_len = star - 2 - pay_start
    fill = int(buf[star - 1]) - 48
    ok = buf[star - 2] == _COMMA and 0 <= fill <= 5
    ok = ok and 1 <= pay_len <= MAX_PAYLOAD_CHARS and star + 3 <= en
    ok = ok and HEX[buf[star + 1]] < 16 and HEX[buf[star + 2]] < 16
    if not ok:
        return False, 0, 0, 0, 0, 0, 0
    for p in range(pay_start, pay_start + pay_len):
        if not is_armour(buf[p]):
            return False, 0, 0, 0, 0, 0, 0
    seq = -1 if seq_empty else int(c11) - 48
    chan = int(ch) if chan_one else 0
    return True, cnt, num, seq, chan, fill, pay_start


@helper
def _generic_body(
    buf: np.ndarray, s0: int, star: int, en: int, has_star: bool, f: np.ndarray
) -> int:
    """Checksum and fields of any body, by its commas; fields into ``f`` (cnt, num, seq,
    chan, fill, pay_start, pay_len); returns the first reason found or 0."""
    h1, h2 = HEX[buf[star + 1]], HEX[buf[star + 2]]
    if not (has_star and star + 3 <= en and h1 < 16 and h2 < 16):
        return NO_CHECKSUM
    if xor_range(buf, s0 + 1, star) != (int(h1) << 4 | h2):
        return BAD_CHECKSUM
    c = np.empty(6, dtype=np.int64)
    n = 0
    for p in range(s0, star):
        if buf[p] == _COMMA:
            if n == 6:
                return FIELD_COUNT
            c[n] = p
            n += 1
    if n != 6:
        return FIELD_COUNT
    if c[0] != s0 + 6:
        return BAD_TAG
    cnt, num = int(buf[c[0] + 1]) - 48, int(buf[c[1] + 1]) - 48
    if not (c[1] - c[0] == 2 and c[2] - c[1] == 2 and 1 <= cnt <= 9 and 1 <= num <= cnt):
        return BAD_FRAGMENT
    seq_len = c[3] - c[2] - 1
    if seq_len > 3:
        return BAD_SEQUENCE_ID
    seq = 0
    for p in range(c[2] + 1, c[3]):
        if not is_digit(buf[p]):
            return BAD_SEQUENCE_ID
        seq = seq * 10 + int(buf[p]) - 48
    chan_len = c[4] - c[3] - 1
    if chan_len > 2:
        return BAD_CHANNEL
    chan = int(buf[c[3] + 1]) if chan_len >= 1 else 0
    if chan_len >= 2:
        chan |= int(buf[c[3] + 2]) << 8
    pay_len = c[5] - c[4] - 1
    if pay_len <= 0:
        return EMPTY_PAYLOAD
    if pay_len > MAX_PAYLOAD_CHARS:
        return PAYLOAD_TOO_LONG
    for p in range(c[4] + 1, c[5]):
        if not is_armour(buf[p]):
            return BAD_PAYLOAD_CHAR
    fill = int(buf[c[5] + 1]) - 48
    if star - c[5] != 2 or fill < 0 or fill > 5:
        return BAD_FILL_BITS
    f[0], f[1], f[2], f[3] = cnt, num, -1 if seq_len == 0 else seq, chan
    f[4], f[5], f[6] = fill, c[4] + 1, pay_len
    return 0


@helper
def _suffix_time(buf: np.ndarray, lo: int, hi: int) -> tuple[int, bool]:
    """Receive time among the fields after the checksum ``buf[lo:hi]``: the whole of it as
    one token, else the first comma-separated field that is a time (a digit first, >= 9
    characters)."""
    us, ok = parse_token(buf, lo, hi, _SUFFIX_DIGITS)
    if ok:
        return us, True
    start = lo
    while start <= hi:
        end = find_byte(buf, start, hi, _COMMA)
        if end < 0:
            end = hi
        if end - start >= _SUFFIX_DIGITS and is_digit(buf[start]):
            us, ok = parse_token(buf, start, end, _SUFFIX_DIGITS)
            if ok:
                return us, True
        start = end + 1
    return 0, False


@kernel
def scan_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every AIS sentence of the lines ``buf[starts[i]:ends[i]]``: its line and status, its
    fields (cnt, num, seq, chan, fill, pay_start, pay_len: valid where status is 0), talker,
    VDO flag, receive time and tag-block source (src_len -1: none)."""
    n_lines = len(starts)
    line = np.empty(n_lines, dtype=np.int64)
    start = np.empty(n_lines, dtype=np.int64)
    k = 0
    for i in range(n_lines):
        s0 = sentence_start(buf, starts[i], ends[i])
        if s0 >= 0:
            line[k], start[k] = i, s0
            k += 1
    line, start = line[:k].copy(), start[:k].copy()
    status = np.zeros(k, dtype=np.uint8)
    fields = np.zeros((7, k), dtype=np.int64)
    time_us = np.zeros(k, dtype=np.int64)
    has_time = np.zeros(k, dtype=np.bool_)
    src_start = np.zeros(k, dtype=np.int64)
    src_len = np.full(k, -1, dtype=np.int64)
    talker = np.empty(k, dtype=np.int64)
    vdo = np.empty(k, dtype=np.bool_)
    f = np.zeros(7, dtype=np.int64)
    for j in range(k):
        st, en, s0 = starts[line[j]], ends[line[j]], start[j]
        talker[j] = int(buf[s0 + 1]) | (int(buf[s0 + 2]) << 8)
        vdo[j] = buf[s0 + 5] == 79
        code = 0
        if s0 > st and buf[st] == _BACKSLASH:
            if s0 - st >= 2 and buf[s0 - 1] == _BACKSLASH:
                code = _tag_block(buf, st + 1, s0 - 1, j, (time_us, has_time, src_start, src_len))
            else:
                code = BAD_PREFIX
        elif s0 > st:
            code = _time_prefix(buf, st, s0, j, time_us, has_time)
        star = find_byte(buf, s0, en, _STAR)
        has_star = star >= 0
        if not has_star:
            star = en
        ok, cnt, num, seq, chan, fill, pay_start = False, 0, 0, 0, 0, 0, 0
        if has_star:
            ok, cnt, num, seq, chan, fill, pay_start = _fast_body(buf, s0, star, en)
        if ok:
            want = (int(HEX[buf[star + 1]]) << 4) | HEX[buf[star + 2]]
            body = BAD_CHECKSUM if xor_range(buf, s0 + 1, star) != want else 0
            f[0], f[1], f[2], f[3], f[4], f[5] = cnt, num, seq, chan, fill, pay_start
            f[6] = star - 2 - pay_start
        else:
            f[:] = 0
            body = _generic_body(buf, s0, star, en, has_star, f)
        if code == 0:
            code = body
        status[j] = code
        fields[:, j] = f
        after = star + 3
        if code == 0 and not has_time[j] and after < en and _is_separator(buf[after]):
            us, found = _suffix_time(buf, after + 1, en)
            if found:
                time_us[j], has_time[j] = us, True
    return (line, status, fields, time_us, has_time, src_start, src_len, talker, vdo)
