"""KIND -> how a file of that kind is read and loaded. The single entry point for ingest."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from cargotrace import heap
from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.ingest.kinds.ais_clean import begin_file, finish_file
from cargotrace.ingest.kinds.borders import BORDERS
from cargotrace.ingest.kinds.detections import DETECTIONS
from cargotrace.ingest.kinds.gfw_events import GFW_EVENTS, is_json, load_gfw_json
from cargotrace.ingest.kinds.identities import SIGHTINGS, WATCHLIST
from cargotrace.ingest.kinds.places import FACILITIES, PORTS, STATIONS
from cargotrace.ingest.kinds.positions import POSITIONS
from cargotrace.ingest.kinds.shipments import SHIPMENTS
from cargotrace.ingest.kinds.watchlists import (
    VESSELS_WITH_PARTIES,
    load_watchlist,
    watchlist_format,
)
from cargotrace.ingest.loader import file_memory_limit, ingest_parts, ingest_tabular, run_ingest
from cargotrace.ingest.readers.csvread import IrregularCsv
from cargotrace.ingest.readers.geojson import features_to_chunk, is_geojson, load_features
from cargotrace.ingest.readers.sources import byte_meter, open_binary
from cargotrace.ingest.readers.tabular import read_parts
from cargotrace.ingest.types import (
    ByteProgress,
    IngestResult,
    Mapping,
    Progress,
    StageProgress,
    TabularKind,
)

TABULAR: dict[str, TabularKind] = {
    "shipments": SHIPMENTS,
    "ais": POSITIONS,
    "vessels": VESSELS_WITH_PARTIES,
    "sightings": SIGHTINGS,
    "ports": PORTS,
    "stations": STATIONS,
    "facilities": FACILITIES,
    "watchlist": WATCHLIST,
    "borders": BORDERS,
    "detections": DETECTIONS,
    "gfw-events": GFW_EVENTS,
}
KINDS = tuple(TABULAR)
GEOJSON_KINDS = {"ports", "facilities", "borders"}


def ingest_file(
    case: Case,
    kind: str,
    path: Path,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
    replace: bool = False,
) -> IngestResult:
    """Ingest one file of a KIND into the case; idempotent by content hash (`replace`:
    a file the case holds is read again, its earlier rows removed)."""
    if kind not in TABULAR:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not path.is_file():
        raise InputError(
            "file not found" if not path.exists() else "not a regular file", file=str(path)
        )
    mapping = mapping or Mapping()
    spec = TABULAR[kind]
    reader = _choose_reader(kind, path)

    exact = False

    def body(result: IngestResult) -> None:
        if exact:
            result.detail["note"] = (
                "read again with the exact CSV reader: a record of the wrong width came late"
            )
        read = (
            functools.partial(_load_table, exact=True)
            if exact and reader is _load_table
            else reader
        )
        on_stage = progress.stage if isinstance(progress, StageProgress) else None
        # an AIS file not read as a table is an NMEA log (`_choose_reader`): told without
        # importing the NMEA loader, whose import took 0.2-0.4 s of every AIS CSV's ingest
        nmea = kind == "ais" and reader is not _load_table
        # an NMEA log: DuckDB's share lowered (the decoder's batches come on top of it) and the
        # C heap's free memory handed back while it is read and finished
        with (
            heap.trimmed() if nmea else nullcontext(),
            file_memory_limit(case.con, _nmea_memory_limit() if nmea else None),
        ):
            begin_file(case.con, kind)
            if isinstance(progress, ByteProgress):  # bytes read of the file: a bar with time left
                progress.start_bytes(path.stat().st_size)
                with byte_meter(path, progress.bytes_read):
                    read(case, spec, path, mapping, result, progress)
            else:
                read(case, spec, path, mapping, result, progress)
            # AIS duplicates, stations, the append, identity checks (the last step it
            # reports is the commit's)
            finish_file(case.con, kind, result, on_stage)

    # an AIS position table is hashed while its first chunk is read: the body first reads
    # the hash on this thread, for the first chunk's context (`loader.run_ingest`); so is
    # an NMEA log while its first lines are decoded (`nmea.load`)
    aside = kind == "ais" and (reader is not _load_table or not spec.type_ahead)
    try:
        return run_ingest(case, kind, path, body, replace, hash_aside=aside)
    except IrregularCsv:  # a big CSV, irregular after its first part: rolled back, read again
        exact = True
        return run_ingest(case, kind, path, body, replace, hash_aside=aside)


def preview_file(
    kind: str, path: Path, mapping: Mapping | None = None, case_dir: Path | None = None
) -> IngestResult:
    """`--dry-run`: how the first rows of a tabular file would be ingested; writes nothing."""
    from cargotrace.ingest.preview import dry_run

    if kind not in TABULAR:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if _choose_reader(kind, path) is not _load_table:
        raise InputError(
            "--dry-run previews tabular files (CSV, XLSX, Parquet) only", file=str(path)
        )
    return dry_run(TABULAR[kind], path, mapping or Mapping(), case_dir)


Reader = Callable[[Case, TabularKind, Path, Mapping, IngestResult, Progress | None], None]


def _nmea_reader() -> Reader:
    from cargotrace.ingest.nmea.load import load_nmea

    return load_nmea


def _nmea_memory_limit() -> str:
    from cargotrace.ingest.nmea.load import MEMORY_LIMIT

    return MEMORY_LIMIT


def _choose_reader(kind: str, path: Path) -> Reader:
    if kind == "ais" and looks_like_nmea(path):
        return _nmea_reader()
    if kind in GEOJSON_KINDS and (is_geojson(path) or is_json(path)):
        return _load_geojson  # named .geojson/.json, or JSON whatever its name
    if kind == "borders":
        raise InputError(
            "borders must be GeoJSON (a FeatureCollection of country polygons)", file=str(path)
        )
    if kind == "gfw-events" and is_json(path):
        return load_gfw_json  # the events API's JSON (CSV exports are tabular)
    if kind == "watchlist" and watchlist_format(path) != "csv":
        return load_watchlist  # OFAC SDN CSV, UN XML or FollowTheMoney JSON lines
    if is_json(path):
        # Read as CSV, a JSON file became one column named '{' (or 263 rows refused as
        # wrong_field_count with advice about the delimiter): say what it is instead.
        raise InputError(
            f"looks like JSON (GeoJSON?), not a table: {kind} is read from "
            f"{'an NMEA log, ' if kind == 'ais' else ''}CSV, XLSX or Parquet (GeoJSON is read as ports, facilities or borders; JSON as watchlist "
            "(FollowTheMoney lines) or gfw-events)",
            file=str(path),
        )
    return _load_table


_TAG_BLOCK = re.compile(rb"\s*\\[a-zA-Z]:")


def looks_like_nmea(path: Path) -> bool:
    """Whether `ingest ais` reads `path` as a raw NMEA log (its first lines are AIS sentences)."""
    with open_binary(path) as handle:
        sample = handle.read(64 * 1024)
    lines = [ln for ln in sample.splitlines() if ln.strip() and not ln.lstrip().startswith(b"#")][
        :50
    ]
    # a line opening with a tag block (\s:…,c:…*hh\) counts too (its sentence follows the block)
    hits = sum(1 for ln in lines if b"VDM," in ln or b"VDO," in ln or _TAG_BLOCK.match(ln))
    return bool(lines) and hits >= max(1, len(lines) // 4)


# A kind typed ahead (`stream_load.typed_ahead`) waits for its first chunk: one DuckDB row
# group's worth, so the storing starts sooner; the later chunks are read meanwhile.
FIRST_CHUNK_ROWS = 122_880


def _load_table(case: Case, spec: TabularKind, path: Path, mapping: Mapping, result: IngestResult,
                progress: Progress | None, exact: bool = False) -> None:  # fmt: skip
    hint = set().union(*(f.keys() for f in spec.fields))
    parts = read_parts(path, sheet=mapping.sheet, header_row=mapping.header_row, header_hint=hint,
                       encoding=mapping.encoding, delimiter=mapping.delimiter, fast=spec.stream and not exact,
                       first_chunk_rows=FIRST_CHUNK_ROWS if spec.type_ahead else None)  # fmt: skip
    source = parts[0][0]
    result.detail.update({"format": source.format, "encoding": source.encoding, "delimiter": source.delimiter,
                          "sheet": source.sheet, "header_row": source.header_row})  # fmt: skip
    ingest_parts(case, spec, path, parts, mapping, result, progress)


def _load_geojson(
    case: Case,
    spec: TabularKind,
    path: Path,
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None,
) -> None:
    source, chunks = features_to_chunk(path, load_features(path))
    result.detail["format"] = "geojson"
    ingest_tabular(case, spec, path, source, chunks, mapping, result, progress)
