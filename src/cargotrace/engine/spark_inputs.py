"""Positions for the Spark engine: NMEA archives decoded on the executors (the vectorised
decoder inside `mapInArrow`), typed Parquet, cleaning and de-duplication.

NMEA: `spark.read.text` gives each task the lines of a file split in order; the task runs
`NmeaDecoder` (ingest/nmea.py) over Arrow batches of those lines, one decoder per file, so
multi-part messages are reassembled exactly as the local decoder does. Gzip files are not
splittable, so each is decoded whole by one task. A plain-text file larger than a split
(`spark.sql.files.maxPartitionBytes`, 128 MB) is cut into splits; a multi-part message whose
fragments straddle a split boundary is lost (one in millions of messages), and `source_row`
counts lines from the start of the split. Rows carry `source_file` (the file name) and
`source_row` (line number), like the case's positions table.

Cleaning mirrors ingest, so both engines see the same positions (`vessel_positions`: the
rules of ingest/ais_rules.py, no row without a plausible time or a possible position, no
base station or aid to navigation); besides:
* NMEA: the decoder already nulls not-available values (lat 91, sog 102.3, ...); status 15
  (not defined) becomes NULL, as in ingest/nmea_load.py; nothing is dropped.
* Parquet: the rules of the positions ingest (ingest/positions.py): MMSI in 1..999999999, a
  timestamp, a latitude and longitude (|lat| <= 91, |lon| <= 181, values beyond 90 / 180 kept
  as NULL), SOG 0..102.2, COG 0..<360, heading 0..359, status 0..14, else NULL.
* De-duplication (on by default, as at ingest: ingest/ais_clean.py): positions equal in
  (mmsi, timestamp, msg_type, lat, lon, sog, cog, heading), NULLs equal, are one position,
  the first by file name and line kept (ingest keeps the first in ingest order); positions
  without a time are never dropped. Archives from several receivers repeat each message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.engine.transpile import expression_to_spark
from cargotrace.ingest.kinds.ais_clean import KEY
from cargotrace.ingest.kinds.ais_rules import vessel_position_sql
from cargotrace.reference.ais_values import kinematics_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

POSITION_FIELDS = (
    "mmsi",
    "timestamp",
    "lat",
    "lon",
    "sog",
    "cog",
    "heading",
    "nav_status",
    "msg_type",
)
POSITIONS_DDL = (
    "mmsi BIGINT, timestamp TIMESTAMP, lat DOUBLE, lon DOUBLE, sog DOUBLE, cog DOUBLE, heading SMALLINT, "
    "nav_status SMALLINT, msg_type SMALLINT, source_file STRING, source_row BIGINT"
)
_ARROW_SCHEMA = pa.schema([
    ("mmsi", pa.int64()), ("timestamp", pa.timestamp("us", tz="UTC")), ("lat", pa.float64()), ("lon", pa.float64()),
    ("sog", pa.float64()), ("cog", pa.float64()), ("heading", pa.int16()), ("nav_status", pa.int16()),
    ("msg_type", pa.int16()), ("source_file", pa.string()), ("source_row", pa.int64()),
])  # fmt: skip

# The positions ingest's rules for typed input (DuckDB dialect, transpiled for Spark).
CLEAN_TYPED_SQL = f"""
SELECT CAST(mmsi AS BIGINT) AS mmsi, CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp",
       CASE WHEN abs(lat) <= 90 THEN CAST(lat AS DOUBLE) END AS lat,
       CASE WHEN abs(lon) <= 180 THEN CAST(lon AS DOUBLE) END AS lon,
       {kinematics_sql("sog", "cog", "heading", "nav_status")},
       CAST(msg_type AS SMALLINT) AS msg_type, source_file, CAST(source_row AS BIGINT) AS source_row
FROM raw_positions
WHERE mmsi BETWEEN 1 AND 999999999 AND "timestamp" IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
  AND abs(lat) <= 91 AND abs(lon) <= 181
"""

# The ingest's duplicate rule (ingest/ais_clean.py: equal in KEY, NULLs equal, the first copy
# kept, positions without a time never dropped), over all files at once.
DEDUPE_SQL = f"""
SELECT {", ".join(POSITION_FIELDS)}, source_file, source_row
FROM (SELECT *, row_number() OVER (PARTITION BY {", ".join(f'"{c}"' for c in KEY)}
                                   ORDER BY source_file, source_row) AS copy
      FROM clean_positions) c
WHERE copy = 1 OR "timestamp" IS NULL
"""


# ----------------------------------------------------------------------------- NMEA
def read_nmea(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Positions decoded from NMEA 0183 files (plain or gzip) at any Hadoop-compatible path."""
    from pyspark.sql import functions as F

    lines = spark.read.text(list(paths)).select(
        F.col("value"),
        F.col("_metadata.file_path").alias("file_path"),
        F.col("_metadata.file_name").alias("file_name"),
    )
    return lines.mapInArrow(decode_batches, POSITIONS_DDL)


