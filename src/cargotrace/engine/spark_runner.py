"""Run DuckDB-dialect stage SQL on Spark: the session settings the two engines need to agree,
and a runner that executes statements one by one, keeping every table as a checkpointed
DataFrame registered as a temp view (the Spark counterpart of DuckDB's temp tables).

Small statements on the driver: a statement all of whose tables are small runs as its DuckDB
text on a DuckDB connection in the driver, over Arrow copies of those tables, and its table
comes back to Spark as a local relation (shipped inside the plans that read it). Small is
relative to the case and the driver's memory (`driver_limit`, since 2026-12-07 14:00 UTC): each
table at most `max(1,000,000, positions / 8)` rows, and the tables together at most an eighth
of the machine's memory by their column types (`row_bytes`). So the per-vessel, per-call,
per-gap and per-pair tables stay on the driver as the case grows (at 100 M positions the
encounters' close pairs outgrew the fixed 1,000,000 rows of before and their runs went to
Spark: 75 s instead of under a second), while the per-fix ones (the track, the zone marks:
about the positions' count) never come there. `CARGOTRACE_SPARK_DRIVER_ROWS` sets a fixed
row limit instead (`0`: every statement on Spark). Spark pays a few jobs per statement
whatever its size (its checkpoint, its shuffles); DuckDB runs such a statement in
milliseconds, and it runs the stage's own text, so it cannot mean anything else. `placed`
records where each ran.

No Spark job for what the driver can read itself: a table whose rows are in local Parquet
files (the job's inputs exported from a case, the tables the kernels' tasks write:
`register_files`) is read by the driver's DuckDB from those files, and a table made on the
driver stays there as Arrow (`Table.arrow`); either becomes a Spark DataFrame only when a
Spark statement, a kernel or the handoff asks for it (`table`). Their column types come from
the Arrow schema (`TypeHints`), so nothing runs on Spark to learn them.

Checkpoints: `parquet` writes every table to `workdir/tables/<name>/<version>` and reads it
back (lineage cut, survives executor loss; the default on clusters); `memory` uses
`localCheckpoint` (executor memory and disk; quicker on one machine). A statement that
changes a table (DELETE, INSERT) produces a new version; the old one stays readable until
the run ends, so `t := SELECT ... FROM t` is well defined.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cargotrace.engine.transpile import SparkStatement, TypeHints, referenced_tables, to_spark

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from cargotrace.engine.spark_buckets import Buckets

Checkpoint = Literal["parquet", "memory", "lazy"]
DRIVER_ROWS_ENV = "CARGOTRACE_SPARK_DRIVER_ROWS"
DRIVER_ROWS = 1_000_000  # the least row limit of a table read on the driver
# a table read on the driver holds at most 1/DRIVER_SHARE of the positions' rows: per-fix
# tables (about one row a position) never, per-vessel, per-call and per-pair ones always
DRIVER_SHARE = 8
# the tables one driver statement reads: at most 1/DRIVER_MEMORY_SHARE of the machine's memory
DRIVER_MEMORY_SHARE = 8
_TYPE_BYTES = {"boolean": 1, "tinyint": 1, "smallint": 2, "int": 4, "float": 4, "date": 4}
_VARIABLE_BYTES = 32  # a string or a nested value, on average


def driver_rows() -> int | None:
    """The fixed row limit `CARGOTRACE_SPARK_DRIVER_ROWS` sets (0: nothing on the driver),
    None when unset (the limit is then relative: `driver_limit`)."""
    value = os.environ.get(DRIVER_ROWS_ENV, "").strip()
    return int(value) if value else None


def driver_limit(positions: int, fixed: int | None = None) -> int:
    """The most rows a table may hold for a statement reading it to run on the driver: `fixed`
    when set, else `max(DRIVER_ROWS, positions / DRIVER_SHARE)`."""
    return fixed if fixed is not None else max(DRIVER_ROWS, positions // DRIVER_SHARE)


def driver_memory_bytes() -> int:
    """What the tables of one driver statement may take: a share of the machine's memory."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf: assume 4 GB
        total = 4 << 30
    return int(total) // DRIVER_MEMORY_SHARE


