"""The lines under an ingest's counts that say what happened to the rows that are not plain
kept rows: quarantined by reason, stations kept apart from vessels, suspicious MMSIs."""

from __future__ import annotations

from cargotrace.ingest.types import IngestResult

_STATION_WORDS = {
    "base_station": "base station",
    "aid_to_navigation": "aid to navigation",
    "sar_aircraft": "SAR aircraft",
    "sart": "AIS-SART",
    "man_overboard": "man-overboard device",
    "epirb": "EPIRB",
    "autonomous_device": "autonomous device",
}


def ingest_notes(result: IngestResult) -> list[str]:
    """Plain-text notes for one ingested file (empty when there is nothing to add)."""
    detail, notes = result.detail, []
    refused = detail.get("quarantined_by_reason") or {}
    if refused:
        parts = ", ".join(f"{n:,} {reason}" for reason, n in refused.items())
        notes.append(f"quarantined: {parts} (see `cargotrace quarantine`)")
    stations = detail.get("not_vessels") or {}
    if stations:
        parts = ", ".join(f"{n:,} {_STATION_WORDS.get(k, k)}" for k, n in stations.items())
        notes.append(f"kept apart from vessel tracks (table ais_stations): {parts} rows")
    invalid = (detail.get("cleaning") or {}).get("positions_mmsi_invalid", 0)
    if invalid:
        share = invalid / max(result.rows_kept, 1)
        hint = " - is the mmsi column right?" if share > 0.5 else ""
        notes.append(
            f"{invalid:,} kept positions have an MMSI that cannot be a ship's (flag mmsi_invalid){hint}"
        )
    return notes
