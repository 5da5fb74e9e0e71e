"""The SYNTHETIC banner travels with the data: each input of the generated sample, ingested by
hand into a fresh case (not through `cargotrace demo`), marks the case synthetic, and so the
findings and the report; real data does not."""

from __future__ import annotations

import json

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.report.data import build_report_data
from cargotrace.report.html import BANNER_TEXT, render_report
from cargotrace.sample.generate import generate_sample_case
from cargotrace.sample.markers import synthetic_tables
from cargotrace.settings import AnalysisSettings

from conftest import shared_data

MARKED = {"ais": "positions", "vessels": "vessel_reports", "sightings": "sightings",
          "shipments": "shipments", "watchlist": "watchlist"}  # fmt: skip


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    return generate_sample_case(tmp_path_factory.mktemp("sample"))


@pytest.mark.parametrize("kind", sorted(MARKED))
def test_each_generated_input_alone_marks_the_case(sample, tmp_path, kind):
    case_dir = tmp_path / kind
    workflow.ingest(case_dir, kind, list(sample.inputs[kind]))
    with Case.open(case_dir) as case:
        assert MARKED[kind] in synthetic_tables(case)


def test_hand_ingested_sample_reports_with_the_banner(sample, tmp_path):
    case_dir = tmp_path / "by-hand"
    workflow.ingest(case_dir, "ais", list(sample.inputs["ais"]))
    findings = workflow.analyze(case_dir, AnalysisSettings())
    assert findings["synthetic"] is True
    with Case.open(case_dir) as case:
        html = render_report(build_report_data(case))
    assert BANNER_TEXT in html and 'id="synthetic-banner"' in html


def test_real_data_is_not_marked(tmp_path):
    case_dir = tmp_path / "real"
    workflow.ingest(case_dir, "ais", [shared_data("ais", "gpsd", "sample.aivdm")])
    findings = workflow.analyze(case_dir, AnalysisSettings())
    assert findings["synthetic"] is False
    assert json.loads(json.dumps(findings))["synthetic"] is False
