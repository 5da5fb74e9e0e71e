"""The byte tests that let Arrow type AIS CSV columns agree with the rules they stand for."""

from __future__ import annotations

import re
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds.positions import (
    _ISO_TIME,
    _TYPED,
    _arrow_cast,
    _iso_seconds,
    _may_have_exponent,
    _transform,
    _typed,
)
from cargotrace.reference.mid import mid_flags_view_sql

TIMES = [
    "2022-01-03T00:00:01",
    "2022-01-03 23:59:59",
    "2022-01-03T00:00:01.5",  # fraction: the regular expression decides
    "2022-01-03",  # a date alone: not a time of this form
    "2022-01-03X00:00:01",
    "2022-01-03T00:00:0a",
    "2022/01/03T00:00:01",
    "2022-01-03T00:00:01Z",
    "20220103_000001",
]


@pytest.mark.parametrize("value", TIMES)
def test_iso_seconds_accepts_only_what_the_regex_accepts(value: str) -> None:
    column = pa.chunked_array([["2022-01-02T10:11:12"], [], [value]])
    assert _iso_seconds(column) == (len(value) == 19 and re.match(_ISO_TIME, value) is not None)


def test_iso_seconds_leaves_nulls_and_sliced_chunks_to_the_regex() -> None:
    assert not _iso_seconds(pa.chunked_array([["2022-01-02T10:11:12", None]]))
    whole = pa.array(["bad", "2022-01-02T10:11:12", "2022-01-02 10:11:13"])
    assert _iso_seconds(pa.chunked_array([whole.slice(1)]))
    assert not _iso_seconds(pa.chunked_array([whole.slice(0, 2)]))
    assert _iso_seconds(pa.chunked_array([], pa.string()))


def test_exponents_are_found_in_any_chunk() -> None:
    assert not _may_have_exponent(pa.chunked_array([["1.5", "-2"], ["3"]]))
    assert _may_have_exponent(pa.chunked_array([["1.5"], ["2E3"]]))
    assert _may_have_exponent(pa.chunked_array([["1e-3"]]))


@pytest.mark.parametrize(
    "cells",
    [["12.5", "-7.25"], ["1e3", "2"], ["2E3", "2"], ["nan", "1"], ["inf", "1"], ["4,5", "1"]],
)
def test_numbers_typed_as_the_sql_types_them(cells: list[str]) -> None:
    con = duckdb.connect()
    column = pa.chunked_array([cells])
    typed = _typed(con, column, sqlexpr.number, pa.float64(), None)
    by_sql = _typed(con, column, sqlexpr.number, pa.float64(), None, arrow=False)
    assert typed.to_pylist() == by_sql.to_pylist()


def test_times_typed_by_arrow_only_in_the_plain_form() -> None:
    plain = pa.chunked_array([["2022-01-03T00:00:01", "2022-01-03 00:00:02"]])
    cast = _arrow_cast(plain, pa.timestamp("us", "UTC"), _ISO_TIME)
    assert cast is not None and [t.isoformat() for t in cast.to_pylist()] == [
        "2022-01-03T00:00:01+00:00",
        "2022-01-03T00:00:02+00:00",
    ]
    assert (
        _arrow_cast(pa.chunked_array([["2022-01-03"]]), pa.timestamp("us", "UTC"), _ISO_TIME)
        is None
    )


def test_a_chunk_typed_on_the_pool_as_the_sql_types_each_column() -> None:
    """`_transform` casts a chunk's columns on a pool (Arrow), and types a column Arrow
    cannot read as the SQL does by the SQL on the calling thread: each column comes out as
    the SQL alone types it."""
    con = duckdb.connect()
    con.execute(mid_flags_view_sql())  # a case's view: the MMSI rule reads it
    table = pa.table(
        {
            "mmsi": ["273345000", "1e3"],  # an exponent: the SQL
            "timestamp": ["2022-01-03T00:00:01", "2022-01-03 00:00:02.5"],
            "lat": ["4,5", "12.5"],  # a decimal comma: the SQL
            "lon": ["131.9", "-2"],
            "sog": pa.array([None, None], pa.string()),  # all NULL
            "cog": ["nan", "1"],
            "heading": ["2E3", "511"],
            "nav_status": ["moored", "1"],
        }
    )
    context = SimpleNamespace(mapping=SimpleNamespace(date_format=None))
    typed = _transform(con, context, table)  # type: ignore[arg-type]
    assert typed["_mmsi"].to_pylist() == [273345000, 1000]
    assert typed["_lat"].to_pylist() == [4.5, 12.5]
    assert typed["_flags"].to_pylist() == [None, "mmsi_invalid"]  # 1000 cannot be a ship's
    for name, sql, arrow_type, _plain in _TYPED:
        by_sql = _typed(con, table.column(name), sql, arrow_type, None, arrow=False)
        assert typed[f"_{name}"].to_pylist() == by_sql.to_pylist(), name
