"""Decode assembled messages into the positions/statics Arrow tables.

One compiled pass reads every message's fields (``kernels_fields.decode_fields``); here
its columns become Arrow arrays, built from (validity bitmap, values) buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cargotrace.ingest.nmea.arrow import strings_from_chars
from cargotrace.ingest.nmea.assemble import Assembled
from cargotrace.ingest.nmea.kernels_fields import (
    POSITION_FLOATS,
    POSITION_INTS,
    STATIC_FLOATS,
    STATIC_INTS,
    STATIC_TEXTS,
    decode_fields,
)
from cargotrace.ingest.nmea.messages import DECODED_TYPES, POSITION_SCHEMA, STATIC_SCHEMA


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


def _arrow(values: np.ndarray, valid: np.ndarray, typ: pa.DataType) -> pa.Array:
    """Arrow array of ``values`` where ``valid`` (``pa.array(mask=...)`` is much slower).

    Always a copy: ``values`` is a row of the kernel's matrix, sized for every message of
    the batch, which a view would keep alive as long as the table."""
    if not valid.any():
        return pa.nulls(len(values), type=typ)
    np_type = np.int64 if pa.types.is_timestamp(typ) else typ.to_pandas_dtype()
    data = values.astype(np_type)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(typ, len(data), [bitmap, pa.py_buffer(data)], null_count=-1)


def _table(
    schema: pa.Schema, ctx: Context, rows: np.ndarray, columns: dict[str, pa.Array]
) -> pa.Table:
    """The table of the given messages' rows (``columns``: the decoded ones by name)."""
    if not len(rows):
        return schema.empty_table()
    arrays = []
    for f in schema:
        if f.name == "line_no":
            arrays.append(pa.array(ctx.line_no[rows], type=pa.int64()))
        elif f.name == "source":
            src = ctx.source
            arrays.append(pa.nulls(len(rows), pa.string()) if src is None else src.take(rows))
        else:
            arrays.append(columns[f.name])
    return pa.Table.from_arrays(arrays, schema=schema)


def _numeric(
    schema: pa.Schema,
    names: tuple[str, ...],
    floats: tuple[str, ...],
    ints: np.ndarray,
    flts: np.ndarray,
    ok: np.ndarray,
) -> dict[str, pa.Array]:
    out = {name: _arrow(ints[i], ok[i], schema.field(name).type) for i, name in enumerate(names)}
    for j, name in enumerate(floats):
        out[name] = _arrow(flts[j], ok[len(names) + j], schema.field(name).type)
    return out


def decode_messages(a: Assembled, ctx: Context, untimed_fields: bool = True) -> MessageResult:
    """Decode every supported message of the batch; too-short ones become rejects.

    `untimed_fields` False: a position of a type timed by its line (not type 4) that has no
    time gets its row with `msg_type` and the null time only, its other fields null (for
    a reader that refuses such rows whatever their fields: the ingest, `ais_rules`)."""
    out = decode_fields(
        a.buf,
        a.mbuf,
        a.in_mbuf,
        a.pay_start,
        a.pay_len,
        a.fill,
        a.time_us,
        a.has_time,
        untimed_fields,
    )
    types, codes, p_msg, p_int, p_flt, p_ok, s_msg, s_int, s_flt, s_ok, s_txt, s_len = out
    positions = _table(
        POSITION_SCHEMA,
        ctx,
        p_msg,
        _numeric(POSITION_SCHEMA, POSITION_INTS, POSITION_FLOATS, p_int, p_flt, p_ok),
    )
    columns = _numeric(STATIC_SCHEMA, STATIC_INTS, STATIC_FLOATS, s_int, s_flt, s_ok)
    for f, (name, _) in enumerate(STATIC_TEXTS):
        lengths = s_len[f]
        chars = s_txt[f, : int(lengths.sum())].copy()  # a copy: see `_arrow`
        columns[name] = strings_from_chars(chars, lengths, lengths > 0)
    statics = _table(STATIC_SCHEMA, ctx, s_msg, columns)
    supported = np.isin(types, DECODED_TYPES)
    rejected = codes != 0
    return MessageResult(
        positions=positions,
        statics=statics,
        reject_rows=np.flatnonzero(rejected),
        reject_codes=codes[rejected],
        position_messages=p_msg,
        static_messages=s_msg,
        decoded=int((supported & ~rejected).sum()),
        undecoded=int((~supported).sum()),
    )