def row_bytes(schema: Mapping[str, str]) -> int:
    """About how many bytes a row of columns of these Spark types takes in memory."""
    return sum(
        8
        if kind in ("bigint", "double", "timestamp", "timestamp_ntz") or kind.startswith("decimal")
        else _TYPE_BYTES.get(kind, _VARIABLE_BYTES)
        for kind in schema.values()
    )


# Settings without which the engines disagree (see engine/transpile.py).
REQUIRED_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # constraint propagation over a union of localCheckpoint-ed plans fails in Spark 4.x
    # ("key not found" in UnionBase.rewriteConstraints); it only infers extra filters
    "spark.sql.constraintPropagation.enabled": "false",
}
LOCAL_CONF: dict[str, str] = {
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    # the JIT's first tier only: the driver JVM schedules, plans and moves small tables (the
    # positions and the per-fix work stay in files and Python workers), so compiling hot code
    # further costs more CPU than it saves (measured at 1 M positions: 13.0 -> 9.2 CPU-s)
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def spark_session(
    master: str | None = "local[2]",
    app_name: str = "cargotrace",
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """The active session if there is one (spark-submit, notebooks, tests), else a new one.

    Local defaults (2 GB driver, no UI) apply only when this call starts the JVM; the
    settings in `REQUIRED_CONF` are always applied (they are SQL settings, per session).
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        session = active
    else:
        builder = SparkSession.builder.appName(app_name)
        local: dict[str, str] = {}
        if master:
            builder = builder.master(master)
            if master.startswith(
                "local"
            ):  # Python workers: this interpreter, cargotrace importable
                local = {**LOCAL_CONF, "spark.pyspark.python": sys.executable,
                         "spark.executorEnv.PYTHONPATH": _python_path()}  # fmt: skip
        for key, value in {**local, **REQUIRED_CONF, **(conf or {})}.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("FATAL")
    for key, value in REQUIRED_CONF.items():
        session.conf.set(key, value)
    return session


class SessionStart:
    """A local Spark session started on a thread, so that the driver works meanwhile (on
    `analyze --engine spark`: DuckDB exports the job's inputs while the JVM starts). Once up,
    the session runs one small Python job (`warm_workers`): the JVM's first job and the Python
    workers' start and imports (NumPy, PyArrow, the kernels) are then paid during the export,
    not in the kernels' pass (an idle worker is kept a minute and reused). An active session
    (spark-submit, notebooks, tests) is taken as it is, with no thread."""

    def __init__(self, conf: Mapping[str, str] | None = None) -> None:
        from pyspark.sql import SparkSession

        self.conf = {**LOCAL_CONF, **(conf or {})}
        self.startup_s: float | None = None  # the session's own start-up (without warming)
        active = SparkSession.getActiveSession()
        self._active = active
        self._thread_error: BaseException | None = None
        self._session: SparkSession | None = None
        if active is None:
            self._thread = threading.Thread(target=self._start, name="spark-start", daemon=True)
            self._thread.start()

    def _start(self) -> None:
        try:
            started = time.perf_counter()
            session = spark_session(conf=self.conf)
            self.startup_s = time.perf_counter() - started
            warm_workers(session)
            self._session = session
        except BaseException as exc:  # raised again by result(), on the caller's thread
            self._thread_error = exc

    def shuffle_partitions(self) -> int:
        """The session's spark.sql.shuffle.partitions, without waiting for it to start."""
        if self._active is not None:
            return int(self._active.conf.get("spark.sql.shuffle.partitions") or "1")
        return int(self.conf.get("spark.sql.shuffle.partitions", "1"))

    def result(self) -> SparkSession:
        """The session, once started and warmed."""
        if self._active is not None:
            return self._active
        self._thread.join()
        if self._thread_error is not None:
            raise self._thread_error
        assert self._session is not None
        return self._session


def _warm(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    import cargotrace.engine.spark_kernels  # noqa: F401  (the kernels and NumPy, in the worker)

    yield from batches


def warm_workers(spark: SparkSession) -> None:
    """One tiny Python job a core: the JVM's first job, the Python workers started and the
    kernels imported, before the kernels' pass needs them."""
    cores = max(1, spark.sparkContext.defaultParallelism)
    spark.range(0, cores, 1, cores).mapInArrow(_warm, "id long").collect()


def _python_path() -> str:
    """Where this interpreter finds cargotrace and its dependencies (an editable install is a
    .pth file, which Spark's workers do not read)."""
    import site

    import cargotrace

    entries = [str(Path(cargotrace.__file__).resolve().parents[1]), *site.getsitepackages()]
    return os.pathsep.join(dict.fromkeys(entries))


def to_arrow(df: DataFrame) -> pa.Table:
    """A (small) DataFrame on the driver as Arrow; pyspark >= 4 has toArrow, 3.5 goes via pandas."""
    import pyarrow as pa

    if hasattr(df, "toArrow"):
        return df.toArrow()
    return pa.Table.from_pandas(df.toPandas(), preserve_index=False)


def from_arrow(spark: SparkSession, table: pa.Table) -> DataFrame:
    """A small Arrow table as a DataFrame (shipped inside the plan: no shared file system needed)."""
    try:
        return spark.createDataFrame(table)
    except (TypeError, ValueError):  # pyspark 3.5: no Arrow tables, but pandas with Arrow on
        return spark.createDataFrame(table.to_pandas())


@dataclass(frozen=True)
class Files:
    """A table's rows in local Parquet: one file or a folder of them (any depth), with its
    columns' Arrow types (partition folders `key=value` add no column)."""

    path: Path
    schema: pa.Schema

    def duckdb_source(self) -> str:
        """A DuckDB FROM item reading exactly the table's columns."""
        where = str(self.path / "**" / "*.parquet" if self.path.is_dir() else self.path)
        columns = ", ".join(f'"{name}"' for name in self.schema.names)
        reader = f"read_parquet('{where.replace(chr(39), chr(39) * 2)}', hive_partitioning = false)"
        return f"(SELECT {columns} FROM {reader})"

    def paths(self) -> list[Path]:
        return sorted(self.path.glob("**/*.parquet")) if self.path.is_dir() else [self.path]

    def rows(self) -> int:
        """Rows in the files, from their footers."""
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.paths())

    def dataframe(self, spark: SparkSession) -> DataFrame:
        """The files read by Spark (with their schema given: no job to infer it)."""
        try:
            ddl = spark_ddl(self.schema)
        except Exception:  # an Arrow type Spark has no counterpart for: let Spark infer
            return spark.read.parquet(str(self.path)).select(*self.schema.names)
        return spark.read.schema(ddl).parquet(str(self.path)).select(*self.schema.names)


def spark_ddl(schema: pa.Schema) -> str:
    """`schema` as a Spark DDL string (the types Spark gives the same Arrow/Parquet columns)."""
    return ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in schema)


def _spark_type(arrow_type: pa.DataType) -> str:
    from pyspark.sql.pandas.types import from_arrow_type

    return str(from_arrow_type(arrow_type).simpleString())


@dataclass
class Table:
    """A table of the run: a Spark DataFrame, or rows the driver holds (`arrow`) or can read
    (`files`) that become a DataFrame only when Spark needs them (`SparkRunner.table`)."""

    df: DataFrame | None
    persistent: bool
    version: int = 0
    files: Files | None = None
    arrow: pa.Table | None = None

    def schema(self) -> dict[str, str]:
        """Column -> Spark type string, without a Spark job where the Arrow schema is known."""
        if self.df is None:
            arrow_schema = self.arrow.schema if self.arrow is not None else self.files.schema  # type: ignore[union-attr]
            return {f.name: _spark_type(f.type) for f in arrow_schema}
        return {f.name: f.dataType.simpleString() for f in self.df.schema.fields}


@dataclass
class SparkRunner:
    """Executes DuckDB-dialect statements on a Spark session, one checkpoint per table."""

    spark: SparkSession
    workdir: str
    checkpoint: Checkpoint = "parquet"
    tables: dict[str, Table] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    on_statement: Callable[[SparkStatement], None] | None = None
    # tables held in partitions of whole vessels (hash of `mmsi`), with their row counts:
    # a kernel reads them without shuffling them again
    by_vessel: dict[str, int] = field(default_factory=dict)
    # the positions in files of whole vessels (engine/spark_buckets.py), when the job has them:
    # the kernels' pass reads them there
    buckets: Buckets | None = None
    # the encounters' bins in files of whole 10-minute bins, when the track's pass wrote them so
    bin_buckets: Buckets | None = None
    # statements whose tables are all small run on the driver (DuckDB): a fixed row limit
    # (0: none) or None, relative to the positions and the driver's memory (`driver_limit`)
    driver_rows: int | None = field(default_factory=driver_rows)
    driver_bytes: int = field(default_factory=driver_memory_bytes)
    placed: list[tuple[str, str]] = field(default_factory=list)  # (table, "driver" | "spark")
    # small tables the kernels' pass derived from per-fix ones (engine/spark_derived.py):
    # table -> {per-fix table: the version it was derived from}
    derived: dict[str, dict[str, int]] = field(default_factory=dict)
    _rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (version, rows)
    _on_driver: dict[str, int] = field(default_factory=dict)  # table -> version held there
    _duck: duckdb.DuckDBPyConnection | None = None

    def register(
        self, name: str, df: DataFrame, *, persistent: bool = False, rows: int | None = None
    ) -> None:
        """Make `df` visible to the SQL as `name` (an input, or a table computed elsewhere;
        `rows`: its row count, when known without a Spark job)."""
        key = name.lower()
        version = self.tables[key].version + 1 if key in self.tables else 0
        self.tables[key] = Table(df, persistent, version)
        self.by_vessel.pop(key, None)
        if rows is not None:
            self._rows[key] = (version, rows)
        df.createOrReplaceTempView(key)

    def register_files(
        self, name: str, files: Files, *, rows: int | None = None, persistent: bool = False
    ) -> None:
        """Make the Parquet `files` visible as `name`: the driver's DuckDB reads them there,
        Spark only once a Spark statement or kernel reads `name` (`table`)."""
        self._register_lazy(name, Table(None, persistent, files=files), rows)

    def register_arrow(self, name: str, table: pa.Table, *, persistent: bool = False) -> None:
        """Rows held on the driver as `name` (a Spark DataFrame only when Spark needs them)."""
        self._register_lazy(name, Table(None, persistent, arrow=table), table.num_rows)

    def _register_lazy(self, name: str, table: Table, rows: int | None) -> None:
        key = name.lower()
        table.version = self.tables[key].version + 1 if key in self.tables else 0
        if key in self.tables and self.tables[key].df is not None:
            self.spark.catalog.dropTempView(key)  # Spark must not read the old version
        self.tables[key] = table
        self.by_vessel.pop(key, None)
        if rows is not None:
            self._rows[key] = (table.version, rows)

    def partition_by_vessel(self, name: str, df: DataFrame, key: str = "mmsi") -> None:
        """Register `df` as `name` computed once and kept in partitions of whole vessels (a
        hash of `key`): one shuffle, then every statement that reads `name` reads the kept
        rows (not the source files again, with their casts and filters), and the kernels'
        pass (engine/spark_kernels.py) reads its partitions as they are. At least
        `spark.sql.shuffle.partitions` partitions, and enough for each to hold at most
        `partition_fixes()` rows. A Parquet checkpoint keeps the rows but not the
        partitions (the files are read back in splits): then the kernels shuffle again."""
        from cargotrace.maritime.kernels.partitions import partition_fixes

        if self.checkpoint == "parquet":
            self.register(name, self._materialise(name.lower(), df))
            return
        wanted = int(self.spark.conf.get("spark.sql.shuffle.partitions") or "1")
        kept = self._materialise(name.lower(), df.repartition(wanted, key))
        rows = kept.count()
        needed = math.ceil(rows / partition_fixes())
        if needed > wanted:
            kept = self._materialise(name.lower(), df.repartition(needed, key))
        self.register(name, kept)
        self.by_vessel[name.lower()] = rows

    def hints(self) -> TypeHints:
        schemas = {}
        for name, held in self.tables.items():
            try:
                schemas[name] = held.schema()
            except Exception:  # an Arrow type Spark has no counterpart for: ask Spark
                schemas[name] = {f.name: f.dataType.simpleString() for f in self.table(name).schema.fields}  # fmt: skip
        return TypeHints.from_schemas(schemas)

    def execute(self, sql: str) -> list[str]:
        """Run DuckDB-dialect statement(s); returns the tables created or changed."""
        changed = []
        statements = to_spark(sql, self.hints())
        for stmt in statements:
            started = time.perf_counter()
            if self.on_statement:
                self.on_statement(stmt)
            if stmt.kind == "drop":
                if stmt.table in self.tables:
                    del self.tables[stmt.table]
                    self.spark.catalog.dropTempView(stmt.table)
                continue
            if stmt.table is not None and stmt.kind != "query" and self._small(stmt):
                self._run_on_driver(stmt, sql if len(statements) == 1 else stmt.source)
                changed.append(stmt.table)
                self.timings.append((stmt.table, time.perf_counter() - started))
                continue
            if stmt.table is not None:
                self.placed.append((stmt.table, "spark"))
            for name in sorted(referenced_tables(stmt.source) & set(self.tables)):
                self.table(name)  # in Spark's catalogue (a view) before Spark reads it
            df = self.spark.sql(stmt.sql)
            if stmt.kind == "query":
                df.collect()
                continue
            assert stmt.table is not None
            persistent = stmt.persistent or (
                stmt.kind != "create"
                and stmt.table in self.tables
                and self.tables[stmt.table].persistent
            )
            self.register(stmt.table, self._materialise(stmt.table, df), persistent=persistent)
            changed.append(stmt.table)
            self.timings.append((stmt.table, time.perf_counter() - started))
        return changed

    def row_count(self, name: str) -> int:
        """Rows of table `name` (counted once per version)."""
        key = name.lower()
        version = self.tables[key].version
        known = self._rows.get(key)
        if known is None or known[0] != version:
            held = self.tables[key]
            rows = self.by_vessel.get(key)
            if rows is None:
                rows = held.files.rows() if held.files is not None else self.table(key).count()
            known = (version, rows)
            self._rows[key] = known
        return known[1]

    def positions_rows(self) -> int:
        """The positions' row count where known without a Spark job (else 0)."""
        if self.buckets is not None:
            return self.buckets.rows
        if "positions" in self.by_vessel:
            return self.by_vessel["positions"]
        known = self._rows.get("positions")
        if known is not None and "positions" in self.tables:
            return known[1] if known[0] == self.tables["positions"].version else 0
        return 0

    def _small(self, stmt: SparkStatement) -> bool:
        """Whether every table `stmt` reads is known here and small: at most `driver_limit`
        rows each, and within `driver_bytes` together (the tables partitioned by vessel, the
        positions, never)."""
        if self.driver_rows is not None and self.driver_rows <= 0:
            return False
        reads = sorted(referenced_tables(stmt.source))
        if not reads or any(r not in self.tables or r in self.by_vessel for r in reads):
            return False
        limit = driver_limit(self.positions_rows(), self.driver_rows)
        size = 0
        for name in reads:  # counted one by one: a count may be a Spark job
            rows = self.row_count(name)
            if rows > limit:
                return False
            size += rows * self._row_bytes(name) if rows else 0
        return size <= self.driver_bytes

    def _row_bytes(self, name: str) -> int:
        try:
            return row_bytes(self.tables[name].schema())
        except Exception:  # an Arrow type Spark has no counterpart for: ask Spark
            return row_bytes(schema_of(self.table(name)))

    def _driver(self) -> duckdb.DuckDBPyConnection:
        if self._duck is None:
            import duckdb

            self._duck = duckdb.connect()
            self._duck.execute(
                "SET TimeZone = 'UTC'"
            )  # as the DuckDB engine's case (ids hash times)
        return self._duck

    def _run_on_driver(self, stmt: SparkStatement, text: str) -> None:
        """`text` (the statement's DuckDB SQL) on the driver's DuckDB, over copies of the tables
        it reads (fetched from Spark unless the driver holds their current version); the
        table it makes or changes registered back in Spark as a local relation."""
        con = self._driver()
        assert stmt.table is not None
        for name in sorted(referenced_tables(stmt.source)):
            version = self.tables[name].version
            if self._on_driver.get(name) == version:
                continue
            held = self.tables[name]
            self._drop_on_driver(name)
            if held.files is not None and held.arrow is None:  # read there, no Spark job
                con.execute(
                    f'CREATE TEMP TABLE "{name}" AS SELECT * FROM {held.files.duckdb_source()}'
                )
            else:
                incoming = held.arrow if held.arrow is not None else to_arrow(self.table(name))
                con.register("_incoming", incoming)
                con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM _incoming')
                con.unregister("_incoming")
            self._on_driver[name] = version
        con.execute(text)
        made = f'"{stmt.table}"'
        if stmt.kind == "create":  # it reads the old version, if any: drop that copy only now
            made, other = ("memory.main", "temp.main") if stmt.persistent else ("temp.main", "memory.main")  # fmt: skip
            con.execute(f'DROP TABLE IF EXISTS {other}."{stmt.table}"')
            made = f'{made}."{stmt.table}"'
        table = con.execute(f"SELECT * FROM {made}").to_arrow_table()
        persistent = stmt.persistent or (
            stmt.kind != "create"
            and stmt.table in self.tables
            and self.tables[stmt.table].persistent
        )
        self.register_arrow(stmt.table, table, persistent=persistent)
        self._on_driver[stmt.table] = self.tables[stmt.table].version
        self.placed.append((stmt.table, "driver"))

    def _drop_on_driver(self, name: str) -> None:
        con = self._driver()
        for schema in ("temp.main", "memory.main"):
            con.execute(f'DROP TABLE IF EXISTS {schema}."{name}"')
        self._on_driver.pop(name, None)

    def execute_all(self, statements: Iterable[str]) -> list[str]:
        changed: list[str] = []
        for sql in statements:
            changed.extend(self.execute(sql))
        return changed

    def table(self, name: str) -> DataFrame:
        """Table `name` as a Spark DataFrame (and a view of that name), made from the driver's
        rows or the table's files the first time Spark needs it."""
        key = name.lower()
        held = self.tables[key]
        if held.df is None:
            held.df = (
                from_arrow(self.spark, held.arrow)
                if held.arrow is not None
                else held.files.dataframe(self.spark)  # type: ignore[union-attr]
            )
            held.df.createOrReplaceTempView(key)
        return held.df

    def arrow(self, name: str) -> pa.Table:
        """Table `name`'s rows on the driver (read from its files or held there, when it can:
        no Spark job)."""
        held = self.tables[name.lower()]
        if held.arrow is not None:
            return held.arrow
        if held.files is not None:
            import duckdb

            con = duckdb.connect()
            try:
                return con.execute(f"SELECT * FROM {held.files.duckdb_source()}").to_arrow_table()
            finally:
                con.close()
        return to_arrow(self.table(name))

    def holds_on_driver(self, name: str) -> bool:
        """Whether the driver has table `name`'s rows without Spark (held, or in local files)."""
        held = self.tables[name.lower()]
        return held.arrow is not None or held.files is not None

    def checkpoint_df(self, name: str, df: DataFrame) -> DataFrame:
        """`df` computed once and kept (as a table of this run would be)."""
        return self._materialise(name.lower(), df)

    def _materialise(self, name: str, df: DataFrame) -> DataFrame:
        if self.checkpoint == "memory":
            return df.localCheckpoint(eager=True)
        if self.checkpoint == "lazy":
            from pyspark import StorageLevel

            return df.persist(StorageLevel.MEMORY_AND_DISK)
        version = self.tables[name].version + 1 if name in self.tables else 0
        path = f"{self.workdir.rstrip('/')}/tables/{name}/v{version}"
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)

    def cleanup(self) -> None:
        """Drop the checkpoints of a local work directory (remote ones are left to the caller)."""
        for table in self.tables.values():
            if table.df is not None:
                table.df.unpersist()
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        local = local_path(self.workdir)
        if local is not None:
            shutil.rmtree(local / "tables", ignore_errors=True)


def local_path(path: str) -> Path | None:
    """The local file-system path of `path`, None for remote (s3a://, hdfs://, ...) paths."""
    if path.startswith("file://"):
        return Path(path[len("file://") :])
    if "://" in path:
        return None
    return Path(path)


def schema_of(df: DataFrame) -> dict[str, Any]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}
