"""Dispatch assembled messages by type and build the positions/statics Arrow tables.

Python loops here run over message *types* and *fields* only; every field of every
message of a type is decoded by the same NumPy expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cargotrace.ingest.nmea_assemble import Assembled
from cargotrace.ingest.nmea_bits import SIXBIT, Bits
from cargotrace.ingest.nmea_messages import (
    _NEEDED_BITS,
    DECODED_TYPES,
    MIN_BITS,
    MIN_BITS_24,
    POSITION_SCHEMA,
    STATIC_SCHEMA,
    Column,
    base_station_time,
    position_base_station,
    position_class_a,
    position_class_b,
    position_long_range,
    static_class_b_extended,
    static_report,
    static_voyage,
)
from cargotrace.ingest.nmea_sentences import CODE

_POSITION_DECODERS: dict[tuple[int, ...], Callable[[Bits], dict[str, Column]]] = {
    (1, 2, 3): position_class_a,
    (4,): position_base_station,
    (18, 19): position_class_b,
    (27,): position_long_range,
}
_STATIC_DECODERS: dict[tuple[int, ...], Callable[[Bits], dict[str, Column]]] = {
    (5,): static_voyage,
    (19,): static_class_b_extended,
}


@dataclass
class Context:
    """What every table row needs besides its own bit fields."""

    line_no: np.ndarray  # per message
    time_us: np.ndarray
    has_time: np.ndarray
    source: pa.Array  # per message


@dataclass
class MessageResult:
    positions: pa.Table
    statics: pa.Table
    reject_rows: np.ndarray  # message indices
    reject_codes: np.ndarray
    decoded: int
    undecoded: int


def _arrow(col: Column, typ: pa.DataType) -> pa.Array:
    if isinstance(col.values, pa.Array | pa.ChunkedArray):
        return col.values
    values = col.values
    if col.valid is not None and not col.valid.any():
        return pa.nulls(len(values), type=typ)
    mask = None if col.valid is None else ~col.valid
    if pa.types.is_timestamp(typ):
        return pa.array(values.astype(np.int64), type=typ, mask=mask)
    return pa.array(values.astype(typ.to_pandas_dtype()), type=typ, mask=mask)


def _table(cols: dict[str, Column], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([_arrow(cols[f.name], f.type) for f in schema], schema=schema)


def _bits(a: Assembled, rows: np.ndarray, msg_type: int) -> Bits:
    return Bits(a.ext, a.pay_start[rows], a.pay_len[rows], a.fill[rows], _NEEDED_BITS[msg_type])


def _common(ctx: Context, rows: np.ndarray, bits: Bits, types: np.ndarray) -> dict[str, Column]:
    return {
        "line_no": Column(ctx.line_no[rows]),
        "mmsi": Column(bits.uint(8, 30)),
        "timestamp": Column(ctx.time_us[rows], ctx.has_time[rows]),
        "msg_type": Column(types),
        "source": Column(ctx.source.take(pa.array(rows))),
    }


def _empty_static(n: int) -> dict[str, Column]:
    cols: dict[str, Column] = {}
    for f in STATIC_SCHEMA:
        cols[f.name] = Column(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
    return cols


class _Decoder:
    """Accumulates per-type tables and message-level rejects for one batch."""

    def __init__(self, a: Assembled, ctx: Context) -> None:
        self.a, self.ctx = a, ctx
        self.types = SIXBIT[a.ext[a.pay_start]].astype(np.int64)
        self.nbits = a.pay_len * 6 - a.fill
        self.codes = np.zeros(len(a), dtype=np.uint8)
        self.pos_parts: list[tuple[np.ndarray, pa.Table]] = []
        self.static_parts: list[tuple[np.ndarray, pa.Table]] = []

    def reject_short(self) -> None:
        for t, need in MIN_BITS.items():
            self.codes[(self.types == t) & (self.nbits < need)] = CODE["too_short"]
        self.codes[(self.types == 24) & (self.nbits < 40)] = CODE["too_short"]

    def rows_of(self, types: tuple[int, ...]) -> np.ndarray:
        return np.flatnonzero(np.isin(self.types, types) & (self.codes == 0))

    def positions(self) -> None:
        for types, fn in _POSITION_DECODERS.items():
            for t in types:
                rows = self.rows_of((t,))
                if rows.size:
                    self._position_group(rows, t, fn)

    def _position_group(self, rows: np.ndarray, t: int, fn: Callable) -> None:
        bits = _bits(self.a, rows, t)
        cols = _common(self.ctx, rows, bits, np.full(len(rows), t)) | fn(bits)
        if t == 4:
            us, ok = base_station_time(bits)
            ts = cols["timestamp"]
            cols["timestamp"] = Column(np.where(ok, us, ts.values), ok | ts.valid)
        self.pos_parts.append((rows, _table(cols, POSITION_SCHEMA)))

    def statics(self) -> None:
        for (t,), fn in _STATIC_DECODERS.items():
            rows = self.rows_of((t,))
            if rows.size:
                bits = _bits(self.a, rows, t)
                cols = _empty_static(len(rows)) | _common(self.ctx, rows, bits, np.full(len(rows), t))
                self.static_parts.append((rows, _table(cols | fn(bits), STATIC_SCHEMA)))
        self._type24()

    def _type24(self) -> None:
        rows = self.rows_of((24,))
        if not rows.size:
            return
        bits = _bits(self.a, rows, 24)
        part = bits.uint(38, 2)
        need = np.array([MIN_BITS_24.get(p, 0) for p in range(4)])[part]
        bad = np.where(part >= 2, CODE["bad_part_number"], 0)
        bad = np.where((bad == 0) & (bits.nbits < need), CODE["too_short"], bad)
        self.codes[rows] = bad
        keep = bad == 0
        if not keep.any():
            return
        rows = rows[keep]
        bits = _bits(self.a, rows, 24)
        mmsi = bits.uint(8, 30)
        cols = _empty_static(len(rows)) | _common(self.ctx, rows, bits, np.full(len(rows), 24))
        cols |= static_report(bits, part[keep], mmsi)
        self.static_parts.append((rows, _table(cols, STATIC_SCHEMA)))

    def result(self) -> MessageResult:
        supported = np.isin(self.types, DECODED_TYPES)
        rejected = self.codes != 0
        return MessageResult(
            positions=_ordered(self.pos_parts, POSITION_SCHEMA),
            statics=_ordered(self.static_parts, STATIC_SCHEMA),
            reject_rows=np.flatnonzero(rejected),
            reject_codes=self.codes[rejected],
            decoded=int((supported & ~rejected).sum()),
            undecoded=int((~supported).sum()),
        )


def _ordered(parts: list[tuple[np.ndarray, pa.Table]], schema: pa.Schema) -> pa.Table:
    """Concatenate per-type tables back into message (file) order."""
    if not parts:
        return schema.empty_table()
    rows = np.concatenate([r for r, _ in parts])
    table = pa.concat_tables([t for _, t in parts])
    return table.take(pa.array(np.argsort(rows, kind="stable")))


def decode_messages(a: Assembled, ctx: Context) -> MessageResult:
    """Decode every supported message of the batch; too-short ones become rejects."""
    dec = _Decoder(a, ctx)
    dec.reject_short()
    dec.positions()
    dec.statics()
    return dec.result()
