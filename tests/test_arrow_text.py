"""The byte-level column tests (ingest/readers/arrow_text.py) answer exactly as Arrow's string
kernels do, on any text: nulls, sliced arrays, chunked columns, and null slots that own bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from cargotrace.ingest.readers import arrow_text
from cargotrace.ingest.readers.arrow_text import (
    any_contains_byte,
    any_edge_space,
    any_empty,
    may_be_blank_rows,
)

EDGE = (" ", "\t", "\u00a0", "\r", "\n")
ALPHABET = st.sampled_from(
    [" ", "\t", "\r", "\n", "\u00a0", "\u3000", "\u2007", "\u0085", "a", "Р", "Ы", "ё", "€", ";", "\x00", "\x7f", "\ufeff"]
)  # fmt: skip
CELLS = st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=4)), max_size=12)


def _reference_edge(column: pa.ChunkedArray) -> bool:
    return any(
        pc.any(test(column, pattern=ch)).as_py()
        for ch in EDGE
        for test in (pc.starts_with, pc.ends_with)
    )


def _columns(cells: list[str | None], cut: int, skip: int) -> list[pa.ChunkedArray]:
    """The cells as one chunk, as two chunks cut at `cut`, and sliced by `skip`."""
    array = pa.array(cells, pa.string())
    cut = min(cut, len(cells))
    return [
        pa.chunked_array([array], pa.string()),
        pa.chunked_array([array.slice(0, cut), array.slice(cut)], pa.string()),
        pa.chunked_array([array.slice(min(skip, len(cells)))], pa.string()),
        pa.chunked_array([array.cast(pa.large_string())], pa.large_string()),
    ]


BLOCKS = st.sampled_from([1, 3, 1 << 20])  # bytes scanned at once: many blocks, and one


@settings(max_examples=300, deadline=None)
@given(CELLS, st.integers(0, 12), st.integers(0, 12), BLOCKS)
def test_byte_tests_answer_as_the_string_kernels(
    cells: list[str | None], cut: int, skip: int, block: int
) -> None:
    arrow_text._BLOCK = block
    for column in _columns(cells, cut, skip):
        assert any_edge_space(column) == _reference_edge(column)
        assert any_contains_byte(column, 0x0A) == bool(
            pc.any(pc.match_substring(column, "\n")).as_py()
        )
        assert any_empty(column) == bool(pc.any(pc.equal(column, "")).as_py())
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
        blank_rows = set(
            np.flatnonzero(np.asarray(blank.to_numpy(zero_copy_only=False), bool))
        )  # nulls: False
        assert blank_rows <= set(may_be_blank_rows(column).tolist())  # never misses a blank cell


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=4), min_size=1, max_size=8), st.data(), BLOCKS)
def test_null_slots_that_own_bytes_are_not_read(
    values: list[str], data: st.DataObject, block: int
) -> None:
    """Arrow lets a null slot span bytes of the data buffer; the tests look at valid cells only."""
    arrow_text._BLOCK = block
    nulls = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    encoded = [v.encode() for v in values]
    offsets = np.cumsum([0, *map(len, encoded)]).astype(np.int32)
    validity = pa.array([not n for n in nulls]).buffers()[1]
    array = pa.Array.from_buffers(
        pa.string(), len(values), [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(encoded))],
        null_count=sum(nulls),
    )  # fmt: skip
    column = pa.chunked_array([array])
    assert any_edge_space(column) == _reference_edge(column)
    assert any_contains_byte(column, 0x0A) == bool(pc.any(pc.match_substring(column, "\n")).as_py())
    assert any_empty(column) == bool(pc.any(pc.equal(column, "")).as_py())


def test_exact_answers_on_hand_built_columns() -> None:
    assert any_edge_space(pa.array(["a", "b\u00a0"])) and not any_edge_space(
        pa.array(["Р", "аР", None])
    )
    assert not any_edge_space(pa.array(["\u3000x"]))  # not one of the five: left as it was before
    assert any_contains_byte(pa.array([None, "a\nb"]), 0x0A) and not any_contains_byte(
        pa.array(["ab", None]), 0x0A
    )
    assert any_empty(pa.array(["x", ""])) and not any_empty(pa.array(["x", None]))
    assert may_be_blank_rows(pa.array(["ЭА1", "W2"])).tolist() == []
    assert may_be_blank_rows(pa.chunked_array([["x", ""], [None, " y", "\u3000"]])).tolist() == [
        1,
        3,
        4,
    ]
    assert not any_edge_space(pa.array([], pa.string())) and not any_empty(pa.nulls(3, pa.string()))


def teardown_function() -> None:
    arrow_text._BLOCK = 1 << 20


def test_edge_space_of_columns_without_nulls_at_their_ends() -> None:
    """Arrow's CSV reader gives columns without NULLs: their cells' bytes are read at the
    offsets, empty cells at either end and in between included."""
    assert not any_edge_space(pa.array(["", "", "12", "", "ab", ""]))
    assert any_edge_space(pa.array(["", "", " 12", ""]))
    assert any_edge_space(pa.array(["", "12 ", "", ""]))
    assert any_edge_space(pa.array(["a", "", "\u00a0b"]))
    assert any_edge_space(pa.array(["", "b\u00a0", ""]))
    assert not any_edge_space(pa.array(["a b", "°C", "x\u00a0y", ""]))  # inside cells only
    assert not any_edge_space(pa.array(["", "", ""]))
    assert any_edge_space(pa.array(["x", " y", "z"]).slice(1, 1))
    assert not any_edge_space(pa.array([" x", "y", "z "]).slice(1, 1))
    assert any_empty(pa.array(["a", "", "b"]).slice(1, 2)) and not any_empty(
        pa.array(["", "a", "b", ""]).slice(1, 2)
    )
