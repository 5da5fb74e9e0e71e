"""Give the C heap's free memory back to the system (one definition for the ingest and the
maritime kernels; Python and NumPy allocate through glibc's malloc).

glibc's malloc keeps memory freed in the middle of its heap (a live block above it pins
it) until `malloc_trim` hands it back. On the 2 GB NMEA log of the slow suite, `mallinfo2`
counted 230-350 MB free in the heap during and after the pass over duplicates; trimming
every second kept the process ~110 MB lower after that pass (the commit: 498 MiB against
611), though not at its peak (issue 16). DuckDB allocates with its own jemalloc, not here.
The maritime kernels trim after each vessel partition (their arrays, allocated by a pool
of threads, left the process ~1 GB higher every few partitions). `trimmed` trims every
`TRIM_EVERY_S` on a thread of its own while a file is ingested.
Elsewhere than glibc (macOS, musl) there is no `malloc_trim` and nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TRIM_EVERY_S = 1.0


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the process's own C library
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def trim() -> bool:
    """Hand the heap's free pages back now; False where there is no `malloc_trim`."""
    call = _malloc_trim()
    if call is None:
        return False
    call(0)
    return True


@contextmanager
def trimmed(every_s: float = TRIM_EVERY_S) -> Iterator[None]:
    """Trim the heap every `every_s` seconds (and once at the end) while the block runs."""
    if _malloc_trim() is None:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every_s):
            trim()

    worker = threading.Thread(target=run, name="cargotrace-heap-trim", daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()
        trim()
