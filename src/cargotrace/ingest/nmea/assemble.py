"""Reassemble multi-sentence AIS messages with array operations.

Fragments are stably sorted by their stream key (talker, VDM/VDO, channel, sequence id,
fragment count and tag-block source) so that each key's fragments are contiguous and in
arrival order.  A message is complete where fragment numbers ``1..cnt`` follow each other
inside one key run: that is checked with at most eight shifted comparisons over the whole
array, never a loop per fragment.  Like pyais, a new fragment 1 supersedes an unfinished
one and fragments that arrive out of order are dropped (here: reported as orphans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargotrace.ingest.nmea.arrow import dictionary_ids, gather_ranges
from cargotrace.ingest.nmea.lines import PAD
from cargotrace.ingest.nmea.sentences import Sentences

MAX_FRAGMENTS = 9
MAX_PENDING = 4096  # fragments carried between batches; older ones beyond this are orphans


@dataclass
class Assembled:
    """Messages (in order of their last sentence) plus the fragments left over.

    A single-sentence payload is read in place from the block buffer ``buf``; multi-part
    payloads are concatenated into the small side buffer ``mbuf`` (``in_mbuf`` marks them),
    so the batch buffer is never copied.
    """

    buf: np.ndarray
    mbuf: np.ndarray  # concatenated multi-part payloads (+ zero padding)
    in_mbuf: np.ndarray
    first: np.ndarray  # sentence index of each message's first fragment
    last: np.ndarray  # sentence index of each message's last fragment
    pay_start: np.ndarray  # payload range inside ``buf`` or ``mbuf``
    pay_len: np.ndarray
    fill: np.ndarray
    time_us: np.ndarray
    has_time: np.ndarray
    multi: np.ndarray  # per message: its index among multi-part messages, or -1
    m_ptr: np.ndarray  # fragments of multi-part message j: m_idx[m_ptr[j]:m_ptr[j + 1]]
    m_idx: np.ndarray
    consumed: int  # sentences that went into messages
    orphans: np.ndarray  # sentence indices
    pending: np.ndarray  # sentence indices to carry into the next batch

    def __len__(self) -> int:
        return len(self.first)

    def fragments(self, message: int) -> np.ndarray:
        """Sentence indices of one message's fragments, in fragment order."""
        j = self.multi[message]
        if j < 0:
            return self.first[message : message + 1]
        return self.m_idx[self.m_ptr[j] : self.m_ptr[j + 1]]


