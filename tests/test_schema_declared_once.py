"""The case's schema is declared once (case/schema.py) and everything else follows it: the
DDL, the columns of the exports, the findings JSON schema, docs/schema.md, and existing cases
(a newly declared column reaches them when they are next opened for writing)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from cargotrace.case import schema
from cargotrace.case.columns import Column, Table, markdown
from cargotrace.case.store import Case
from cargotrace.report import export
from cargotrace.report import schema as findings_schema

from builders import T0, linked_case

ROOT = Path(__file__).resolve().parents[1]
# DuckDB spells some declared types otherwise in information_schema
SPELLED = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()


def _declared(table: Table) -> list[tuple[str, str]]:
    return [(c.name, SPELLED.get(c.type, c.type)) for c in table.columns]


def test_a_new_case_has_exactly_the_declared_tables_views_and_columns(tmp_path):
    with Case.open(tmp_path / "case", create=True) as case:
        for table in schema.SOURCE + schema.VIEWS:
            assert _columns(case.con, table.name) == _declared(table), table.name


def test_derived_tables_of_the_findings_have_the_declared_columns(tmp_path):
    b = linked_case(tmp_path)
    b.shipment("W1", T0 + timedelta(days=3), cargo="боеприпасы", record="arrival")
    with b.run() as case:
        for table in schema.DERIVED:
            assert _columns(case.con, table.name) == _declared(table), table.name
        assert case.scalar("SELECT count(*) FROM label_changes") == 1
        assert case.scalar("SELECT count(*) FROM sites") == 1


def test_exports_of_declared_tables_select_their_exported_columns_in_order():
    shipments = schema.TABLES["shipments"]
    assert export.EXPORT_TABLES["shipments"] == shipments.export_sql()
    hidden = {"row_hash", "container", "cargo_code", "attributes"}
    assert shipments.exported() == tuple(n for n in shipments.names if n not in hidden)
    assert schema.TABLES["quarantine"].exported()[:4] == (
        "kind",
        "source_file",
        "sheet",
        "source_row",
    )
    assert export.EXPORT_TABLES["vessels"] == (
        "SELECT mmsi, imo, name, callsign, ship_type, flag, first_seen, last_seen "
        "FROM vessels ORDER BY mmsi"
    )


def test_a_column_declared_later_reaches_an_existing_case(tmp_path, monkeypatch):
    case_dir = tmp_path / "case"
    with Case.open(case_dir, create=True):
        pass
    detections = schema.TABLES["detections"]
    grown = Table(
        detections.name,
        detections.description,
        (*detections.columns, Column("draught_m", "DOUBLE", "a column added later", "m")),
    )
    monkeypatch.setattr(
        schema, "SOURCE", tuple(grown if t.name == "detections" else t for t in schema.SOURCE)
    )
    with Case.open(case_dir, write=True) as case:
        assert _columns(case.con, "detections")[-1] == ("draught_m", "DOUBLE")
        assert _columns(case.con, "detections") == _declared(grown)


def test_findings_schema_file_is_written_from_the_declarations():
    text = (ROOT / "src/cargotrace/report/findings.schema.json").read_text(encoding="utf-8")
    assert text == findings_schema.schema_text(), "run: python -m cargotrace.report.schema"
    sites = json.loads(text)["properties"]["sites"]["items"]["properties"]
    assert sites["facility_km"] == {"type": ["number", "null"], "minimum": 0}
    assert sites["lat"] == {"type": ["number", "null"], "minimum": -90, "maximum": 90}
    assert sites["near_facility"] == {"type": "boolean"}


def test_docs_table_of_columns_is_up_to_date():
    text = (ROOT / "docs/schema.md").read_text(encoding="utf-8")
    expected = markdown(schema.SOURCE + schema.VIEWS + schema.DERIVED)
    assert text == expected, "run: python -m cargotrace.case.schema > docs/schema.md"
    assert "| weight_t | DOUBLE | t | weight of the cargo |" in text


def test_a_column_is_declared_once_per_table():
    with pytest.raises(ValueError, match="declared twice"):
        Table("t", "", (Column("a", "DOUBLE", ""), Column("a", "DOUBLE", "")))
    with pytest.raises(ValueError, match="unknown type"):
        Column("a", "FLOAT8", "")
