"""Find, split and validate the ``!xxVDM``/``!xxVDO`` sentences of a whole ``LineBlock``.

One compiled pass per line (``kernels_scan.scan_lines``) gives each sentence a reason code
(0: well formed, ready for message assembly), its NMEA fields, its receive time and its
tag-block source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargotrace.ingest.nmea.kernels_scan import REASONS, scan_lines
from cargotrace.ingest.nmea.lines import LineBlock

__all__ = ["CODE", "REASONS", "Sentences", "scan_sentences"]

CODE = {name: i for i, name in enumerate(REASONS)}


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


def scan_sentences(block: LineBlock) -> Sentences:
    """Validate every AIS sentence of ``block`` and extract its NMEA fields."""
    line, status, f, time_us, has_time, src_start, src_len, talker, vdo = scan_lines(
        block.buf, block.starts, block.ends
    )
    return Sentences(
        line=line,
        status=status,
        cnt=f[0],
        num=f[1],
        seq=f[2],
        chan=f[3],
        fill=f[4],
        pay_start=f[5],
        pay_len=f[6],
        talker=talker,
        vdo=vdo,
        time_us=time_us,
        has_time=has_time,
        src_start=src_start,
        src_len=src_len,
    )
