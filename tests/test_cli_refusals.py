"""Refusals a new user met: a country code that names no country, a hard-linked case file."""

from __future__ import annotations

from typer.testing import CliRunner

from cargotrace.cli.app import app
from cargotrace.errors import InputError
from cargotrace.settings import AnalysisSettings

runner = CliRunner()


def _text(output: str) -> str:
    return " ".join(output.split())  # the console wraps at its width


def test_origin_country_that_names_no_country_is_refused(tmp_path):
    case = str(tmp_path / "case")
    assert runner.invoke(app, ["init", "--case", case]).exit_code == 0
    refused = runner.invoke(app, ["analyze", "--case", case, "--origin-country", "XX"])
    assert refused.exit_code == 2
    text = _text(refused.output)
    assert "--origin-country: 'XX' is not an ISO 3166-1 alpha-2 country code;" in text
    assert "KP North Korea" in text and "https://www.iso.org/obp/ui/#search/code/" in text
    assert "Traceback" not in text
    # a country's name gets the code it meant; the border country is checked alike
    named = runner.invoke(app, ["analyze", "--case", case, "--origin-country", "north korea"])
    assert named.exit_code == 2
    assert "(did you mean KP, Korea, Democratic People's Republic of?)" in _text(named.output)
    border = runner.invoke(app, ["analyze", "--case", case, "--border-country", "QQ"])
    assert border.exit_code == 2
    assert "--border-country: 'QQ' is not an ISO 3166-1 alpha-2 country code" in _text(
        border.output
    )
    assert runner.invoke(app, ["analyze", "--case", case, "--origin-country", "ir"]).exit_code == 0


def test_settings_accept_every_iso_code_and_kosovo():
    assert AnalysisSettings(origin_country="CN", border_country="XK").border_country == "XK"
    for bad in ("XX", "ZZ", "kp", "K", "KPX"):
        try:
            AnalysisSettings(origin_country=bad)
        except InputError as exc:
            assert f"--origin-country: {bad!r} is not an ISO 3166-1 alpha-2" in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")


def test_a_hard_linked_case_file_is_refused_and_the_other_name_untouched(tmp_path):
    import os

    from cargotrace import workflow

    case = tmp_path / "received"
    workflow.init_case(case)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    os.link(victim, case / "case.duckdb.wal")
    for command in (["check"], ["quarantine"], ["analyze"], ["explain", "W1"]):
        refused = runner.invoke(app, [*command, "--case", str(case)])
        assert refused.exit_code == 2, command
        text = _text(refused.output)
        assert f"case {case} holds a hard link, case.duckdb.wal" in text, text
        assert "2 names in all" in text and "Replace it by a real copy" in text
    assert victim.read_text() == "not yours"
    os.unlink(case / "case.duckdb.wal")  # the link gone, the case opens again
    assert runner.invoke(app, ["check", "--case", str(case)]).exit_code == 0


def test_a_bad_file_in_a_list_names_the_files_not_read(tmp_path):
    """`ingest ais a.csv b.gpkg c.nm4 d.nmea` stopped at the GeoPackage with its error alone:
    nothing said that c and d were never read."""
    from conftest import shared_data

    files = [
        shared_data("ais", "aisdb", "test_data_noaa_20230101.csv"),
        shared_data("ais", "movingpandas", "ais_qgis_sample.gpkg"),
        shared_data("ais", "aisdb", "test_data_20211101.nm4"),
        shared_data("ais", "aisdb", "test_data_201201.nmea"),
    ]
    case = str(tmp_path / "case")
    result = runner.invoke(app, ["ingest", "ais", *map(str, files), "--case", case])
    assert result.exit_code == 2
    text = _text(result.output)
    assert (
        "note: stopped at ais_qgis_sample.gpkg (error below): 2 files after it not read: "
        "test_data_20211101.nm4, test_data_201201.nmea; 1 file before it is in the case; "
        "ingest them once the error is fixed"
    ) in text
    assert "ais_qgis_sample.gpkg: looks like a binary file, not CSV text" in text
    ledger = runner.invoke(
        app, ["export", "--case", case, "--table", "ledger", "--out", str(tmp_path / "l.csv")]
    )
    assert ledger.exit_code == 0 and "(1 rows of ledger)" in _text(ledger.output)
