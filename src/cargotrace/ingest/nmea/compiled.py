"""Whether the NMEA decoder's kernels (`kernels`, Numba) are ready to run at once, or wait
for the first compile of a fresh install (~15-30 s), which the command line announces."""

from __future__ import annotations

from pathlib import Path

from cargotrace.ingest.nmea import kernels, kernels_fields, kernels_scan  # noqa: F401 - their kernels


def compiled_here() -> bool:
    """Whether every kernel is compiled in this process or has machine code in its cache on
    disk. Looks for each kernel's cache index (Numba's own file; an index for older code
    still counts, and then the note is missing, never wrong the other way)."""
    for dispatcher in kernels._KERNELS:
        if dispatcher.signatures:
            continue
        try:
            index = Path(dispatcher._cache._cache_file._index_path)
        except AttributeError:  # no cache, or Numba's internals moved: say nothing
            continue
        if not index.exists():
            return False
    return True
