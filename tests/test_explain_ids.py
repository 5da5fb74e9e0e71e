"""`explain` takes every id the findings and exports show, and says what it takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.settings import AnalysisSettings

from builders import POSITION_HEADER, T0, VOSTOCHNY, dwell, write_csv
from conftest import shared_data

runner = CliRunner()
MMSI = 273000001


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain")
    fixes = dwell(MMSI, VOSTOCHNY, T0, 6) + dwell(MMSI, VOSTOCHNY, T0 + timedelta(days=2), 6)
    path = write_csv(root / "positions.csv", POSITION_HEADER, fixes)
    case = root / "case"
    assert runner.invoke(app, ["ingest", "ais", str(path), "--case", str(case)]).exit_code == 0
    assert runner.invoke(app, ["analyze", "--case", str(case)]).exit_code == 0
    return case


def _one(case_dir, sql):
    with Case.open(case_dir) as case:
        return case.rows(sql)


def test_a_vessel_by_mmsi_lists_its_calls_and_gaps(case_dir):
    calls = _one(case_dir, "SELECT port_call_id FROM port_calls ORDER BY arrived_at")
    [gap] = _one(case_dir, "SELECT gap_id FROM gaps")
    [vessel] = workflow.explain(case_dir, str(MMSI))
    assert vessel["kind"] == "vessel" and vessel["id"] == str(MMSI)
    assert [c["port_call_id"] for c in vessel["port_calls"]] == [c["port_call_id"] for c in calls]
    lines = vessel["lines"]
    assert lines[0] == (
        f"Vessel MMSI {MMSI}: unnamed, IMO unknown, flag RU, ship type ?; "
        "seen 2023-08-31 23:00 to 2023-09-03 06:30 UTC"
    )
    assert lines[1] == "port calls (2):"
    assert lines[2] == (
        f"  2023-09-01 00:00 -> 2023-09-01 06:00 at RUVYP (ais, confidence {vessel['port_calls'][0]['confidence']})"
        f" [port_call_id {calls[0]['port_call_id']}]"
    )
    assert lines[3].startswith(
        "  2023-09-03 00:00 -> 2023-09-03 06:00 at RUVYP (ais, confidence 0.9)"
    )
    assert lines[4:] == [
        "AIS gaps (1):",
        f"  2023-09-01 06:30 -> 2023-09-02 23:00, 40.5 h, possible dark calls: KPNJN [gap_id {gap['gap_id']}]",
    ]


def test_a_gap_and_a_port_call_by_their_ids(case_dir):
    [gap] = _one(case_dir, "SELECT gap_id FROM gaps")
    [explained] = workflow.explain(case_dir, gap["gap_id"])
    assert explained["kind"] == "gap" and [d["port_locode"] for d in explained["dark_calls"]] == [
        "KPNJN"
    ]
    assert explained["lines"][:5] == [
        f"AIS gap {gap['gap_id']}: MMSI {MMSI} (vessel {MMSI}, ship {MMSI}) silent 40.5 h",
        "  last fix 2023-09-01 06:30 at 42.53333, 133.05000 (offshore)",
        "  next fix 2023-09-02 23:00 at 42.53333, 133.05000 (offshore)",
        "  0.0 km apart, 0.0 kn implied; service speed 10.0 kn",
        "possible dark calls (inferred, never observed) (1):",
    ]
    assert explained["lines"][-1] == (
        "  likely intentional AIS disabling: no (distance to shore unknown (no borders in the case), "
        "39 fixes before)"
    )
    call_id = _one(case_dir, "SELECT port_call_id FROM port_calls ORDER BY arrived_at")[1][
        "port_call_id"
    ]
    [call] = workflow.explain(case_dir, call_id)
    assert call["kind"] == "port_call"
    assert call["lines"] == [
        f"Port call {call_id}: unnamed (MMSI {MMSI}, IMO ?) at RUVYP (RU)",
        "  arrived 2023-09-03 00:00, departed 2023-09-03 06:00 UTC; dwell 6.0 h, 37 fixes, 1 stops, 0 in-port gaps",
        "  source: ais (confidence 0.9)",
    ]


def test_the_command_explains_a_vessel_and_refuses_an_unknown_id_saying_what_it_takes(case_dir):
    shown = runner.invoke(app, ["explain", str(MMSI), "--case", str(case_dir)])
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1] == "port calls (2):"
    refused = runner.invoke(app, ["explain", "NO-SUCH-ID", "--case", str(case_dir)])
    assert refused.exit_code == 2
    text = " ".join(refused.output.split())
    assert (
        "'NO-SUCH-ID' is not an id of this case; explain takes a waybill; a vessel (MMSI, IMO number, name"
        in text
    )
    assert (
        "a port_call_id or arrival_id; a gap_id (of gaps or coverage_gaps); a watchlist hit_id"
        in text
    )
    helped = " ".join(
        runner.invoke(app, ["explain", "--help"], env={"COLUMNS": "300"}).output.split()
    )
    assert "a vessel (MMSI, IMO number, name" in helped and "a gap_id" in helped


def test_a_vessel_known_only_from_messages_without_a_time_says_so(tmp_path):
    # AMSA's log gives no time at all: TABAN1's identity report is all the case has of it
    case = tmp_path / "case"
    workflow.ingest(case, "ais", [shared_data("ais", "amsa", "ais.txt.gz")])
    workflow.analyze(case, AnalysisSettings())
    result = CliRunner().invoke(app, ["explain", "422814000", "--case", str(case)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Vessel MMSI 422814000: TABAN1, IMO 9420368, flag IR, ship type 70; "
        "no position with a time in this case (known from messages without one)"
    )
