"""The read-only commands while another process writes the case: during `analyze` they read
the copy of the last committed state it made; during another write they say who holds the
case and to run again when it ends. A second writer is told who holds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cargotrace import workflow
from cargotrace.case.store import SNAPSHOT_DIR, Case
from cargotrace.settings import AnalysisSettings

from builders import POSITION_HEADER, T0, VOSTOCHNY, dwell, write_csv


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cargotrace", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip


def _analysed(tmp_path):
    case = tmp_path / "case"
    path = write_csv(tmp_path / "p.csv", POSITION_HEADER, dwell(273000001, VOSTOCHNY, T0, 6))
    workflow.ingest(case, "ais", [path])
    workflow.analyze(case, AnalysisSettings())
    return case


def test_reads_during_analyze_see_the_last_committed_state(tmp_path):
    case = _analysed(tmp_path)
    with Case.open(case) as reader:
        stored = json.loads(reader.meta("findings"))
    with Case.open(case, write=True, purpose="analyze", snapshot=True) as writer:
        writer.con.execute("UPDATE meta SET value = '{}' WHERE key = 'findings'")  # not committed
        assert (case / SNAPSHOT_DIR / "case.duckdb").is_file()
        # making the copy kept DuckDB's own lock on the case (a close in this process would drop it)
        probe = "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)"
        locked = subprocess.run([sys.executable, "-c", probe, str(case / "case.duckdb")],
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert locked.returncode == 1 and "Could not set lock" in locked.stderr
        checked = _cli("check", "--case", case)
        assert checked.returncode == 0, checked.stderr
        assert f"case {case} is consistent" in " ".join(checked.stdout.split())
        note = " ".join(checked.stderr.split())
        assert note.count("note:") == 1  # once, though `check` opens the case several times
        assert note.startswith(f"note: `cargotrace analyze` (pid {os.getpid()}, since ")
        assert note.endswith(
            f"is writing case {case}; this command reads the case as it was before that began "
            "(its last committed state)"
        )
        # the library: each method is a command, told once (a notebook's second command
        # while the same analysis writes is told again); `check` opens the case three times
        script = (
            "import cargotrace, sys; s = cargotrace.open_case(sys.argv[1], create=False); "
            "s.check(); print('-', file=sys.stderr); s.check(); s.table('ports')"
        )
        library = subprocess.run([sys.executable, "-c", script, str(case)], capture_output=True,
                                 text=True, check=False, timeout=300)  # fmt: skip
        assert library.returncode == 0, library.stderr
        told = [part.count("note:") for part in library.stderr.split("\n-\n")]
        assert told == [1, 2]  # check; check, table
        out = tmp_path / "findings.json"
        exported = _cli("export", "--case", case, "--out", out)
        assert exported.returncode == 0, exported.stderr
        assert json.loads(out.read_text(encoding="utf-8"))["totals"] == stored["totals"]
        # a second writer is told who holds the case
        refused = _cli("analyze", "--case", case)
        assert refused.returncode == 2
        assert f"case {case} is busy: `cargotrace analyze` (pid {os.getpid()}, since " in " ".join(
            refused.stderr.split()
        )
    assert not (case / SNAPSHOT_DIR).exists()  # removed when the analysis ends
    assert (case / "case.lock").read_text(encoding="utf-8") == ""  # and the holder's name


def test_reads_during_another_write_are_told_who_holds_the_case(tmp_path):
    case = _analysed(tmp_path)
    with Case.open(case, write=True, purpose="ingest"):
        refused = _cli("quarantine", "--case", case)
    assert refused.returncode == 2
    text = " ".join(refused.stderr.split())
    assert f"case {case} is busy: `cargotrace ingest` (pid {os.getpid()}, since " in text
    assert text.endswith(
        "is writing it. A case can be written by one process or read by several, not both at "
        "once: run this command again when that one ends (nothing is wrong with the case)"
    )
    assert "Traceback" not in refused.stderr


def test_a_case_bigger_than_the_snapshot_bound_is_not_copied(tmp_path, monkeypatch):
    case = _analysed(tmp_path)
    monkeypatch.setenv("CARGOTRACE_SNAPSHOT_MAX_GB", "0")
    with Case.open(case, write=True, purpose="analyze", snapshot=True):
        assert not (case / SNAPSHOT_DIR).exists()
        refused = _cli("check", "--case", case)
    assert refused.returncode == 2
    assert "is busy: `cargotrace analyze`" in " ".join(refused.stderr.split())
