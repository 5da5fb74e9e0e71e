"""The library API (cargotrace.open_case) and the README's notebook example, run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import cargotrace
from cargotrace.errors import CaseError, InputError
from cargotrace.sample.generate import generate_sample_case

README = Path(__file__).resolve().parents[1] / "README.md"


def _notebook_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## From Python (notebooks)", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


def test_readme_notebook_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_sample_case(tmp_path / "demo" / "inputs")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(_notebook_example(), "README.md", "exec"), scope)  # noqa: S102
    calls = scope["calls"]
    assert isinstance(calls, pd.DataFrame) and len(calls) > 0
    findings = scope["findings"]
    assert isinstance(findings, dict) and findings["totals"]["linked_shipments"] > 0
    assert (tmp_path / "notebook-report.html").stat().st_size > 0
    # the DataFrame's rows are in the case, with the file name it was given as provenance
    case = cargotrace.open_case(tmp_path / "notebook-case", create=False)
    sightings = case.table("sightings")
    assert sightings.num_rows == len(pd.read_csv(tmp_path / "demo" / "inputs" / "sightings.csv"))
    assert set(sightings.column("source_file").to_pylist()) == {"sightings.csv"}


def test_open_twice_in_one_process(tmp_path: Path) -> None:
    first = cargotrace.open_case(tmp_path / "case")
    second = cargotrace.open_case(tmp_path / "case")
    ports = first.table("ports")
    assert isinstance(ports, pa.Table) and ports.num_rows > 3000
    assert second.table("ports").num_rows == ports.num_rows
    frame = pd.DataFrame(
        {"locode": ["ZZABC"], "name": ["Test port"], "lat": [40.0], "lon": [150.0]}
    )
    [result] = second.ingest("ports", frame, name="extra_ports.csv")
    assert result.rows_kept == 1
    assert first.table("ports").num_rows == ports.num_rows + 1


def test_missing_case_and_unknown_names_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="not a cargotrace case"):
        cargotrace.open_case(tmp_path / "nothing", create=False)
    case = cargotrace.open_case(tmp_path / "case")
    with pytest.raises(InputError, match="no table 'no_such_table'"):
        case.table("no_such_table")
    with pytest.raises(InputError, match="unknown setting"):
        case.analyze(window_dayz=3)
