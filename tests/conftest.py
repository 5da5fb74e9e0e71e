"""Shared fixtures: the real third-party samples live in ../shared/data, never in this tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "CARGOTRACE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def shared_data(*parts: str) -> Path:
    """Path to a real sample; skip the test when it is absent, fail under CI=true."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data missing under CI: {path}")
        pytest.skip(f"shared test data not available: {path}")
    return path


@pytest.fixture
def shared() -> type:
    class _Shared:
        path = staticmethod(shared_data)

    return _Shared


@pytest.fixture(
    params=[(None, None), (5, None), (5, "7")],
    ids=["one part", "parts of 5 fixes", "vessel partitions of 7 fixes on disk"],
)
def chunk_rows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int | None:
    """The maritime kernels run whole, in chunks of 5 fixes, and on vessel partitions of 7
    fixes written to disk: the equality tests (kernel = SQL) hold in each."""
    from cargotrace.maritime.kernels import chunks, partitions

    rows, partition = request.param
    if rows:
        monkeypatch.setattr(chunks, "CHUNK_ROWS", rows)
    if partition:
        monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, partition)
    return rows
