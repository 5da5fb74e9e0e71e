"""Read the next chunk of a file while the caller works on the current one.

Arrow's CSV parser and DuckDB both let go of the GIL, so on two cores the parse of chunk
k + 1 overlaps the typing and insert of chunk k. The reader starts on the next chunk only
once the caller has taken the previous one: at most two chunks are in memory (the caller's
and the one being read). An error of the reader (InputError, IrregularCsv, ...) reaches the
caller where the chunk would have; a caller that stops early stops the reader too. The
reader sees the caller's context variables (the progress meter).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.1  # how often a waiting reader looks whether its caller is gone


class _Done:
    pass


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, each read on a thread of its own while the caller works on
    the one before."""
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
                close = getattr(items, "close", None)
                if close is not None:
                    close()

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
