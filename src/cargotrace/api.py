"""The library: a case as an object, for notebooks and scripts. The command line is a thin
layer over exactly this (cli/app.py).

    import cargotrace
    case = cargotrace.open_case("my-case")           # created if missing
    case.ingest("ais", "positions.csv")               # a file, a list of files, or a DataFrame
    findings = case.analyze(window_days=10)           # settings by name, as `--window-days`
    calls = case.table("port_calls").to_pandas()     # any table, as Arrow (or pandas=True)
    case.report("report.html")

Each call opens the case, does its work and closes it again (a write takes the case's lock
only for that call), so a notebook never holds the case against the command line, and the
same case can be opened any number of times in one process.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from cargotrace import workflow
from cargotrace.case.store import DB_NAME, Case, one_command, quote_ident
from cargotrace.errors import InputError
from cargotrace.ingest.types import IngestResult
from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

OnStage = Callable[[str, int, float], None]
Source = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Any  # Any: a DataFrame


def open_case(path: str | os.PathLike[str], *, create: bool = True) -> CaseSession:
    """The case in folder `path`; made (with the default port gazetteer) when missing and
    `create`, else a missing case is an error."""
    root = Path(path)
    if create:
        workflow.init_case(root)
    elif not (root / DB_NAME).is_file():
        with Case.open(root):  # the store's message: not a case, run `cargotrace init`
            pass
    return CaseSession(root)


def settings_of(settings: AnalysisSettings | None = None, **overrides: Any) -> AnalysisSettings:
    """Analysis settings from keyword arguments named as the settings' fields (lists are
    taken for tuples)."""
    known = {f.name for f in fields(AnalysisSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()
    }
    return replace(settings or AnalysisSettings(), **values)


P = ParamSpec("P")
R = TypeVar("R")


def _command(method: Callable[P, R]) -> Callable[P, R]:
    """A method is one command: what opening the case has to say (that `analyze` is writing
    it and this reads its last committed state) is said once within it, as on the command
    line (`store.one_command`), and again by the next."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_command():
            return method(*args, **kwargs)

    return run


