"""The library API behind every command: each CLI command is one call here plus printing,
so a notebook can do everything the command line does."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cargotrace.case import freshness, quarantine
from cargotrace.case.store import DB_NAME, Case
from cargotrace.errors import CargotraceError, InputError
from cargotrace.ingest.kinds.ports import load_default_gazetteer
from cargotrace.ingest.registry import KINDS, ingest_file
from cargotrace.ingest.types import IngestResult, Mapping
from cargotrace.outputs import atomic_output, check_output_path, json_text
from cargotrace.reference.identifiers import id_key, id_key_sql
from cargotrace.settings import AnalysisSettings
from cargotrace.stage import Stage

if TYPE_CHECKING:
    from cargotrace.analysis.pipeline import Delegate


def init_case(case_dir: Path) -> dict[str, Any]:
    with Case.open(case_dir, create=True, purpose="init") as case:
        seed_reference_data(case)
        return {"case": str(case.root), "ports": case.scalar("SELECT count(*) FROM ports")}


def seed_reference_data(case: Case) -> None:
    """A case made by this open gets the default port gazetteer (UN/LOCODE, from searoute)."""
    if case.created:
        load_default_gazetteer(case)


def is_case(case_dir: Path) -> bool:
    """Whether `case_dir` already holds a case (its database file)."""
    return (Path(case_dir) / DB_NAME).is_file()


def ingest(
    case_dir: Path,
    kind: str,
    files: list[Path],
    mapping_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    dry_run: bool = False,
    sheet: str | None = None,
    replace: bool = False,
) -> list[IngestResult]:
    """Load files into the case. `dry_run`: read the first rows of each file through the
    same pipeline in memory and report (`detail["preview"]`); the case is not touched.
    `sheet`: the one workbook sheet to read (overrides the mapping's). `replace`: a file
    the case already holds is read again and replaces its earlier rows."""
    if kind not in KINDS:
        raise InputError(f"unknown KIND {kind!r}; expected one of: {', '.join(KINDS)}")
    mapping = Mapping.load(mapping_file)
    if sheet is not None:
        mapping.sheet = sheet
    for path in files:
        if not path.is_file():
            raise InputError(
                "file not found" if not path.exists() else "not a regular file", file=str(path)
            )
    if dry_run:
        from cargotrace.ingest.registry import preview_file

        return [preview_file(kind, path, mapping, case_dir) for path in files]
    results = []
    with Case.open(case_dir, write=True, create=True, purpose="ingest") as case:
        seed_reference_data(case)
        for path in files:
            results.append(ingest_file(case, kind, path, mapping, progress, replace=replace))
    return results


def analyze(
    case_dir: Path,
    settings: AnalysisSettings,
    on_stage: Callable[[str, int, float], None] | None = None,
    *,
    debug: bool = False,
) -> dict[str, Any]:
    with Case.open(case_dir, write=True, purpose="analyze", snapshot=True) as case:
        return analyze_case(case, settings, on_stage=on_stage, debug=debug)


def analyze_case(
    case: Case,
    settings: AnalysisSettings,
    *,
    on_stage: Callable[[str, int, float], None] | None = None,
    debug: bool = False,
) -> dict[str, Any]:
    """Run every stage of the analysis, then assemble, check and store the findings, in one
    transaction. `--engine spark` hands the maritime stages to the Spark engine first.
    `debug`: keep the intermediate tables in the case's `debug` schema."""
    from cargotrace.analysis.pipeline import run_analysis
    from cargotrace.report.findings import build_findings
    from cargotrace.report.schema import validate_findings

    delegate = _spark_delegate() if settings.engine == "spark" else None
    with case.transaction():
        run_analysis(case, settings, on_stage=on_stage, delegate=delegate, debug=debug)
        findings = build_findings(case, settings)
        validate_findings(json.loads(json.dumps(findings, default=str)))
        case.set_meta("findings", json_text(findings))
        case.set_meta("analyzed_at", datetime.now(UTC).isoformat(timespec="seconds"))
        freshness.record_analysis(case)
        case.set_meta("parameters", json.dumps(settings.as_parameters()))
    # typed while built (report/findings_types.py); callers read it as JSON
    return cast(dict[str, Any], findings)


def _spark_delegate() -> Delegate:
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            f"--engine spark needs the optional Spark dependencies ({exc.name} is missing): "
            "pip install 'cargotrace[spark]' (and a Java 17+ runtime)"
        ) from None
    from cargotrace.engine.spark_job import run_case_on_spark

    def delegate(
        case: Case,
        settings: AnalysisSettings,
        stages: Sequence[Stage],
        on_stage: Callable[[str, int, float], None] | None,
    ) -> tuple[set[str], set[str]]:
        return run_case_on_spark(case, settings, stages, on_stage=on_stage)

    return delegate


