"""`ingest facilities` of a country borders file (Natural Earth's countries) is refused with
`ingest borders` suggested: it was stored as 177 facilities at the countries' representative
points, and the case got no borders. A facilities file without a category column is kept
with a note: its facilities are 'unknown', which no site counts as "near a facility"."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cargotrace.cli.app import app

from builders import write_csv
from conftest import shared_data

runner = CliRunner()


def _ingest(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ingest", *args])
    return result.exit_code, " ".join(result.output.split())


def test_natural_earth_countries_as_facilities_are_refused(tmp_path: Path) -> None:
    countries = shared_data("borders", "ne_110m_admin_0_countries.json")
    case = str(tmp_path / "case")
    code, text = _ingest("facilities", str(countries), "--case", case)
    assert code == 2
    assert text.endswith(
        "error: ne_110m_admin_0_countries.json: 177 polygons with country codes: this looks "
        "like a country borders file, not facilities. Ingest it as borders (`cargotrace ingest "
        "borders ne_110m_admin_0_countries.json`); if these really are facilities, say which "
        'column holds their category (or name) with --mapping MAP.toml (columns.category = "<your '
        'header>")'
    )
    code, text = _ingest(
        "borders", str(countries), "--case", case
    )  # as suggested: not "already in"
    assert code == 0 and "177 rows read = 177 kept" in text


def test_a_mapping_naming_the_category_takes_the_polygons_as_facilities(tmp_path: Path) -> None:
    countries = shared_data("borders", "ne_110m_admin_0_countries.json")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\ncategory = "TYPE"\n', encoding="utf-8")
    args = ["facilities", str(countries), "--case", str(tmp_path / "case")]
    code, text = _ingest(*args, "--mapping", str(mapping))
    assert code == 0 and "177 rows read = 177 kept" in text
    assert "no category column" not in text


def test_facilities_without_a_category_column_are_kept_with_a_note(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "depots.csv", ["name", "lat", "lon"], [["Depot", 45.1, 40.0]])
    code, text = _ingest("facilities", str(path), "--case", str(tmp_path / "case"))
    assert code == 0 and "1 rows read = 1 kept" in text
    assert (
        "no category column: the 1 facility kept is of category 'unknown', and only facilities "
        "of the categories of interest (ammunition_depot, arsenal by default) make a site "
        '"near a facility"; name the column with --mapping MAP.toml (columns.category = '
        '"<your header>") and ingest the file again with --replace'
    ) in text
