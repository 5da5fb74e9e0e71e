"""What the totals leave out, and why (findings `left_out`): the evidence kept in the case
but not counted — repeated records of one consignment, conflicting versions of it, weights
that never enter a sum, dates outside the evidence period, waybills mixing look-alike
Latin and Cyrillic letters. Built from the tables of logistics/consignments.py."""

from __future__ import annotations

from typing import Any

from cargotrace.case.store import Case
from cargotrace.outputs import iso as _iso

LIST_LIMIT = 200  # waybills / versions listed; the counts are always complete


def _waybills(case: Case, where: str, table: str = "consignments") -> list[str]:
    return [
        r["waybill"]
        for r in case.rows(
            f"SELECT DISTINCT waybill FROM {table} WHERE {where} ORDER BY waybill LIMIT {LIST_LIMIT}"
        )
    ]


def left_out_block(case: Case) -> dict[str, Any]:
    dup = case.rows(
        "SELECT count(*) FILTER (WHERE version_rank > 1) AS rows, "
        "count(DISTINCT consignment_key) FILTER (WHERE copies > 1) AS consignments FROM consignment_records"
    )[0]
    conflicts = _conflicts(case)
    weights = case.rows(
        """SELECT c.weight_left_out AS reason, count(*) AS rows,
                  count(l.shipment_id) AS linked_shipments
           FROM consignments c LEFT JOIN linked_shipments l ON l.shipment_id = c.row_hash
           WHERE c.weight_left_out IS NOT NULL GROUP BY ALL ORDER BY reason"""
    )
    period = case.rows("SELECT first_day, last_day FROM evidence_period")[0]
    out_of_period = case.rows(
        """SELECT count(*) AS rows,
                  count(*) FILTER (WHERE row_hash IN (SELECT shipment_id FROM shipments_of_interest
                                                     WHERE origin_port_locode IS NOT NULL)) AS tested_departures
           FROM consignments WHERE date_out_of_period"""
    )[0]
    mixed = case.scalar("SELECT count(*) FROM consignment_records WHERE mixed_script")
    block: dict[str, Any] = {
        "duplicate_records": {
            "rows": int(dup["rows"] or 0),
            "consignments": int(dup["consignments"] or 0),
            "rule": "one consignment (waybill, wagon and container with look-alike letters folded, record type, day) counts once",
        },
        "conflicting_versions": {"consignments": len(conflicts), "items": conflicts[:LIST_LIMIT]},
        "weights": {
            "rows": sum(int(w["rows"]) for w in weights),
            "linked_shipments": sum(int(w["linked_shipments"]) for w in weights),
            "by_reason": {w["reason"]: int(w["rows"]) for w in weights},
            "waybills": _waybills(case, "weight_left_out IS NOT NULL"),
        },
        "out_of_period_dates": {
            "period": {
                "first_day": _iso(period["first_day"]),
                "last_day": _iso(period["last_day"]),
            },
            "rows": int(out_of_period["rows"]),
            "departures_kept_off_test": int(out_of_period["tested_departures"]),
            "waybills": _waybills(case, "date_out_of_period"),
        },
        "mixed_script_ids": {
            "rows": int(mixed),
            "waybills": _waybills(case, "mixed_script", "consignment_records"),
        },
    }
    block["summary"] = summary_lines(block)
    return block


def _conflicts(case: Case) -> list[dict[str, Any]]:
    rows = case.rows(
        """SELECT consignment_key, waybill, wagon, record, record_day, weight_t, cargo, cargo_class,
                  origin_esr, destination_esr, source_file, sheet, source_row, version_rank
           FROM consignment_records WHERE conflicting
           ORDER BY consignment_key, version_rank"""
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        item = out.setdefault(r["consignment_key"], {
            "waybill": r["waybill"], "wagon": r["wagon"], "record": r["record"],
            "day": _iso(r["record_day"]), "versions": [],
        })  # fmt: skip
        item["versions"].append({
            "weight_t": r["weight_t"], "cargo": r["cargo"], "cargo_class": r["cargo_class"],
            "origin_esr": r["origin_esr"], "destination_esr": r["destination_esr"],
            "source_file": r["source_file"], "sheet": r["sheet"], "source_row": r["source_row"],
            "counted": r["version_rank"] == 1,
        })  # fmt: skip
    return list(out.values())


def _some(waybills: list[str]) -> str:
    return ", ".join(waybills[:5]) + (", ..." if len(waybills) > 5 else "")


def summary_lines(block: dict[str, Any]) -> list[str]:
    """Plain-language lines for the report and the console; empty when nothing is left out."""
    lines = []
    dup = block["duplicate_records"]
    if dup["rows"]:
        lines.append(
            f"{dup['rows']:,} repeated record(s) of {dup['consignments']:,} consignment(s) (the same waybill, wagon, "
            "container, record and day in overlapping or re-saved files) are kept in the case but counted once."
        )
    conflicts = block["conflicting_versions"]
    if conflicts["consignments"]:
        lines.append(
            f"{conflicts['consignments']:,} consignment(s) have conflicting versions (different weight, cargo or "
            "stations): the first plausible version is counted, the others are listed, never summed "
            f"({_some([c['waybill'] for c in conflicts['items']])})."
        )
    weights = block["weights"]
    if weights["rows"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in weights["by_reason"].items())
        lines.append(
            f"{weights['rows']:,} weight(s) are left out of every total ({reasons}; {weights['linked_shipments']:,} of "
            f"them in linked shipments, which still count as shipments): {_some(weights['waybills'])}."
        )
    period = block["out_of_period_dates"]
    if period["rows"]:
        lines.append(
            f"{period['rows']:,} record(s) are dated outside the period the evidence covers "
            f"({period['period']['first_day']} to {period['period']['last_day']}; a typo?): kept, and "
            f"{period['departures_kept_off_test']:,} departure(s) kept off the significance test "
            f"({_some(period['waybills'])})."
        )
    mixed = block["mixed_script_ids"]
    if mixed["rows"]:
        lines.append(
            f"{mixed['rows']:,} record(s) have a waybill or wagon mixing Latin and Cyrillic letters "
            f"(look-alikes are matched as the same letter): {_some(mixed['waybills'])}."
        )
    return lines