def decode_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: lines (value, file_path, file_name) in file order -> positions."""
    from cargotrace.ingest.nmea.decoder import NmeaDecoder
    from cargotrace.ingest.nmea.lines import block_from_lines

    decoder: NmeaDecoder | None = None
    current: str | None = None
    line_no = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        runs = pc.run_end_encode(batch.column("file_path"))
        ends = runs.run_ends.to_numpy()
        starts = np.concatenate(([0], ends[:-1]))
        for start, end, path in zip(starts, ends, runs.values.to_pylist(), strict=True):
            if path != current:
                decoder, current, line_no = NmeaDecoder(), path, 0
            assert decoder is not None
            lines = batch.column("value").slice(start, end - start).to_pylist()
            numbers = np.arange(line_no + 1, line_no + 1 + len(lines), dtype=np.int64)
            line_no += len(lines)
            decoded = decoder.decode_block(block_from_lines(lines, numbers))
            if decoded.positions.num_rows:
                yield _positions_batch(
                    decoded.positions, batch.column("file_name")[int(start)].as_py()
                )


def _positions_batch(positions: pa.Table, file_name: str) -> pa.RecordBatch:
    n = positions.num_rows
    columns = [
        positions.column("mmsi").cast(pa.int64()),
        positions.column("timestamp").cast(pa.timestamp("us", tz="UTC")),
        positions.column("lat").cast(pa.float64()),
        positions.column("lon").cast(pa.float64()),
        positions.column("sog").cast(pa.float64()),
        positions.column("cog").cast(pa.float64()),
        positions.column("heading").cast(pa.int16()),
        pc.if_else(
            pc.equal(positions.column("nav_status"), 15), None, positions.column("nav_status")
        ).cast(pa.int16()),
        positions.column("msg_type").cast(pa.int16()),
        pa.array([file_name] * n, pa.string()),
        positions.column("line_no").cast(pa.int64()),
    ]
    table = pa.Table.from_arrays([c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns],
                                 schema=_ARROW_SCHEMA)  # fmt: skip
    return table.to_batches()[0] if n else pa.RecordBatch.from_pylist([], schema=_ARROW_SCHEMA)


# ----------------------------------------------------------------------------- Parquet
def read_positions_parquet(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Typed positions (the contract's columns; extra columns ignored) with the ingest's rules."""
    from pyspark.sql import functions as F

    df = spark.read.parquet(*paths)
    names = {c.lower(): c for c in df.columns}
    missing = [c for c in ("mmsi", "timestamp", "lat", "lon") if c not in names]
    if missing:
        from cargotrace.errors import InputError

        raise InputError(f"positions Parquet lacks column(s) {missing}; it has {df.columns}")
    cols = [
        F.col(names[c]).alias(c) if c in names else F.lit(None).alias(c) for c in POSITION_FIELDS
    ]
    source = F.col(names["source_file"]) if "source_file" in names else F.col("_metadata.file_name")
    row = F.col(names["source_row"]) if "source_row" in names else F.lit(None).cast("bigint")
    raw = df.select(*cols, source.alias("source_file"), row.alias("source_row"))
    return clean_typed(spark, raw)


def clean_typed(spark: SparkSession, raw: DataFrame) -> DataFrame:
    raw.createOrReplaceTempView("raw_positions")
    return spark.sql(expression_to_spark(CLEAN_TYPED_SQL))


def dedupe(spark: SparkSession, positions: DataFrame) -> DataFrame:
    positions.createOrReplaceTempView("clean_positions")
    return spark.sql(expression_to_spark(DEDUPE_SQL))


def positions_format(paths: Sequence[str], fmt: str = "auto") -> str:
    """ "auto": parquet when every path ends in .parquet or / (a directory of Parquet files), else nmea."""
    if fmt != "auto":
        return fmt
    return (
        "parquet"
        if all(p.rstrip("/").endswith(".parquet") or p.endswith("/") for p in paths)
        else "nmea"
    )


def vessel_positions(spark: SparkSession, positions: DataFrame) -> DataFrame:
    """The rows the ingest keeps in `positions` (ingest/ais_rules.py): with a plausible
    time and a possible position, of a vessel (not a base station, aid to navigation, ...)."""
    positions.createOrReplaceTempView("decoded_positions")
    keep = vessel_position_sql("mmsi", '"timestamp"', "lat", "lon", "msg_type")
    return spark.sql(expression_to_spark(f"SELECT * FROM decoded_positions WHERE {keep}"))


def read_positions(
    spark: SparkSession,
    paths: Sequence[str],
    fmt: str = "auto",
    *,
    deduplicate: bool = True,
    checked: bool = True,
) -> DataFrame:
    """Positions from Parquet or NMEA files (see `positions_format`), cleaned as at ingest
    (`checked=False`: the decoded rows as they are, for comparing decoders)."""
    fmt = positions_format(paths, fmt)
    if fmt == "parquet":
        df = read_positions_parquet(spark, paths)
    elif fmt == "nmea":
        df = read_nmea(spark, paths)
    else:
        from cargotrace.errors import InputError

        raise InputError(f"unknown positions format {fmt!r}; expected parquet or nmea")
    if checked:
        df = vessel_positions(spark, df)
    return dedupe(spark, df) if deduplicate else df