def export(case_dir: Path, fmt: str | None, out: Path, table: str | None = None) -> int:
    from cargotrace.report import export as exporter

    with Case.open(case_dir) as case:
        return exporter.export(case, fmt, out, table)


def analysis_status(case_dir: Path) -> dict[str, Any]:
    """Whether the stored analysis is stale (files ingested since): `stale`, `message`."""
    from cargotrace.case import freshness

    with Case.open(case_dir) as case:
        return freshness.analysis_status(case)


def report(case_dir: Path, out: Path, pdf: Path | None = None) -> dict[str, Any]:
    from cargotrace.report.data import build_report_data
    from cargotrace.report.html import render_report

    check_output_path(out)
    if out.suffix.lower() not in (".html", ".htm", ""):
        raise InputError(
            f"--out {out}: the report is an HTML file; give an --out ending in .html"
            + (" and --pdf for the PDF" if out.suffix.lower() == ".pdf" else "")
        )
    chromium = None
    if pdf is not None:
        from cargotrace.report.pdf import find_chromium

        check_output_path(pdf, "--pdf")
        chromium = find_chromium()
        if chromium is None:
            raise CargotraceError(
                "--pdf: Chromium is needed to print the report to PDF but was not found; install "
                "it (e.g. `apt-get install chromium`) or set CARGOTRACE_CHROMIUM to its path. "
                "The HTML report itself prints from any browser. Nothing was written."
            )
    with Case.open(case_dir) as case:
        data = build_report_data(case)
    with atomic_output(out) as temp:
        temp.write_text(render_report(data), encoding="utf-8")
    info: dict[str, Any] = {"html": str(out), "bytes": out.stat().st_size}
    if pdf is not None:
        from cargotrace.report.pdf import render_pdf

        try:
            render_pdf(out, pdf, chromium=chromium)  # beside `pdf`, renamed into place
        except RuntimeError as exc:  # ChromiumNotFoundError too
            raise CargotraceError(f"--pdf {pdf}: {exc}; {pdf} was left as it was") from None
        info["pdf"] = str(pdf)
    return info


def explain(case_dir: Path, waybill: str) -> list[dict[str, Any]]:
    """The evidence behind an id (report/explain.py): a waybill's chain (`records`, `links`,
    `label_changes`, kind "waybill"), then every vessel, port call, arrival, gap or watchlist
    hit of that id; an id that is none of these is an error saying what explain takes."""
    from cargotrace.report.explain import explain_other, not_found
    from cargotrace.report.export import findings

    with Case.open(case_dir) as case:
        result = findings(case)
        rows = case.rows(
            "SELECT waybill, wagon, record, departed_on, arrived_on, cargo, cargo_class, cargo_rule, weight_t, "
            "origin_station, destination_station, source_file, sheet, source_row, flags FROM shipments "
            f"WHERE {id_key_sql('waybill')} = ? ORDER BY source_file, source_row",
            [id_key(waybill)],
        )
        others = explain_other(case, waybill)
    if not rows and not others:
        raise not_found(waybill)
    if not rows:
        return others
    # look-alike Latin/Cyrillic letters, case and punctuation compared as one (reference/identifiers.py)
    links = [
        link for link in result["linked_shipments"] if id_key(link["waybill"]) == id_key(waybill)
    ]
    changes = [c for c in result["label_changes"] if id_key(c["waybill"]) == id_key(waybill)]
    chain = {
        "kind": "waybill",
        "id": waybill,
        "records": rows,
        "links": links,
        "label_changes": changes,
    }
    return [chain, *others]


