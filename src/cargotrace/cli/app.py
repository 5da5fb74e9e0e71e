"""The `cargotrace` command line (contract §1): a thin layer over the library, `cargotrace.api`."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from cargotrace import __version__
from cargotrace.api import CaseSession, open_case
from cargotrace.case.store import MEMORY_LIMIT_ENV, database_reason, one_command
from cargotrace.cli.safe_text import SafeConsole, cell, json_clean, literal
from cargotrace.errors import CargotraceError, InputError
from cargotrace.ingest.registry import KINDS
from cargotrace.ingest.summary import command_notes, ingest_notes, nothing_kept, skipped_phrase
from cargotrace.ingest.types import IngestResult
from cargotrace.outputs import os_reason
from cargotrace.settings import AnalysisSettings, with_pairs

app = typer.Typer(
    name="cargotrace",
    help="Trace illicit cargo: link leaked rail records to vessel arrivals, with the evidence chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = SafeConsole()
err = SafeConsole(stderr=True)

CaseOption = Annotated[
    Path, typer.Option("--case", help="Case folder (one DuckDB file plus derived files).")
]
T = TypeVar("T")


class Kind(StrEnum):
    shipments = "shipments"
    ais = "ais"
    vessels = "vessels"
    sightings = "sightings"
    ports = "ports"
    stations = "stations"
    facilities = "facilities"
    watchlist = "watchlist"
    borders = "borders"
    detections = "detections"
    gfw_events = "gfw-events"


class Format(StrEnum):
    json = "json"
    csv = "csv"
    geojson = "geojson"
    parquet = "parquet"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


assert {k.value for k in Kind} == set(KINDS)


def _fail(message: str) -> typer.Exit:
    err.print(
        f"[bold red]error:[/] {literal(message)}", highlight=False, markup=True, soft_wrap=True
    )
    return typer.Exit(2)


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _guard(action: Callable[[], T]) -> T:
    """Run a command body: user-fixable errors become one line on stderr and exit status 2,
    and so do the environment's (a full disk, a read-only or missing path, a database error)."""
    try:
        return action()
    except CargotraceError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _fail(
            f"{where}{os_reason(exc)}; the case is unchanged by the unfinished step"
        ) from None
    except duckdb.Error as exc:
        raise _fail(database_reason(exc)) from None
    except MemoryError:
        raise _fail(
            f"out of memory; set {MEMORY_LIMIT_ENV} (e.g. 2GB) or free memory, and run again"
        ) from None
    except KeyboardInterrupt:
        err.print("interrupted; the case is unchanged by the unfinished step")
        raise typer.Exit(130) from None


class _Remaining(TimeRemainingColumn):
    """Time left, shown only when the total is known (bytes of the file being ingested)."""

    def render(self, task: Task) -> Text:
        return Text("") if task.total is None else super().render(task)