def _stream_keys(s: Sentences, buf: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(base key, source id) per fragment; ``seq`` is -1..999, channels are 2 bytes."""
    base = s.talker[rows] | (s.vdo[rows].astype(np.int64) << 16)
    base |= s.chan[rows] << 17
    base |= (s.seq[rows] + 1) << 33
    base |= s.cnt[rows] << 43
    src = dictionary_ids(buf, s.src_start[rows], s.src_len[rows], s.src_len[rows] >= 0)
    return base, src


def _inherit_sources(base: np.ndarray, src: np.ndarray, num: np.ndarray) -> np.ndarray:
    """Give continuation fragments without ``s:`` the source of the preceding fragment.

    NMEA 4.10 group feeds put ``s:``/``c:`` only on the first sentence of a message.
    """
    m = len(base)
    order = np.lexsort((np.arange(m), base))
    b, sr, nm = base[order], src[order], num[order]
    pos = np.arange(m)
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = b[1:] != b[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    last_src = np.maximum.accumulate(np.where(sr >= 0, pos, -1))
    inherit = (sr < 0) & (nm > 1) & (last_src >= group_start)
    sr = sr.copy()
    sr[inherit] = sr[last_src[inherit]]
    out = np.empty(m, dtype=np.int64)
    out[order] = sr
    return out


def _complete_starts(gid: np.ndarray, nm: np.ndarray, ct: np.ndarray) -> np.ndarray:
    """Sorted positions where fragments 1..cnt follow each other within one key run."""
    m = len(gid)
    pos = np.arange(m)
    ok = nm == 1
    for j in range(1, MAX_FRAGMENTS):
        need = ok & (j < ct)
        k = np.minimum(pos + j, m - 1)
        step_ok = (pos + j < m) & (gid[k] == gid) & (nm[k] == j + 1)
        ok &= ~need | step_ok
    return np.flatnonzero(ok)


def _pending_mask(gid: np.ndarray, nm: np.ndarray, ct: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Fragments of an unfinished 1..k run at the very end of their key run."""
    m = len(gid)
    last = np.ones(m, dtype=bool)
    last[:-1] = gid[1:] != gid[:-1]
    step = np.zeros(m, dtype=bool)
    step[1:] = (gid[1:] == gid[:-1]) & (nm[1:] == nm[:-1] + 1)
    csum = np.cumsum(step)
    ends = np.flatnonzero(last & ~used & (nm < ct))
    r = ends - (nm[ends] - 1)
    rc = np.maximum(r, 0)
    ok = (r >= 0) & (gid[rc] == gid[ends]) & (nm[rc] == 1) & (csum[ends] - csum[rc] == ends - rc)
    ends, r = ends[ok], r[ok]
    mask = np.zeros(m, dtype=bool)
    if ends.size:
        lens = ends - r + 1
        mask[np.repeat(r - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())] = True
    return mask


def _cap_pending(pending: np.ndarray, orphans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bound the carry-over: beyond ``MAX_PENDING`` the oldest fragments become orphans."""
    if len(pending) <= MAX_PENDING:
        return pending, orphans
    pending = np.sort(pending)
    evicted, pending = pending[:-MAX_PENDING], pending[-MAX_PENDING:]
    return pending, np.sort(np.concatenate((orphans, evicted)))


def _group_fragments(s: Sentences, buf: np.ndarray, multi: np.ndarray) -> dict[str, np.ndarray]:
    """Sort fragments by stream key and find complete, pending and orphaned ones."""
    base, src = _stream_keys(s, buf, multi)
    num, cnt = s.num[multi], s.cnt[multi]
    src = _inherit_sources(base, src, num)
    order = np.lexsort((np.arange(len(multi)), src, base))
    b, sr = base[order], src[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (b[1:] != b[:-1]) | (sr[1:] != sr[:-1])
    gid = np.cumsum(new_group) - 1
    nm, ct = num[order], cnt[order]
    starts = _complete_starts(gid, nm, ct)
    lens = ct[starts]
    used = np.zeros(len(order), dtype=bool)
    member = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())
    used[member] = True
    pend = _pending_mask(gid, nm, ct, used)
    sorted_rows = multi[order]
    pending, orphans = _cap_pending(np.sort(sorted_rows[pend]), np.sort(sorted_rows[~used & ~pend]))
    return {
        "frag_idx": sorted_rows[member],
        "lens": lens,
        "pending": pending,
        "orphans": orphans,
    }


def _first_time(
    s: Sentences, frag_idx: np.ndarray, ptr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Receive time of a message: that of its first fragment carrying one."""
    lens = np.diff(ptr)
    n = len(lens)
    t = np.zeros(n, dtype=np.int64)
    has = np.zeros(n, dtype=bool)
    for j in range(int(lens.max()) if n else 0):
        inside = j < lens
        k = frag_idx[np.minimum(ptr[:-1] + j, max(len(frag_idx) - 1, 0))]
        take = inside & ~has & s.has_time[k]
        t = np.where(take, s.time_us[k], t)
        has |= take
    return t, has


@dataclass
class Grouping:
    """Which valid sentences make which messages: the one step that depends on the
    sentences before (the fragments carried in); `messages` builds them, on any thread."""

    singles: np.ndarray  # sentence index of each one-sentence message
    frag_idx: np.ndarray  # fragments of the multi-part messages, message after message
    lens: np.ndarray  # fragments per multi-part message
    orphans: np.ndarray  # sentence indices
    pending: np.ndarray  # sentence indices to carry into the next batch


def group(s: Sentences, buf: np.ndarray) -> Grouping:
    """Find the messages of the valid sentences (``buf`` is the block buffer)."""
    valid = s.status == 0
    singles = np.flatnonzero(valid & (s.cnt == 1))
    multi = np.flatnonzero(valid & (s.cnt > 1))
    if not multi.size:
        empty = np.zeros(0, dtype=np.int64)
        return Grouping(singles, empty, empty, empty, empty)
    g = _group_fragments(s, buf, multi)
    return Grouping(singles, g["frag_idx"], g["lens"], g["orphans"], g["pending"])


def messages(s: Sentences, buf: np.ndarray, g: Grouping) -> Assembled:
    """The messages `group` found, in order of their last sentence."""
    singles = g.singles
    m_lens, m_idx = g.lens, g.frag_idx
    m_ptr = np.concatenate(([0], np.cumsum(m_lens))).astype(np.int64)
    m_last, m_first = m_idx[m_ptr[1:] - 1], m_idx[m_ptr[:-1]]
    mbuf = np.concatenate(
        (gather_ranges(buf, s.pay_start[m_idx], s.pay_len[m_idx]), np.zeros(PAD, np.uint8))
    )
    char_ptr = np.concatenate(([0], np.cumsum(s.pay_len[m_idx])))[m_ptr]
    m_time, m_has = _first_time(s, m_idx, m_ptr)
    n_multi = len(m_lens)

    last = np.concatenate((singles, m_last))
    order = np.argsort(last, kind="stable")

    def merged(single_values: np.ndarray, multi_values: np.ndarray) -> np.ndarray:
        return np.concatenate((single_values, multi_values))[order]

    return Assembled(
        buf=buf,
        mbuf=mbuf,
        in_mbuf=merged(np.zeros(len(singles), bool), np.ones(n_multi, bool)),
        first=merged(singles, m_first),
        last=last[order],
        pay_start=merged(s.pay_start[singles], char_ptr[:-1]),
        pay_len=merged(s.pay_len[singles], np.diff(char_ptr)),
        fill=merged(s.fill[singles], s.fill[m_last]),
        time_us=merged(s.time_us[singles], m_time),
        has_time=merged(s.has_time[singles], m_has),
        multi=merged(np.full(len(singles), -1), np.arange(n_multi)),
        m_ptr=m_ptr,
        m_idx=m_idx,
        consumed=len(singles) + len(m_idx),
        orphans=g.orphans,
        pending=g.pending,
    )
