"""Progress of an ingest: bytes read of the file's size (so a time left), for every reader
that streams the file, and plain lines when the output is not a terminal."""

from __future__ import annotations

import gzip
from functools import reduce
from operator import xor

import pytest

from cargotrace import workflow
from cargotrace.cli.app import _PlainProgress

from builders import write_csv


class Recorder:
    """A progress callback with bytes (ingest.loader.ByteProgress)."""

    def __init__(self) -> None:
        self.rows, self.total, self.done = 0, None, []

    def __call__(self, n: int) -> None:
        self.rows += n

    def start_bytes(self, total: int) -> None:
        self.total = total

    def bytes_read(self, done: int) -> None:
        self.done.append(done)


ROWS = [[273123456, f"2023-09-01T00:{i // 60:02d}:{i % 60:02d}", 43.0 + i / 1000, 132.0] for i in range(300)]  # fmt: skip


def test_csv_ingest_reports_bytes_of_the_file_and_rows(tmp_path):
    path = write_csv(tmp_path / "fixes.csv", ["mmsi", "timestamp", "lat", "lon"], ROWS)
    progress = Recorder()
    [result] = workflow.ingest(tmp_path / "case", "ais", [path], None, progress)
    assert progress.total == path.stat().st_size == progress.done[-1]
    assert progress.rows == result.rows_read == 300


def test_gzip_csv_reports_bytes_on_disk(tmp_path):
    plain = write_csv(tmp_path / "fixes.csv", ["mmsi", "timestamp", "lat", "lon"], ROWS)
    path = tmp_path / "fixes.csv.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    progress = Recorder()
    workflow.ingest(tmp_path / "case", "ais", [path], None, progress)
    assert progress.total == path.stat().st_size == progress.done[-1]


def test_plain_progress_line_has_share_rows_and_time_left():
    lines: list[str] = []
    progress = _PlainProgress("ingesting fixes.csv", lines.append, every_s=0.0)
    progress.start_bytes(200_000_000)
    progress(1_000)
    progress.bytes_read(50_000_000)
    assert lines[-1].startswith("ingesting fixes.csv: 25% (50.0 of 200.0 MB), 1,000 rows, 0:00:0")
    assert "left" in lines[-1]
    progress.started -= 30  # 30 s for a quarter: 90 s left
    assert progress.line(progress.started + 30).endswith("0:00:30 elapsed, about 0:01:30 left")


def test_plain_progress_prints_at_most_every_interval():
    lines: list[str] = []
    progress = _PlainProgress("ingesting x", lines.append, every_s=3600.0)
    for _ in range(1000):
        progress(10)
    assert lines == []