class _Advance:
    """The progress callback of a terminal: `advance(n)` counts rows; ingest also reports
    bytes read of the file (`ingest.loader.ByteProgress`), which turns the bar into a real
    one with the time left."""

    def __init__(self, bar: Progress, task: TaskID, description: str = "") -> None:
        self.bar, self.task, self.count, self.total = bar, task, 0, 0
        self.description = description

    def __call__(self, n: int) -> None:
        self.count += n
        self.bar.update(self.task, count=f"{self.count:,} rows", advance=0 if self.total else n)

    def start_bytes(self, total: int) -> None:
        self.total = total
        self.bar.update(
            self.task, total=max(total, 1), completed=0, size=f"0/{total / 1e6:,.1f} MB"
        )

    def bytes_read(self, done: int) -> None:
        self.bar.update(
            self.task, completed=done, size=f"{done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        )

    def stage(self, what: str, step: int, steps: int) -> None:
        """The pass after the reading (`ingest.types.StageProgress`): the bar counts its steps."""
        self.total = steps
        self.bar.update(self.task, description=f"{self.description}: {what}", total=steps,
                        completed=step - 1, size=f"step {step} of {steps}")  # fmt: skip


PLAIN_PROGRESS_EVERY_S = 10.0


class _PlainProgress:
    """The same callback when the output is not a terminal (a log, a pipe): one plain line
    every PLAIN_PROGRESS_EVERY_S seconds with the bytes read, the rows and the time left."""

    def __init__(
        self, description: str, write: Callable[[str], None], every_s: float | None = None
    ) -> None:
        self.description, self.write = description, write
        self.every_s = PLAIN_PROGRESS_EVERY_S if every_s is None else every_s
        self.count, self.total, self.done = 0, 0, 0
        self.started = self.last = time.monotonic()
        self.step = ""  # the pass after the reading, once it runs
        self.ticker: threading.Thread | None = None
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def __call__(self, n: int) -> None:
        self.count += n
        self._maybe_print()

    def start_bytes(self, total: int) -> None:
        self.total, self.done = total, 0

    def bytes_read(self, done: int) -> None:
        self.done = done
        self._maybe_print()

    def stage(self, what: str, step: int, steps: int) -> None:
        """The pass after the reading: its steps call back seldom (each is a few big SQL
        statements), so a timer keeps the ~10 s lines coming until `close`."""
        self.step = f"{what} (step {step} of {steps} after reading),"
        self._maybe_print()
        if self.ticker is None:
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()

    def _tick(self) -> None:
        while not self.stopped.wait(min(self.every_s, 1.0)):
            self._maybe_print()

    def close(self) -> None:
        self.stopped.set()
        if self.ticker is not None:
            self.ticker.join()

    def line(self, now: float) -> str:
        elapsed = now - self.started
        parts = [f"{self.description}:"]
        if self.step:
            parts.append(self.step)
        elif self.total:
            share = min(self.done / self.total, 1.0)
            parts.append(f"{share:.0%} ({self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB),")
        parts.append(f"{self.count:,} rows, {_clock(elapsed)} elapsed")
        if self.total and self.done and not self.step:
            left = elapsed * (self.total - self.done) / self.done
            parts[-1] += f", about {_clock(left)} left"
        return " ".join(parts)

    def _maybe_print(self) -> None:
        with self.lock:  # the timer of `stage` calls it too
            now = time.monotonic()
            if now - self.last >= self.every_s:
                self.last = now
                self.write(self.line(now))


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int], None]]:
    if not err.is_terminal:
        plain = _PlainProgress(description, lambda text: print(text, file=sys.stderr, flush=True))
        try:
            yield plain
        finally:
            plain.close()
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
                  TextColumn("{task.fields[size]}"), TimeElapsedColumn(), _Remaining(), console=err,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task(description, total=None, count="", size="")
        yield _Advance(bar, task, description)


