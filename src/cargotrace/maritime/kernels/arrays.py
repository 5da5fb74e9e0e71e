"""Array idioms the kernels share: runs, shifts and ranks over sorted NumPy arrays (the
NumPy forms of SQL's PARTITION BY, lag/lead and row_number)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Flags = NDArray[np.bool_]


def group_starts(key: NDArray[Any]) -> Flags:
    """True where `key` differs from the element before (and at 0)."""
    first = np.ones(len(key), bool)
    np.not_equal(key[1:], key[:-1], out=first[1:])
    return first


def shift_back(values: NDArray[Any], fill: float | int | bool = 0) -> NDArray[Any]:
    """values[i - 1] at i (lag), `fill` at 0."""
    out = np.empty_like(values)
    if len(values):
        out[0] = fill
        out[1:] = values[:-1]
    return out


def shift_forward(values: NDArray[Any], fill: float | int | bool = 0) -> NDArray[Any]:
    """values[i + 1] at i (lead), `fill` at the end."""
    out = np.empty_like(values)
    if len(values):
        out[-1] = fill
        out[:-1] = values[1:]
    return out


def rank_in_group(first: Flags) -> Ints:
    """1, 2, ... within each run that starts where `first` is True (row_number)."""
    index = np.arange(len(first), dtype=np.int64)
    return index - np.maximum.accumulate(np.where(first, index, 0)) + 1


def expand(starts: Ints, counts: Ints) -> Ints:
    """The indices starts[i], starts[i] + 1, ... (counts[i] of them) for every i, concatenated."""
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()))


def sums_in_order(values: NDArray[Any], at: Ints, sizes: Ints) -> NDArray[Any]:
    """The sum of each group of `values` (groups are contiguous: they start `at`, `sizes`
    long, at least 1), added one value after another from the first, as an SQL `sum`/`avg`
    over rows in that order does: vectorised over the groups, one step per position in a
    group. While most groups still have a value at the step, every group takes the step
    (a masked add over contiguous arrays); then only the groups that have one.
    `values` may have columns (one sum per group and column). NumPy's `reduceat` adds in
    blocks of its own, which can differ from this in the last bit."""
    total = np.zeros((len(at), *values.shape[1:]), np.float64)
    if len(at) == 0:
        return total
    total[:] = values[at]
    last = len(values) - 1
    rest = None  # the groups longer than the step, once they are few
    for step in range(1, int(sizes.max())):
        if rest is None:
            more = sizes > step
            if 2 * np.count_nonzero(more) >= len(at):
                more = more.reshape(-1, *(1,) * (values.ndim - 1))
                total = np.where(more, total + values[np.minimum(at + step, last)], total)
                continue
            rest = np.flatnonzero(more)
        else:
            rest = rest[sizes[rest] > step]
        total[rest] += values[at[rest] + step]
    return total
