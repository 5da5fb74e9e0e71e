"""Helpers for the kernel = SQL tests: a case of hand-made fixes in an in-memory database, a
stage run both ways (the stage SQL, the definition, then the NumPy kernels), the rows compared
table by table, and the Hypothesis settings and fleets the generated tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cargotrace.analysis.pipeline import STAGES, run_stage
from cargotrace.case.schema import create_statements
from cargotrace.maritime.kernels import views
from cargotrace.settings import AnalysisSettings

# a generated fleet is a small case run twice through several stages: slow per example
EQUALITY_EXAMPLES = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
Rows = list[tuple[Any, ...]]


def positions_case(
    positions: Iterable[tuple[Any, ...]] | str, ports: Iterable[Sequence[Any]] = ()
) -> duckdb.DuckDBPyConnection:
    """An in-memory case holding `positions` (mmsi, timestamp, lat, lon, sog) — rows, or a
    SELECT giving them — and `ports` (tests/test_maritime_support.port_row tuples)."""
    con = duckdb.connect()
    for statement in create_statements():
        con.execute(statement)
    insert = "INSERT INTO positions (mmsi, timestamp, lat, lon, sog)"
    if isinstance(positions, str):
        con.execute(f"{insert} {positions}")
    elif rows := list(positions):
        con.executemany(f"{insert} VALUES (?, ?, ?, ?, ?)", rows)
    for port in ports:
        con.execute(
            "INSERT INTO ports (locode, name, country, lat, lon, radius_km, geometry_wkt, origin) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'user')",
            list(port),
        )
    return con


def rows_match(a: tuple[Any, ...], b: tuple[Any, ...], abs_tol: float = 1e-9) -> bool:
    """Equal rows; floats to 1e-9 (a mean added up in another order differs in its last bits)."""
    return len(a) == len(b) and all(
        x == pytest.approx(y, rel=1e-9, abs=abs_tol) if isinstance(x, float) else x == y
        for x, y in zip(a, b, strict=True)
    )


def assert_tables_match(
    by_sql: Mapping[str, Rows],
    by_kernel: Mapping[str, Rows],
    abs_tol: float = 1e-9,
    exact: bool = False,
) -> dict[str, int]:
    """Each table's rows the same both ways, in order (floats to 1e-9 unless `exact`);
    returns the row count of each table."""
    counts = {}
    for table, sql_rows in by_sql.items():
        kernel_rows = by_kernel[table]
        assert len(sql_rows) == len(kernel_rows), (
            f"{table}: {len(sql_rows)} rows by SQL, {len(kernel_rows)} by the kernel"
        )
        for x, y in zip(sql_rows, kernel_rows, strict=True):
            assert x == y if exact else rows_match(x, y, abs_tol), (table, x, y)
        counts[table] = len(sql_rows)
    return counts


def run_both_ways(
    con: duckdb.DuckDBPyConnection,
    stage_names: Iterable[str],
    read: Callable[[duckdb.DuckDBPyConnection], dict[str, Rows]],
    *,
    before: Iterable[str] = (),
    before_kernel: str = "numpy",
    after_kernels: Callable[[duckdb.DuckDBPyConnection, AnalysisSettings], None] | None = None,
    **overrides: Any,
) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """Run `before` (with `before_kernel`, by default the kernels), then `stage_names` by the stage SQL and
    read the tables; the same again with the NumPy kernels. `after_kernels` may check the
    kernels' run (e.g. that their rows, not the SQL fallback, were used)."""
    names = set(stage_names)
    found = []
    for kernel in ("sql", "numpy"):
        config = AnalysisSettings(maritime_kernel=kernel, **overrides)
        views.release(con)
        for stage in STAGES:
            if stage.name in before:
                run_stage(con, stage, AnalysisSettings(maritime_kernel=before_kernel, **overrides))
            elif stage.name in names:
                run_stage(con, stage, config)
        if kernel == "numpy" and after_kernels is not None:
            after_kernels(con, config)
        found.append(read(con))
    return found[0], found[1]


def ordered_by(keys: Mapping[str, str]) -> Callable[[duckdb.DuckDBPyConnection], dict[str, Rows]]:
    """A reader of each table ordered by its key columns."""

    def read(con: duckdb.DuckDBPyConnection) -> dict[str, Rows]:
        return {
            t: con.execute(f"SELECT * FROM {t} ORDER BY {k}").fetchall() for t, k in keys.items()
        }

    return read


def fleets(
    vessels: st.SearchStrategy[int],
    steps: st.SearchStrategy[int],
    places: Sequence[tuple[float, float]],
    speeds_kn: Sequence[float | None],
    max_fixes: int,
) -> st.SearchStrategy[list[tuple[int, int, int, float | None]]]:
    """Generated fleets: (vessel, time step, index into `places`, speed over ground) per fix."""
    return st.lists(
        st.tuples(vessels, steps, st.sampled_from(range(len(places))), st.sampled_from(speeds_kn)),
        min_size=0,
        max_size=max_fixes,
    )