def _announce_first_compile(path: Path) -> None:
    """A fresh install's first NMEA log waits for the decoder to be compiled: say so, or the
    bar would stand still for half a minute."""
    from cargotrace.ingest.registry import looks_like_nmea

    if not looks_like_nmea(path):
        return
    from cargotrace.ingest.nmea.compiled import compiled_here

    if not compiled_here():
        err.print(
            "note: the NMEA decoder is compiled for this machine on its first use (~15-30 s, "
            "once); later runs load it from Numba's cache.",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _print_ingest(result: IngestResult) -> None:
    if result.already_ingested:
        out.print(
            f"{result.path.name}: already in the case (same content, ingested as {result.detail.get('ingested_as')}); nothing changed. "
            "To read it again (e.g. with a corrected --mapping), add --replace: its earlier rows are removed.",
            highlight=False,
            markup=False,
        )
        return
    replaced = result.detail.get("replaced")
    if replaced:
        removed = sum(n for table, n in replaced.items() if table not in ("ingested_as", "ledger"))
        out.print(
            f"{result.path.name}: replaced its earlier {removed:,} rows (ingested as {replaced['ingested_as']}); "
            "run `cargotrace analyze` again",
            highlight=False,
            markup=False,
        )
    out.print(
        f"{literal(result.path.name)} ({result.kind}): {result.rows_read:,} rows read = {result.rows_kept:,} kept + "
        f"{result.rows_quarantined:,} quarantined + {result.rows_duplicate:,} exact duplicates dropped"
        + skipped_phrase(result),
        highlight=False,
    )
    for line in ingest_notes(result):
        out.print(f"  {line}", highlight=False, markup=False)


@app.command()
def init(case: CaseOption = Path(".")) -> None:
    """Create an empty case (loads the default UN/LOCODE port gazetteer)."""
    info = _guard(lambda: open_case(case).summary())
    out.print(f"case ready at {literal(info['case'])} ({info['ports']:,} ports in the gazetteer)")


@app.command()
def ingest(
    kind: Annotated[Kind, typer.Argument(help="What the files hold.")],
    files: Annotated[
        list[Path],
        typer.Argument(help="One or more files (CSV, XLSX, Parquet, GeoJSON, NMEA; .gz/.zip ok)."),
    ],
    case: CaseOption = Path("."),
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="TOML column mapping for unfamiliar layouts.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show how the files would be read (encoding, delimiter, "
            "mapping, first rows as parsed); write nothing.",
        ),
    ] = False,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Read only this sheet of a workbook (default: every sheet with a table).",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Read a file the case already holds again (e.g. with a corrected --mapping); "
            "its earlier rows, quarantined ones included, are removed in the same transaction.",
        ),
    ] = False,
) -> None:
    """Load files into the case. Every row is kept or quarantined with a reason."""

    def body() -> list[IngestResult]:
        results: list[IngestResult] = []
        new_case = not dry_run and not CaseSession(case).exists()
        try:
            _ingest_files(results)
        finally:
            if new_case and CaseSession(case).exists():
                err.print(
                    f"[bold yellow]note:[/] {literal(case)} was not a cargotrace case: a new case "
                    "was created there. If you meant an existing case, check the --case path "
                    "(delete the new folder to undo).",
                    highlight=False,
                    soft_wrap=True,
                )
        return results

    def _ingest_files(results: list[IngestResult]) -> None:
        for number, path in enumerate(files):
            try:
                _ingest_one(path, results)
            except CargotraceError:
                _note_unread(path, files[number + 1 :], done=number)
                raise
        for line in [] if dry_run else command_notes(results):  # once per command, not per file
            out.print(line, highlight=False, markup=False)
        empty = [r.path.name for r in results if not dry_run and nothing_kept(r)]
        if empty:  # the case holds their refused rows: `cargotrace quarantine` shows them
            err.print(
                f"error: nothing was kept from {', '.join(map(literal, empty))}: every row was "
                "quarantined (reasons and what to check above); fix the mapping and ingest again "
                "with --replace",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2)

    def _note_unread(bad: Path, rest: list[Path], done: int) -> None:
        """A bad file stops the command: say which files after it were never read (the
        error names the bad one only), so none is taken for ingested."""
        if not rest or dry_run:
            return
        before = (
            f"; {_files(done)} before it {'is' if done == 1 else 'are'} in the case" if done else ""
        )
        err.print(
            f"note: stopped at {literal(bad.name)} (error below): {_files(len(rest))} after it "
            f"not read: {', '.join(literal(p.name) for p in rest)}{before}; ingest "
            f"{'it' if len(rest) == 1 else 'them'} once the error is fixed",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    def _ingest_one(path: Path, results: list[IngestResult]) -> None:
        if dry_run:
            from cargotrace.ingest.preview import describe

            [preview] = CaseSession(case).ingest(
                kind.value, path, mapping=mapping, dry_run=True, sheet=sheet
            )
            out.print("\n".join(describe(preview)), highlight=False, markup=False, soft_wrap=True)
            results.append(preview)
            return
        if kind.value == "ais":
            _announce_first_compile(path)
        with _progress(f"ingesting {literal(path.name)}") as advance:
            results.extend(
                CaseSession(case).ingest(
                    kind.value,
                    path,
                    mapping=mapping,
                    progress=advance,
                    sheet=sheet,
                    replace=replace,
                )
            )
        _print_ingest(results[-1])

    _guard(body)


@app.command()
def analyze(
    case: CaseOption = Path("."),
    window_days: Annotated[
        int, typer.Option(help="Days after an arrival in which a departure links to it.")
    ] = 7,
    origin_country: Annotated[
        str, typer.Option(help="ISO alpha-2 country of the previous port call.")
    ] = "KP",
    lookback_days: Annotated[int, typer.Option(help="How far back the previous call may be.")] = 30,
    near_km: Annotated[
        float, typer.Option(help="A site is near a facility within this distance.")
    ] = 20.0,
    border_country: Annotated[
        str, typer.Option(help="Country whose border distance is reported.")
    ] = "UA",
    profile: Annotated[
        str, typer.Option(help="Round profile for the munitions equivalent.")
    ] = "152mm_artillery",
    engine: Annotated[
        Engine, typer.Option(help="duckdb (default, embedded) or spark.")
    ] = Engine.duckdb,
    spark_output: Annotated[
        Path | None,
        typer.Option(
            "--spark-output",
            help="With --engine spark: attach this output of `python -m cargotrace.engine.spark` "
            "(run on a cluster) instead of running Spark here. See docs/scaling.md.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="Any other analysis setting, repeatable: e.g. --set min_call_hours=3 "
            "--set gap_hours=12 --set port_radius_km=8 (the names are those of `parameters` in the findings).",
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Keep every intermediate table of the stages (gap_facts, visits, ...) in the "
            "case's `debug` schema, e.g. debug.visits, to inspect with DuckDB or "
            "cargotrace.open_case(DIR).table('debug.visits'). The next analyze replaces them.",
        ),
    ] = False,
) -> None:
    """Derive port calls, gaps and encounters; link shipments to arrivals; profile sites."""

    def body() -> dict[str, Any]:
        if spark_output is not None and engine != Engine.spark:
            raise InputError("--spark-output needs --engine spark")
        extra = {"spark_output": str(spark_output)} if spark_output is not None else {}
        settings = AnalysisSettings(window_days=window_days, origin_country=origin_country.upper(),
                                    lookback_days=lookback_days, near_km=near_km, border_country=border_country.upper(),
                                    munitions_profile=profile, engine=engine.value, extra=extra)  # fmt: skip
        settings = with_pairs(settings, set_ or [])
        started = time.perf_counter()
        with _progress("analysing") as advance:
            result = CaseSession(case).analyze(
                settings, on_stage=lambda name, rows, secs: advance(rows), debug=debug
            )
        out.print(f"analysis done in {time.perf_counter() - started:.1f} s")
        if settings.engine == "spark":
            from cargotrace.engine.spark_job import placement_note

            out.print(placement_note(), markup=False)
        return result

    _print_headline(_guard(body))


def _print_headline(result: dict[str, Any]) -> None:
    totals, sig = result["totals"], result["significance"]
    mun = totals["munitions_equivalent"]
    table = Table(title="Findings", show_header=False)
    events, screening = result.get("events", {}), result.get("screening", {})
    vessel_rows = (  # the vessel story, shown whenever the case has one (AIS-only cases too)
        ("port calls", "port_calls"),
        ("gaps in AIS (dark periods)", "gaps"),
        ("  of them Global Fishing Watch's", "gaps_from_gfw"),
        ("  with possible dark calls", "gaps_with_possible_dark_calls"),
        ("  likely intentional AIS disabling", "likely_intentional_disabling"),
        ("  draught changed across the gap", "draught_changes"),
        ("silences with no AIS data (not gaps)", "coverage_gaps"),
        ("encounters (ship-to-ship)", "encounters"),
        ("  of them Global Fishing Watch's", "encounters_from_gfw"),
        ("loitering", "loitering"),
        ("  of them Global Fishing Watch's", "loitering_from_gfw"),
        ("identity events", "identity_events"),
    )
    for label, key in vessel_rows:
        if events.get(key):
            table.add_row(label, f"{events[key]:,}")
    if screening.get("matches"):
        table.add_row("watchlist hits / leads", f"{screening['hits']:,} / {screening['leads']:,}")
    table.add_row("arrivals of interest", f"{len(result['arrivals']):,}")
    table.add_row("linked shipments", f"{len(result['linked_shipments']):,}")
    table.add_row("linked tonnes", f"{totals['linked_tonnes']:,.1f}")
    table.add_row("sites / near a facility", f"{totals['sites']} / {totals['sites_near_facility']}")
    table.add_row(
        "munitions equivalent",
        f"{mun['central']:,} ({mun['low']:,}-{mun['high']:,}) x {mun['profile']}",
    )
    if sig.get("p_value") is not None:
        table.add_row(
            "within window: observed vs chance",
            f"{sig['observed_within_window']:.1%} vs {sig['expected_within_window']:.1%} (p = {sig['p_value']:.4f})",
        )
    table.add_row("label changes", f"{len(result['label_changes']):,}")
    table.add_row("quarantined rows", f"{result['quarantine']['rows']:,}")
    out.print(table)
    missing = result.get("missing_inputs") or []
    if missing:
        out.print("[bold]The case has no input of these kinds, so some findings cannot exist:[/]")
        for m in missing:
            out.print(f"  {m['kind']}: {literal(m['effect'])} (cargotrace ingest {m['kind']} FILE)")
    for line in result.get("left_out", {}).get("summary", []):
        out.print(f"left out of the totals: {line}", markup=False, highlight=False)
    crowds = result.get("events", {}).get("encounter_crowds", 0)
    if crowds:
        err.print(
            f"[bold yellow]warning:[/] {crowds:,} ten-minute bins hold crowds of vessels close together "
            f"(more than {result['parameters'].get('encounter_max_vessels_per_cell')} in one cell: a "
            "convoy, a fleet in port, or spoofed positions); they were not searched for "
            "encounters pair by pair. See `cargotrace export --table encounter_crowds`; raise "
            "the limit with --set encounter_max_vessels_per_cell=N.",
            highlight=False,
            soft_wrap=True,
        )


def _export_tables() -> str:
    from cargotrace.report.export import table_help

    return table_help()


# Tables exported as ingested: a later `ingest` cannot make them stale.
SOURCE_EXPORTS = {"positions", "vessels", "vessel_identities", "shipments", "quarantine", "ledger",
                  "stations", "facilities", "ports", "sightings", "watchlist"}  # fmt: skip


def _warn_stale(case: Path) -> None:
    """One line on stderr when files were ingested after the stored analysis."""
    status = _guard(lambda: CaseSession(case).status())
    if status["stale"]:
        err.print(f"warning: {status['message']}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def export(
    case: CaseOption = Path("."),
    format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            help="json, csv, geojson or parquet (GeoParquet for tables with geometry). "
            "Default: from the extension of --out; a contradicting extension is refused.",
        ),
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("findings.json"),
    table: Annotated[
        str | None,
        typer.Option("--table", help="One table instead of the findings. " + _export_tables()),
    ] = None,
) -> None:
    """Write the findings (default) or one table."""
    if table is None or table not in SOURCE_EXPORTS:
        _warn_stale(case)
    count = _guard(
        lambda: CaseSession(case).export(out_path, format.value if format else None, table)
    )
    from cargotrace.report.export import EXTENSIONS

    fmt = format.value if format else EXTENSIONS.get(out_path.suffix.lower(), "json")
    if table is not None:
        what = f"{count:,} rows of {table}"
    elif fmt in ("json", "geojson"):
        what = "the findings" if fmt == "json" else f"{count:,} sites"
    else:  # a table format without --table: the linked shipments, said so
        what = f"{count:,} rows of linked_shipments; --table chooses another table"
    out.print(f"wrote {literal(out_path)} ({what})")


