"""A fresh install's first NMEA log waits for the decoder's kernels to be compiled (Numba):
`compiled.compiled_here` tells whether they are ready, and `ingest` says so before the wait."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from cargotrace.cli.app import app
from cargotrace.ingest.nmea import compiled, kernels

SENTENCE = "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"


def _dispatcher(index: Path, signatures: list[object]) -> SimpleNamespace:
    cache_file = SimpleNamespace(_index_path=str(index))
    return SimpleNamespace(signatures=signatures, _cache=SimpleNamespace(_cache_file=cache_file))


def test_kernels_without_a_cache_index_are_not_compiled_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "scan_lines-1.py311.nbi"
    monkeypatch.setattr(kernels, "_KERNELS", [_dispatcher(index, [])])
    assert compiled.compiled_here() is False
    index.write_bytes(b"")
    assert compiled.compiled_here() is True


def test_kernels_compiled_in_this_process_count_without_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.nbi"
    monkeypatch.setattr(kernels, "_KERNELS", [_dispatcher(missing, ["(uint8[:],)"])])
    assert compiled.compiled_here() is True


def test_every_kernel_is_listed() -> None:
    names = {k.py_func.__name__ for k in kernels._KERNELS}
    assert {"scan_lines", "decode_fields"} <= names and len(names) == len(kernels._KERNELS)


@pytest.mark.parametrize(("is_compiled", "noted"), [(False, True), (True, False)])
def test_ingest_announces_the_first_compile_of_an_nmea_log_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, is_compiled: bool, noted: bool
) -> None:
    monkeypatch.setattr(compiled, "compiled_here", lambda: is_compiled)
    log = tmp_path / "log.nmea"
    log.write_text(f"1635731889 {SENTENCE}\n", encoding="ascii")
    csv = tmp_path / "positions.csv"
    csv.write_text(
        "MMSI,BaseDateTime,LAT,LON\n366940480,2021-11-01T00:00:05,46.5,-84.1\n", encoding="ascii"
    )
    case = tmp_path / "case"
    result = CliRunner().invoke(app, ["ingest", "ais", str(csv), str(log), "--case", str(case)])
    assert result.exit_code == 0, result.output
    note = "the NMEA decoder is compiled for this machine on its first use"
    assert (result.output.count(note) == 1) is noted
    if noted:  # for the log, not for the CSV read before it
        assert result.output.index(note) > result.output.index("positions.csv")
