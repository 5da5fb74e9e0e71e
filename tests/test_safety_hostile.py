"""Issue 17 (hostile files and paths) and issue 16 (typo and read-only cases): no failure
destroys an output or writes outside the case, no file exhausts the machine, and no command
ends in a traceback. Each test is named after the item it guards."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.cli.safe_text import clean, json_clean, literal
from cargotrace.errors import CargotraceError, InputError
from cargotrace.outputs import json_text
from hostile_workbooks import ROWS, workbook

from builders import CaseBuilder, write_csv

runner = CliRunner()
T0 = datetime(2023, 9, 1, tzinfo=UTC)
HOSTILE_CARGO = "взрывчатые вещества \x1b]0;pwned\x07\x1b[2J[red]x[/red]"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small analysed case: one shipment whose cargo text carries terminal sequences."""
    builder = CaseBuilder(tmp_path_factory.mktemp("analysed"))
    builder.sighting(T0, "RUVYP")
    builder.shipment("ЭА1", T0 + timedelta(days=2), cargo=HOSTILE_CARGO)
    builder.shipment("ЭА2", T0 + timedelta(days=3))
    with builder.run():
        pass
    return builder.case_dir


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {args}") from result.exception
    return result.exit_code, " ".join(result.output.split())


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A tiny RAM file system (root only): a real full disk, remountable read-only."""
    if not _can_mount():
        pytest.skip("mounting a tmpfs needs root")
    point = tmp_path / "mnt"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(point)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path) -> None:
    handle = open(folder / "filler", "wb", buffering=0)  # noqa: SIM115 - closed below
    try:
        while True:
            handle.write(b"\0" * 65536)
    except OSError:
        pass
    finally:
        handle.close()


# --------------------------------------------------------------- data destroyed or written outside
@pytest.mark.parametrize("fmt", ["json", "csv", "geojson", "parquet"])
def test_a_failed_export_in_every_format_leaves_the_previous_file(
    analysed, tmp_path, monkeypatch, fmt
):
    """A failure mid-write (here a full disk after some bytes) leaves the file that was there
    and no temporary file beside it; `export --format parquet` used to delete it."""
    import cargotrace.report.export as exporter

    target = tmp_path / f"out.{fmt}"
    target.write_text("previous")
    real = exporter._write

    def fail_midway(case, fmt_, out, table):
        real(case, fmt_, out, table)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exporter, "_write", fail_midway)
    table = ["--table", "linked_shipments"] if fmt in ("csv", "parquet") else []
    code, output = _invoke("export", "--case", analysed, "--format", fmt, "--out", target, *table)
    assert code == 2 and "disk is full" in output and "left as it was" in output
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_failed_parquet_export_does_not_delete_the_target_on_a_full_disk(analysed, tmpfs):
    target = tmpfs / "x.parquet"
    target.write_text("previous")
    _fill(tmpfs)
    code, output = _invoke(
        "export", "--case", analysed, "--format", "parquet", "--table", "shipments", "--out", target
    )
    assert code == 2 and "disk is full" in output
    assert target.read_text() == "previous"
    code, output = _invoke("report", "--case", analysed, "--out", tmpfs / "report.html")
    assert code == 2 and "disk is full" in output and not (tmpfs / "report.html").exists()


def test_outputs_replace_the_target_only_when_complete(analysed, tmp_path):
    target = tmp_path / "findings.json"
    target.write_text("previous")
    code, _ = _invoke("export", "--case", analysed, "--out", target)
    assert code == 0 and json.loads(target.read_text())["linked_shipments"] is not None
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_sigkill_mid_export_leaves_the_previous_file_or_the_whole_new_one(analysed, tmp_path):
    target = tmp_path / "positions.json"
    target.write_text('"previous"')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for delay_s in (0.2, 0.5, 0.9, 1.5):
        child = subprocess.Popen(
            [sys.executable, "-m", "cargotrace", "export", "--case", str(analysed), "--format", "json",
             "--table", "ports", "--out", str(target)], env=env)  # fmt: skip
        time.sleep(delay_s)
        child.send_signal(signal.SIGKILL)
        child.wait()
        text = target.read_text()
        assert text == '"previous"' or isinstance(json.loads(text), list)


def test_report_pdf_without_chromium_leaves_the_previous_files(analysed, tmp_path, monkeypatch):
    monkeypatch.setenv("CARGOTRACE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    html.write_text("previous html")
    pdf.write_bytes(b"previous pdf")
    code, output = _invoke("report", "--case", analysed, "--out", html, "--pdf", pdf)
    assert code == 2 and "Chromium" in output
    assert pdf.read_bytes() == b"previous pdf" and html.read_text() == "previous html"


def test_report_pdf_that_chromium_fails_to_print_keeps_the_previous_pdf(
    analysed, tmp_path, monkeypatch
):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'printing failed' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CARGOTRACE_CHROMIUM", str(fake))
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"previous pdf")
    code, output = _invoke("report", "--case", analysed, "--out", tmp_path / "r.html", "--pdf", pdf)
    assert code == 2 and "printing failed" in output and "left as it was" in output
    assert pdf.read_bytes() == b"previous pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chromium", "r.html", "r.pdf"]


def test_an_output_that_is_a_device_a_folder_or_under_a_file_is_refused(analysed, tmp_path):
    (tmp_path / "afile").write_text("x")
    for target, words in (
        (tmp_path, "it is a folder"),
        (tmp_path / "afile" / "x.json", "is a file, not a folder"),
    ):
        code, output = _invoke("export", "--case", analysed, "--out", target)
        assert code == 2 and words in output
    if Path("/dev/full").exists():
        before = os.stat("/dev/full")
        for fmt in ("json", "parquet"):
            code, output = _invoke(
                "export",
                "--case",
                analysed,
                "--format",
                fmt,
                "--table",
                "ports",
                "--out",
                "/dev/full",
            )
            assert code == 2 and "not a regular file" in output
        code, output = _invoke("report", "--case", analysed, "--out", "/dev/full")
        assert code == 2
        assert (
            stat.S_ISCHR(os.stat("/dev/full").st_mode)
            and os.stat("/dev/full").st_ino == before.st_ino
        )


def test_the_demo_never_replaces_a_case_it_did_not_make(tmp_path):
    real = tmp_path / "out" / "case"
    workflow.init_case(real)
    code, output = _invoke("demo", "--out", tmp_path / "out")
    assert code == 2 and "real (not synthetic) case" in output
    assert (real / "case.duckdb").is_file()
    (tmp_path / "other" / "case").mkdir(parents=True)
    (tmp_path / "other" / "case" / "notes.txt").write_text("mine")
    code, output = _invoke("demo", "--out", tmp_path / "other")
    assert code == 2 and (tmp_path / "other" / "case" / "notes.txt").read_text() == "mine"


def test_a_case_whose_wal_is_a_symlink_is_refused_and_the_target_untouched(tmp_path):
    case = tmp_path / "received"
    workflow.init_case(case)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    (case / "case.duckdb.wal").symlink_to(victim)
    for command in ("check", "quarantine", "analyze"):
        code, output = _invoke(command, "--case", case)
        assert code == 2 and "symbolic link, case.duckdb.wal" in output
    assert victim.read_text() == "not yours"


def test_a_case_holding_a_special_file_is_refused(tmp_path):
    case = tmp_path / "received"
    workflow.init_case(case)
    os.mkfifo(case / "case.duckdb.wal")
    code, output = _invoke("check", "--case", case)
    assert code == 2 and "not a regular file" in output


def test_check_needs_no_write_access(analysed, monkeypatch):
    import cargotrace.case.store as store

    def no_writes(root):
        raise AssertionError("check took the write lock")

    monkeypatch.setattr(store, "_take_lock", no_writes)
    code, output = _invoke("check", "--case", analysed)
    assert code == 0 and "consistent" in output


# --------------------------------------------------------------- issue 16: typo and read-only cases
def test_ingest_into_a_folder_that_is_not_a_case_says_it_creates_one(tmp_path):
    facilities = write_csv(
        tmp_path / "f.csv", ["name", "category", "lat", "lon"], [["D", "arsenal", 50, 40]]
    )
    result = runner.invoke(
        app, ["ingest", "facilities", str(facilities), "--case", str(tmp_path / "typo_caes")]
    )
    assert result.exit_code == 0
    assert "typo_caes was not a cargotrace case: a new case was created there" in " ".join(
        result.output.split()
    )
    again = runner.invoke(
        app, ["ingest", "facilities", str(facilities), "--case", str(tmp_path / "typo_caes")]
    )
    assert "a new case was created" not in again.output


def test_a_read_only_case_folder_gives_a_message_and_the_read_only_commands_work(
    analysed, tmp_path, monkeypatch
):
    import cargotrace.case.store as store

    real_open = open

    def read_only_lock(path, *args, **kwargs):
        if str(path).endswith("case.lock"):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(store, "open", read_only_lock, raising=False)
    data = write_csv(
        tmp_path / "x.csv", ["name", "category", "lat", "lon"], [["D", "arsenal", 50, 40]]
    )
    for command in (["analyze"], ["ingest", "facilities", str(data)], ["init"]):
        code, output = _invoke(*command, "--case", analysed)
        assert code == 2 and "cannot be written" in output and "read-only commands" in output
    _read_only_commands_work(analysed, tmp_path)


def _read_only_commands_work(case: Path, out: Path) -> None:
    assert _invoke("check", "--case", case)[0] == 0
    assert _invoke("quarantine", "--case", case)[0] == 0
    assert _invoke("explain", "ЭА2", "--case", case)[0] == 0
    assert _invoke("export", "--case", case, "--out", out / "f.json")[0] == 0
    assert _invoke("report", "--case", case, "--out", out / "r.html")[0] == 0


def test_a_case_on_a_read_only_file_system(analysed, tmpfs, tmp_path):
    shutil.copytree(analysed, tmpfs / "case")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    code, output = _invoke("analyze", "--case", tmpfs / "case")
    assert code == 2 and "read-only" in output
    _read_only_commands_work(tmpfs / "case", tmp_path)


# --------------------------------------------------------------- crashes and exhaustion: XLSX
def _ingest_workbook(path: Path, tmp_path: Path) -> tuple[int, str]:
    return _invoke("ingest", "shipments", path, "--case", tmp_path / "case")


def test_xlsx_far_cell_single_quoted_is_refused(tmp_path):
    far = "<row r='1048576'><c r='XFD1048576' t='inlineStr'><is><t>x</t></is></c></row>"
    path = workbook(tmp_path / "quoted.xlsx", rows=lambda out: out.write((ROWS + far).encode()))
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "1,048,576 rows x 16,384 columns" in output


def test_xlsx_far_cell_written_with_a_character_reference_is_refused(tmp_path):
    far = '<row r="&#49;048576"><c r="&#88;FD1048576"><v>1</v></c></row>'
    path = workbook(tmp_path / "escaped.xlsx", rows=lambda out: out.write((ROWS + far).encode()))
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "1,048,576 rows x 16,384 columns" in output


def test_xlsx_cells_without_r_count_toward_the_cell_limit(tmp_path, monkeypatch):
    """Cells and rows without an `r` reference fall where calamine puts them: after the
    previous one. 2,000 rows of 30 such cells span 60,060 cells."""
    row = "<row>" + "<c><v>1</v></c>" * 30 + "</row>"
    path = workbook(
        tmp_path / "no_r.xlsx", rows=lambda out: out.write((ROWS + row * 2000).encode())
    )
    monkeypatch.setenv("CARGOTRACE_MAX_SHEET_CELLS", "60000")
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "2,001 rows x 30 columns = 60,030 cells" in output
    monkeypatch.setenv("CARGOTRACE_MAX_SHEET_CELLS", "60060")
    from cargotrace.ingest.readers.excel import check_sheet_spans

    check_sheet_spans(path, "no_r.xlsx")


def test_xlsx_30_million_cells_without_r_pass_no_more(tmp_path):
    row = b"<row>" + b"<c><v>1</v></c>" * 1000 + b"</row>"

    def rows(out):
        out.write(ROWS.encode())
        for _ in range(30_000):
            out.write(row)

    path = workbook(tmp_path / "30m.xlsx", rows=rows)
    assert path.stat().st_size < 2_000_000
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "1,000 columns" in output and "beyond the 20,000,000" in output


def test_xlsx_shared_string_longer_than_a_cell_is_refused_without_expanding_it(tmp_path):
    """A 1 MB workbook holding a 1 GiB shared string took 4.4 GB; here 64 MiB is enough to
    show it is refused from the first 32,768 characters, in little memory."""
    block = b"A" * (1 << 20)

    def strings(out):
        out.write(b"<si><t>")
        for _ in range(64):
            out.write(block)
        out.write(b"</t></si>")

    path = workbook(tmp_path / "bomb.xlsx", strings=strings)
    assert path.stat().st_size < 200_000
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "more than 32,767 characters" in output


def test_xlsx_text_of_shared_strings_is_bounded_at_every_use(tmp_path, monkeypatch):
    """Shared strings count at every cell that uses them: 2,000 cells of a 1,000-character
    string expand to 2 M characters."""

    def strings(out):
        out.write(("<si><t>" + "x" * 1000 + "</t></si>").encode())

    def rows(out):
        out.write(ROWS.encode())
        for r in range(3, 2003):
            out.write(f'<row r="{r}"><c r="A{r}" t="s"><v>6</v></c></row>'.encode())

    path = workbook(tmp_path / "uses.xlsx", rows=rows, strings=strings)
    monkeypatch.setenv("CARGOTRACE_MAX_SHEET_TEXT", "1000000")
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "more than 1,000,000 characters of text" in output
    monkeypatch.setenv("CARGOTRACE_MAX_SHEET_TEXT", "3000000")
    from cargotrace.ingest.readers.excel import check_sheet_spans

    check_sheet_spans(path, "uses.xlsx")


def test_xlsx_member_decompressed_size_is_bounded(tmp_path, monkeypatch):
    path = workbook(
        tmp_path / "big.xlsx", rows=lambda out: out.write((ROWS + "<row/>" * 50_000).encode())
    )
    monkeypatch.setenv("CARGOTRACE_MAX_XLSX_MEMBER_BYTES", "100000")
    code, output = _ingest_workbook(path, tmp_path)
    assert code == 2 and "decompresses to more than 100,000 bytes" in output


def test_xlsx_entity_declarations_are_refused(tmp_path):
    import zipfile

    path = workbook(tmp_path / "laughs.xlsx")
    hostile = tmp_path / "laughs2.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b"<sst", b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]><sst', 1)
            out.writestr(item, data)
    code, output = _ingest_workbook(hostile, tmp_path)
    assert code == 2 and "DTD or entities" in output


def test_genuine_workbook_with_shared_strings_is_read(tmp_path):
    code, output = _ingest_workbook(workbook(tmp_path / "genuine.xlsx"), tmp_path)
    assert code == 0 and "1 rows read = 1 kept" in output


# --------------------------------------------------------------- crashes and exhaustion: encounters
def _convoy_positions(vessels: int, hours: int) -> duckdb.DuckDBPyConnection:
    """`vessels` ships stopped together at sea (far from any port), one fix a minute."""
    con = duckdb.connect()
    con.execute("CREATE TABLE ports (locode VARCHAR, lat DOUBLE, lon DOUBLE)")
    con.execute(
        "CREATE TABLE ship_links (ship_key VARCHAR, mmsi BIGINT, vessel_key VARCHAR, "
        "valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ)"
    )
    con.execute(
        "CREATE TABLE positions AS SELECT 273000000 + v AS mmsi, "
        "TIMESTAMPTZ '2023-09-01 00:00:00+00' + to_minutes(m) AS timestamp, "
        "40.0 + v * 0.00001 AS lat, 150.0 AS lon, 0.5 AS sog "
        f"FROM range({vessels}) a(v), range({hours * 60}) b(m)"
    )
    return con


def _encounters(con: duckdb.DuckDBPyConnection, **settings: object) -> tuple[int, int, int]:
    from cargotrace.maritime import encounters
    from cargotrace.settings import AnalysisSettings

    for statement in encounters.statements(AnalysisSettings(**settings)):  # type: ignore[arg-type]
        con.execute(statement)
    return (
        con.execute("SELECT count(*) FROM encounters").fetchone()[0],  # type: ignore[index]
        con.execute("SELECT count(*) FROM close_pairs").fetchone()[0],  # type: ignore[index]
        con.execute("SELECT count(*) FROM encounter_crowds").fetchone()[0],  # type: ignore[index]
    )


def test_encounters_of_a_150_vessel_convoy_are_bounded_and_said():
    """150 vessels together for 3 h: 11,175 pairs in each of 18 bins were searched one by
    one (quadratic); now the crowd is listed in `encounter_crowds` and no pair is built."""
    con = _convoy_positions(150, 3)
    found, pairs, crowds = _encounters(con)
    assert (found, pairs, crowds) == (0, 0, 18)
    row = con.execute(
        "SELECT min(vessels), max(vessels), min(cells) FROM encounter_crowds"
    ).fetchone()
    assert row == (150, 150, 1)


def test_encounters_below_the_crowd_limit_are_all_found():
    con = _convoy_positions(12, 3)
    assert _encounters(con) == (66, 66 * 18, 0)  # every pair meets for the whole 3 h
    con = _convoy_positions(12, 3)
    found, pairs, crowds = _encounters(con, encounter_max_vessels_per_cell=11)
    assert (found, pairs, crowds) == (0, 0, 18)


def test_the_crowd_warning_reaches_the_findings_and_the_console(tmp_path):
    builder = CaseBuilder(tmp_path)
    for vessel in range(70):
        for minute in range(0, 180, 5):
            builder.positions.append([273000000 + vessel, (T0 + timedelta(minutes=minute)).isoformat(),
                                      40.0 + vessel * 0.00001, 150.0, 0.5, 0, 0, 1])  # fmt: skip
    builder.shipment("ЭА9", T0)
    with builder.run():
        pass
    result = runner.invoke(app, ["analyze", "--case", str(builder.case_dir)])
    assert result.exit_code == 0
    assert "were not searched for encounters pair by pair" in " ".join(result.output.split())
    with Case.open(builder.case_dir) as case:
        findings = json.loads(case.meta("findings"))  # type: ignore[arg-type]
    assert findings["events"]["encounter_crowds"] == 18
    assert findings["parameters"]["encounter_max_vessels_per_cell"] == 64


# --------------------------------------------------------------- tracebacks instead of exit 2
def test_every_command_with_hostile_paths_and_settings_exits_2_with_a_message(analysed, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    data = write_csv(
        tmp_path / "f.csv", ["name", "category", "lat", "lon"], [["D", "arsenal", 50, 40]]
    )
    bad_cases = [afile, afile / "sub", dangling]
    commands = [
        ["init"], ["ingest", "facilities", str(data)], ["analyze"], ["export"], ["report"],
        ["explain", "ЭА1"], ["quarantine"], ["check"],
    ]  # fmt: skip
    for case in bad_cases:
        for command in commands:
            code, output = _invoke(*command, "--case", case)
            assert code == 2 and output.startswith("error:"), (command, case, output)
    bad_outs = [tmp_path, afile / "x", dangling]
    for out in bad_outs:
        for command in (
            ["export"],
            ["export", "--format", "parquet", "--table", "ports"],
            ["report"],
        ):
            code, output = _invoke(*command, "--case", analysed, "--out", out)
            assert code == 2 and output.startswith("error:"), (command, out, output)
        code, output = _invoke(
            "report", "--case", analysed, "--out", tmp_path / "r.html", "--pdf", out
        )
        assert code == 2 and output.startswith("error:"), out
        code, output = _invoke("demo", "--out", afile)
        assert code == 2 and output.startswith("error:")
    for setting in ("gap_hours=inf", "near_km=nan", "encounter_max_m=-inf", "min_call_hours=NaN",
                    "window_days=x", "nosuch=1", "encounter_max_vessels_per_cell=1"):  # fmt: skip
        code, output = _invoke("analyze", "--case", analysed, "--set", setting)
        assert code == 2 and output.startswith("error:"), (setting, output)
    code, output = _invoke("analyze", "--case", analysed, "--near-km", "nan")
    assert code == 2 and output.startswith("error:")


def test_disk_full_during_ingest_and_analyze_exits_2(analysed, tmp_path, monkeypatch):
    import cargotrace.analysis.pipeline as pipeline
    import cargotrace.workflow as wf

    def full(*args, **kwargs):
        raise duckdb.IOException('Could not write file "case.duckdb.wal": No space left on device')

    monkeypatch.setattr(wf, "ingest_file", full)
    monkeypatch.setattr(pipeline, "run_analysis", full)
    data = write_csv(
        tmp_path / "f.csv", ["name", "category", "lat", "lon"], [["D", "arsenal", 50, 40]]
    )
    for command in (["ingest", "facilities", str(data)], ["analyze"]):
        code, output = _invoke(*command, "--case", analysed)
        assert code == 2 and "disk is full" in output


def test_disk_full_during_ingest_on_a_real_full_disk(tmpfs, tmp_path):
    workflow.init_case(tmpfs / "case")
    _fill(tmpfs)
    rows = [[f"D{i}", "arsenal", 50 + i / 1000, 40] for i in range(20_000)]
    data = write_csv(tmp_path / "f.csv", ["name", "category", "lat", "lon"], rows)
    code, output = _invoke("ingest", "facilities", data, "--case", tmpfs / "case")
    assert code == 2 and "disk is full" in output


def test_a_file_of_a_thousand_columns_is_read(tmp_path, monkeypatch):
    """It used to end in a traceback ("Max expression depth"). Under the default 1 GB for
    DuckDB such a file can exhaust DuckDB's memory accounting: then the message says so and
    names the setting, never "transaction aborted"; with more memory it is read."""
    header = ["Номер накладной", "Дата отправления", "Вес груза, кг"] + [
        f"extra {i}" for i in range(1000)
    ]
    data = write_csv(tmp_path / "wide.csv", header, [["W1", "03.09.2023", "100"] + ["1"] * 1000])
    code, output = _invoke("ingest", "shipments", data, "--case", tmp_path / "case")
    assert (code == 0 and "1 rows read" in output) or (
        code == 2 and "out of memory" in output and "CARGOTRACE_MEMORY_LIMIT" in output
    ), output
    monkeypatch.setenv("CARGOTRACE_MEMORY_LIMIT", "4GB")
    code, output = _invoke("ingest", "shipments", data, "--case", tmp_path / "case2")
    assert code == 0 and "1 rows read" in output


def test_geojson_with_list_properties_exits_2(tmp_path):
    path = tmp_path / "list.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": [1, 2]}]}))  # fmt: skip
    for kind in ("facilities", "ports", "borders"):
        code, output = _invoke("ingest", kind, path, "--case", tmp_path / "case")
        assert code == 2 and "'properties' is a list, not an object" in output and "row 1" in output


def test_non_finite_settings_are_refused():
    from cargotrace.settings import AnalysisSettings, with_pairs

    for pair in ("gap_hours=inf", "near_km=nan", "port_radius_km=-inf", "max_speed_kn=NaN"):
        with pytest.raises(InputError, match="finite number"):
            with_pairs(AnalysisSettings(), [pair])


def test_findings_json_never_holds_a_bare_nan(analysed, tmp_path):
    text = json_text({"p_value": math.nan, "rows": [math.inf, 1.0], "ok": 2})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {
        "p_value": None,
        "rows": [None, 1.0],
        "ok": 2,
    }
    with Case.open(analysed) as case:
        stored = case.meta("findings")
    assert "NaN" not in stored and "Infinity" not in stored  # type: ignore[operator]
    out = tmp_path / "f.json"
    assert _invoke("export", "--case", analysed, "--out", out)[0] == 0
    json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(c))


def test_terminal_sequences_from_cargo_text_are_not_printed_raw_by_explain(analysed):
    result = runner.invoke(app, ["explain", "ЭА1", "--case", str(analysed)])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output and "[red]x[/red]" in result.output
    as_json = runner.invoke(app, ["explain", "ЭА1", "--case", str(analysed), "--json"])
    assert "\x1b" not in as_json.output and "\\u001b" in as_json.output


def test_echoed_file_names_are_escaped_and_never_read_as_markup(tmp_path):
    name = "[bold red]depots\x1b]0;pwned\x07.csv"
    data = write_csv(
        tmp_path / name, ["name", "category", "lat", "lon"], [["D", "arsenal", 50, 40]]
    )
    result = runner.invoke(
        app, ["ingest", "facilities", str(data), "--case", str(tmp_path / "case")]
    )
    assert result.exit_code == 0
    assert "[bold red]depots\\x1b]0;pwned\\x07.csv (facilities)" in result.output
    assert "\x1b" not in result.output
    bad = write_csv(tmp_path / "[bold]bad.csv", ["what"], [["x"]])
    result = runner.invoke(
        app, ["ingest", "facilities", str(bad), "--case", str(tmp_path / "case")]
    )
    assert result.exit_code == 2 and "[bold]bad.csv" in result.output


def test_console_text_helpers():
    assert clean("a\x1b[31mb\x9bc\u202ed\te\nf") == "a\\x1b[31mb\\x9bc\\u202ed\te\nf"
    assert literal("[red]x\x07") == "\\[red]x\\x07"
    assert json.loads(json_clean(json.dumps({"k": "\x1b\x85"}, ensure_ascii=False))) == {
        "k": "\x1b\x85"
    }


def test_internal_errors_are_one_line_not_a_traceback(monkeypatch, capsys):
    import cargotrace.cli.app as cli

    def boom():
        raise ZeroDivisionError("x")

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.delenv("CARGOTRACE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    assert "internal error (ZeroDivisionError: x)" in capsys.readouterr().err


def test_cargotrace_errors_raised_outside_a_command_exit_2(monkeypatch, capsys):
    import cargotrace.cli.app as cli

    def bad():
        raise CargotraceError("bad [input]\x1b")

    monkeypatch.setattr(cli, "app", bad)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2 and "bad [input]\\x1b" in capsys.readouterr().err
