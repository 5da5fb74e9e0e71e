"""The case store: schema versions, migrations, busy cases, corrupted files."""

from __future__ import annotations

import pytest

from cargotrace import workflow
from cargotrace.case import schema
from cargotrace.case.store import Case
from cargotrace.errors import CaseBusyError, CaseError


def test_new_case_has_schema_version_and_gazetteer(tmp_path):
    workflow.init_case(tmp_path)  # the store makes the case, the workflow seeds it
    with Case.open(tmp_path) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert case.scalar("SELECT count(*) FROM ports WHERE locode = 'KPNJN'") == 1


def test_newer_schema_is_refused_with_advice(tmp_path):
    with Case.open(tmp_path, create=True) as case:
        case.set_meta("schema_version", str(schema.SCHEMA_VERSION + 1))
    with pytest.raises(CaseError, match="upgrade cargotrace"):
        with Case.open(tmp_path, write=True):
            pass
    with pytest.raises(CaseError, match="schema version"):
        with Case.open(tmp_path):
            pass


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    with Case.open(tmp_path, create=True) as case:
        case.set_meta("schema_version", "0")
    monkeypatch.setitem(
        schema.MIGRATIONS,
        0,
        ["ALTER TABLE shipments ADD COLUMN IF NOT EXISTS migrated_marker INTEGER"],
    )
    with Case.open(tmp_path, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        names = [r[0] for r in case.con.execute("DESCRIBE shipments").fetchall()]
    assert "migrated_marker" in names


def test_reader_while_writer_is_busy_not_corrupt(tmp_path):
    with Case.open(tmp_path, create=True):
        with pytest.raises(CaseBusyError):
            with Case.open(tmp_path, write=True):
                pass


def test_corrupted_database_gives_a_way_out(tmp_path):
    with Case.open(tmp_path, create=True):
        pass
    db = tmp_path / "case.duckdb"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CaseError, match="restore|rebuild"):
        with Case.open(tmp_path):
            pass
