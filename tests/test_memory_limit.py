"""DuckDB's share of memory: 800 MB unless CARGOTRACE_MEMORY_LIMIT says otherwise (issue 16)."""

from __future__ import annotations

import pytest

from cargotrace import workflow
from cargotrace.case.store import MEMORY_LIMIT_ENV, Case
from cargotrace.errors import CaseError


def _limit(case_dir) -> str:
    with Case.open(case_dir) as case:
        return str(case.scalar("SELECT current_setting('memory_limit')"))


def test_default_limit_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    workflow.init_case(tmp_path / "case")
    assert _limit(tmp_path / "case") == "762.9 MiB"  # 800 MB
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "2GB")
    assert _limit(tmp_path / "case") == "1.8 GiB"


def test_a_limit_that_is_not_a_size_is_refused_with_a_message(tmp_path, monkeypatch):
    workflow.init_case(tmp_path / "case")
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(CaseError, match="CARGOTRACE_MEMORY_LIMIT='lots' is not a memory size"):
        _limit(tmp_path / "case")


def test_duckdb_hands_freed_memory_back_on_its_allocator_s_background_threads(tmp_path):
    """A case's connections, writing and reading, have DuckDB's allocator purge the pages it
    freed on background threads (`store.ALLOCATOR_SETTINGS`): without them the 2 GB NMEA log
    peaked at 1,571 MiB on a quiet machine, with them at 1,163 (issue 16)."""
    workflow.init_case(tmp_path / "case")
    with Case.open(tmp_path / "case", write=True) as case:
        assert case.scalar("SELECT current_setting('allocator_background_threads')") is True
    with Case.open(tmp_path / "case") as case:  # a reader
        assert case.scalar("SELECT current_setting('allocator_background_threads')") is True
