"""What a stage of the analysis is: a name, the tables it reads and writes, and its steps.

This module imports nothing of cargotrace (type names only, for the checker), so every layer
can use it: the registry (analysis/registry.py) declares the stages, the runner
(analysis/pipeline.py) resolves prerequisites from the declarations, and the Spark engine
(engine/spark_job.py) takes from them which tables travel back to DuckDB.

`reads`: every table a step of the stage reads that the stage does not create itself (case
tables and the tables earlier stages write). `writes`: every table the stage creates or
replaces, temporary ones included (`output` first, the table its row count reports).
tests/test_stage_declarations.py holds the declarations against the SQL the stage runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from cargotrace.settings import AnalysisSettings

    SqlStep = Callable[[AnalysisSettings], list[str]]
    PythonStep = Callable[[duckdb.DuckDBPyConnection, AnalysisSettings], None]


@dataclass(frozen=True)
class Stage:
    name: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sql: SqlStep | None = None
    python: PythonStep | None = None
    # the tables of `writes` made by the SQL that the Python step reads (they come back to
    # DuckDB when the SQL runs on Spark)
    python_reads: tuple[str, ...] = ()
    # replaces `sql` on the DuckDB engine when settings.maritime_kernel is "numpy"; writes at
    # least the tables of `writes` that later stages read
    kernel: PythonStep | None = None
    output: str | None = None
    # not part of `analyze` unless asked for by name (or needed by a stage that is)
    optional: bool = False

    def __post_init__(self) -> None:
        if self.output is not None and self.output not in self.writes:
            raise ValueError(f"stage {self.name}: output {self.output} is not among its writes")
        if not set(self.python_reads) <= set(self.writes):
            raise ValueError(f"stage {self.name}: python_reads must be among its writes")


def writers(stages: Sequence[Stage]) -> dict[str, list[Stage]]:
    """Table -> the stages that write it, in registry order."""
    out: dict[str, list[Stage]] = {}
    for stage in stages:
        for table in stage.writes:
            out.setdefault(table, []).append(stage)
    return out


def with_prerequisites(stages: Sequence[Stage], names: Iterable[str]) -> list[Stage]:
    """The named stages and every stage that writes a table they read (recursively), in
    registry order. A table read before any stage writes it is a case table (positions,
    ports, ...): it has no prerequisite. Unknown names are an error."""
    by_name = {s.name: s for s in stages}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise KeyError(
            f"unknown stage(s) {', '.join(unknown)}; the stages are {', '.join(by_name)}"
        )
    order = {s.name: i for i, s in enumerate(stages)}
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        stage = by_name[name]
        for table in stage.reads:
            # the last stage before this one that writes the table
            earlier = [s for s in stages if table in s.writes and order[s.name] < order[name]]
            if earlier:
                todo.append(earlier[-1].name)
    return [s for s in stages if s.name in wanted]
