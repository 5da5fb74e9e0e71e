"""`cargotrace demo`: the whole method on the bundled synthetic sample case."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargotrace import workflow
from cargotrace.case.store import DB_NAME, Case
from cargotrace.errors import InputError
from cargotrace.ingest.kinds.borders import natural_earth_countries_geojson
from cargotrace.ingest.types import IngestResult
from cargotrace.outputs import check_output_path
from cargotrace.settings import AnalysisSettings

# Reference data first, so identities and places exist when events are derived.
INGEST_ORDER = (
    "ports",
    "stations",
    "facilities",
    "borders",
    "vessels",
    "watchlist",
    "sightings",
    "ais",
    "detections",
    "shipments",
)


@dataclass
class DemoResult:
    out_dir: Path
    case_dir: Path
    findings_path: Path
    report_path: Path
    findings: dict[str, Any]
    truth: dict[str, Any]
    ingested: list[IngestResult] = field(default_factory=list)


def _refuse_foreign_case(case_dir: Path) -> None:
    """The demo replaces only a case it made itself (marked synthetic), never an
    investigator's case or another folder that happens to be called `case`."""
    if case_dir.is_symlink() or not case_dir.is_dir():
        raise InputError(
            f"{case_dir} exists and is not a demo case folder; choose another --out for the demo"
        )
    if not (case_dir / DB_NAME).is_file():
        if any(case_dir.iterdir()):
            raise InputError(
                f"{case_dir} holds files and is not a demo case; choose another --out for the demo"
            )
        return
    with Case.open(case_dir) as case:
        synthetic = case.meta("synthetic") == "true"
    if not synthetic:
        raise InputError(
            f"{case_dir} is a real (not synthetic) case: the demo would replace it; "
            "choose another --out for the demo"
        )


def run_demo(
    out_dir: Path,
    seed: int = 20240613,
    on_step: Callable[[str], None] | None = None,
    on_ingest: Callable[[IngestResult], None] | None = None,
    *,
    detections: bool = False,
) -> DemoResult:
    """The demo; `detections=True` runs it with the dark calls' sightings replaced by the
    satellite detections they stand for (sample/detections.py)."""
    from cargotrace.sample.generate import generate_sample_case

    step = on_step or (lambda _msg: None)
    check_output_path(out_dir / "findings.json", "--out")  # a folder (or none yet), not a file
    case_dir = out_dir / "case"
    if case_dir.exists() or case_dir.is_symlink():
        _refuse_foreign_case(case_dir)
        shutil.rmtree(case_dir)  # the demo always starts from a fresh case
    step("generating the synthetic sample case")
    sample = generate_sample_case(out_dir / "inputs", seed=seed, detections=detections)
    inputs = {kind: list(paths) for kind, paths in sample.inputs.items()}
    borders = natural_earth_countries_geojson(
        out_dir / "inputs" / "natural_earth_countries.geojson"
    )
    if borders is not None:
        inputs["borders"] = [borders]
    workflow.init_case(case_dir)
    with Case.open(case_dir, write=True) as case:
        case.set_meta("synthetic", "true")
    results: list[IngestResult] = []
    for kind in INGEST_ORDER:
        for path in inputs.get(kind, []):
            step(f"ingesting {kind}: {path.name}")
            for result in workflow.ingest(case_dir, kind, [path]):
                results.append(result)
                if on_ingest:
                    on_ingest(result)
    step("analysing")
    findings = workflow.analyze(case_dir, AnalysisSettings())
    findings_path = out_dir / "findings.json"
    workflow.export(case_dir, "json", findings_path)
    for table in ("linked_shipments", "sites", "port_calls", "gaps", "quarantine"):
        workflow.export(case_dir, "csv", out_dir / "tables" / f"{table}.csv", table)
    step("writing the report")
    report_path = out_dir / "report.html"
    workflow.report(case_dir, report_path)
    return DemoResult(
        out_dir, case_dir, findings_path, report_path, findings, sample.truth, results
    )
