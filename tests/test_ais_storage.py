"""The storage path of AIS position files (issue 16): typed in Arrow, staged per file, cleaned
there and appended once. Hand-built inputs with exact answers."""

from __future__ import annotations

from pathlib import Path

from cargotrace import workflow
from cargotrace.case.store import Case

from builders import write_csv

HEADER = ["mmsi", "timestamp", "lat", "lon", "sog", "note"]


def _rows(case: Path, sql: str) -> list[tuple]:
    with Case.open(case) as c:
        return c.con.execute(sql).fetchall()


def test_exact_copies_of_kept_and_refused_rows_are_duplicates(tmp_path):
    good = [273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, "x"]
    bad = [273000001, "not a time", 42.5, 133.0, 5.0, "y"]
    path = write_csv(tmp_path / "a.csv", HEADER, [good, bad, good, bad, bad])
    [r] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert (r.rows_read, r.rows_kept, r.rows_quarantined, r.rows_duplicate) == (5, 1, 1, 3)
    assert _rows(tmp_path / "case", "SELECT source_row, reason FROM quarantine_rows") == [
        (3, "bad_timestamp")
    ]
    assert _rows(tmp_path / "case", "SELECT source_row, source_file FROM positions") == [
        (2, "a.csv")
    ]


def test_numbers_in_other_forms_than_plain_take_the_sql_path(tmp_path):
    # a decimal comma in one row sends that column through the SQL reading of numbers;
    # the others stay on Arrow's cast: both give the same values
    rows = [[273000001, "2023-09-01T00:00:00", "42,5", 133.0, "5.5", ""],
            [273000001, "2023-09-01 00:01:00", "42.25", "133", "1e1", ""],
            [273000001, "1693526520", "42", "133.5", "", ""]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "b.csv", HEADER, rows)])
    assert (r.rows_kept, r.rows_quarantined) == (3, 0)
    got = _rows(
        tmp_path / "case",
        "SELECT epoch(timestamp)::BIGINT, lat, lon, sog FROM positions ORDER BY source_row",
    )
    assert got == [(1693526400, 42.5, 133.0, 5.5), (1693526460, 42.25, 133.0, 10.0),
                   (1693526520, 42.0, 133.5, None)]  # fmt: skip


def test_a_failed_file_leaves_no_stage_and_no_rows(tmp_path, monkeypatch):
    from cargotrace.ingest.kinds import ais_clean

    path = write_csv(
        tmp_path / "c.csv", HEADER, [[273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, ""]]
    )

    def broken(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(ais_clean, "_move_stage", broken)
    try:
        workflow.ingest(tmp_path / "case", "ais", [path])
    except RuntimeError:
        pass
    monkeypatch.undo()
    assert _rows(tmp_path / "case", "SELECT count(*) FROM positions") == [(0,)]
    assert _rows(tmp_path / "case", "SELECT count(*) FROM ledger WHERE kind = 'ais'") == [(0,)]
    [r] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert r.rows_kept == 1 and not r.already_ingested


def test_values_arrow_reads_but_the_sql_does_not_are_refused_alike(tmp_path):
    # nan and a three-digit exponent are not numbers (sqlexpr.number); an MMSI in exponent
    # form is (the SQL reads it through a DOUBLE)
    rows = [["2.73e8", "2023-09-01T00:00:00", "42.5", "133", "", ""],
            [273000001, "2023-09-01T00:01:00", "nan", "133", "", ""],
            [273000001, "2023-09-01T00:02:00", "1e-100", "133", "", ""]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "d.csv", HEADER, rows)])
    assert (r.rows_kept, r.rows_quarantined) == (1, 2)
    assert _rows(tmp_path / "case", "SELECT mmsi FROM positions") == [(273000000,)]
    assert _rows(
        tmp_path / "case", "SELECT source_row, reason FROM quarantine_rows ORDER BY 1"
    ) == [
        (3, "bad_latitude"),
        (4, "bad_latitude"),
    ]
