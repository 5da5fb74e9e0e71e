"""Find, split and validate ``!xxVDM``/``!xxVDO`` sentences of a whole ``LineBlock`` at once.

Sentence starts and checksum stars come from sorted position arrays (``searchsorted``);
standard bodies are parsed by ``nmea_fast`` from per-row windows, irregular text (tag
blocks, trailing fields, odd bodies) by ``nmea_generic`` on a compact copy of just that
text; checksums are XOR reductions over byte ranges (``np.bitwise_xor.reduceat``).  Each
sentence gets a reason code; 0 means well formed, ready for message assembly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cargotrace.ingest.nmea import generic as generic
from cargotrace.ingest.nmea.fast import fast_body
from cargotrace.ingest.nmea.index import HEX, Regions, first_at_or_after, xor_ranges
from cargotrace.ingest.nmea.lines import LineBlock
from cargotrace.ingest.nmea.timestamps import parse_time_tokens

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
    "line_too_long",  # the line was longer than the line limit; its head is kept as evidence
)
CODE = {name: i for i, name in enumerate(REASONS)}
# Byte classes of one ``bytes.translate`` pass: 0 payload armour, 1 other, 2 '!', 3 '*'.
_BANG, _STAR = 2, 3
_CLASSES = bytes(
    _BANG if c == 33 else _STAR if c == 42 else 0 if (48 <= c <= 87 or 96 <= c <= 119) else 1
    for c in range(256)
)


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


def _rstrip_separators(buf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """End of ``buf[lo:hi]`` without the separators that join a time prefix to the sentence."""
    hi = hi.copy()
    active = np.flatnonzero(hi > lo)
    while active.size:
        active = active[np.isin(buf[hi[active] - 1], generic.SEPARATORS)]
        hi[active] -= 1
        active = active[hi[active] > lo[active]]
    return hi


def classify_lines(block: LineBlock, bang: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(sentence_line_indices, sentence_start)`` of lines holding an AIS sentence.

    A line is AIS when it contains ``!`` + 2-char talker + ``VDM``/``VDO`` and does not start
    with ``#`` (comment) or ``$`` (other NMEA); everything else is ``non_ais``.
    """
    buf = block.buf
    win = sliding_window_view(buf, 6)[bang]
    vd = (win[:, 3] == 86) & (win[:, 4] == 68) & ((win[:, 5] == 77) | (win[:, 5] == 79))
    s0, found = first_at_or_after(bang[vd], block.starts, block.ends)
    first = buf[block.starts]
    is_ais = found & (s0 + 6 <= block.ends) & (first != 35) & (first != 36)
    lines = np.flatnonzero(is_ais)
    return lines, s0[lines]


class _Rows:
    """Per-sentence output columns being filled in."""

    def __init__(self, n: int) -> None:
        self.status = np.zeros(n, dtype=np.uint8)
        self.time_us = np.zeros(n, dtype=np.int64)
        self.has_time = np.zeros(n, dtype=bool)
        self.src_start = np.zeros(n, dtype=np.int64)
        self.src_len = np.full(n, -1, dtype=np.int64)


def _prefix(buf: np.ndarray, st: np.ndarray, s0: np.ndarray, out: _Rows) -> None:
    """Tag block (``\\...\\``) or time token before the sentence."""
    pre = s0 - st
    tb = (pre > 0) & (buf[st] == 92)
    tb_ok = tb & (pre >= 2) & (buf[s0 - 1] == 92)
    generic.flag(out.status, tb & ~tb_ok, CODE["bad_prefix"])
    rows = np.flatnonzero(tb_ok)
    if rows.size:
        reg = Regions(buf, st[rows] + 1, s0[rows] - 1)
        tags = generic.parse_tag_blocks(reg.scan, reg.lo, reg.hi)
        generic.flag(out.status, _scatter(len(st), rows, tags["bad"]), CODE["bad_tag_checksum"])
        out.time_us[rows], out.has_time[rows] = tags["time_us"], tags["has_time"]
        out.src_start[rows] = tags["src_start"] + reg.shift
        out.src_len[rows] = tags["src_len"]
    rows = np.flatnonzero((pre > 0) & ~tb)
    if rows.size:
        lo = st[rows]
        tok_end = _rstrip_separators(buf, lo, s0[rows])
        us, ok = parse_time_tokens(buf, lo, tok_end)
        bom = (
            (tok_end - lo == 3) & (buf[lo] == 0xEF) & (buf[lo + 1] == 0xBB) & (buf[lo + 2] == 0xBF)
        )
        empty = (tok_end == lo) | bom  # only separators / a UTF-8 byte order mark
        generic.flag(out.status, _scatter(len(st), rows, ~ok & ~empty), CODE["bad_prefix"])
        out.time_us[rows], out.has_time[rows] = us, ok


