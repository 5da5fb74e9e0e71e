"""Find, split and validate ``!xxVDM``/``!xxVDO`` sentences of a whole ``LineBlock`` at once.

Structure is recovered from sorted position arrays of the delimiter bytes (``!``, ``*``,
``,``, ``:``) with ``searchsorted``; checksums are XOR reductions over contiguous byte
ranges (``np.bitwise_xor.reduceat``).  Each sentence gets a reason code; code 0 means the
sentence is well formed and may take part in message assembly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargotrace.ingest.nmea_lines import LineBlock
from cargotrace.ingest.nmea_time import parse_time_tokens

REASONS: tuple[str, ...] = (
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
)
CODE = {name: i for i, name in enumerate(REASONS)}
MAX_PAYLOAD_CHARS = 200  # as pyais: longer sentence payloads are corrupt concatenations
_BIG = np.iinfo(np.int64).max // 4
_SEPARATORS = np.frombuffer(b" ,;\t", dtype=np.uint8)
_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i


@dataclass
class Sentences:
    """Per-sentence columns; ``line`` indexes the block's lines.  Valid where status == 0."""

    line: np.ndarray
    status: np.ndarray
    cnt: np.ndarray
    num: np.ndarray
    seq: np.ndarray
    chan: np.ndarray
    talker: np.ndarray
    vdo: np.ndarray
    fill: np.ndarray
    pay_start: np.ndarray
    pay_len: np.ndarray
    time_us: np.ndarray
    has_time: np.ndarray
    src_start: np.ndarray
    src_len: np.ndarray  # -1: no source

    def __len__(self) -> int:
        return len(self.line)


# One ``bytes.translate`` pass classifies every byte: 0 = valid payload armour character,
# otherwise a delimiter class or _OTHER (':' is both armour and a tag-block delimiter).  The positions of all non-zero bytes give both the
# delimiter indexes and, by counting inside a payload range, its validity.
_OTHER, _BANG, _STAR, _COMMA, _COLON = 1, 2, 3, 4, 5
_CLASS_TABLE = bytearray(_OTHER for _ in range(256))
for _c in range(256):
    if 48 <= _c <= 87 or 96 <= _c <= 119:
        _CLASS_TABLE[_c] = 0
for _c, _k in ((33, _BANG), (42, _STAR), (44, _COMMA), (58, _COLON)):
    _CLASS_TABLE[_c] = _k
_CLASS_TABLE = bytes(_CLASS_TABLE)


