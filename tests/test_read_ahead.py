"""The CSV reader reads one chunk ahead on a thread (readers/read_ahead.py): the caller gets
every chunk in order, the reader's errors where the chunk would have been, at most one
chunk read ahead of the caller, and a caller that stops early stops the reader."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator

import pytest

from cargotrace.errors import InputError
from cargotrace.ingest.readers.read_ahead import read_ahead


def test_items_come_in_order_and_the_reader_is_at_most_one_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(6):
            produced.append(n)
            yield n

    seen = []
    for item in read_ahead(source()):
        threading.Event().wait(0.05)  # give the reader time to run ahead if it would
        assert len(produced) <= item + 2  # this item and at most the next one
        seen.append(item)
    assert seen == [0, 1, 2, 3, 4, 5]


def test_an_error_of_the_reader_reaches_the_caller_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise InputError("bad byte", file="x.csv", row=3)

    seen = []
    with pytest.raises(InputError, match="bad byte") as raised:
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == [1, 2] and raised.value.row == 3


def test_a_caller_that_stops_early_stops_the_reader() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    items = read_ahead(source())
    assert next(items) == 0
    items.close()  # what a `for` loop left by an exception does
    assert closed.wait(5)
    assert not any(t.name == "cargotrace-read-ahead" for t in threading.enumerate())


def test_the_reader_sees_the_callers_context_variables() -> None:
    """The progress meter of `sources.byte_meter` is a context variable the reader reads."""
    meter: contextvars.ContextVar[str | None] = contextvars.ContextVar("meter", default=None)

    def source() -> Iterator[str | None]:
        yield meter.get()

    token = meter.set("the caller's meter")
    try:
        assert list(read_ahead(source())) == ["the caller's meter"]
    finally:
        meter.reset(token)
