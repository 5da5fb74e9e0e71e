"""The report's timelines draw a port call, not a grey dark-period band over it: a gap that
lies within one of the vessel's calls (an in-port gap) is the call's, said in its tooltip."""

from __future__ import annotations

from datetime import timedelta

from cargotrace.report.data import build_report_data

from builders import RAJIN, T0, VOSTOCHNY, CaseBuilder, dwell

X = 273000031
AT = T0 + timedelta(days=3)  # arrival at Vostochny


def _at_berth(start_h: float, end_h: float) -> list[list[object]]:
    steps = int((end_h - start_h) * 6)
    return [[X, (AT + timedelta(hours=start_h, minutes=10 * i)).isoformat(), *VOSTOCHNY, 0.1, 0, 0, 5]
            for i in range(steps + 1)]  # fmt: skip


def test_a_gap_inside_a_port_call_is_not_drawn_as_a_dark_band(tmp_path):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(X, RAJIN, T0, 12)  # the previous call, in the origin country
    b.positions += [
        [X, (AT - timedelta(hours=1)).isoformat(), VOSTOCHNY[0] - 0.2, VOSTOCHNY[1], 10.0, 0, 0, 0]
    ]
    b.positions += _at_berth(0, 2) + _at_berth(10, 12)  # silent 8 h at the berth
    b.positions += [[X, (AT + timedelta(hours=12, minutes=30)).isoformat(), VOSTOCHNY[0] - 0.2, VOSTOCHNY[1], 10.0, 0, 0, 0]]  # fmt: skip
    with b.run() as case:
        gaps = case.rows(
            "SELECT started_at, ended_at, start_port_locode, end_port_locode FROM gaps ORDER BY started_at"
        )
        data = build_report_data(case)
    # two gaps in the case: at sea from Rajin, and at the berth in Vostochny
    assert [(g["started_at"], g["ended_at"], g["start_port_locode"], g["end_port_locode"]) for g in gaps] == [
        (T0 + timedelta(hours=12, minutes=30), AT - timedelta(hours=1), None, None),
        (AT + timedelta(hours=2), AT + timedelta(hours=10), "RUVYP", "RUVYP"),
    ]  # fmt: skip
    [lane] = data["timeline"]["vessels"]
    assert [(g["started_at"], g["ended_at"]) for g in lane["gaps"]] == [
        ((T0 + timedelta(hours=12, minutes=30)).isoformat(), (AT - timedelta(hours=1)).isoformat())
    ]
    assert [(c["port_locode"], c["port_gaps"]) for c in lane["port_calls"]] == [
        ("KPNJN", 0),
        ("RUVYP", 1),
    ]
    # the per-vessel timeline alike: one gap event, the one at sea
    [vessel_lane] = [v for v in data["vessels"]["lanes"] if v["mmsi"] == X]
    assert [e["started_at"] for e in vessel_lane["events"] if e["kind"] == "gap"] == [
        (T0 + timedelta(hours=12, minutes=30)).isoformat()
    ]