class _Index:
    """Sorted positions of one delimiter byte, with an out-of-range sentinel appended."""

    def __init__(self, positions: np.ndarray) -> None:
        self.pos = np.append(positions, _BIG)

    def first(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position of the first occurrence in ``[lo, hi)`` and whether there is one."""
        p = self.pos[np.searchsorted(self.pos, lo)]
        return p, p < hi

    def count(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the first occurrence at/after ``lo`` and the count within ``[lo, hi)``."""
        i0 = np.searchsorted(self.pos, lo)
        return i0, np.searchsorted(self.pos, hi) - i0

    def at(self, i: np.ndarray) -> np.ndarray:
        return self.pos[np.minimum(i, len(self.pos) - 1)]


def xor_ranges(buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """XOR of ``buf[lo:hi]`` per range; ranges must be sorted and non-overlapping."""
    out = np.zeros(len(lo), dtype=np.uint8)
    nz = np.flatnonzero(hi > lo)
    if nz.size:
        idx = np.empty(2 * nz.size, dtype=np.int64)
        idx[0::2], idx[1::2] = lo[nz], hi[nz]
        out[nz] = np.bitwise_xor.reduceat(buf, idx)[0::2]
    return out


def _flag(status: np.ndarray, cond: np.ndarray, reason: str) -> None:
    status[(status == 0) & cond] = CODE[reason]


def _rstrip_separators(buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    hi = hi.copy()
    active = np.flatnonzero(hi > lo)
    while active.size:
        active = active[np.isin(buf[hi[active] - 1], _SEPARATORS)]
        hi[active] -= 1
        active = active[hi[active] > lo[active]]
    return hi


def classify_lines(block: LineBlock, bang: _Index) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(sentence_line_indices, sentence_start)`` of lines holding an AIS sentence.

    A line is AIS when it contains ``!`` + 2-char talker + ``VDM``/``VDO`` and does not start
    with ``#`` (comment) or ``$`` (other NMEA); everything else is ``non_ais``.
    """
    buf = block.buf
    excl = bang.pos[:-1]
    vd = (buf[excl + 3] == 86) & (buf[excl + 4] == 68)
    vd &= (buf[excl + 5] == 77) | (buf[excl + 5] == 79)
    cand = np.append(excl[vd], _BIG)
    s0 = cand[np.searchsorted(cand, block.starts)]
    first = buf[block.starts]
    is_ais = (s0 + 6 <= block.ends) & (first != 35) & (first != 36)
    lines = np.flatnonzero(is_ais)
    return lines, s0[lines]


def _tag_field(
    buf: np.ndarray, keys: _Index, comma: _Index, letter: int, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value range of the ``letter:`` field of each tag block ``[lo, hi)``."""
    pos = keys.pos[:-1]
    key, found = _Index(pos[buf[pos] == letter]).first(lo, hi)
    vstart = key + 2
    nxt, has_next = comma.first(vstart, hi)
    vend = np.where(has_next, nxt, hi)
    return np.where(found, vstart, lo), np.where(found, vend, lo), found


def _parse_tag_blocks(
    buf: np.ndarray, lo: np.ndarray, hi: np.ndarray, sc: _Scan
) -> dict[str, np.ndarray]:
    """Checksum, ``c:`` time and ``s:`` source of tag blocks ``buf[lo:hi]`` (no backslashes)."""
    star, comma = sc.star, sc.comma
    tstar, has_star = star.first(lo, hi)
    tstar = np.where(has_star, tstar, hi)
    hex_ok = (_HEX[buf[tstar + 1]] < 16) & (_HEX[buf[tstar + 2]] < 16) & (tstar + 3 == hi)
    want = (_HEX[buf[tstar + 1]].astype(np.int64) << 4) | _HEX[buf[tstar + 2]]
    fields_end = np.where(has_star, tstar, hi)
    got = xor_ranges(buf, lo, fields_end)
    bad = has_star & (~hex_ok | (got != want))
    colon = sc.colon.pos[:-1]
    key = colon[colon >= 2] - 1
    keys = _Index(key[np.isin(buf[key - 1], np.frombuffer(b",\\", np.uint8))])
    cs, ce, has_c = _tag_field(buf, keys, comma, 99, lo, fields_end)
    t_us, t_ok = parse_time_tokens(buf, cs, ce, min_digits=1)
    ss, se, has_s = _tag_field(buf, keys, comma, 115, lo, fields_end)
    return {
        "bad": bad,
        "time_us": t_us,
        "has_time": has_c & t_ok,
        "src_start": ss,
        "src_len": np.where(has_s, se - ss, -1),
    }


def _suffix_times(
    buf: np.ndarray, after: np.ndarray, ends: np.ndarray, comma: _Index
) -> tuple[np.ndarray, np.ndarray]:
    """First epoch/ISO time among the comma-separated fields after ``*hh``."""
    n = len(after)
    i0, ncom = comma.count(after, ends)
    counts = ncom + 1
    tok_row = np.repeat(np.arange(n), counts)
    first_tok = np.cumsum(counts) - counts
    k = np.arange(len(tok_row)) - first_tok[tok_row]
    cidx = i0[tok_row] + k
    tok_start = np.where(k == 0, after[tok_row], comma.at(cidx - 1) + 1)
    tok_end = np.where(k == counts[tok_row] - 1, ends[tok_row], comma.at(cidx))
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


class _Scan:
    """Delimiter indexes of one block (built from a single classification pass)."""

    def __init__(self, block: LineBlock) -> None:
        self.block = block
        self.buf = block.buf
        cls = np.frombuffer(block.buf[: block.size].tobytes().translate(_CLASS_TABLE), np.uint8)
        special = np.flatnonzero(cls != 0)
        kind = cls[special]
        self.bang = _Index(special[kind == _BANG])
        self.star = _Index(special[kind == _STAR])
        self.comma = _Index(special[kind == _COMMA])
        is_colon = kind == _COLON  # ':' is also a valid armour character
        self.colon = _Index(special[is_colon])
        # Rank of each comma among all non-armour bytes: two consecutive commas enclose only
        # armour characters exactly when their ranks are consecutive.
        self.comma_rank = np.flatnonzero(kind[~is_colon] == _COMMA)

    def armour_only_between(self, i: np.ndarray) -> np.ndarray:
        """Whether only armour characters lie between comma ``i`` and comma ``i + 1``."""
        rank = self.comma_rank
        last = len(rank) - 1
        return rank[np.minimum(i + 1, last)] == rank[np.minimum(i, last)] + 1


def scan_sentences(block: LineBlock) -> Sentences:
    """Validate every AIS sentence of ``block`` and extract its NMEA fields."""
    sc = _Scan(block)
    buf = sc.buf
    lines, s0 = classify_lines(block, sc.bang)
    st, en = block.starts[lines], block.ends[lines]
    n = len(lines)
    status = np.zeros(n, dtype=np.uint8)
    time_us = np.zeros(n, dtype=np.int64)
    has_time = np.zeros(n, dtype=bool)
    src_start = np.zeros(n, dtype=np.int64)
    src_len = np.full(n, -1, dtype=np.int64)

    _prefix(sc, st, s0, status, time_us, has_time, src_start, src_len)
    star, has_suffix = _checksum(sc, s0, en, status)
    fields = _fields(sc, s0, star, status)
    _suffix(sc, star, en, has_suffix, status, time_us, has_time)
    return Sentences(
        line=lines,
        status=status,
        time_us=time_us,
        has_time=has_time,
        src_start=src_start,
        src_len=src_len,
        **fields,
    )


def _prefix(
    sc: _Scan,
    st: np.ndarray,
    s0: np.ndarray,
    status: np.ndarray,
    time_us: np.ndarray,
    has_time: np.ndarray,
    src_start: np.ndarray,
    src_len: np.ndarray,
) -> None:
    """Tag block (``\\...\\``) or time token before the sentence."""
    buf = sc.buf
    pre = s0 - st
    tb = (pre > 0) & (buf[st] == 92)
    tb_ok = tb & (pre >= 2) & (buf[s0 - 1] == 92)
    _flag(status, tb & ~tb_ok, "bad_prefix")
    rows = np.flatnonzero(tb_ok)
    if rows.size:
        tags = _parse_tag_blocks(buf, st[rows] + 1, s0[rows] - 1, sc)
        _flag(status, _scatter(len(st), rows, tags["bad"]), "bad_tag_checksum")
        time_us[rows], has_time[rows] = tags["time_us"], tags["has_time"]
        src_start[rows], src_len[rows] = tags["src_start"], tags["src_len"]
    rows = np.flatnonzero((pre > 0) & ~tb)
    if rows.size:
        tok_end = _rstrip_separators(buf, st[rows], s0[rows])
        us, ok = parse_time_tokens(buf, st[rows], tok_end)
        empty = tok_end == st[rows]  # only separators/whitespace before the sentence
        _flag(status, _scatter(len(st), rows, ~ok & ~empty), "bad_prefix")
        time_us[rows], has_time[rows] = us, ok


def _scatter(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows] = values
    return out


def _checksum(
    sc: _Scan, s0: np.ndarray, en: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Verify ``*hh``; returns the ``*`` positions and whether trailing fields follow."""
    buf = sc.buf
    star, has_star = sc.star.first(s0, en)
    star = np.where(has_star, star, en)
    h1, h2 = _HEX[buf[star + 1]], _HEX[buf[star + 2]]
    hex_ok = has_star & (star + 3 <= en) & (h1 < 16) & (h2 < 16)
    _flag(status, ~hex_ok, "no_checksum")
    want = (h1.astype(np.int64) << 4) | h2
    got = xor_ranges(buf, s0 + 1, star)
    _flag(status, hex_ok & (got != want), "bad_checksum")
    after = star + 3
    has_suffix = hex_ok & (after < en) & np.isin(buf[np.minimum(after, len(buf) - 1)], _SEPARATORS)
    return star, has_suffix


def _fields(sc: _Scan, s0: np.ndarray, star: np.ndarray, status: np.ndarray) -> dict:
    """Split ``!xxVDM,cnt,num,seq,chan,payload,fill`` and range-check every field."""
    buf = sc.buf
    i0 = np.searchsorted(sc.comma.pos, star) - 6  # the sixth comma before '*' ...
    six = (i0 >= 0) & (sc.comma.at(np.maximum(i0, 0)) > s0)  # ... lies inside the sentence
    six &= (i0 == 0) | (sc.comma.at(np.maximum(i0 - 1, 0)) < s0)  # and no seventh does
    _flag(status, ~six, "field_count")
    i0 = np.maximum(i0, 0)
    # Clamp so that rows with missing commas still index inside the padded buffer.
    c = [np.minimum(sc.comma.at(i0 + k), star) for k in range(6)]
    _flag(status, c[0] != s0 + 6, "bad_tag")
    cnt = buf[c[0] + 1].astype(np.int64) - 48
    num = buf[c[1] + 1].astype(np.int64) - 48
    frag_ok = (c[1] - c[0] == 2) & (c[2] - c[1] == 2) & (cnt >= 1) & (cnt <= 9)
    _flag(status, ~(frag_ok & (num >= 1) & (num <= cnt)), "bad_fragment")
    seq, seq_ok = _small_int(buf, c[2] + 1, c[3] - c[2] - 1, 3)
    _flag(status, ~seq_ok, "bad_sequence_id")
    chan_len = c[4] - c[3] - 1
    _flag(status, chan_len > 2, "bad_channel")
    c1, c2 = buf[c[3] + 1].astype(np.int64), buf[c[3] + 2].astype(np.int64)
    chan = np.where(chan_len >= 1, c1, 0) | np.where(chan_len >= 2, c2 << 8, 0)
    pay_start, pay_len = c[4] + 1, c[5] - c[4] - 1
    _flag(status, pay_len <= 0, "empty_payload")
    _flag(status, pay_len > MAX_PAYLOAD_CHARS, "payload_too_long")
    _flag(status, ~sc.armour_only_between(i0 + 4), "bad_payload_char")
    fill = buf[c[5] + 1].astype(np.int64) - 48
    _flag(status, (star - c[5] != 2) | (fill < 0) | (fill > 5), "bad_fill_bits")
    talker = buf[s0 + 1].astype(np.int64) | (buf[s0 + 2].astype(np.int64) << 8)
    return {
        "cnt": cnt,
        "num": num,
        "seq": seq,
        "chan": chan,
        "talker": talker,
        "vdo": buf[s0 + 5] == 79,
        "fill": fill,
        "pay_start": pay_start,
        "pay_len": pay_len,
    }


def _small_int(
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


def _suffix(
    sc: _Scan,
    star: np.ndarray,
    en: np.ndarray,
    has_suffix: np.ndarray,
    status: np.ndarray,
    time_us: np.ndarray,
    has_time: np.ndarray,
) -> None:
    """Receive time from trailing fields (``...*hh,1635731889``) when none came before."""
    rows = np.flatnonzero(has_suffix & ~has_time & (status == 0))
    if rows.size:
        us, ok = _suffix_times(sc.buf, star[rows] + 4, en[rows], sc.comma)
        time_us[rows], has_time[rows] = us, ok
