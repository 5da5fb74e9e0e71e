"""`ingest ais FILE --dry-run` on a position CSV: its station reports and copies were left
out of the preview's counts (they are counted at the file's finish, which a preview never
reached), so the NOAA day's first 1,000 rows showed "999 would be kept, 0 quarantined, 0
exact duplicates". Now the preview adds up like the ingest: read = kept + quarantined +
duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

import cargotrace
from cargotrace.ingest.preview import describe

from conftest import shared_data


@pytest.mark.parametrize(
    ("parts", "counts", "stations"),
    [
        (
            ("noaa", "AISdata_marinecadastre_20220103.csv.gz"),
            (1000, 1000, 0, 0),
            {"base_station": 1},
        ),
        (
            ("aisdb", "test_data_20210701.csv"),
            (1000, 957, 43, 0),
            {"aid_to_navigation": 14, "base_station": 6, "sar_aircraft": 2},
        ),
    ],
)
def test_preview_counts_add_up_on_real_csvs(
    tmp_path: Path, parts: tuple[str, str], counts: tuple[int, ...], stations: dict[str, int]
) -> None:
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ais", shared_data("ais", *parts), dry_run=True)
    got = (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate)
    assert got == counts
    assert result.detail["not_vessels"] == stations
    line = next(x for x in describe(result) if x.startswith("  first "))
    n = sum(stations.values())
    assert line == (
        f"  first 1,000 rows: {counts[1]:,} would be kept ({n} of them station reports: table "
        f"ais_stations, not tracks), {counts[2]} quarantined, 0 exact duplicates"
    )


def test_preview_counts_copies_as_duplicates(tmp_path: Path) -> None:
    positions = tmp_path / "positions.csv"
    positions.write_text(
        "mmsi,timestamp,lat,lon\n"
        "273990001,2023-10-20T06:00:00Z,42.73,133.05\n"
        "273990001,2023-10-20T06:00:00Z,42.73,133.05\n"
        "273990001,2023-10-20T07:00:00Z,42.73,133.06\n"
    )
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ais", positions, dry_run=True)
    assert (result.rows_read, result.rows_kept, result.rows_duplicate) == (3, 2, 1)
    assert result.detail["not_vessels"] == {}
