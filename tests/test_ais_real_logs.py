"""The real AIS samples in ../shared/data/ais through the whole cleaning path."""

from __future__ import annotations

import json

from cargotrace import workflow
from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.store import Case
from cargotrace.ingest.nmea.decoder import DecodeStats, decode_nmea_file
from cargotrace.settings import AnalysisSettings

from builders import unusable_positions
from conftest import shared_data

LOGS = (("aisdb", "test_data_20211101.nm4"), ("amsa", "ais.txt.gz"), ("gpsd", "sample.aivdm"))


def test_real_logs_and_a_provider_csv_keep_every_message_accounted_for(tmp_path):
    paths = [shared_data("ais", *parts) for parts in LOGS]
    paths.append(shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz"))
    results = workflow.ingest(tmp_path / "case", "ais", paths)
    for path, result in zip(paths[:3], results, strict=False):
        batches = list(decode_nmea_file(path))
        totals = sum((b.stats for b in batches), start=DecodeStats())
        refused = sum(unusable_positions(b.positions) for b in batches)  # ais_rules, counted apart
        assert (
            result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
        )
        assert result.rows_kept + result.rows_duplicate == totals.decoded - refused
        assert result.rows_quarantined == totals.rejected + refused
        assert result.detail["decoder"]["decoded"] == totals.decoded
        assert sum(result.detail["rejected_by_reason"].values()) == totals.rejected
    noaa = results[3]
    assert noaa.rows_read == 99_999 == noaa.rows_kept + noaa.rows_quarantined + noaa.rows_duplicate
    assert workflow.check_case(tmp_path / "case") == []
    with Case.open(tmp_path / "case") as case:
        ledger = case.rows(
            "SELECT file_name, rows_duplicate, detail FROM ledger ORDER BY file_name"
        )
        identities = case.scalar("SELECT count(*) FROM vessel_identities")
        per_source = case.rows(
            "SELECT source_file, count(*) AS n FROM vessel_reports GROUP BY source_file ORDER BY source_file"
        )
        eagle = case.rows(
            "SELECT imo, name, callsign, flag, flag_source FROM vessels WHERE mmsi = 367379190"
        )
        renamed = case.scalar(
            "SELECT count(*) FROM (SELECT mmsi FROM vessel_identities GROUP BY mmsi HAVING count(*) > 1)"
        )
        derived = case.scalar("SELECT count(*) FROM vessel_reports WHERE flag_source = 'mid'")
        fixes = case.scalar("SELECT count(*) FROM positions")
        at_ingest = case.scalar("SELECT count(*) FROM positions WHERE flags LIKE '%impossible%'")
    with Case.open(tmp_path / "case", write=True) as case:  # impossible steps: analyze's
        run_stages(case.con, AnalysisSettings(), ["impossible_fixes"])
        flagged = case.scalar("SELECT count(*) FROM impossible_fixes")
    assert identities > 100 and renamed > 0  # an MMSI seen under two names, call signs or types
    assert {r["source_file"] for r in per_source} == {p.name for p in paths}
    assert eagle == [
        {
            "imo": "8207721",
            "name": "EAGLE",
            "callsign": "WTD4583",
            "flag": "US",
            "flag_source": "mid",
        }
    ]
    assert derived > 1000 and fixes > 50_000 and at_ingest == 0 and 0 < flagged < fixes / 100
    by_name = {r["file_name"]: json.loads(r["detail"]) for r in ledger}
    assert by_name["ais.txt.gz"]["cleaning"]["duplicates_in_file"] > 0  # base stations heard twice


def test_an_nmea_log_in_a_zip_reads_like_the_plain_log(tmp_path):
    import zipfile

    plain = shared_data("ais", "amsa", "exact-earth-augmented-3.txt")
    zipped = tmp_path / "log.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(plain, "exact-earth-augmented-3.txt")
    [a] = workflow.ingest(tmp_path / "plain", "ais", [plain])
    [b] = workflow.ingest(tmp_path / "zipped", "ais", [zipped])
    assert (b.rows_read, b.rows_kept, b.rows_quarantined) == (
        a.rows_read,
        a.rows_kept,
        a.rows_quarantined,
    )
    assert a.rows_kept > 4000
