"""The maritime events through `analyze` and the exports: port calls with confidence, gaps with
possible dark calls, identity events, voyages and shuttles in the findings and as tables."""

from __future__ import annotations

import json
from datetime import timedelta

from cargotrace import workflow
from cargotrace.report.findings import MARITIME_TABLES

from builders import T0, VOSTOCHNY, CaseBuilder, dwell

OFF_VOSTOCHNY = (42.55, 133.05)


def test_findings_and_exports_carry_the_maritime_events(tmp_path):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(273000001, VOSTOCHNY, T0, 5)
    # dark for 5 days off Vostochny, then back
    back = T0 + timedelta(days=5, hours=6)
    b.positions += [[273000001, back.isoformat(), *OFF_VOSTOCHNY, 11.0, 0, 0, 0]]
    b.positions += dwell(273000001, VOSTOCHNY, back + timedelta(hours=2), 5)
    b.sighting(T0 + timedelta(hours=3), "RUVYP")
    with b.run() as case:
        findings = json.loads(case.meta("findings"))
    events = findings["events"]
    assert (
        events["port_calls"] == 2
        and events["gaps"] == 1
        and events["gaps_with_possible_dark_calls"] == 1
    )
    [dark] = findings["possible_dark_calls"]
    assert "KPNJN" in dark["possible_dark_calls"].split(";") and dark["label"] == "inferred"
    assert dark["began_offshore"] is True
    for key in ("identity_events", "shuttles", "encounters"):
        assert isinstance(findings[key], list)
    for table in MARITIME_TABLES:
        out = tmp_path / f"{table}.csv"
        workflow.export(b.case_dir, "csv", out, table)
        assert out.read_text(encoding="utf-8").splitlines()[0]
    header = (tmp_path / "port_calls.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    for column in ("port_call_id", "mmsi", "vessel_name", "port_locode", "arrived_at", "departed_at", "source", "confidence",
                   "entered_at", "exited_at", "confidence_level", "ais_events"):  # fmt: skip
        assert column in header
    calls = json.loads(_export_json(b, tmp_path, "port_calls"))
    assert sorted(c["source"] for c in calls) == ["ais", "both"]
    both = next(c for c in calls if c["source"] == "both")
    assert both["confidence"] > 0.9 and both["ais_events"] == "entry,stop,exit"


def _export_json(b: CaseBuilder, tmp_path, table: str) -> str:
    out = tmp_path / f"{table}.json"
    workflow.export(b.case_dir, "json", out, table)
    return out.read_text(encoding="utf-8")
