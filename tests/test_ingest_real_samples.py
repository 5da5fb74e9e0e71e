"""Parsers on the real third-party samples in ../shared/data (never copied into this tree)."""

from __future__ import annotations

from cargotrace import workflow
from cargotrace.case.store import Case

from conftest import shared_data


def test_noaa_marinecadastre_gzip(tmp_path):
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    [result] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert result.rows_read == 99_999
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    assert result.rows_kept > 99_000
    with Case.open(tmp_path / "case") as case:
        eagle = case.rows("SELECT imo, name, callsign FROM vessels WHERE mmsi = 367379190")
        span = case.rows("SELECT min(timestamp) AS a, max(timestamp) AS b FROM positions")[0]
    assert eagle == [{"imo": "8207721", "name": "EAGLE", "callsign": "WTD4583"}]
    assert (
        span["a"].isoformat().startswith("2022-01-03T00:00")
        and span["b"].date().isoformat() == "2022-01-03"
    )


def test_aisdb_noaa_layout_with_float_fields(tmp_path):
    path = shared_data("ais", "aisdb", "test_data_noaa_20230101.csv")
    [result] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    with Case.open(tmp_path / "case") as case:
        row = case.rows(
            "SELECT heading, nav_status FROM positions WHERE mmsi = 636021061 ORDER BY timestamp LIMIT 1"
        )[0]
    assert row == {"heading": 270, "nav_status": 8}


def test_evergiven_track_with_a_mapping(tmp_path):
    path = shared_data("ais", "movingpandas", "boat-positions_evergiven.csv")
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\nmmsi = "ID"\ntimestamp = "ais_pos_timestamp"\n', encoding="utf-8"
    )
    [result] = workflow.ingest(tmp_path / "case", "ais", [path], mapping)
    assert result.rows_kept == result.rows_read - result.rows_duplicate - result.rows_quarantined
    with Case.open(tmp_path / "case") as case:
        first = case.rows(
            "SELECT timestamp, lat, lon FROM positions WHERE mmsi = 1 ORDER BY timestamp LIMIT 1"
        )[0]
    assert first["timestamp"].isoformat() == "2021-03-20T00:22:00+00:00"
    assert (first["lat"], first["lon"]) == (31.4386, 32.32925)


def test_real_station_list_ingests_and_matches_names(tmp_path):
    path = shared_data("rail", "RU_stations_new.tsv")
    [result] = workflow.ingest(tmp_path / "case", "stations", [path])
    assert result.rows_read == 17_684
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    with Case.open(tmp_path / "case") as case:
        from cargotrace.reference.names import normalize_station_name

        tikh = case.rows(
            "SELECT esr, lat FROM stations WHERE name_norm = ?",
            [normalize_station_name("Tikhoretskaya")],
        )
    assert tikh and all(len(r["esr"]) == 6 for r in tikh)


def test_nmea_archives_ingest_with_every_message_accounted_for(tmp_path):
    from cargotrace.ingest.nmea.decoder import decode_nmea_file

    from builders import unusable_positions

    for parts in (
        ("ais", "aisdb", "test_data_20211101.nm4"),
        ("ais", "amsa", "ais.txt.gz"),
        ("ais", "gpsd", "sample.aivdm"),
    ):
        path = shared_data(*parts)
        [result] = workflow.ingest(tmp_path / "case", "ais", [path])
        batches = list(decode_nmea_file(path))
        decoded = sum(b.stats.decoded for b in batches)
        refused = sum(unusable_positions(b.positions) for b in batches)  # no time or place
        assert (
            result.rows_kept + result.rows_duplicate == decoded - refused > 0
        )  # repeats are duplicates
        assert (
            result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
        )
    with Case.open(tmp_path / "case") as case:
        assert case.scalar("SELECT count(*) FROM quarantine_rows WHERE reason = 'bad_checksum'") > 0
        assert case.scalar("SELECT count(*) FROM vessels WHERE name IS NOT NULL") > 10