def _scatter(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows] = values
    return out


def _body(
    buf: np.ndarray, classes: np.ndarray, s0: np.ndarray, en: np.ndarray, stars: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Checksum and fields of every sentence: fast path first, generic for the rest.

    Returns ``(body_status, star_position, fields)``.
    """
    star, has_star = first_at_or_after(stars, s0, en)
    ok, fields = fast_body(buf, classes, s0, star, en, has_star)
    status = np.zeros(len(s0), dtype=np.uint8)
    fast = np.flatnonzero(ok)
    want = (HEX[buf[star[fast] + 1]].astype(np.int64) << 4) | HEX[buf[star[fast] + 2]]
    got = xor_ranges(buf, s0[fast] + 1, star[fast])
    status[fast[got != want]] = CODE["bad_checksum"]
    slow = np.flatnonzero(~ok)
    if slow.size:
        reg = Regions(buf, s0[slow], en[slow])
        slow_status = np.zeros(len(slow), dtype=np.uint8)
        slow_star = generic.checksum(reg.scan, reg.lo, reg.hi, slow_status, CODE)
        slow_fields = generic.fields(reg.scan, reg.lo, slow_star, slow_status, CODE)
        slow_fields["pay_start"] = slow_fields["pay_start"] + reg.shift
        for name, values in slow_fields.items():
            fields[name][slow] = values
        star[slow] = slow_star + reg.shift
        status[slow] = slow_status
    return status, star, fields


def _suffix(buf: np.ndarray, star: np.ndarray, en: np.ndarray, out: _Rows) -> None:
    """Receive time from trailing fields (``...*hh,1635731889``) when none came before.

    The common single-field case is parsed directly; several fields go through a
    delimiter index of just those regions.
    """
    after = star + 3
    c = buf[after]
    sep = (c == 44) | (c == 32) | (c == 59) | (c == 9)  # , space ; tab
    rows = np.flatnonzero(sep & (after < en) & ~out.has_time & (out.status == 0))
    if not rows.size:
        return
    us, ok = parse_time_tokens(buf, after[rows] + 1, en[rows])
    out.time_us[rows[ok]], out.has_time[rows[ok]] = us[ok], True
    rows = rows[~ok]
    if rows.size:
        reg = Regions(buf, after[rows] + 1, en[rows])
        out.time_us[rows], out.has_time[rows] = generic.suffix_times(reg.scan, reg.lo, reg.hi)


def scan_sentences(block: LineBlock) -> Sentences:
    """Validate every AIS sentence of ``block`` and extract its NMEA fields."""
    buf = block.buf
    classes = np.frombuffer(buf[: block.size].tobytes().translate(_CLASSES), dtype=np.uint8)
    marks = np.flatnonzero(classes >= _BANG)
    kind = classes[marks]
    lines, s0 = classify_lines(block, marks[kind == _BANG])
    st, en = block.starts[lines], block.ends[lines]
    out = _Rows(len(lines))
    _prefix(buf, st, s0, out)
    body_status, star, fields = _body(buf, classes, s0, en, marks[kind == _STAR])
    out.status = np.where(out.status == 0, body_status, out.status)
    _suffix(buf, star, en, out)
    talker = buf[s0 + 1].astype(np.int64) | (buf[s0 + 2].astype(np.int64) << 8)
    return Sentences(
        line=lines,
        status=out.status,
        time_us=out.time_us,
        has_time=out.has_time,
        src_start=out.src_start,
        src_len=out.src_len,
        talker=talker,
        vdo=buf[s0 + 5] == 79,
        **fields,
    )
