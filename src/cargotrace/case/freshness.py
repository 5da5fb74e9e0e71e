"""Is the stored analysis still the analysis of the case's files?

`analyze` stores the findings with a fingerprint of the ledger (every file's hash and
ingestion time). A later `ingest` (or a file replaced) changes the ledger: `export`,
`report` and `explain` then serve findings that do not reflect the case, and say so
(`analysis_status` in the findings, a line on stderr, a banner in the report).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from cargotrace.case.store import Case

FINGERPRINT_KEY = "analyzed_ledger"


def ledger_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT md5(coalesce(string_agg(file_hash || '@' || coalesce(CAST(ingested_at AS VARCHAR), ''), ',' "
        "ORDER BY file_hash), '')) FROM ledger"
    ).fetchone()
    return str(row[0]) if row else ""


def record_analysis(case: Case) -> None:
    """Called by `analyze` in its transaction, next to the findings."""
    case.set_meta(FINGERPRINT_KEY, ledger_fingerprint(case.con))


def analysis_status(case: Case) -> dict[str, Any]:
    """`stale` when files were ingested (or removed) after the stored analysis."""
    analyzed_at = case.meta("analyzed_at")
    if analyzed_at is None:
        return {"analyzed_at": None, "stale": False, "message": None, "files_since": []}
    since = [
        r["file_name"]
        for r in case.rows(
            "SELECT file_name FROM ledger WHERE ingested_at > ? ORDER BY ingested_at, file_name",
            [datetime.fromisoformat(analyzed_at)],
        )
    ]
    stored = case.meta(FINGERPRINT_KEY)
    stale = bool(since) if stored is None else stored != ledger_fingerprint(case.con)
    message = None
    if stale:
        what = (
            f"{len(since)} file(s) ingested since ({', '.join(since[:5])}{', ...' if len(since) > 5 else ''})"
            if since
            else "the case's files changed since"
        )
        message = (
            f"STALE: these findings come from the analysis of {analyzed_at}; {what}. "
            f"Run `cargotrace analyze --case {case.root}` to bring them up to date."
        )
    return {"analyzed_at": analyzed_at, "stale": stale, "message": message, "files_since": since}
