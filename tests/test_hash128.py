"""The row hash outside DuckDB (`case/hash128.py`): two UBIGINT halves inside the ingest and
back, 16 bytes for Arrow's hash sets and back, the md5's hex digest for a reader and back."""

from __future__ import annotations

import hashlib

import duckdb
import pyarrow as pa

from cargotrace.case.hash128 import (
    HASH_HALVES,
    halves_of_hashes,
    halves_sql,
    hashes_of_halves,
    md5_hex_sql,
    md5_number_sql,
    number_sql,
)

TEXTS = ["abc", "Э1\x1f03.09.2023", ""]
DIGESTS = [hashlib.md5(t.encode("utf-8")).digest() for t in TEXTS]


def _table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE t (k INTEGER, text VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(TEXTS)))


def test_halves_cross_arrow_and_come_back_as_the_same_number() -> None:
    con = duckdb.connect()
    _table(con)
    halves = con.execute(
        f"SELECT {halves_sql('md5_number(text)')} FROM t ORDER BY k"
    ).to_arrow_table()
    numbers = [int.from_bytes(d, "little") for d in DIGESTS]
    assert halves.column_names == list(HASH_HALVES)
    assert halves.to_pylist() == [
        {"_hash_hi": n >> 64, "_hash_lo": n & (2**64 - 1)} for n in numbers
    ]
    hashes = hashes_of_halves(halves)
    assert hashes.type == pa.binary(16)
    assert halves_of_hashes(hashes.slice(1)).to_pylist() == halves.slice(1).to_pylist()
    back = halves_of_hashes(hashes)  # noqa: F841 - replacement scan
    again = con.execute(f"SELECT {number_sql('b.')} FROM back AS b").fetchall()
    assert [row[0] for row in again] == numbers


def test_a_reader_gets_the_md5_hex_digest_and_a_digest_gives_the_number() -> None:
    con = duckdb.connect()
    _table(con)
    shown = con.execute(
        f"SELECT {md5_hex_sql('md5_number(text)')}, {md5_number_sql('md5(text)')} = "
        "md5_number(text) FROM t ORDER BY k"
    ).fetchall()
    assert shown == [(d.hex(), True) for d in DIGESTS]
    assert shown[0][0] == "900150983cd24fb0d6963f7d28e17f72"  # md5("abc"), RFC 1321
