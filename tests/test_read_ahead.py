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


def _endless() -> tuple[Iterator[int], threading.Event]:
    """A long source, and the event it sets when it is closed."""
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    return source(), closed


def test_a_caller_that_stops_early_stops_the_reader() -> None:
    source, closed = _endless()
    items = read_ahead(source)
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


def test_a_step_given_with_ahead_runs_on_the_reading_thread_of_a_read_ahead() -> None:
    """`ahead` over a read_ahead not started yet: the step runs on its reading thread (no
    second thread, still one item ahead); over a plain iterator: on a thread of its own."""
    from cargotrace.ingest.readers.read_ahead import ahead

    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(5):
            produced.append(n)
            yield n

    def step(n: int) -> tuple[int, str]:
        return n * 10, threading.current_thread().name

    seen = []
    for value, thread in ahead(read_ahead(source()), step):
        threading.Event().wait(0.05)
        assert len(produced) <= value // 10 + 2
        assert sum(t.name == "cargotrace-read-ahead" for t in threading.enumerate()) <= 1
        seen.append((value, thread))
    assert seen == [(n * 10, "cargotrace-read-ahead") for n in range(5)]
    assert [v for v, _ in ahead(iter([1, 2]), step)] == [10, 20]


def test_closing_a_stepped_read_ahead_closes_the_reader() -> None:
    from cargotrace.ingest.readers.read_ahead import ahead

    source, closed = _endless()
    items = ahead(read_ahead(source), lambda n: n + 1)
    assert next(items) == 1
    items.close()
    assert closed.wait(5)
    assert not any(t.name == "cargotrace-read-ahead" for t in threading.enumerate())


def test_a_read_ahead_takes_one_step_only_before_it_starts() -> None:
    items = read_ahead(iter([1, 2, 3]))
    assert next(items) == 1
    with pytest.raises(RuntimeError, match="after items were taken"):
        items.then(str)
