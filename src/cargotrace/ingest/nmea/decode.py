"""Dispatch assembled messages by type and build the positions/statics Arrow tables.

Python loops here run over message *types* and *fields* only; every field of every
message of a type is decoded by the same NumPy expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from cargotrace.ingest.nmea.assemble import Assembled
from cargotrace.ingest.nmea.bits import SIXBIT, Bits
from cargotrace.ingest.nmea.messages import (
    DECODED_TYPES,
    MIN_BITS,
    MIN_BITS_24,
    POSITION_SCHEMA,
    READ_CHARS,
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
from cargotrace.ingest.nmea.sentences import CODE

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
    """What every table row needs besides its own bit fields (all per message)."""

    line_no: np.ndarray
    time_us: np.ndarray
    has_time: np.ndarray
    source: pa.Array | None  # None: no message has a source


@dataclass
class MessageResult:
    positions: pa.Table
    statics: pa.Table
    reject_rows: np.ndarray  # message indices
    reject_codes: np.ndarray
    position_messages: np.ndarray  # message index of each row of `positions`
    static_messages: np.ndarray  # ... and of `statics`
    decoded: int
    undecoded: int


Part = tuple[np.ndarray, dict[str, Column]]  # (message indices, columns of those rows)


def _bits(a: Assembled, rows: np.ndarray, msg_type: int) -> Bits:
    return Bits(
        (a.buf, a.mbuf),
        a.in_mbuf[rows],
        a.pay_start[rows],
        a.pay_len[rows],
        a.fill[rows],
        READ_CHARS[msg_type],
    )


def _common(rows: np.ndarray, bits: Bits, msg_type: int) -> dict[str, Column]:
    return {"mmsi": Column(bits.uint(8, 30)), "msg_type": Column(np.full(len(rows), msg_type))}


def _concat_column(cols: list[Column]) -> Column:
    """Concatenate one column over groups (NumPy or Arrow; missing -> all null)."""
    if any(isinstance(c.values, pa.Array) for c in cols):
        arrays = [_arrow_str(c) for c in cols]
        return Column(pa.concat_arrays(arrays))
    values = np.concatenate([c.values for c in cols])
    if all(c.valid is None for c in cols):
        return Column(values)
    valid = np.concatenate(
        [np.ones(len(c.values), bool) if c.valid is None else c.valid for c in cols]
    )
    return Column(values, valid)


def _arrow_str(col: Column) -> pa.Array:
    if isinstance(col.values, pa.Array):
        return col.values
    return pa.nulls(len(col.values), type=pa.string())


def _arrow(col: Column, typ: pa.DataType, order: np.ndarray) -> pa.Array:
    """Arrow array of ``col`` permuted by ``order``.

    Built from (validity bitmap, values) buffers: ``pa.array(mask=...)`` is much slower.
    """
    if isinstance(col.values, pa.Array):
        return col.values.take(pa.array(order))
    values = np.ascontiguousarray(col.values[order].astype(_np_type(typ), copy=False))
    bitmap = None
    if col.valid is not None:
        valid = col.valid[order]
        if not valid.any():
            return pa.nulls(len(values), type=typ)
        if not valid.all():
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(typ, len(values), [bitmap, pa.py_buffer(values)], null_count=-1)


def _np_type(typ: pa.DataType) -> type:
    return np.int64 if pa.types.is_timestamp(typ) else typ.to_pandas_dtype()


def _build_table(parts: list[Part], schema: pa.Schema, ctx: Context) -> tuple[pa.Table, np.ndarray]:
    """One table in message (file) order from the per-type parts, and the message index
    of each of its rows."""
    if not parts:
        return schema.empty_table(), np.zeros(0, dtype=np.int64)
    rows = np.concatenate([r for r, _ in parts])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    arrays = []
    for f in schema:
        if f.name == "line_no":
            arrays.append(pa.array(ctx.line_no[rows], type=pa.int64()))
        elif f.name == "source":
            src = ctx.source
            arrays.append(pa.nulls(len(rows), pa.string()) if src is None else src.take(rows))
        else:
            # a column a type does not have (e.g. imo for 24) is null for its rows
            cols = [
                c.get(f.name, Column(np.zeros(len(r)), np.zeros(len(r), bool))) for r, c in parts
            ]
            arrays.append(_arrow(_concat_column(cols), f.type, order))
    return pa.Table.from_arrays(arrays, schema=schema), rows


# Position types whose rows take their time from the line only (type 4 reports its own)
_LINE_TIMED = frozenset((1, 2, 3, 18, 19, 27))


class _Decoder:
    """Accumulates per-type columns and message-level rejects for one batch."""

    def __init__(self, a: Assembled, ctx: Context, untimed_fields: bool = True) -> None:
        self.a, self.ctx = a, ctx
        self.untimed_fields = untimed_fields
        self.types = SIXBIT[a.first_chars()]
        self.nbits = a.pay_len * 6 - a.fill
        self.codes = np.zeros(len(a), dtype=np.uint8)
        self.pos_parts: list[Part] = []
        self.static_parts: list[Part] = []

    def reject_short(self) -> None:
        for t, need in MIN_BITS.items():
            self.codes[(self.types == t) & (self.nbits < need)] = CODE["too_short"]
        self.codes[(self.types == 24) & (self.nbits < 40)] = CODE["too_short"]

    def rows_of(self, msg_type: int) -> np.ndarray:
        return np.flatnonzero((self.types == msg_type) & (self.codes == 0))

    def timestamps(self, rows: np.ndarray) -> Column:
        return Column(self.ctx.time_us[rows], self.ctx.has_time[rows])

    def positions(self) -> None:
        for types, fn in _POSITION_DECODERS.items():
            for t in types:
                rows = self.rows_of(t)
                if rows.size:
                    self._position_group(rows, t, fn)

    def _position_group(self, rows: np.ndarray, t: int, fn: Callable[..., Any]) -> None:
        if not self.untimed_fields and t in _LINE_TIMED:
            timed = self.ctx.has_time[rows]
            if not timed.all():  # rows without a time: msg_type and no time, fields null
                untimed = rows[~timed]
                cols = {
                    "msg_type": Column(np.full(len(untimed), t)),
                    "timestamp": self.timestamps(untimed),
                }
                self.pos_parts.append((untimed, cols))
                rows = rows[timed]
                if not rows.size:
                    return
        bits = _bits(self.a, rows, t)
        cols = _common(rows, bits, t) | fn(bits)
        ts = self.timestamps(rows)
        if t == 4:
            us, ok = base_station_time(bits)
            ts = Column(np.where(ok, us, ts.values), ok | ts.valid)
        cols["timestamp"] = ts
        self.pos_parts.append((rows, cols))

    def statics(self) -> None:
        for (t,), fn in _STATIC_DECODERS.items():
            rows = self.rows_of(t)
            if rows.size:
                bits = _bits(self.a, rows, t)
                cols = _common(rows, bits, t) | fn(bits)
                cols["timestamp"] = self.timestamps(rows)
                self.static_parts.append((rows, cols))
        self._type24()

    def _type24(self) -> None:
        rows = self.rows_of(24)
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
        cols = _common(rows, bits, 24) | static_report(bits, part[keep], bits.uint(8, 30))
        cols["timestamp"] = self.timestamps(rows)
        self.static_parts.append((rows, cols))

    def result(self) -> MessageResult:
        supported = np.isin(self.types, DECODED_TYPES)
        rejected = self.codes != 0
        positions, position_messages = _build_table(self.pos_parts, POSITION_SCHEMA, self.ctx)
        statics, static_messages = _build_table(self.static_parts, STATIC_SCHEMA, self.ctx)
        return MessageResult(
            positions=positions,
            statics=statics,
            reject_rows=np.flatnonzero(rejected),
            reject_codes=self.codes[rejected],
            position_messages=position_messages,
            static_messages=static_messages,
            decoded=int((supported & ~rejected).sum()),
            undecoded=int((~supported).sum()),
        )


def decode_messages(a: Assembled, ctx: Context, untimed_fields: bool = True) -> MessageResult:
    """Decode every supported message of the batch; too-short ones become rejects.

    `untimed_fields` False: a position of a type timed by its line (not type 4) that has no
    time gets its row with `msg_type` and the null time only, its other fields null (for
    a reader that refuses such rows whatever their fields: the ingest, `ais_rules`)."""
    dec = _Decoder(a, ctx, untimed_fields)
    dec.reject_short()
    dec.positions()
    dec.statics()
    return dec.result()
