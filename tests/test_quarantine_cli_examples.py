"""`cargotrace quarantine` piped or logged (rich gives it 80 columns): the examples column
used to be cut with an ellipsis, so the NOAA day's refused MMSIs showed
`AISdata_marinecadastre_2…` five times and never a row number. Folded, every example reads
whole."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cargotrace.cli.app import app

from conftest import shared_data


def _examples_of(output: str, reason: str) -> str:
    """The examples cell of one reason's row, its folded lines joined again."""
    lines, inside = [], False
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) != 5:
            inside = False
            continue
        if cells[1]:
            inside = cells[1] == reason
        if inside:
            lines.append(cells[4])
    return "".join(lines)


def test_quarantine_examples_are_folded_not_cut(tmp_path: Path) -> None:
    noaa = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    runner = CliRunner()
    case = str(tmp_path / "case")
    assert runner.invoke(app, ["ingest", "ais", str(noaa), "--case", case]).exit_code == 0
    result = runner.invoke(app, ["quarantine", "--case", case], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.stdout
    name = "AISdata_marinecadastre_20220103.csv.gz"
    assert _examples_of(result.stdout, "bad_mmsi") == ",".join(
        f"{name}:{row}" for row in (7790, 17998, 45521, 62626, 79417)
    )


def test_examples_name_every_file_of_a_reason_first(tmp_path: Path) -> None:
    """A reason shared by several files took its five examples from the first file by name:
    on the shared logs, 25,048 rows without a time from the AMSA log were shown as five rows
    of a gpsd log. Each file's first refused row now comes before any file's second."""
    import cargotrace

    logs = [
        shared_data("ais", "gpsd", name) for name in ("ais-nmea-type6-fid55.log", "sample.aivdm")
    ]
    case = cargotrace.open_case(tmp_path / "case")
    case.ingest("ais", logs)
    summary = {(q["reason"], q["rows"]): q["examples"] for q in case.quarantine()}
    assert summary == {
        ("no_timestamp", 824): [
            "ais-nmea-type6-fid55.log:1",
            "sample.aivdm:10",
            "ais-nmea-type6-fid55.log:2",
            "sample.aivdm:32",
            "ais-nmea-type6-fid55.log:3",
        ],
        ("no_position", 1): ["ais-nmea-type6-fid55.log:439"],
    }
