"""Issue 20's acceptance case: the demo's sample with the dark calls' sightings replaced by the
anonymous satellite detections they stand for (plus lit and noise detections) gives the same
findings as with the sightings: arrivals, links, tonnes, sites.

What may differ, by design: an arrival's evidence says `detection` where it said `sighting`;
a call from a detection is at the detection's time where a sighting's is on its day (so the
arrival's id, a hash of its time, differs for those); the confidences differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.demo import INGEST_ORDER
from cargotrace.sample.detections import LIT_DETECTIONS, NOISE_DETECTIONS
from cargotrace.sample.generate import SampleCase, generate_sample_case
from cargotrace.settings import AnalysisSettings


def _run(root: Path, detections: bool) -> tuple[dict[str, Any], SampleCase]:
    sample = generate_sample_case(root / "inputs", detections=detections)
    case_dir = root / "case"
    for kind in INGEST_ORDER:
        for path in sample.inputs.get(kind, []):
            workflow.ingest(case_dir, kind, [path])
    return workflow.analyze(case_dir, AnalysisSettings()), sample


def _rows(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) - 1


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sightings, plain = _run(tmp_path_factory.mktemp("with-sightings"), False)
    detections, sample = _run(tmp_path_factory.mktemp("with-detections"), True)
    return {"sightings": sightings, "detections": detections, "sample": sample,
            "case_dir": sample.out_dir.parent / "case", "truth": plain.truth,
            "dark_sightings": _rows(plain.inputs["sightings"][0]) - _rows(sample.inputs["sightings"][0])}  # fmt: skip


def _day(stamp: str | None) -> str | None:
    return stamp[:10] if stamp else None


def _evidence(values: list[str]) -> list[str]:
    return sorted("imagery" if v in ("sighting", "detection") else v for v in values)


def _arrivals(findings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Arrival id -> what it is (vessel, port, day, previous call), id-free."""
    return {
        a["arrival_id"]: {
            "ship_key": a["ship_key"], "mmsi": a["mmsi"], "vessel_name": a["vessel_name"],
            "port_locode": a["port_locode"], "arrival_day": _day(a["arrived_at"]),
            "departed_at": a["departed_at"], "evidence": _evidence(a["evidence"]),
            "previous_port_locode": a["previous_port_locode"],
            "previous_call_day": _day(a["previous_call_at"]),
            "days_since_previous": a["days_since_previous"],
            "previous_call_evidence": _evidence(a["previous_call_evidence"]),
            "identity_changed": a["identity_changed"], "previous_mmsi": a["previous_mmsi"],
        }
        for a in findings["arrivals"]
    }  # fmt: skip


def _links(findings: dict[str, Any]) -> list[tuple[Any, ...]]:
    arrivals = _arrivals(findings)
    key = {i: (a["ship_key"], a["port_locode"], a["arrival_day"]) for i, a in arrivals.items()}
    return sorted(
        (s["waybill"], s["wagon"], key[s["arrival_id"]], s["lag_days"], s["tonnes"], s["site_id"])
        for s in findings["linked_shipments"]
    )


def test_detections_stand_in_for_the_dark_calls_sightings_findings_equal(runs):
    with_sightings, with_detections = runs["sightings"], runs["detections"]
    arrivals = sorted(
        _arrivals(with_sightings).values(), key=lambda a: (a["arrival_day"], a["port_locode"])
    )
    from_detections = sorted(_arrivals(with_detections).values(), key=lambda a: (a["arrival_day"], a["port_locode"]))  # fmt: skip
    truth = runs["truth"]
    assert len(arrivals) == len(truth["arrivals_of_interest"]) == 25
    assert from_detections == arrivals
    links = _links(with_sightings)
    assert len(links) == truth["linked_shipments"] == 1202
    assert _links(with_detections) == links
    assert with_detections["totals"] == with_sightings["totals"]
    assert with_detections["totals"]["linked_tonnes"] == round(truth["linked_tonnes"], 3)
    assert runs["sample"].truth == truth
    assert with_detections["sites"] == with_sightings["sites"]
    assert with_detections["significance"] == with_sightings["significance"]


def test_every_dark_call_comes_from_an_attributed_detection_and_noise_stays_noise(runs):
    with Case.open(runs["case_dir"]) as case:
        counts = case.rows(
            "SELECT (SELECT count(*) FROM detections) AS detections, "
            "(SELECT count(*) FROM detection_matches) AS lit, "
            "(SELECT count(*) FROM port_calls WHERE source = 'detection') AS calls, "
            "(SELECT count(*) FROM port_calls WHERE source = 'sighting') AS sighting_calls, "
            "(SELECT count(*) FROM dark_detections WHERE length_m < 26 AND detection_id IN "
            "   (SELECT detection_id FROM detection_calls)) AS noise_calls"
        )[0]
    # every Rajin call (of shuttles and of the stale decoy) and every Dunai call without AIS:
    # each dark sighting's detection is attributed and makes its call; the sightings of lit
    # calls stay sightings (and make calls with AIS: `both`); noise makes none
    dark = runs["dark_sightings"]
    assert dark == 31
    assert counts == {
        "detections": dark + LIT_DETECTIONS + NOISE_DETECTIONS,
        "lit": LIT_DETECTIONS,
        "calls": dark,
        "sighting_calls": 0,
        "noise_calls": 0,
    }
