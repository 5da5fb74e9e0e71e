"""Copies of rows within a chunk (`stream_load._within`): found by the low half of the row
hash, confirmed by the high half, the first row of each record kept; the hashes as 16 bytes
(`hash128.hashes_of_halves`) and back as their halves (`hash128.halves_of_hashes`)."""

from __future__ import annotations

import pyarrow as pa

from cargotrace.case.hash128 import HASH_HALVES, halves_of_hashes
from cargotrace.ingest import stream_load

A, B, C = (1, 7), (2, 8), (3, 9)  # (high, low) halves of three row hashes


def _hashed(hashes: list[tuple[int, int]]) -> pa.Table:
    return pa.table(
        {name: pa.array([h[k] for h in hashes], pa.uint64()) for k, name in enumerate(HASH_HALVES)}
    )


def _pairs(hashes: pa.Array) -> list[tuple[int, int]]:
    halves = halves_of_hashes(hashes)
    return list(zip(*(halves.column(n).to_pylist() for n in HASH_HALVES), strict=True))


def test_later_copies_are_marked_and_the_first_of_each_kept() -> None:
    found = stream_load._within(_hashed([A, B, A, C, B, A]))
    assert found.copies.to_pylist() == [False, False, True, False, True, True]
    assert _pairs(found.distinct) == [A, B, C]
    assert _pairs(found.rows) == [A, B, A, C, B, A]


def test_rows_without_copies_are_their_own_distinct_hashes() -> None:
    found = stream_load._within(_hashed([A, B, C]))
    assert found.copies.to_pylist() == [False, False, False]
    assert _pairs(found.distinct) == [A, B, C]


def test_two_hashes_sharing_a_low_half_are_told_apart_by_the_high_one() -> None:
    a, b = (5, 7), (6, 7)
    found = stream_load._within(_hashed([a, b, b, a]))
    assert found.copies.to_pylist() == [False, False, True, True]
    assert sorted(_pairs(found.distinct)) == [a, b]


def test_the_halves_of_a_slice_are_its_own() -> None:
    found = stream_load._within(_hashed([A, B, C]))
    assert _pairs(found.rows.slice(1, 2)) == [B, C]
