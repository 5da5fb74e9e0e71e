"""The NMEA decoder's compiled kernels (`ingest/nmea/kernels*.py`, Numba): compiled once and
cached on disk, by several processes at once (pytest-xdist workers, two ingests) without
harm, and still working where no cache directory can be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba.core.caching
import pytest

from cargotrace.ingest.nmea import kernels
from cargotrace.ingest.nmea.decoder import decode_nmea_file

from conftest import shared_data

SRC = Path(__file__).resolve().parents[1] / "src"
DECODE = """
import json, sys
from cargotrace.ingest.nmea.decoder import decode_nmea_file
rows = [0, 0, 0]
for b in decode_nmea_file(sys.argv[1]):
    rows[0] += b.positions.num_rows
    rows[1] += b.statics.num_rows
    rows[2] += b.rejects.num_rows
print(json.dumps(rows))
"""


def _counts(path: Path) -> list[int]:
    rows = [0, 0, 0]
    for b in decode_nmea_file(path):
        rows[0] += b.positions.num_rows
        rows[1] += b.statics.num_rows
        rows[2] += b.rejects.num_rows
    return rows


def _start(path: Path, cache: Path, **env: str) -> subprocess.Popen[str]:
    environ = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(SRC), **env)
    return subprocess.Popen(
        [sys.executable, "-c", DECODE, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


@pytest.mark.slow
def test_processes_compiling_at_once_share_one_cache(tmp_path: Path) -> None:
    """Two fresh processes compile the kernels into one empty cache at the same time: both
    decode the log as this process does; a third loads every kernel it calls from that
    cache and compiles nothing."""
    log = shared_data("ais", "gpsd", "sample.aivdm")
    want = _counts(log)
    assert want[0] > 0 and want[1] > 0
    cache = tmp_path / "numba-cache"
    runs = [_start(log, cache), _start(log, cache)]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        assert json.loads(out) == want
    assert list(cache.rglob("*.nbi")) and list(cache.rglob("*.nbc"))
    third = _start(log, cache, NUMBA_DEBUG_CACHE="1")
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == want
    assert "data loaded" in out and "data saved" not in out


def test_a_kernel_compiles_without_any_writable_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cache directory at all (Numba finds no locator: an installed package in a read-only
    place, no writable home): the kernel is compiled for this process instead of failing."""
    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])

    def twice(x: int) -> int:
        return 2 * x

    with pytest.raises(RuntimeError, match="no locator"):
        numba.njit(cache=True)(twice)
    compiled = kernels.kernel(twice)
    assert compiled(21) == 42
