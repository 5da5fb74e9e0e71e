"""A silence that reaches across time no AIS file of the case covers is no data, not a gap
(maritime/coverage.py): a 2012 log and a 2022 log in one case make no ten-year dark period."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.schema import create_statements
from cargotrace.settings import AnalysisSettings
from test_maritime_support import PORT, T0, rows

H = timedelta(hours=1)
D = timedelta(days=1)


def _case(files: dict[str, list[tuple[int, object]]]) -> duckdb.DuckDBPyConnection:
    """Positions of several files (name -> (mmsi, time) fixes, all at one offshore spot)."""
    con = duckdb.connect()
    for statement in create_statements():
        con.execute(statement)
    for name, fixes in files.items():
        con.executemany(
            "INSERT INTO positions (mmsi, timestamp, lat, lon, sog, file_hash, source_file) "
            "VALUES (?, ?, ?, ?, 10.0, ?, ?)",
            [(mmsi, at, *PORT, "hash-" + name, name) for mmsi, at in fixes],
        )
    run_stages(con, AnalysisSettings(), ("gaps",))
    return con


def test_silences_across_uncovered_time_are_no_data_not_gaps():
    con = _case(
        {
            # 1: T0 .. T0+12h; vessel 2 is silent 10 h inside it: a gap
            "a.csv": [(1, T0), (1, T0 + H / 3), (2, T0), (2, T0 + 10 * H), (2, T0 + 12 * H)],
            # 3 h after a.csv ends (< gap_hours): the same covered stretch
            "b.csv": [(1, T0 + 15 * H), (1, T0 + 16 * H)],
            # five days later, only vessel 3
            "d.csv": [(3, T0 + 5 * D), (3, T0 + 5 * D + H)],
            "c.csv": [(1, T0 + 10 * D), (1, T0 + 10 * D + H)],
        }
    )
    coverage = rows(con, "SELECT * FROM ais_coverage ORDER BY stretch")
    assert [(c["stretch"], c["covered_from"], c["covered_to"], c["files"], c["file_names"]) for c in coverage] == [
        (1, T0, T0 + 16 * H, 2, "a.csv; b.csv"),
        (2, T0 + 5 * D, T0 + 5 * D + H, 1, "d.csv"),
        (3, T0 + 10 * D, T0 + 10 * D + H, 1, "c.csv"),
    ]  # fmt: skip
    gaps = rows(con, "SELECT mmsi, started_at, ended_at, hours FROM gaps ORDER BY mmsi")
    assert gaps == [
        {"mmsi": 1, "started_at": T0 + H / 3, "ended_at": T0 + 15 * H, "hours": 14.667},
        {"mmsi": 2, "started_at": T0, "ended_at": T0 + 10 * H, "hours": 10.0},
    ]
    [silence] = rows(con, "SELECT * FROM coverage_gaps")
    assert (silence["mmsi"], silence["started_at"], silence["ended_at"], silence["hours"]) == (
        1, T0 + 16 * H, T0 + 10 * D, 224.0,
    )  # fmt: skip
    assert (silence["uncovered_from"], silence["uncovered_to"]) == (T0 + 16 * H, T0 + 5 * D)
    assert silence["covered_stretches_between"] == 1
    assert silence["note"].endswith("no data, not a dark period")
    # no dark call is offered for it, and nothing else counts it as a gap
    assert rows(con, "SELECT count(*) AS n FROM dark_calls") == [{"n": 0}]


def test_one_file_with_a_long_silence_keeps_it_a_gap():
    con = _case({"one.csv": [(1, T0), (1, T0 + 40 * D), (2, T0 + 20 * D)]})
    assert rows(con, "SELECT count(*) AS n FROM coverage_gaps") == [{"n": 0}]
    [gap] = rows(con, "SELECT hours, beyond_dark_call_bound FROM gaps")
    assert gap == {"hours": 960.0, "beyond_dark_call_bound": True}
