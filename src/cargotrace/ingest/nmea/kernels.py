"""Compiled per-byte loops of the NMEA decoder (Numba), and what they share.

Why by hand: there is no maintained native AIS decoder with wheels on PyPI (pyais is pure
Python, a Python object per sentence; libais is a 2018 sdist without wheels), and the
vectorised NumPy decoder that preceded these kernels spent its time in hundreds of small
whole-array operations per batch, each holding the GIL between them. A kernel here is one
pass over the batch's ``uint8`` buffer (or its messages) in compiled code that lets go of
the GIL (``nogil``), so the decoder's threads run side by side, and is compiled once per
machine (``cache``: next to the module in ``__pycache__``, or in Numba's user cache
directory when the package folder is not writable).

The kernels themselves live in ``kernels_time`` (receive-time tokens, civil dates),
``kernels_scan`` (sentences of a batch of lines) and ``kernels_fields`` (message fields).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba.extending import register_jitable

F = TypeVar("F", bound=Callable[..., Any])

# Hexadecimal digit (either case) -> its value, 255 for any other byte.
HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    HEX[_c] = 10 + _i


_KERNELS: list[Any] = []  # every kernel's dispatcher (`compiled.compiled_here`)


def kernel(fn: F) -> F:
    """``fn`` compiled: no Python objects, the GIL released while it runs, the machine code
    cached on disk (the first call of a fresh install compiles: seconds). Where no cache
    directory is writable at all (neither the package's ``__pycache__`` nor Numba's user
    cache, ``NUMBA_CACHE_DIR``) every process compiles its own."""
    try:
        compiled = numba.njit(nogil=True, cache=True)(fn)
    except RuntimeError:  # Numba: "cannot cache function ...: no locator available"
        compiled = numba.njit(nogil=True)(fn)
    _KERNELS.append(compiled)
    return cast(F, compiled)


def helper(fn: F) -> F:
    """A function the kernels call, compiled into them (one machine code per kernel and
    argument types: a plain ``njit`` function called with constants would be compiled
    once per distinct constant, which doubled the first compile)."""
    return register_jitable(fn)


def leaf(fn: F) -> F:
    """A small function that calls no other, compiled into each kernel that calls it
    (Numba inlines it before typing: its arguments become constants where they are, and
    no array is handed over a call). Only leaves: inlining nested calls makes compiling
    take minutes."""
    return cast(F, numba.njit(inline="always")(fn))


@leaf
def is_armour(c: int) -> bool:
    """Whether byte ``c`` is a payload armour character (``0``-``W``, `````-``w``)."""
    return (48 <= c <= 87) or (96 <= c <= 119)


@leaf
def is_digit(c: int) -> bool:
    return 48 <= c <= 57


@leaf
def find_byte(buf: np.ndarray, lo: int, hi: int, byte: int) -> int:
    """First position of ``byte`` in ``buf[lo:hi]``, -1 if none."""
    for p in range(lo, hi):
        if buf[p] == byte:
            return p
    return -1


@leaf
def xor_range(buf: np.ndarray, lo: int, hi: int) -> int:
    """XOR of ``buf[lo:hi]`` (0 for an empty range)."""
    x = 0
    for p in range(lo, hi):
        x ^= buf[p]
    return x
