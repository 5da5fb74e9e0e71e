"""The vessel part of the report data on a hand-built case: what the cards count, the lanes of
the per-vessel timeline, and which sections the report shows (no shipments: no rail)."""

from __future__ import annotations

from datetime import timedelta

from cargotrace.report.data import build_report_data
from cargotrace.report.html import render_report

from builders import T0, VOSTOCHNY, CaseBuilder, dwell

SHIP = 273000001
OPEN_SEA = (41.0, 136.0)


def test_vessel_only_case_reports_calls_gaps_and_loitering(tmp_path):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(SHIP, VOSTOCHNY, T0, 5)
    start = T0 + timedelta(days=1)
    b.positions += [
        [SHIP, (start + timedelta(minutes=10 * i)).isoformat(), *OPEN_SEA, 1.0, 0, 0, 0]
        for i in range(31)
    ]
    with b.run() as case:
        data = build_report_data(case)
    vessels = data["vessels"]
    assert vessels["holds"]["shipments"] == 0 and vessels["holds"]["positions"] == len(b.positions)
    counts = vessels["counts"]
    assert (counts["port_calls"], counts["gaps"], counts["loitering"]) == (1, 1, 1)
    assert vessels["shore_known"] is False  # no borders: loitering without the shore rule
    [lane] = vessels["lanes"]
    assert [e["kind"] for e in lane["events"]] == ["call", "gap", "loitering"]
    [port] = vessels["ports"]
    assert (port["locode"], port["calls"]) == ("RUVYP", 1)
    html = render_report(data)
    assert 'id="vessels-section"' in html and 'id="vessel-map"' in html
    assert 'id="sites"' not in html and 'id="sensitivity"' not in html
    assert "no land in the case, shore not checked" in html
    # no consignments to count once: the data-quality section does not say it counted them
    assert "every consignment is counted once" not in html
    assert "No rail shipments in this case: there are no tonnage totals" in html
