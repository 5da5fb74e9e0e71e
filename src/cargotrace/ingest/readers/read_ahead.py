"""Read the next chunk of a file while the caller works on the current one.

Arrow's CSV parser and DuckDB both let go of the GIL, so on two cores the parse of chunk
k + 1 overlaps the typing and insert of chunk k. The reader starts on the next chunk only
once the caller has taken the previous one: at most two chunks are in memory (the caller's
and the one being read). An error of the reader (InputError, IrregularCsv, ...) reaches the
caller where the chunk would have; a caller that stops early stops the reader too. The
reader sees the caller's context variables (the progress meter). A consumer with work of
its own per item (typing a chunk) hands it to the same thread with `then` before the first
item is taken: still one thread and two items in memory.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

_POLL_S = 0.1  # how often a waiting reader looks whether its caller is gone


class _Done:
    pass


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class ReadAhead(Iterator[T]):
    """The items of `items`, each read on a thread of its own while the caller works on
    the one before (the thread starts when the first item is asked for)."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items: Iterator[T] | None = items
        self._run: Iterator[T] | None = None

    def __next__(self) -> T:
        if self._run is None:
            if self._items is None:
                raise StopIteration
            self._run, self._items = _run(self._items), None
        return next(self._run)

    def close(self) -> None:
        items, self._items = self._run if self._run is not None else self._items, None
        _close(items)

    def then(self, step: Callable[[T], U]) -> ReadAhead[U]:
        """The items with `step` applied on the reading thread, after the reading (this
        object hands out nothing more)."""
        if self._items is None:
            raise RuntimeError("then() after items were taken")
        items, self._items = self._items, None
        return ReadAhead(_mapped(items, step))


def read_ahead(items: Iterator[T]) -> ReadAhead[T]:
    """The items of `items`, each read on a thread of its own while the caller works on
    the one before."""
    return ReadAhead(items)


def ahead(items: Iterator[T], step: Callable[[T], U]) -> ReadAhead[U]:
    """`step` applied to each item on a reading thread: the one of `items` when it is a
    `ReadAhead` not started yet, else a new one."""
    if isinstance(items, ReadAhead) and items._run is None and items._items is not None:
        return items.then(step)
    return ReadAhead(_mapped(items, step))


def _mapped(items: Iterator[T], step: Callable[[T], U]) -> Iterator[U]:
    """`step` of each item; closing this closes `items` (a reader's file, its meter)."""
    try:
        for item in items:
            out = step(item)
            del item  # the reader's item lives on in `out` only, if at all
            yield out
            del out
    finally:
        _close(items)


def _close(items: object) -> None:
    """Close `items` if it can be closed (a generator: its `finally` runs, a file shuts)."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _run(items: Iterator[T]) -> Iterator[T]:
    handoff: queue.Queue[T | _Done | _Failure] = queue.Queue()
    may_read = threading.Semaphore(1)  # released each time the caller takes an item
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not may_read.acquire(timeout=_POLL_S):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(items, None)
                if item is None:
                    handoff.put(_Done())
                    return
                handoff.put(item)
                del item  # the caller holds the only reference once it takes it
        except BaseException as exc:  # handed to the caller, raised there
            handoff.put(_Failure(exc))
        finally:
            if stop.is_set():
                _close(items)

    # the caller's context variables (the progress meter of `sources.byte_meter`) hold there too
    context = contextvars.copy_context()
    worker = threading.Thread(
        target=context.run, args=(produce,), name="cargotrace-read-ahead", daemon=True
    )
    worker.start()
    try:
        while True:
            item = handoff.get()
            may_read.release()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
            del item
    finally:
        stop.set()
        worker.join()
