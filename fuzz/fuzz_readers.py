"""Coverage-guided fuzzing of every cargotrace reader with atheris (libFuzzer), run by hand.

Set-up, once (atheris ships manylinux wheels, nothing is compiled)::

    .venv/bin/pip install atheris          # or: .venv/bin/pip install -e '.[fuzz]'

Run one reader (the corpus folder is created and seeded with valid samples if empty)::

    .venv/bin/python fuzz/fuzz_readers.py --reader nmea fuzz/corpus/nmea -atheris_runs=100000
    .venv/bin/python fuzz/fuzz_readers.py --reader shipments_csv fuzz/corpus/shipments_csv -max_total_time=300
    .venv/bin/python fuzz/fuzz_readers.py --list

Readers: shipments_csv, shipments_xlsx, nmea, ais_csv, sightings, vessels, stations,
ports_geojson, facilities_geojson, borders_geojson, mapping and mapping_xlsx (the
`--mapping` TOML, applied to a fixed CSV / workbook), ftm (FollowTheMoney JSON lines),
ofac (SDN CSV), un (UN XML); seeds and the outcome check are in `tests/fuzz_support.py`.

Options (everything else goes to libFuzzer: `-atheris_runs=N`, `-max_total_time=S`,
`-max_len=N`, `-jobs=N`, ...):

* `--depth parse` (default for all but the watchlists) stops after the Python readers
  (sniffing, CSV/XLSX/GeoJSON/NMEA parsing, header mapping): many inputs a second.
  `--depth ingest` runs the whole `ingest_file` into a scratch case (SQL typing,
  quarantine, ledger invariant); the watchlist readers always run at this depth.
* `--structured`: libFuzzer's bytes choose a valid seed and the mutations applied to it
  (`fuzz_support.mutate`, and one workbook member for XLSX) instead of being the file
  itself; reaches the XML inside a workbook and keeps CSV/NMEA files plausible.

The property is the suite's (`tests/test_fuzz_readers.py`): the reader succeeds with rows
read = kept + quarantined + duplicates, or raises `CargotraceError`; any other exception is
a crash. libFuzzer then writes `crash-<sha1>` in the current folder; shrink it with
`-minimize_crash=1 -runs=10000 crash-...`, copy the result to
`tests/fuzz_corpus/<reader>/` (the regression test replays every file there), and fix the
reader.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

with atheris.instrument_imports(include=["cargotrace", "fuzz_support"]):
    from cargotrace import workflow
    from cargotrace.case.store import Case

    import fuzz_support as fs


def _options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", choices=sorted(fs.TARGETS))
    parser.add_argument("--depth", choices=["parse", "ingest"], default=None)
    parser.add_argument("--structured", action="store_true")
    parser.add_argument("--list", action="store_true")
    return parser.parse_known_args(argv)


def _seed_corpus(target: fs.Target, libfuzzer_args: list[str], structured: bool) -> None:
    """Write the valid samples into the first corpus folder given, if it is empty."""
    folders = [a for a in libfuzzer_args if not a.startswith("-")]
    if not folders:
        return
    folder = Path(folders[0])
    folder.mkdir(parents=True, exist_ok=True)  # libFuzzer wants it to exist
    if not structured and not any(folder.iterdir()):
        for i, seed in enumerate(target.seeds()):
            (folder / f"seed-{i}{target.suffix}").write_bytes(seed)


def _structured_input(data: bytes, target: fs.Target, seeds: list[bytes]) -> bytes:
    provider = atheris.FuzzedDataProvider(data)
    seed = seeds[provider.ConsumeIntInRange(0, len(seeds) - 1)]
    member = provider.ConsumeIntInRange(-1, 30) if target.suffix == ".xlsx" else -1
    ops = []
    for _ in range(provider.ConsumeIntInRange(0, 6)):
        ops.append((provider.ConsumeIntInRange(0, len(fs.OPS) - 1), provider.ConsumeIntInRange(0, 1 << 20),
                    provider.ConsumeIntInRange(0, 255), provider.ConsumeBytes(provider.ConsumeIntInRange(0, 16))))  # fmt: skip
    return fs.mutate_xlsx_member(seed, member, ops) if member >= 0 else fs.mutate(seed, ops)


def main() -> None:
    options, libfuzzer_args = _options(sys.argv[1:])
    if options.list or not options.reader:
        print("\n".join(f"{name:20} {t.kind} ({t.suffix}, {t.role})" for name, t in fs.TARGETS.items()))
        return
    target = fs.TARGETS[options.reader]
    depth = options.depth or ("ingest" if target.kind == "watchlist" else "parse")
    if target.kind == "watchlist" and depth == "parse":
        sys.exit("the watchlist readers run at --depth ingest only")
    _seed_corpus(target, libfuzzer_args, options.structured)
    seeds = target.seeds()
    # libFuzzer ends the process without unwinding: the scratch folder (input files, the
    # case of --depth ingest) is one per reader, emptied when the next run starts.
    scratch = Path(tempfile.gettempdir()) / f"cargotrace-fuzz-{target.name}"
    shutil.rmtree(scratch, ignore_errors=True)
    inputs = scratch / "inputs"
    inputs.mkdir(parents=True)
    work = fs.Workdir(inputs)
    case = None
    if depth == "ingest":
        workflow.init_case(scratch / "case")
        opened = Case.open(scratch / "case", write=True)  # kept open (and referenced) for the run
        case = opened.__enter__()

    def one_input(data: bytes) -> None:
        if options.structured:
            data = _structured_input(data, target, seeds)
        try:
            if case is not None:
                fs.ingest_bytes(case, target, data, work)
            else:
                fs.parse_bytes(target, data, work)
        finally:
            for path in inputs.iterdir():
                path.unlink()

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
