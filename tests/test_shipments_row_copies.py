"""Copies of rows within a chunk (`stream_load._within`): found by a 64-bit key of the row
hash, confirmed by the hash itself, the first row of each record kept."""

from __future__ import annotations

import pyarrow as pa

from cargotrace.ingest import stream_load


def _hashed(hashes: list[str], keys: list[int]) -> pa.Table:
    return pa.table({"_hash": pa.array(hashes), "_key": pa.array(keys, pa.uint64())})


def test_later_copies_are_marked_and_the_first_of_each_kept() -> None:
    found = stream_load._within(_hashed(["a", "b", "a", "c", "b", "a"], [1, 2, 1, 3, 2, 1]))
    assert found.copies.to_pylist() == [False, False, True, False, True, True]
    assert found.distinct.to_pylist() == ["a", "b", "c"]
    assert found.rows.to_pylist() == ["a", "b", "a", "c", "b", "a"]


def test_rows_without_copies_are_their_own_distinct_hashes() -> None:
    found = stream_load._within(_hashed(["a", "b", "c"], [3, 1, 2]))
    assert found.copies.to_pylist() == [False, False, False]
    assert found.distinct.to_pylist() == ["a", "b", "c"]


def test_two_hashes_sharing_a_key_are_told_apart_by_the_hashes() -> None:
    found = stream_load._within(_hashed(["a", "b", "b", "a"], [7, 7, 7, 7]))
    assert found.copies.to_pylist() == [False, False, True, True]
    assert sorted(found.distinct.to_pylist()) == ["a", "b"]
