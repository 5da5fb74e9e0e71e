"""The row hash, a 128-bit number, where DuckDB's UHUGEINT cannot go as it is.

A row hash is DuckDB's `md5_number`: the md5's 16 bytes read as one little-endian UHUGEINT
(a number compares and stores ~1 CPU s per million rows cheaper than 32 hex digits). A reader
knows an md5 as its hex digest, the bytes in md5 order; the number's own hex
(`printf('%032x')`) is those bytes reversed, so it is shown as the digest (`md5_hex_sql`), and
an earlier case's digests become the same numbers (`md5_number_sql`).
"""

from __future__ import annotations

_LOW_NIBBLES = f"CAST({int('0f' * 16, 16)} AS UHUGEINT)"


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
