"""The TypedDicts of the findings blocks (report/findings_types.py, checked by mypy where the
findings are built) name exactly the keys the findings of a case have, and every field the
findings JSON schema requires."""

from __future__ import annotations

from datetime import timedelta

from cargotrace import workflow
from cargotrace.report.findings_types import (
    Arrival,
    Findings,
    LabelChange,
    LinkedShipment,
    Quarantine,
    Site,
    Totals,
)
from cargotrace.report.schema import build_findings_schema
from cargotrace.settings import AnalysisSettings

from builders import T0, linked_case


def _keys(typed: type) -> set[str]:
    return set(typed.__required_keys__) | set(typed.__optional_keys__)


def test_findings_of_a_case_have_the_declared_keys(tmp_path):
    b = linked_case(tmp_path)
    b.shipment("W1", T0 + timedelta(days=3), cargo="боеприпасы", record="arrival")
    b.run()
    findings = workflow.analyze(b.case_dir, AnalysisSettings())
    assert set(findings) == _keys(Findings)
    blocks = {"arrivals": Arrival, "linked_shipments": LinkedShipment, "sites": Site,
              "label_changes": LabelChange}  # fmt: skip
    for name, typed in blocks.items():
        assert len(findings[name]) == 1, name
        assert set(findings[name][0]) == _keys(typed), name
    assert set(findings["totals"]) == _keys(Totals)
    assert set(findings["quarantine"]) == _keys(Quarantine)


def test_every_field_the_json_schema_requires_is_declared():
    schema = build_findings_schema()
    assert set(schema["required"]) <= _keys(Findings)
    typed = {"arrivals": Arrival, "linked_shipments": LinkedShipment, "sites": Site,
             "label_changes": LabelChange, "totals": Totals, "quarantine": Quarantine}  # fmt: skip
    for name, block in typed.items():
        spec = schema["properties"][name]
        spec = spec.get("items", spec)
        assert set(spec["required"]) <= _keys(block), name
        assert set(spec["properties"]) <= _keys(block), name