@app.command()
def report(
    case: CaseOption = Path("."),
    out_path: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path(
        "report.html"
    ),
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also print a PDF (needs Chromium).")
    ] = None,
) -> None:
    """Write the self-contained, offline HTML report (and optionally a PDF)."""
    _warn_stale(case)
    info = _guard(lambda: CaseSession(case).report(out_path, pdf))
    out.print(
        f"wrote {literal(info['html'])} ({info['bytes'] / 1e6:.1f} MB)"
        + (f" and {literal(info['pdf'])}" if "pdf" in info else "")
    )


@app.command()
def explain(
    waybill: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="What to explain: a waybill (consignment number); a vessel (MMSI, IMO number, "
            "name, or a vessel_key / ship_key such as IMO:9900112); a port_call_id or arrival_id; "
            "a gap_id (gaps or coverage_gaps); a watchlist hit_id. The ids are those the "
            "findings and `export --table` show.",
        ),
    ],
    case: CaseOption = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """The evidence behind an id: a shipment's chain from source rows to destination site, or a
    vessel's calls, gaps and encounters, a port call, an arrival, a gap, a watchlist hit."""
    _warn_stale(case)
    results = _guard(lambda: CaseSession(case).explain(waybill))
    if as_json:
        shown: Any = (
            results[0] if len(results) == 1 and results[0]["kind"] == "waybill" else results
        )
        out.print_json(json_clean(json.dumps(shown, ensure_ascii=False, default=str)))
        return
    for n, result in enumerate(results):
        if n:
            out.print()
        if result["kind"] != "waybill":
            for line in result["lines"]:
                out.print(line, highlight=False, markup=False, soft_wrap=True)
            continue
        _print_waybill(waybill, result)