def quarantine_summary(case_dir: Path, include_superseded: bool = False) -> list[dict[str, Any]]:
    """Quarantined rows grouped by kind, reason and column, with example locations.

    A corrected copy of a file (a later file of the same kind holding again every row kept
    from the earlier one; the ledger's `detail.supersedes`) supersedes the earlier copy: the
    earlier copy's refused rows are left out unless `include_superseded`, and `superseded`
    counts them (a group may then show 0 rows). The rows stay in the case."""
    superseded = """
        SELECT unnest(CAST(json_extract(detail, '$.supersedes') AS VARCHAR[])) FROM ledger
        WHERE json_extract(detail, '$.supersedes') IS NOT NULL"""
    with Case.open(case_dir) as case:
        return case.rows(
            # examples: each file's first refused row before any file's second, so a reason
            # shared by several files names them all (the 25,048 rows without a time of the
            # AMSA log were shown as five rows of a gpsd log that has 809)
            f"""WITH q AS (SELECT *, file_hash IN ({superseded}) AS old,
                                  row_number() OVER (PARTITION BY kind, reason, column_name, source_file
                                                     ORDER BY source_row) AS nth
                           FROM {quarantine.rows_sql(case.con)})
                SELECT kind, reason, column_name, count(*) FILTER (WHERE ? OR NOT old) AS rows,
                       count(*) FILTER (WHERE old) AS superseded,
                       list(source_file || ':' || source_row ORDER BY nth, source_file, source_row)
                           FILTER (WHERE ? OR NOT old)[1:5] AS examples
                FROM q GROUP BY kind, reason, column_name
                ORDER BY rows DESC, kind, reason""",
            [include_superseded] * 2,
        )


def check_case(case_dir: Path) -> list[str]:
    """Integrity check: ledger counts agree with the tables; returns the problems found."""
    problems: list[str] = []
    tables = {"shipments": "shipments", "ais": "positions", "vessels": "vessel_reports", "sightings": "sightings",
              "ports": "ports", "stations": "stations", "facilities": "facilities", "watchlist": "watchlist",
              "borders": "borders", "gfw-events": "gfw_events",
              "detections": "(SELECT file_hash FROM detections UNION ALL SELECT file_hash FROM empty_scenes)"}  # fmt: skip
    with Case.open(case_dir) as case:  # read-only: a received case is checked as it came
        if not case.has_table("empty_scenes"):  # a case made before scenes without detections
            tables["detections"] = "detections"
        problems += quarantine.part_problems(case.con, case.root)  # NMEA logs' refused runs
        for row in case.rows(
            "SELECT file_hash, kind, file_name, rows_read, rows_kept, rows_quarantined, rows_duplicate FROM ledger"
        ):
            if (
                row["rows_read"]
                != row["rows_kept"] + row["rows_quarantined"] + row["rows_duplicate"]
            ):
                problems.append(f"{row['file_name']}: ledger rows do not add up")
            kept = case.scalar(
                f"SELECT count(*) FROM {tables[row['kind']]} WHERE file_hash = ?",
                [row["file_hash"]],
            )
            quarantined = case.scalar(
                f"SELECT coalesce(sum(rows), 0) FROM {quarantine.counted_sql(case.con)} WHERE file_hash = ?",
                [row["file_hash"]],
            )
            if row["kind"] != "ais" and kept != row["rows_kept"]:
                problems.append(
                    f"{row['file_name']}: ledger says {row['rows_kept']} rows kept, table holds {kept}"
                )
            if quarantined != row["rows_quarantined"]:
                problems.append(
                    f"{row['file_name']}: ledger says {row['rows_quarantined']} quarantined, table holds {quarantined}"
                )
        problems += quarantine.run_problems(case.con)
        orphans = case.scalar(
            "SELECT count(*) FROM shipments WHERE file_hash NOT IN (SELECT file_hash FROM ledger)"
        )
        if orphans:
            problems.append(f"{orphans} shipment rows come from no file in the ledger")
        findings = case.meta("findings")
        if findings is not None:
            try:
                json.loads(findings)
            except json.JSONDecodeError:
                problems.append(
                    "stored findings are not valid JSON; run `cargotrace analyze` again"
                )
    return problems