class CaseSession:
    """One case folder; every method is one command of the command line."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"<cargotrace case {str(self.root)!r}>"

    def exists(self) -> bool:
        """Whether the folder holds a case already."""
        return workflow.is_case(self.root)

    @_command
    def summary(self) -> dict[str, Any]:
        """The case folder and how many ports it knows (`cargotrace init` prints these)."""
        with Case.open(self.root) as case:
            return {"case": str(case.root), "ports": case.scalar("SELECT count(*) FROM ports")}

    # ------------------------------------------------------------------ input
    @_command
    def ingest(
        self,
        kind: str,
        source: Source,
        *,
        mapping: str | os.PathLike[str] | None = None,
        progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
        sheet: str | None = None,
        name: str | None = None,
        replace: bool = False,
    ) -> list[IngestResult]:
        """Load files of a KIND (`cargotrace ingest KIND FILE...`). `source` is a path, a
        list of paths, or a pandas/Arrow table (written to a CSV file named `name`, default
        `<kind>.csv`, in a temporary folder: its rows keep that file name and their row
        numbers as provenance). `replace`: a file the case holds already is read again and
        replaces its earlier rows."""
        mapping_path = Path(mapping) if mapping is not None else None
        if _is_table(source):
            with tempfile.TemporaryDirectory(prefix="cargotrace-") as tmp:
                path = Path(tmp) / (name or f"{kind}.csv")
                _write_csv(source, path)
                return workflow.ingest(
                    self.root,
                    kind,
                    [path],
                    mapping_path,
                    progress,
                    dry_run=dry_run,
                    sheet=sheet,
                    replace=replace,
                )
        paths = (
            [Path(source)] if isinstance(source, str | os.PathLike) else [Path(p) for p in source]
        )
        return workflow.ingest(
            self.root,
            kind,
            paths,
            mapping_path,
            progress,
            dry_run=dry_run,
            sheet=sheet,
            replace=replace,
        )

    # ------------------------------------------------------------------ analysis
    @_command
    def analyze(
        self,
        settings: AnalysisSettings | None = None,
        *,
        on_stage: OnStage | None = None,
        debug: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Run the analysis (`cargotrace analyze`); settings by keyword, e.g. window_days=10.
        Returns the findings (also stored in the case). `debug=True` (`analyze --debug`)
        keeps every intermediate table in the case's `debug` schema: `.table("debug.visits")`."""
        return workflow.analyze(
            self.root, settings_of(settings, **overrides), on_stage, debug=debug
        )

    @_command
    def run_stages(self, *names: str, **overrides: Any) -> list[str]:
        """Run some stages (and the stages they need) without assembling findings; returns the
        names of the stages run. Their tables stay in the case (temporary ones do not)."""
        from cargotrace.analysis.pipeline import run_stages

        with Case.open(self.root, write=True) as case, case.transaction():
            return run_stages(case.con, settings_of(**overrides), names)

    @property
    @_command
    def findings(self) -> dict[str, Any]:
        """The findings of the last analysis (`cargotrace export --format json`)."""
        from cargotrace.report.export import findings

        with Case.open(self.root) as case:
            return findings(case)

    # ------------------------------------------------------------------ output
    @_command
    def table(self, name: str, *, pandas: bool = False) -> pa.Table | pd.DataFrame:
        """A table or view of the case, whole, as an Arrow table (or a pandas DataFrame)."""
        schema, _, bare = name.rpartition(".")
        schema = schema or "main"
        with Case.open(self.root) as case:
            if not case.has_table(bare, schema=schema):
                known = [r["table_name"] for r in case.rows(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
                )]  # fmt: skip
                raise InputError(f"the case has no table {name!r}; it has: {', '.join(known)}")
            data = case.arrow(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(bare)}")
        return data.to_pandas() if pandas else data

    @_command
    def tables(self) -> list[str]:
        with Case.open(self.root) as case:
            return [r["table_name"] for r in case.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            )]  # fmt: skip

    @_command
    def export(
        self, out: str | os.PathLike[str], fmt: str | None = None, table: str | None = None
    ) -> int:
        """`cargotrace export`: the findings (no `table`) or one table to a file."""
        return workflow.export(self.root, fmt, Path(out), table)

    @_command
    def report(
        self, out: str | os.PathLike[str], pdf: str | os.PathLike[str] | None = None
    ) -> dict[str, Any]:
        """`cargotrace report`: the HTML report (and a PDF of it)."""
        return workflow.report(self.root, Path(out), Path(pdf) if pdf is not None else None)

    @_command
    def explain(self, waybill: str) -> list[dict[str, Any]]:
        """`cargotrace explain ID`: one explanation (`kind`: waybill, vessel, port_call,
        arrival, gap, coverage_gap, watchlist_hit) per match of the id (report/explain.py)."""
        return workflow.explain(self.root, waybill)

    @_command
    def quarantine(self, include_superseded: bool = False) -> list[dict[str, Any]]:
        return workflow.quarantine_summary(self.root, include_superseded)

    @_command
    def check(self) -> list[str]:
        return workflow.check_case(self.root)

    @_command
    def status(self) -> dict[str, Any]:
        """Whether the stored analysis is stale (files ingested since): `stale`, `message`."""
        return workflow.analysis_status(self.root)


def _is_table(source: object) -> bool:
    return hasattr(source, "to_csv") or (hasattr(source, "schema") and hasattr(source, "num_rows"))


def _write_csv(source: Any, path: Path) -> None:
    if hasattr(source, "to_csv"):  # pandas
        source.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
        return
    import pyarrow.csv as pacsv

    pacsv.write_csv(source, path)


__all__ = ["CaseSession", "open_case", "settings_of"]
