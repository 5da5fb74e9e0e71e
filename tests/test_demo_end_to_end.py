"""The demo: the whole pipeline on the synthetic sample case, checked against the
generator's planted truth (computed by the generator from its own plan, not by analysis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.demo import run_demo
from cargotrace.report.schema import validate_findings


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_findings_equal_planted_truth(demo):
    findings, truth = demo.findings, demo.truth
    assert findings["synthetic"] is True
    assert findings["totals"]["sites"] == truth["sites"] == 16
    assert findings["totals"]["sites_near_facility"] == truth["sites_near_facility"] == 12
    assert findings["totals"]["linked_tonnes"] == pytest.approx(truth["linked_tonnes"], rel=0.01)
    assert len(findings["linked_shipments"]) == truth["linked_shipments"]
    assert len(findings["arrivals"]) == len(truth["arrivals_of_interest"])
    assert len(findings["label_changes"]) == truth["label_changes"]
    assert findings["quarantine"]["rows"] >= truth["quarantined_rows"]
    assert sorted(s["name"] for s in findings["sites"]) == sorted(truth["site_names"])


def test_arrivals_and_their_evidence_match_truth(demo):
    got = sorted(
        (a["port_locode"], a["arrived_at"][:10], tuple(sorted(a["evidence"])))
        for a in demo.findings["arrivals"]
    )
    want = sorted(
        (a["port_locode"], a["arrival_date"], tuple(sorted(a["evidence"])))
        for a in demo.truth["arrivals_of_interest"]
    )
    assert got == want
    assert all(a["previous_port_locode"] == "KPNJN" for a in demo.findings["arrivals"])


def test_munitions_and_significance(demo):
    mun = demo.findings["totals"]["munitions_equivalent"]
    assert mun["low"] < mun["central"] < mun["high"]
    assert mun["central"] == pytest.approx(1_600_000, rel=0.01)
    sig = demo.findings["significance"]
    assert sig["observed_within_window"] > sig["expected_within_window"]
    assert sig["p_value"] < 0.01


def test_outputs_exist_and_findings_file_is_valid(demo):
    data = json.loads(Path(demo.findings_path).read_text(encoding="utf-8"))
    validate_findings(data)
    assert data["parameters"] == demo.findings["parameters"] | {}
    assert demo.report_path.stat().st_size < 5_000_000
    assert "SYNTHETIC SAMPLE DATA" in demo.report_path.read_text(encoding="utf-8")
    assert all(link["evidence_chain"] for link in data["linked_shipments"])


def test_every_ledger_file_adds_up_and_check_passes(demo):
    assert workflow.check_case(demo.case_dir) == []
    for result in demo.ingested:
        result.check_invariant()


def test_explain_walks_the_chain(demo):
    waybill = demo.findings["linked_shipments"][0]["waybill"]
    [result] = workflow.explain(demo.case_dir, waybill)
    chain = result["links"][0]["evidence_chain"]
    assert chain[0].startswith(f"Shipment {waybill}")
    assert any("Previous call: KPNJN" in step for step in chain)
    assert any("Destination site" in step for step in chain)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "geojson", "json"])
def test_table_exports(demo, tmp_path, fmt):
    out = tmp_path / f"sites.{fmt}"
    count = workflow.export(demo.case_dir, fmt, out, "sites")
    assert count == 16 and out.stat().st_size > 0


def test_sensitivity_grid_agrees_with_the_main_run_and_is_monotone(demo):
    grid = demo.findings["sensitivity"]
    params = demo.findings["parameters"]
    cell = [
        r
        for r in grid
        if (r["window_days"], r["near_km"], r["lookback_days"])
        == (params["window_days"], params["near_km"], params["lookback_days"])
    ]
    assert len(cell) == 1
    assert cell[0]["linked_tonnes"] == pytest.approx(
        demo.findings["totals"]["linked_tonnes"], abs=0.1
    )
    assert cell[0]["sites_near_facility"] == demo.findings["totals"]["sites_near_facility"]
    assert cell[0]["p_value"] == demo.findings["significance"]["p_value"]
    by = {(r["window_days"], r["near_km"], r["lookback_days"]): r for r in grid}
    windows = sorted({k[0] for k in by})
    nears = sorted({k[1] for k in by})
    lookbacks = sorted({k[2] for k in by})
    for n in nears:
        for lb in lookbacks:
            linked = [by[(w, n, lb)]["linked_shipments"] for w in windows]
            assert linked == sorted(linked), "widening the window removed a link"
    for w in windows:
        for lb in lookbacks:
            near = [by[(w, n, lb)]["sites_near_facility"] for n in nears]
            assert near == sorted(near), "raising the near distance removed a near site"
        for n in nears:
            linked = [by[(w, n, lb)]["linked_shipments"] for lb in lookbacks]
            assert linked == sorted(linked), "a longer lookback removed a link"
    assert {d["parameter"] for d in demo.findings["sensitivity_summary"]} == {
        "window_days",
        "near_km",
        "lookback_days",
    }


def test_the_ship_that_changed_identity_keeps_its_arrival_and_is_shown(demo):
    [change] = demo.truth["identity_changes"]
    truth = next(
        a for a in demo.truth["arrivals_of_interest"] if a["arrival_id"] == change["arrival_id"]
    )
    [crossing] = [a for a in demo.findings["arrivals"] if a["identity_changed"]]
    assert (crossing["mmsi"], crossing["vessel_name"], crossing["arrived_at"][:10]) == (
        change["to"]["mmsi"], change["to"]["name"], truth["arrival_date"])  # fmt: skip
    assert (crossing["previous_mmsi"], crossing["previous_port_locode"]) == (
        change["from"]["mmsi"],
        "KPNJN",
    )
    assert [(i["mmsi"], i["name"], i["flag"]) for i in crossing["identity_timeline"]] == [
        (change[k]["mmsi"], change[k]["name"], change[k]["flag"]) for k in ("from", "to")
    ]
    [ship] = demo.findings["ship_identities"]
    assert ship["imo"] == change["imo"] and len(ship["changes"]) == 1
    html = demo.report_path.read_text(encoding="utf-8")
    assert "Ships that changed identity" in html and change["to"]["name"] in html
    assert f"identity changed since the previous call: was {change['from']['name']}" in html


def test_the_listed_imo_is_screened_under_both_identities(demo):
    [change] = demo.truth["identity_changes"]
    [crossing] = [a for a in demo.findings["arrivals"] if a["identity_changed"]]
    hits = [
        h
        for h in demo.findings["watchlist_hits"]
        if h["subject_type"] == "vessel" and h["imo"] == change["imo"]
    ]
    assert len(hits) == 1  # one ship, not one subject per transmitter
    assert hits[0]["mmsi"].split(",") == sorted([change["from"]["mmsi"], change["to"]["mmsi"]])
    assert crossing[
        "watchlist"
    ]  # the listed name was the old one; the arrival is under the new one
