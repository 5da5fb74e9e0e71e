"""Conditions over a row's columns written once, and used two ways: as a DuckDB SQL
expression (`sql`, the columns given as SQL expressions) and evaluated over Arrow arrays
(`arrow`, the columns given as arrays), with SQL's meaning in both: NULL propagates and AND /
OR are three-valued (Kleene), and NaN is equal to itself and greater than any other number
(DuckDB's order of doubles). A rule that refuses rows (`ingest/kinds/ais_rules.py`) is
defined once here and runs where its rows are: in SQL over a CSV's typed columns, in Arrow
over a decoded batch of NMEA messages, on the decoder's thread.

    no_time = IsNull(Col("ts"))
    no_time.sql({"ts": "timestamp"})        # '(timestamp IS NULL)'
    no_time.arrow({"ts": batch["timestamp"]})  # a boolean array
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

Arrays = Mapping[str, pa.Array | pa.ChunkedArray]


class Expr(ABC):
    """A value or a condition over named columns: each kind says how it is written in SQL
    (`sql`) and how it is evaluated over Arrow arrays (`arrow`)."""

    @abstractmethod
    def sql(self, columns: Mapping[str, str]) -> str: ...

    @abstractmethod
    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray | pa.Scalar: ...

    def holds(self, columns: Arrays) -> pa.Array | pa.ChunkedArray:
        """Where the condition is true (NULL counts as not: SQL's WHERE and CASE WHEN)."""
        value = self.arrow(columns)
        if isinstance(value, pa.Scalar):
            raise TypeError("a condition over no column")
        return pc.fill_null(value, False)


@dataclass(frozen=True)
class Col(Expr):
    name: str

    def sql(self, columns: Mapping[str, str]) -> str:
        return columns[self.name]

    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray:
        return columns[self.name]


@dataclass(frozen=True)
class Num(Expr):
    value: int | float

    def sql(self, columns: Mapping[str, str]) -> str:
        return repr(self.value)

    def arrow(self, columns: Arrays) -> pa.Scalar:
        return pa.scalar(self.value)


@dataclass(frozen=True)
class Time(Expr):
    """A moment in UTC (ISO date), as TIMESTAMPTZ."""

    iso: str

    def sql(self, columns: Mapping[str, str]) -> str:
        return f"TIMESTAMPTZ '{self.iso} 00:00:00+00:00'"

    def arrow(self, columns: Arrays) -> pa.Scalar:
        return pa.scalar(
            datetime.fromisoformat(self.iso).replace(tzinfo=UTC), pa.timestamp("us", "UTC")
        )


@dataclass(frozen=True)
class NowPlusDays(Expr):
    """The time of the evaluation plus whole days (SQL: `now() + INTERVAL n DAY`, the
    transaction's start)."""

    days: int

    def sql(self, columns: Mapping[str, str]) -> str:
        return f"now() + INTERVAL {self.days} DAY"

    def arrow(self, columns: Arrays) -> pa.Scalar:
        moment = datetime.now(UTC) + timedelta(days=self.days)
        return pa.scalar(moment, pa.timestamp("us", "UTC"))


@dataclass(frozen=True)
class Abs(Expr):
    of: Expr

    def sql(self, columns: Mapping[str, str]) -> str:
        return f"abs({self.of.sql(columns)})"

    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray | pa.Scalar:
        return pc.abs(self.of.arrow(columns))


@dataclass(frozen=True)
class IsNull(Expr):
    of: Expr

    def sql(self, columns: Mapping[str, str]) -> str:
        return f"{self.of.sql(columns)} IS NULL"

    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray | pa.Scalar:
        return pc.is_null(self.of.arrow(columns))


def _nan(value: pa.Array | pa.ChunkedArray | pa.Scalar) -> pa.Array | pa.ChunkedArray | None:
    """Where a floating-point value is NaN (None: not floating point)."""
    if not pa.types.is_floating(value.type):
        return None
    return pc.is_nan(value)


@dataclass(frozen=True)
class Compare(Expr):
    """`left op right`, op one of = <> < > (NaN as DuckDB orders it: equal to itself,
    above every other number)."""

    left: Expr
    op: str
    right: Expr

    def sql(self, columns: Mapping[str, str]) -> str:
        return f"{self.left.sql(columns)} {self.op} {self.right.sql(columns)}"

    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray | pa.Scalar:
        a, b = self.left.arrow(columns), self.right.arrow(columns)
        if self.op in ("<", ">"):
            if self.op == "<":
                a, b = b, a
            out = pc.greater(a, b)  # a > b
            nan_a, nan_b = _nan(a), _nan(b)
            if nan_a is not None:  # NaN above any number but NaN
                above = nan_a if nan_b is None else pc.and_(nan_a, pc.invert(nan_b))
                out = pc.or_(out, above)
            return out
        if self.op in ("=", "<>"):
            out = pc.equal(a, b)
            nan_a, nan_b = _nan(a), _nan(b)
            if nan_a is not None and nan_b is not None:
                out = pc.or_(out, pc.and_(nan_a, nan_b))
            return out if self.op == "=" else pc.invert(out)
        raise ValueError(f"not a comparison: {self.op}")


@dataclass(frozen=True)
class _Junction(Expr):
    """Its terms joined by one three-valued (Kleene) operator: `KEYWORD` in SQL, `COMBINE`
    over Arrow."""

    terms: tuple[Expr, ...]

    KEYWORD: ClassVar[str]
    COMBINE: ClassVar[Callable[..., pa.Array | pa.ChunkedArray | pa.Scalar]]

    def sql(self, columns: Mapping[str, str]) -> str:
        return "(" + f" {self.KEYWORD} ".join(t.sql(columns) for t in self.terms) + ")"

    def arrow(self, columns: Arrays) -> pa.Array | pa.ChunkedArray | pa.Scalar:
        out = self.terms[0].arrow(columns)
        for term in self.terms[1:]:
            out = type(self).COMBINE(out, term.arrow(columns))
        return out


class Any(_Junction):
    """OR of its terms (three-valued)."""

    KEYWORD = "OR"
    COMBINE = staticmethod(pc.or_kleene)


class All(_Junction):
    """AND of its terms (three-valued)."""

    KEYWORD = "AND"
    COMBINE = staticmethod(pc.and_kleene)


def either(*terms: Expr) -> Any:
    return Any(terms)


def both(*terms: Expr) -> All:
    return All(terms)


@dataclass(frozen=True)
class Rule:
    """A row the condition holds for is refused with the reason (and the column named)."""

    when: Expr
    reason: str
    column: str | None

    def check(self, columns: Mapping[str, str]) -> tuple[str, str, str | None]:
        """(condition in SQL, reason, column), as `sqlexpr.first_reason` takes."""
        return (self.when.sql(columns), self.reason, self.column)
