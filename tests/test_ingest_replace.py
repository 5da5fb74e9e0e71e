"""`ingest --replace`: a file read with a wrong mapping is read again with the right one,
and only the new rows remain; without --replace the message says how."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app

from builders import write_csv

runner = CliRunner()
SHIP = 273123456


def _file(tmp_path):
    """A provider CSV whose `time` column holds US-style dates, read day-first by default."""
    return write_csv(tmp_path / "p.csv", ["mmsi", "time", "lat", "lon"], [
        [SHIP, "09/13/2023 10:00", 43.1, 131.9], [SHIP, "09/14/2023 10:00", 43.2, 131.9]])  # fmt: skip


def test_a_file_read_with_a_wrong_mapping_is_replaced_with_the_corrected_one(tmp_path):
    case, path = tmp_path / "case", _file(tmp_path)
    [first] = workflow.ingest(case, "ais", [path])
    assert (first.rows_kept, first.rows_quarantined) == (0, 2)  # month 13: unreadable
    mapping = tmp_path / "map.toml"
    mapping.write_text('date_format = "%m/%d/%Y %H:%M"\n')
    [again] = workflow.ingest(case, "ais", [path], mapping)
    assert again.already_ingested
    [replaced] = workflow.ingest(case, "ais", [path], mapping, replace=True)
    assert (replaced.rows_kept, replaced.rows_quarantined) == (2, 0)
    assert replaced.detail["replaced"] == {"ingested_as": "ais", "ledger": 1, "quarantine": 2}
    with Case.open(case) as c:
        assert c.scalar("SELECT count(*) FROM quarantine_rows") == 0
        assert c.scalar("SELECT count(*) FROM ledger") == 1
        assert c.rows("SELECT timestamp FROM positions ORDER BY timestamp") == [
            {"timestamp": datetime(2023, 9, 13, 10, tzinfo=UTC)},
            {"timestamp": datetime(2023, 9, 14, 10, tzinfo=UTC)},
        ]
    assert workflow.check_case(case) == []
    # replacing again gives the same case, not a doubled one
    [twice] = workflow.ingest(case, "ais", [path], mapping, replace=True)
    assert twice.detail["replaced"] == {"ingested_as": "ais", "ledger": 1, "positions": 2}
    with Case.open(case) as c:
        assert c.scalar("SELECT count(*) FROM positions") == 2


def test_the_message_for_a_known_file_names_the_way_to_redo_it(tmp_path):
    case, path = str(tmp_path / "case"), str(_file(tmp_path))
    first = runner.invoke(app, ["ingest", "ais", path, "--case", case])
    assert first.exit_code == 2 and "NOTHING KEPT" in first.stdout  # every row refused (issue 16)
    again = runner.invoke(app, ["ingest", "ais", path, "--case", case])
    assert (
        again.exit_code == 0 and "nothing changed" in again.stdout and "--replace" in again.stdout
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text('date_format = "%m/%d/%Y %H:%M"\n')
    redo = runner.invoke(
        app, ["ingest", "ais", path, "--case", case, "--mapping", str(mapping), "--replace"]
    )
    assert redo.exit_code == 0
    assert "replaced its earlier 2 rows" in redo.stdout and "2 kept + 0 quarantined" in redo.stdout
