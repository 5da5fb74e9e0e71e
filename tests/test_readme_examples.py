"""Every example in README.md does what it says: each TOML mapping is read with none of its
keys ignored and works on a file with the headers it names; each `cargotrace ...` command
line parses (command, options and arguments exist) without running."""

from __future__ import annotations

import shlex
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import typer.main

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.errors import InputError
from cargotrace.ingest.types import MAPPING_SETTINGS, Mapping

from builders import write_csv

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    """The fenced blocks of one language ("" = no language) in README.md."""
    blocks: list[str] = []
    current: list[str] | None = None
    kind = ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if current is None:
                current, kind = [], line[3:].strip()
            else:
                if kind == language:
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _command_lines() -> list[str]:
    lines = []
    for block in _blocks("bash") + _blocks(""):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("cargotrace "):
                lines.append(line)
    return lines


TOML_EXAMPLES = _blocks("toml")


def test_the_readme_has_mapping_and_command_examples():
    assert TOML_EXAMPLES and len(_command_lines()) >= 15


@pytest.mark.parametrize("example", TOML_EXAMPLES)
def test_readme_mapping_example_is_read_with_every_key(tmp_path, example):
    path = tmp_path / "map.toml"
    path.write_text(example, encoding="utf-8")
    mapping = Mapping.load(path)
    data = tomllib.loads(example)
    for key in MAPPING_SETTINGS:  # wherever the example put them, they are settings
        given = data.get(key, data.get("units", {}).get(key, data.get("columns", {}).get(key)))
        if given is not None:
            assert getattr(mapping, key) == given, key
    assert mapping.columns == {
        k: v for k, v in data.get("columns", {}).items() if k not in MAPPING_SETTINGS
    }
    assert mapping.units == {
        k: v for k, v in data.get("units", {}).items() if k not in MAPPING_SETTINGS
    }


@pytest.mark.parametrize("example", TOML_EXAMPLES)
def test_readme_mapping_example_reads_the_file_it_describes(tmp_path, example):
    """A shipments CSV with the example's headers and a date that only its date_format
    reads right (13 Sep, not an impossible month 13)."""
    data = Mapping.load(_write(tmp_path / "map.toml", example))
    if data.columns.get("waybill") is None:
        pytest.skip("not a shipments mapping")
    fmt = data.date_format or "%Y-%m-%d"
    headers = [data.columns["waybill"], data.columns["departed_on"], data.columns["weight"],
               "origin_station", "destination_station", "cargo"]  # fmt: skip
    row = [
        "ЭА1",
        date(2023, 9, 13).strftime(fmt),
        "61250",
        "Находка",
        "Тихорецкая",
        "взрывчатые вещества",
    ]
    titles = [["Leaked export"] + [""] * 5] * ((data.header_row or 1) - 1)  # rows above the header
    csv = write_csv(
        tmp_path / "s.csv",
        titles[0] if titles else headers,
        [*titles[1:], headers, row] if titles else [row],
    )
    mapping = _write(tmp_path / "m.toml", example.replace('sheet = "Лист2"', ""))
    [result] = workflow.ingest(tmp_path / "case", "shipments", [csv], mapping)
    assert result.rows_kept == 1
    with Case.open(tmp_path / "case") as case:
        got = case.rows("SELECT departed_on, weight_t FROM shipments")
    assert got == [{"departed_on": date(2023, 9, 13), "weight_t": 61.25}]


@pytest.mark.parametrize("example", TOML_EXAMPLES)
def test_readme_ais_mapping_example_reads_the_positions_it_describes(tmp_path, example):
    """An AIS CSV with the example's headers and a time only its date_format reads (month 13)."""
    data = Mapping.load(_write(tmp_path / "map.toml", example))
    if data.columns.get("mmsi") is None:
        pytest.skip("not an AIS mapping")
    at = datetime(2023, 9, 13, 10, 30, 5, tzinfo=UTC)
    headers = [data.columns[f] for f in ("mmsi", "timestamp", "lat", "lon")]
    csv = write_csv(
        tmp_path / "p.csv",
        headers,
        [[273123456, at.strftime(data.date_format or "%Y-%m-%dT%H:%M:%S"), 43.1, 131.9]],
    )
    [result] = workflow.ingest(tmp_path / "case", "ais", [csv], tmp_path / "map.toml")
    assert result.rows_kept == 1
    with Case.open(tmp_path / "case") as case:
        assert case.rows("SELECT mmsi, timestamp, lat, lon FROM positions") == [
            {"mmsi": 273123456, "timestamp": at, "lat": 43.1, "lon": 131.9}
        ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_that_means_nothing_is_refused_not_ignored(tmp_path):
    for text, words in (
        ('[units]\nweight = "kg"\ndate_fromat = "%d/%m/%Y"\n', "date_fromat"),
        ('[columns]\nwaybill = "No"\n[colums]\nweight = "Mass"\n', "colums"),
        ('date_format = "%d/%m/%Y"\n[units]\ndate_format = "%m/%d/%Y"\n', "twice"),
    ):
        with pytest.raises(InputError, match=words):
            Mapping.load(_write(tmp_path / "m.toml", text))


@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_line_parses(line):
    command = typer.main.get_command(app)
    args = shlex.split(line)[1:]
    name, rest = args[0], args[1:]
    sub = command.commands[name]  # type: ignore[attr-defined]
    sub.make_context(name, rest)  # raises on an unknown option or a missing argument


def _worked_example() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("## Worked example") :]
    block = block[block.index("```bash\n") + 8 :]
    block = block[: block.index("```")]
    return [ln.split(" #")[0].strip() for ln in block.splitlines() if ln.startswith("cargotrace ")]


def test_the_worked_example_runs_as_written(tmp_path, monkeypatch):
    """Every command of the README's worked example, in an empty folder, exits 0."""
    from typer.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    lines = _worked_example()
    assert lines[0].startswith("cargotrace demo") and len(lines) >= 15
    for line in lines:
        result = runner.invoke(app, shlex.split(line)[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}"
    for name in ("findings.json", "linked.csv", "gaps.parquet", "report.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert "ЭА100429" in runner.invoke(app, ["explain", "ЭА100429", "--case", "mycase"]).output
