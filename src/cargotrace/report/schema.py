"""Validation of the findings against the JSON Schema kept in the repository."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema


def findings_schema() -> dict[str, Any]:
    text = resources.files("cargotrace.report").joinpath("findings.schema.json").read_text("utf-8")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def validate_findings(findings: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when the findings break the contract."""
    jsonschema.validate(findings, findings_schema(), format_checker=jsonschema.FormatChecker())
