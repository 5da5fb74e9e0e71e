"""Small tables the kernels' pass derives from the track, so that no Spark job scans the
track (or the zone marks) for a handful of rows.

Four statements of the stage SQL read a per-fix table only to keep a few of its rows or one
value per vessel: `ship_links` (the distinct transmitters of the track), `raw_gaps` (the
track's fixes that end a gap), `service_speed` (a quantile of each vessel's speeds) and
`ais_calls` (the zone marks of a silence in port). On Spark each was a job over every fix.
The track's pass has each vessel's fixes in memory anyway (whole vessels per part: what is
found per part is found for the whole vessel), so it writes those rows as tables of their
own (`tables_of`), and the statements read them instead (`from_pass_tables`): the same
statement text with the per-fix table swapped for its small companion, only where the text
proves the swap keeps the same rows (the companion holds exactly the rows the statement's
own filter keeps, or the values its aggregate makes), and only while the track and zone
marks are the versions the pass wrote (`SparkRunner.derived`). Any other statement, or a
statement changed so that its text no longer matches, reads the per-fix table as before.
The statements stay the definition: tests/test_spark_engine.py holds the results equal to
DuckDB's stage SQL, and tests/test_spark_derived.py the quantile to DuckDB's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    from cargotrace.engine.spark_runner import SparkRunner

TRANSMITTERS = "track_transmitters"
GAP_FIXES = "track_gap_fixes"
SPEEDS = "vessel_service_speeds"
ZONE_GAPS = "zone_gap_marks"
# the band of speeds the service speed is a quantile of (maritime/gaps.py, `service_speed`)
SPEED_LOW_KN, SPEED_HIGH_KN = 3, 40

TRANSMITTER_SCHEMA = pa.schema([("mmsi", pa.int64()), ("tx", pa.int32())])
SPEED_SCHEMA = pa.schema([("vid", pa.int64()), ("speed_kn", pa.float64())])


# each derived table, and the per-fix table it is derived from
SOURCES = {TRANSMITTERS: "track", GAP_FIXES: "track", SPEEDS: "track", ZONE_GAPS: "zone_marks"}


def mark_current(runner: SparkRunner) -> None:
    """Record that the derived tables registered now match the current track and zone marks."""
    for name, source in SOURCES.items():
        if name in runner.tables and source in runner.tables:
            runner.derived[name] = {source: runner.tables[source].version}


def schemas(track: pa.Schema, marks: pa.Schema | None) -> dict[str, pa.Schema]:
    """The derived tables and their schemas (the zone marks' only with the port zones kernel)."""
    found = {TRANSMITTERS: TRANSMITTER_SCHEMA, GAP_FIXES: track, SPEEDS: SPEED_SCHEMA}
    if marks is not None:
        found[ZONE_GAPS] = marks
    return found


def tables_of(
    track: pa.RecordBatch, marks: pa.RecordBatch | None, settings: AnalysisSettings
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The derived tables' rows from one part's track (whole vessels) and its zone marks."""
    vid = np.asarray(track.column("vid").to_numpy(zero_copy_only=False), np.int64)
    _, first = np.unique(vid, return_index=True)
    yield (
        TRANSMITTERS,
        pa.record_batch(
            [track.column("mmsi").take(pa.array(first)), track.column("tx").take(pa.array(first))],
            schema=TRANSMITTER_SCHEMA,
        ),
    )
    yield GAP_FIXES, track.filter(pc.is_valid(track.column("gap_start_lat")))
    sog = track.column("sog").to_numpy(zero_copy_only=False).astype(np.float64)
    yield SPEEDS, service_speeds(vid, sog, settings.service_speed_quantile)
    if marks is not None:
        yield ZONE_GAPS, marks.filter(pc.fill_null(marks.column("port_gap"), False))


def service_speeds(vid: np.ndarray, sog_kn: np.ndarray, quantile: float) -> pa.RecordBatch:
    """Per vessel, `quantile_disc(sog, quantile)` of its speeds strictly between 3 and 40 kn
    (NULL and NaN speeds out), as DuckDB computes it: the value at rank ceil(n * q) of the
    n sorted speeds (at least the first). Vessels without such a speed get no row."""
    with np.errstate(invalid="ignore"):
        moving = (sog_kn > SPEED_LOW_KN) & (sog_kn < SPEED_HIGH_KN)
    vid, sog_kn = vid[moving], sog_kn[moving]
    order = np.lexsort((sog_kn, vid))
    vid, sog_kn = vid[order], sog_kn[order]
    vessels, start, count = np.unique(vid, return_index=True, return_counts=True)
    rank = np.array([max(0, math.ceil(n * quantile) - 1) for n in count.tolist()], np.int64)
    return pa.record_batch(
        [pa.array(vessels, pa.int64()), pa.array(sog_kn[start + rank], pa.float64())],
        schema=SPEED_SCHEMA,
    )


@dataclass(frozen=True)
class Swap:
    """Where a statement's text matches `pattern`, `replace` reads table `reads` instead
    (while the table it was derived from is the version the pass wrote)."""

    pattern: re.Pattern[str]
    reads: str

    def replace(self, match: re.Match[str], settings: AnalysisSettings) -> str | None:
        return match.group(0).replace(match.group("table"), self.reads, 1)


@dataclass(frozen=True)
class SpeedSwap(Swap):
    """`service_speed`'s quantile over the track becomes a read of the vessels' speeds (the
    same quantile and band: the pass computed them with the settings of this run)."""

    def replace(self, match: re.Match[str], settings: AnalysisSettings) -> str | None:
        if float(match.group("q")) != settings.service_speed_quantile:
            return None
        return (
            f"SELECT vid, min(speed_kn) AS speed_kn FROM {self.reads} "
            f"WHERE {match.group('filter')} GROUP BY vid"
        )


_FLAGS = re.IGNORECASE | re.DOTALL
SWAPS = (
    # ship_links: the track's transmitters
    Swap(
        re.compile(r"\(SELECT DISTINCT mmsi, tx FROM (?P<table>track)\)", _FLAGS),
        TRANSMITTERS,
    ),
    # raw_gaps: the track's fixes that end a gap, and nothing else filtered after
    Swap(
        re.compile(r"FROM (?P<table>track) t WHERE t\.gap_start_lat IS NOT NULL\s*$", _FLAGS),
        GAP_FIXES,
    ),
    # service_speed: one quantile per vessel, then the statement's own filter on vid
    SpeedSwap(
        re.compile(
            r"SELECT vid, quantile_disc\(sog, (?P<q>[0-9.eE+-]+)\) AS speed_kn\s+"
            rf"FROM (?P<table>track) WHERE sog > {SPEED_LOW_KN} AND sog < {SPEED_HIGH_KN}\s+"
            r"AND (?P<filter>\(.*\))\s+GROUP BY vid\s*$",
            _FLAGS,
        ),
        SPEEDS,
    ),
    # ais_calls: the zone marks of silences in port, every other mark filtered out
    Swap(
        re.compile(
            r"FROM visits v JOIN (?P<table>zone_marks) z ON z\.vid = v\.vid "
            r"AND z\.port_id = v\.port_id AND z\.island = v\.island\s+"
            r"WHERE z\.port_gap AND z\.seq > v\.first_seq\s+GROUP BY",
            _FLAGS,
        ),
        ZONE_GAPS,
    ),
)


def from_pass_tables(
    runner: SparkRunner, statements: Iterable[str], settings: AnalysisSettings
) -> list[str]:
    """`statements` with each swap of `SWAPS` made where it applies and its table is current."""
    out = []
    for sql in statements:
        for swap in SWAPS:
            current = runner.derived.get(swap.reads)
            if current is None or any(
                name not in runner.tables or runner.tables[name].version != version
                for name, version in current.items()
            ):
                continue
            match = swap.pattern.search(sql)
            if match is None:
                continue
            replaced = swap.replace(match, settings)
            if replaced is not None:
                sql = sql[: match.start()] + replaced + sql[match.end() :]
        out.append(sql)
    return out