def _print_waybill(waybill: str, result: dict[str, Any]) -> None:
    out.print(f"[bold]Waybill {literal(waybill)}[/]", highlight=False)
    for r in result["records"]:
        out.print(f"  record: {r['record']} {r['departed_on'] or ''} «{r['cargo']}» ({r['cargo_class']}) "
                  f"{r['weight_t']} t {r['origin_station']} -> {r['destination_station']} "
                  f"[{r['source_file']}, row {r['source_row']}]", highlight=False, markup=False)  # fmt: skip
    if not result["links"]:
        out.print("  not linked to any arrival of interest with the stored parameters")
    for link in result["links"]:
        for i, step in enumerate(link["evidence_chain"], start=1):
            out.print(f"  {i}. {step}", highlight=False, markup=False)
    for change in result["label_changes"]:
        out.print(f"  label change: declared {change['declared']} («{change['declared_text']}») -> at destination "
                  f"{change['at_destination']} («{change['at_destination_text']}»)", highlight=False, markup=False)  # fmt: skip


@app.command()
def quarantine(
    case: CaseOption = Path("."),
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also list the refused rows of files that a corrected copy "
            "(same name, ingested later) has superseded.",
        ),
    ] = False,
) -> None:
    """Refused rows, grouped by reason, with example locations."""
    groups = _guard(lambda: CaseSession(case).quarantine(include_superseded=show_all))
    rows = [r for r in groups if r["rows"]]
    hidden = 0 if show_all else sum(r["superseded"] for r in groups)
    if rows:
        # Folded, not cut with an ellipsis: the row numbers at the end of the examples are
        # what the reader needs, and a pipe or a log gives rich 80 columns only.
        table = Table(
            "kind", "reason", "column", "rows", Column("examples (file:row)", overflow="fold")
        )
        for r in rows:  # Text: file names come from the user's files, never read as markup
            cells = (
                r["kind"],
                r["reason"],
                r["column_name"] or "",
                f"{r['rows']:,}",
                ", ".join(r["examples"]),
            )
            table.add_row(*(cell(c) for c in cells))
        out.print(table)
    elif not hidden:
        out.print("no quarantined rows")
    if hidden:
        out.print(
            f"{hidden:,} more rows of files superseded by corrected copies (--all lists them)"
        )