def test_cli_ingest_without_a_terminal_prints_plain_progress_lines(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cargotrace.cli import app as cli

    monkeypatch.setattr(cli, "PLAIN_PROGRESS_EVERY_S", 0.0)
    path = write_csv(tmp_path / "fixes.csv", ["mmsi", "timestamp", "lat", "lon"], ROWS)
    done = CliRunner().invoke(cli.app, ["ingest", "ais", str(path), "--case", str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    assert "ingesting fixes.csv: 100% (" in done.output
    assert "300 rows read = 300 kept" in done.output


class StageRecorder(Recorder):
    """A progress callback that also shows the pass after the reading (StageProgress)."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: list[tuple[str, int, int]] = []

    def stage(self, what: str, step: int, steps: int) -> None:
        self.stages.append((what, step, steps))


def test_the_pass_after_the_reading_reports_its_steps_with_a_total(tmp_path):
    """A position CSV's copies and stations are set apart as it is read: after the reading
    come its identity reports and the commit."""
    path = write_csv(tmp_path / "fixes.csv", ["mmsi", "timestamp", "lat", "lon"], ROWS)
    progress = StageRecorder()
    workflow.ingest(tmp_path / "case", "ais", [path], None, progress)
    assert progress.stages == [("checking identity reports", 1, 2), ("writing to the case", 2, 2)]
    assert progress.rows == 300  # the rows were all counted before


def test_an_nmea_logs_passes_after_the_reading_report_their_steps(tmp_path):
    pytest.importorskip("pyais")
    from pyais.encode import encode_dict

    def tagged(seconds: int, sentence: str) -> str:
        fields = f"c:{1693526400 + seconds}"
        return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"

    lines = [tagged(n, s) for n in range(3)
             for s in encode_dict({"type": 1, "mmsi": 273000001, "lat": 43.1, "lon": 131.9 + n / 100},
                                  talker_id="AI")]  # fmt: skip
    log = tmp_path / "log.nmea"
    log.write_text("\n".join(lines) + "\n")
    progress = StageRecorder()
    workflow.ingest(tmp_path / "case", "ais", [log], None, progress)
    assert [(step, steps) for _, step, steps in progress.stages] == [(n, 5) for n in range(1, 6)]
    assert progress.stages[0][0] == "removing duplicates"
    assert progress.stages[-1][0] == "writing to the case"


def test_plain_progress_line_names_the_step_after_reading_without_a_time_left():
    lines: list[str] = []
    progress = _PlainProgress("ingesting log.nmea", lines.append, every_s=0.0)
    progress.start_bytes(1_000)
    progress(500)
    progress.bytes_read(1_000)
    progress.stage("removing duplicates", 1, 5)
    progress.close()
    assert lines[-1].startswith(
        "ingesting log.nmea: removing duplicates (step 1 of 5 after reading), 500 rows, 0:00:0"
    )
    assert "left" not in lines[-1]


def test_plain_progress_keeps_printing_during_a_long_step():
    import time

    lines: list[str] = []
    progress = _PlainProgress("ingesting log.nmea", lines.append, every_s=0.05)
    progress.stage("implied speeds and the append", 3, 5)
    time.sleep(0.5)  # one long SQL statement: no callback comes
    progress.close()
    during = len(lines)
    assert during >= 3
    assert all("step 3 of 5" in line for line in lines)
    time.sleep(0.2)
    assert len(lines) == during  # closed: the timer is gone


def test_duckdb_prints_no_progress_bar_of_its_own(tmp_path):
    """DuckDB's bar went to stdout during long statements, through the command's output."""
    from cargotrace.case.store import Case

    with Case.open(tmp_path / "case", create=True) as case:
        assert case.scalar("SELECT current_setting('enable_progress_bar')") is False
    with Case.open(tmp_path / "case") as case:  # read-only
        assert case.scalar("SELECT current_setting('enable_progress_bar')") is False


def test_bytes_follow_the_rows_handed_out_not_the_rows_buffered(tmp_path, monkeypatch):
    # Arrow reads a file of up to FAST_BUFFER_BYTES before handing out its first row: the bar
    # must not stand at 100 % while most rows are still to load.
    from cargotrace.ingest.readers import csvread, tabular

    rows = [[273123456, f"2023-09-0{1 + i // 86400}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
             43.0 + i / 1e6, 132.0] for i in range(200_000)]  # fmt: skip
    path = write_csv(tmp_path / "fixes.csv", ["mmsi", "timestamp", "lat", "lon"], rows)
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 1 << 10)
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(tabular, "FAST_CHUNK_ROWS", 10_000)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 1 << 20)  # ~10 chunks of the ~9 MB file
    seen: list[tuple[int, int]] = []  # (rows handed to the loader, bytes shown) at each report

    class Watching(Recorder):
        def bytes_read(self, done: int) -> None:
            super().bytes_read(done)
            seen.append((self.rows, done))

    progress = Watching()
    [result] = workflow.ingest(tmp_path / "case", "ais", [path], None, progress)
    assert result.rows_read == 200_000 and result.detail["reader"] == "arrow"
    size = path.stat().st_size
    assert progress.done[-1] == size
    shown = [done for _rows, done in seen]
    assert shown == sorted(shown)  # never backwards
    # before the first chunk's rows are counted: the 1 MB sniff, or the chunk read ahead
    assert max(done for rows, done in seen if rows == 0) <= 0.3 * size
