"""The row hash, a 128-bit number, where DuckDB's UHUGEINT cannot go as it is.

A row hash is DuckDB's `md5_number`: the md5's 16 bytes read as one little-endian UHUGEINT
(a number compares and stores ~1 CPU s per million rows cheaper than 32 hex digits). Arrow
has no 128-bit integer, and DuckDB hands a UHUGEINT to Arrow as a 38-digit decimal, which
cannot hold every value (silently wrong ones). So the hash leaves DuckDB in one of two forms:

* inside the ingest, which moves a chunk's hashes between DuckDB and Arrow, as two UBIGINT
  halves (`HASH_HALVES`: `halves_sql` out of DuckDB, `number_sql` back in); Arrow's hash
  sets (`is_in`, `dictionary_encode`) take them joined into 16 bytes (`hashes_of_halves`,
  and `halves_of_hashes` back, without a copy);
* to a reader (exports, the library's tables), as the md5's hex digest, the bytes in md5
  order (`md5_hex_sql`): the number's own hex (`printf('%032x')`) is those bytes reversed,
  and a reader recomputing a row's md5 would not find it. An earlier case's digests become
  the same numbers (`md5_number_sql`, schema 5).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

HASH_HALVES = ("_hash_hi", "_hash_lo")
HASH_BYTES = pa.binary(16)
_LOW_NIBBLES = f"CAST({int('0f' * 16, 16)} AS UHUGEINT)"


def halves_sql(number: str) -> str:
    """The halves (`HASH_HALVES`) of the UHUGEINT `number`, as two select items."""
    hi, lo = HASH_HALVES
    return (
        f"CAST(({number}) >> 64 AS UBIGINT) AS {hi}, "
        f"CAST(({number}) & CAST(18446744073709551615 AS UHUGEINT) AS UBIGINT) AS {lo}"
    )


def number_sql(prefix: str = "") -> str:
    """The row hash (UHUGEINT) of its halves (`HASH_HALVES`, columns of `prefix`)."""
    hi, lo = HASH_HALVES
    return f"((CAST({prefix}{hi} AS UHUGEINT) << 64) | CAST({prefix}{lo} AS UHUGEINT))"


def hashes_of_halves(halves: pa.Table) -> pa.Array:
    """Each row's hash as 16 bytes (`HASH_BYTES`: the high half's then the low half's, in
    the machine's order), from the columns `HASH_HALVES` of `halves`."""
    pairs = np.column_stack([halves.column(n).to_numpy() for n in HASH_HALVES])
    pairs = np.ascontiguousarray(pairs, dtype=np.uint64)
    return pa.FixedSizeBinaryArray.from_buffers(HASH_BYTES, len(pairs), [None, pa.py_buffer(pairs)])


def halves_of_hashes(hashes: pa.Array) -> pa.Table:
    """The halves (`HASH_HALVES`) of hashes made by `hashes_of_halves`, for DuckDB (no copy)."""
    words = np.frombuffer(hashes.buffers()[1], dtype=np.uint64)
    pairs = words[2 * hashes.offset : 2 * (hashes.offset + len(hashes))].reshape(-1, 2)
    return pa.table({name: pairs[:, k] for k, name in enumerate(HASH_HALVES)})


def _nibbles_swapped(number: str) -> str:
    """The UHUGEINT `number` with the two hex digits of each byte swapped. `reverse` of its
    hex is then the bytes reversed, digits in order: DuckDB has no byte swap, and this is
    vectorised arithmetic and string functions (1 M hashes shown: 0.85 s, `printf('%032x')`
    alone 1.7-2.0 s, and 16 `substr` of it reversing the bytes 3.2 s)."""
    return f"(((({number}) & {_LOW_NIBBLES}) << 4) | ((({number}) >> 4) & {_LOW_NIBBLES}))"


def md5_hex_sql(number: str) -> str:
    """The md5 hex digest (`md5(text)`, Python's `hashlib.md5(...).hexdigest()`) of the
    `md5_number(text)` in `number`."""
    return f"lower(reverse(lpad(hex({_nibbles_swapped(number)}), 32, '0')))"


def md5_number_sql(digest: str) -> str:
    """`md5_number(text)` from `digest` holding `md5(text)` (32 hex digits), read in two
    64-bit halves (DuckDB casts hex text only to UBIGINT)."""
    swapped = f"reverse(CAST({digest} AS VARCHAR))"
    number = (
        f"(CAST(CAST('0x' || substr({swapped}, 1, 16) AS UBIGINT) AS UHUGEINT) << 64) "
        f"| CAST(CAST('0x' || substr({swapped}, 17, 16) AS UBIGINT) AS UHUGEINT)"
    )
    return _nibbles_swapped(number)
