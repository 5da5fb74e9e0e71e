"""The findings' JSON Schema (report/findings.schema.json) and validation against it.

The schema is written from `build_findings_schema`: the fields of a findings block that are
columns of a declared table (case/schema.py: `linked_shipments`, `sites`, `label_changes`, and
`all_encounters`, `all_loitering`, `all_gaps` for the lists of maritime events) take their type,
nullability and range from the declaration. `python -m cargotrace.report.schema` rewrites the
file; tests/test_schema_declared_once.py checks it is up to date.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from cargotrace.case.schema import TABLES

SCHEMA_FILE = Path(__file__).with_name("findings.schema.json")
SITE_FIELDS: tuple[str, ...] = ("site_id", "name", "esr", "lat", "lon", "tonnes", "shipments")
SITE_FIELDS += ("nearest_facility", "facility_km", "near_facility", "border_km")
LABEL_CHANGE_FIELDS = ("waybill", "declared", "at_destination")
LINKED_FIELDS = ("waybill", "arrival_id", "lag_days", "tonnes", "site_id")
# the maritime events of every source (tables all_*: AIS's and Global Fishing Watch's)
EVENT_FIELDS = {
    "encounters": (
        "mmsi_a",
        "mmsi_b",
        "started_at",
        "ended_at",
        "lat",
        "lon",
        "source",
        "confidence",
    ),
    "loitering": ("mmsi", "started_at", "ended_at", "lat", "lon", "source", "confidence"),
    "gaps": ("gap_id", "mmsi", "started_at", "ended_at", "hours", "source", "confidence"),
}


def _items(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "object", "required": required, "properties": properties},
    }


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def build_findings_schema() -> dict[str, Any]:
    """The findings' JSON Schema (contract §4): the required fields of every block."""
    share = {"minimum": 0, "maximum": 1}
    count = {"type": "integer", "minimum": 0}
    arrivals = {
        "arrival_id": {"type": "string", "minLength": 1},
        "vessel_name": _nullable("string"),
        "imo": _nullable("string"),
        "mmsi": _nullable("string"),
        "port_locode": {"type": "string"},
        "arrived_at": {"type": "string", "format": "date-time"},
        "previous_port_locode": {"type": "string"},
        "evidence": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["ais", "sighting", "detection", "gfw"]},
        },
    }
    linked = {
        **TABLES["linked_shipments"].json_properties(LINKED_FIELDS),
        "evidence_chain": {"type": "array", "items": {"type": "string"}},
    }
    munitions = {
        "profile": {"type": "string"},
        "central": count,
        "low": count,
        "high": count,
    }
    totals = {
        "linked_tonnes": {"type": "number", "minimum": 0},
        "sites": count,
        "sites_near_facility": count,
        "munitions_equivalent": _object(list(munitions), munitions),
    }
    significance = {
        "test": {"type": "string"},
        "p_value": _nullable("number", **share),
        "observed_within_window": _nullable("number", **share),
        "expected_within_window": _nullable("number", **share),
    }
    parameters = {
        "window_days": {"type": "integer", "minimum": 0},
        "origin_country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "lookback_days": {"type": "integer", "minimum": 1},
        "near_km": {"type": "number", "minimum": 0},
    }
    blocks = {
        "parameters": _object(list(parameters), parameters),
        "arrivals": _items(list(arrivals)[:-1] + ["evidence"], arrivals),
        "linked_shipments": _items(list(linked)[:-1], linked),
        "sites": _items(list(SITE_FIELDS), TABLES["sites"].json_properties(SITE_FIELDS)),
        "label_changes": _items(
            list(LABEL_CHANGE_FIELDS), TABLES["label_changes"].json_properties(LABEL_CHANGE_FIELDS)
        ),
        "totals": _object(list(totals), totals),
        "significance": _object(list(significance), significance),
        "quarantine": _object(["rows"], {"rows": count}),
    }
    for name, fields in EVENT_FIELDS.items():
        blocks[name] = _items(list(fields), TABLES[f"all_{name}"].json_properties(fields))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cargotrace.example/findings.schema.json",
        "title": "cargotrace findings",
        "description": "Contract §4. More fields are allowed; these are required.",
        "type": "object",
        "required": list(blocks),
        "properties": blocks,
    }


def schema_text() -> str:
    return json.dumps(build_findings_schema(), indent=2, ensure_ascii=False) + "\n"


def findings_schema() -> dict[str, Any]:
    text = resources.files("cargotrace.report").joinpath("findings.schema.json").read_text("utf-8")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def validate_findings(findings: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when the findings break the contract."""
    jsonschema.validate(findings, findings_schema(), format_checker=jsonschema.FormatChecker())


if __name__ == "__main__":  # python -m cargotrace.report.schema
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