@app.command()
def check(case: CaseOption = Path(".")) -> None:
    """Integrity check: the ledger and the tables agree; and whether the stored analysis is
    up to date with the files ingested."""
    problems = _guard(lambda: CaseSession(case).check())
    status = _guard(lambda: CaseSession(case).status())
    if problems:
        for p in problems:
            err.print(f"problem: {literal(p)}")
    else:
        out.print(f"case {literal(case)} is consistent")
    if status["stale"]:
        err.print(f"warning: {status['message']}", markup=False, highlight=False, soft_wrap=True)
    elif status["analyzed_at"] is None:
        out.print(
            f"no analysis stored yet: run `cargotrace analyze --case {literal(case)}`",
            highlight=False,
        )
    else:
        out.print(
            f"analysis of {status['analyzed_at']}: up to date with the files ingested",
            highlight=False,
        )
    if problems:
        raise typer.Exit(1)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the sample inputs, the case and the outputs.")
    ] = Path("cargotrace-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic sample generator.")] = 20240613,
    detections: Annotated[
        bool,
        typer.Option(
            "--detections",
            help="Replace the sightings of dark calls by the anonymous satellite detections "
            "they stand for (plus lit and noise detections).",
        ),
    ] = False,
) -> None:
    """Run the whole pipeline on the bundled SYNTHETIC sample case."""
    from cargotrace.demo import run_demo

    started = time.perf_counter()
    result = _guard(
        lambda: run_demo(
            out_dir,
            seed,
            on_step=lambda msg: err.print(f"- {literal(msg)}"),
            on_ingest=_print_ingest,
            detections=detections,
        )
    )
    out.print("[bold yellow]SYNTHETIC SAMPLE DATA[/] — the demo shows the method, not evidence.")
    _print_headline(result.findings)
    out.print(
        f"findings: {literal(result.findings_path)}\nreport:   {literal(result.report_path)}\n"
        f"case:     {literal(result.case_dir)}"
    )
    out.print(f"done in {time.perf_counter() - started:.1f} s")


def version_callback(value: bool) -> None:
    if value:
        out.print(f"cargotrace {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """cargotrace: link leaked rail records to vessel arrivals, with the evidence chain."""
    ctx.with_resource(one_command())  # a command says the case's notes once, whatever it opens


def main() -> None:
    try:
        app()
    except CargotraceError as exc:  # a last guard: bad input never ends in a traceback
        err.print(f"error: {literal(exc)}")
        sys.exit(2)
    except Exception as exc:  # a bug: say so in one line (the traceback on request)
        if os.environ.get("CARGOTRACE_DEBUG"):
            raise
        err.print(
            f"error: internal error ({type(exc).__name__}: {literal(exc)}); this is a bug in "
            "cargotrace: please report it with the command you ran (CARGOTRACE_DEBUG=1 shows "
            "the traceback)"
        )
        sys.exit(1)
