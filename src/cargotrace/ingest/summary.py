"""The lines under an ingest's counts that say what happened to the rows that are not plain
kept rows: what an AIS file's kept rows are, quarantined rows by reason (every kind), a file
of which nothing was kept (with what to check), stations kept apart from vessels,
suspicious MMSIs; and, once per command, that impossible speeds are analyze's to find."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cargotrace.ingest.nmea.messages import DECODED_TYPES
from cargotrace.ingest.outcome import hint as refusal_hint
from cargotrace.ingest.types import IngestResult
from cargotrace.settings import AnalysisSettings

_STATION_WORDS = {
    "base_station": "base station",
    "aid_to_navigation": "aid to navigation",
    "sar_aircraft": "SAR aircraft",
    "sart": "AIS-SART",
    "man_overboard": "man-overboard device",
    "epirb": "EPIRB",
    "autonomous_device": "autonomous device",
}

# Tables a kind's kept rows may go to instead of its own (`TabularKind.split`), said in words.
_APART_WORDS = {
    "empty_scenes": " (scenes in which nothing was detected: not detections, but evidence "
    "against a vessel being where the scene looked)",
}


def ingest_notes(result: IngestResult) -> list[str]:
    """Plain-text notes for one ingested file (empty when there is nothing to add)."""
    detail, notes = result.detail, []
    kept = detail.get("kept_as") or {}
    if kept.get("identity_reports") or kept.get("stations"):
        kept_parts = [f"{kept.get('positions', 0):,} positions"]
        if kept.get("identity_reports"):
            kept_parts.append(
                f"{kept['identity_reports']:,} identity reports (static messages: name, IMO, "
                "call sign; no position - table vessel_reports)"
            )
        if kept.get("stations"):
            kinds = _station_parts(detail)
            kinds = f": {kinds}" if kinds else ""
            kept_parts.append(
                f"{kept['stations']:,} station reports (kept apart from vessel tracks, table "
                f"ais_stations{kinds})"
            )
        notes.append(f"kept: {', '.join(kept_parts)}")
    for table, rows in (detail.get("kept_apart") or {}).items():
        if rows:
            what = _APART_WORDS.get(table, "")
            notes.append(
                f"kept: {rows:,} of the {result.rows_kept:,} kept rows in table {table}{what}"
            )
    if nothing_kept(result):
        notes.append(_nothing_kept_note(result))
    elif kept and not kept.get("positions") and result.rows_quarantined:
        notes.append(_no_positions_note(result))
    refused = detail.get("quarantined_by_reason") or {}
    if refused:
        notes.append(f"quarantined: {_refused_parts(detail)} (see `cargotrace quarantine`)")
    if _station_parts(detail) and not kept.get("stations"):
        notes.append(
            f"kept apart from vessel tracks (table ais_stations): {_station_parts(detail)} rows"
        )
    if (
        result.kind == "facilities"
        and result.rows_kept
        and "category" not in detail.get("columns", {"category": ""})
    ):
        notes.append(
            f"no category column: the {result.rows_kept:,} "
            + ("facility kept is" if result.rows_kept == 1 else "facilities kept are")
            + " of category 'unknown', and only facilities of the categories of interest ("
            + ", ".join(AnalysisSettings().facility_categories)
            + ' by default) make a site "near a facility"; name the column with --mapping '
            'MAP.toml (columns.category = "<your header>") and ingest the file again with --replace'
        )
    invalid = (detail.get("cleaning") or {}).get("positions_mmsi_invalid", 0)
    if invalid:
        share = invalid / max(result.rows_kept, 1)
        hint = " - is the mmsi column right?" if share > 0.5 else ""
        notes.append(
            f"{invalid:,} kept positions have an MMSI that cannot be a ship's (flag mmsi_invalid){hint}"
        )
    return notes


def skipped_phrase(result: IngestResult, blank: str = "blank/non-data lines") -> str:
    """'; 1,003 non-AIS lines and 76 AIS messages of types not read skipped': the lines that
    hold no row, after a file's counts (empty when there are none). An NMEA log's are of two
    kinds that a reader must not take for one another: lines that are no AIS sentence, and
    valid AIS messages of types cargotrace does not read (binary, safety, ...)."""
    decoder = result.detail.get("decoder")
    if not result.rows_skipped:
        return ""
    if not isinstance(decoder, dict):
        return f"; {result.rows_skipped:,} {blank} skipped"
    parts = []
    if decoder.get("non_ais"):
        parts.append(f"{decoder['non_ais']:,} non-AIS lines")
    if decoder.get("undecoded_type"):
        read = ", ".join(str(t) for t in DECODED_TYPES)
        parts.append(
            f"{decoder['undecoded_type']:,} AIS messages of types not read (binary, safety, "
            f"aid-to-navigation, SAR aircraft, ...: only types {read} are)"
        )
    return "; " + " and ".join(parts) + " skipped"


def command_notes(results: Sequence[IngestResult]) -> list[str]:
    """Notes said once per `ingest` command, under the files' own: that impossible speeds
    are analyze's to find (the track's rule, where analyze sorts it: `ais_clean`), when some
    file gave vessel positions."""
    if any((r.detail.get("kept_as") or {}).get("positions") for r in results):
        return [
            "impossible speeds: found by `cargotrace analyze` (table impossible_fixes, which "
            "the tracks export needs), not at ingest"
        ]
    return []


def _station_parts(detail: dict[str, Any]) -> str:
    """'3,019 base station, 1 SAR aircraft': the non-vessel rows by kind of station."""
    stations = detail.get("not_vessels") or {}
    return ", ".join(f"{n:,} {_STATION_WORDS.get(k, k)}" for k, n in stations.items())


def nothing_kept(result: IngestResult) -> bool:
    """True when the file had rows, none was kept and some were refused: the file as read
    gives the case nothing (a wrong date format, column or delimiter, most likely)."""
    return (
        not result.already_ingested
        and result.rows_kept == 0
        and result.rows_quarantined > 0
        and result.rows_quarantined + result.rows_duplicate == result.rows_read
    )


def _nothing_kept_note(result: IngestResult) -> str:
    refused = result.detail.get("quarantined_by_reason") or {}
    top = next(iter(refused), None)
    every = "the" if result.rows_duplicate else "all"
    reasons = ", ".join(refused) if len(refused) <= 3 else f"{', '.join(list(refused)[:3])}, ..."
    return (
        f"NOTHING KEPT: {every} {result.rows_quarantined:,} rows quarantined ({reasons}); "
        f"{refusal_hint(top or '', result.detail.get('format'))}; then read the file again "
        "with --replace"
    )


def _no_positions_note(result: IngestResult) -> str:
    """An AIS file that gave identity or station reports but not one vessel position."""
    refused = result.detail.get("quarantined_by_reason") or {}
    top = next(iter(refused), "")
    return (
        f"NO POSITIONS KEPT: every position was quarantined ({', '.join(list(refused)[:3])}); "
        f"{refusal_hint(top, result.detail.get('format'))}"
    )


def _refused_parts(detail: dict[str, Any]) -> str:
    """`1,000 bad_date in 'Дата отправления' (e.g. row 2: '2023-31-01'), 3 bad_weight ...`:
    the top (reason, column) groups, then how many more rows under other reasons."""
    refused: dict[str, int] = detail.get("quarantined_by_reason") or {}
    top: list[dict[str, Any]] = detail.get("quarantine_top") or []
    if not top:  # results from before the groups were recorded
        return ", ".join(f"{n:,} {reason}" for reason, n in refused.items())
    parts = []
    for group in top:
        text = f"{group['rows']:,} {group['reason']}"
        if group.get("column"):
            text += f" in {group['column']!r}"
        if group.get("example_row") is not None:
            value = group.get("example_value")
            shown = f": {value[:40]!r}" if value else ", empty" if value == "" else ""
            text += f" (e.g. row {group['example_row']}{shown})"
        parts.append(text)
    rest = sum(refused.values()) - sum(g["rows"] for g in top)
    if rest > 0:
        parts.append(f"{rest:,} more under other reasons or columns")
    return ", ".join(parts)
