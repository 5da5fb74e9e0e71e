"""A case: a folder holding one DuckDB file, a lock, and what was derived from it.

Writers take an exclusive, non-blocking lock on `case.lock`, so a second writer is told at
once that the case is busy instead of waiting or corrupting anything; the lock file names
the command holding it (`analyze`, pid, since when). Every ingest and every analysis runs in
one DuckDB transaction: a killed process leaves the case as it was.

DuckDB lets one process write a database file or several read it, not both. So that the
read-only commands (check, report, export, explain, quarantine) work while `analyze` runs,
`analyze` first copies the case's last committed state to `case.snapshot/` (after a
checkpoint, under its lock; only a case of at most `CARGOTRACE_SNAPSHOT_MAX_GB`, 2 GB by
default) and removes it when it ends; a reader that finds the case
locked by that analysis reads the copy and says so. Other writers (ingest, init) are short
or make no copy: a reader is told who holds the case and to run again when it ends.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from cargotrace.case import quarantine
from cargotrace.case.hash128 import md5_hex_sql
from cargotrace.case.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    create_statements,
    missing_column_statements,
)
from cargotrace.case.settings_scope import put_back_after_rollback
from cargotrace.errors import CaseBusyError, CaseError
from cargotrace.outputs import os_reason

DB_NAME = "case.duckdb"
LOCK_NAME = "case.lock"
SNAPSHOT_DIR = "case.snapshot"  # the last committed state, while `analyze` writes the case
OWNER_NAME = "owner"  # in SNAPSHOT_DIR: the lock holder it was made for, written last
# A bigger case is not copied at every analysis (the copy would cost minutes and twice the
# disk): readers are told to wait instead. CARGOTRACE_SNAPSHOT_MAX_GB changes the bound.
SNAPSHOT_MAX_GB_DEFAULT = 2.0


def quote_ident(name: str) -> str:
    """Quote an SQL identifier; the one place identifiers are quoted."""
    return '"' + name.replace('"', '""') + '"'


def table_exists(con: duckdb.DuckDBPyConnection, name: str, schema: str = "main") -> bool:
    """A table or view `name` in `schema` (the case's or the connection's temporary one;
    `debug` holds the intermediate tables of `analyze --debug`)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = ?",
        [name, schema],
    ).fetchone()
    return bool(row and row[0])


class Case:
    """An open case. Use `Case.open(path, write=True)` as a context manager."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection, lock: IO[str] | None) -> None:
        self.root = root
        self.con = con
        self._lock = lock
        # True when this open made the case: the caller seeds its reference data
        # (workflow.init_case: the default port gazetteer, ingest/kinds/ports.py)
        self.created = False

    # ------------------------------------------------------------------ opening
    @classmethod
    @contextmanager
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        write: bool = False,
        create: bool = False,
        purpose: str | None = None,
        snapshot: bool = False,
    ) -> Iterator[Case]:
        """`purpose`: the command writing (named to anyone who finds the case busy);
        `snapshot`: copy the committed state for readers while this writer holds the case."""
        root_path = Path(root)
        db_path = root_path / DB_NAME
        _check_root(root_path)
        if not (db_path.exists() or db_path.is_symlink()):
            if not create:
                raise CaseError(
                    f"{root_path} is not a cargotrace case (no {DB_NAME}); "
                    f"run `cargotrace init --case {root_path}` first"
                )
            try:
                root_path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CaseError(
                    f"cannot create the case folder {root_path}: {os_reason(exc)}"
                ) from None
        refuse_links(root_path)
        lock = _take_lock(root_path, purpose) if (write or create) else None
        try:
            con = _connect(db_path, read_only=False) if lock else _connect_reader(root_path)
        except BaseException:
            if lock:
                lock.close()
            raise
        case = cls(root_path, con, lock)
        snapshot_made = False
        if lock is not None:  # a copy left by a killed analysis is out of date: gone
            shutil.rmtree(root_path / SNAPSHOT_DIR, ignore_errors=True)
        try:
            if write or create:
                case._ensure_schema()
                quarantine.drop_orphan_parts(con, root_path)
                if snapshot and lock is not None:
                    snapshot_made = _make_snapshot(case, _lock_text(lock))
            else:
                case._check_version()
            quarantine.attach_parts(con, root_path)  # the quarantine's Parquet parts
            yield case
        finally:
            con.close()
            if snapshot_made:
                shutil.rmtree(root_path / SNAPSHOT_DIR, ignore_errors=True)
            if lock:
                lock.seek(0)
                lock.truncate()
                lock.close()

    def _ensure_schema(self) -> None:
        version = self._stored_version()
        if version is None:
            with self.transaction():
                for statement in create_statements():
                    self.con.execute(statement)
                self.con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    [str(SCHEMA_VERSION)],
                )
            self.created = True
            return
        if version > SCHEMA_VERSION:
            raise CaseError(
                f"case {self.root} has schema version {version}, newer than this cargotrace "
                f"understands ({SCHEMA_VERSION}); upgrade cargotrace (pip install -U cargotrace)"
            )
        if version == SCHEMA_VERSION:
            # Additive tables and views (CREATE ... IF NOT EXISTS / OR REPLACE) need no migration.
            for statement in create_statements():
                self.con.execute(statement)
            self._add_declared_columns()
            return
        while version < SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise CaseError(
                    f"case {self.root} has schema version {version} and no migration to "
                    f"{SCHEMA_VERSION} exists; rebuild it by ingesting the files in its ledger again"
                )
            with self.transaction():
                for statement in MIGRATIONS[version]:
                    self.con.execute(statement)
                version += 1
                self.con.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)]
                )
        # Tables and views added since the case's version (additive, idempotent).
        with self.transaction():
            for statement in create_statements():
                self.con.execute(statement)
        self._add_declared_columns()

    def _add_declared_columns(self) -> None:
        """Columns declared since the case was made (case/schema.py) join its tables."""
        present: dict[str, set[str]] = {}
        for table, column in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall():
            present.setdefault(table, set()).add(column)
        statements = missing_column_statements(present)
        if statements:
            with self.transaction():
                for statement in statements:
                    self.con.execute(statement)

    def _check_version(self) -> None:
        version = self._stored_version()
        if version is None:
            raise CaseError(f"{self.root} holds no cargotrace schema; run `cargotrace init`")
        if version != SCHEMA_VERSION:
            raise CaseError(
                f"case {self.root} has schema version {version}, this cargotrace uses "
                f"{SCHEMA_VERSION}; run `cargotrace init --case {self.root}` once to migrate it "
                "(nothing in it is lost)"
            )

    def _stored_version(self) -> int | None:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else None

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            put_back_after_rollback(self.con)
            raise
        else:
            self.con.execute("COMMIT")

    def has_table(self, name: str, schema: str = "main") -> bool:
        return table_exists(self.con, name, schema)

    def meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def arrow(self, sql: str) -> pa.Table:
        """The rows of `sql` as an Arrow table. A row hash (UHUGEINT, `md5_number`) comes as
        the md5's hex digest, as a reader computes it (`hash128.md5_hex_sql`): Arrow has no
        128-bit integer, and DuckDB would hand it over as a 38-digit decimal that cannot
        hold every value (silently wrong ones). A HUGEINT (a sum) goes as that decimal."""
        described = self.con.execute(f"DESCRIBE {sql}").fetchall()
        wide = [row[0] for row in described if row[1] == "UHUGEINT"]
        if wide:
            texts = ", ".join(f"{md5_hex_sql(quote_ident(n))} AS {quote_ident(n)}" for n in wide)
            sql = f"SELECT * REPLACE ({texts}) FROM ({sql})"
        return self.con.execute(sql).to_arrow_table()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None


def _check_root(root: Path) -> None:
    """The case folder is a folder (a link to one is fine: the investigator made it)."""
    if root.is_symlink() and not root.exists():
        raise CaseError(f"--case {root} is a symbolic link to nothing; give the case folder")
    if root.exists() and not root.is_dir():
        raise CaseError(f"--case {root} is a file, not a case folder; give the case folder")
    for parent in root.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CaseError(f"--case {root}: {parent} is a file, not a folder")
            break


def refuse_links(root: Path) -> None:
    """Refuse a case folder holding a symbolic link, a hard link (a file with more than one
    name) or a special file (device, pipe, socket): a received case must not make cargotrace
    read or write outside it (a `case.duckdb.wal` linked to another file would be overwritten
    on the next checkpoint)."""
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        raise CaseError(f"cannot read the case folder {root}: {os_reason(exc)}") from None
    for entry in entries:
        if entry.is_symlink():
            raise CaseError(
                f"case {root} holds a symbolic link, {entry.name}; a case folder must hold only "
                "its own files. Remove the link (or copy the case with links resolved) and retry"
            )
        if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_nlink > 1:
            raise CaseError(
                f"case {root} holds a hard link, {entry.name} (the same file also lives elsewhere, "
                f"{entry.stat(follow_symlinks=False).st_nlink} names in all); a case folder must "
                "hold only its own files: writing the case would change the other copy too. "
                "Replace it by a real copy (cp, without -l) and retry"
            )
        if not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
            raise CaseError(
                f"case {root} holds {entry.name}, which is not a regular file (a device, pipe "
                "or socket); a case folder must hold only its own files. Remove it and retry"
            )


def _holder(root: Path) -> str:
    """Who holds the case's lock, as its lock file says (empty when it says nothing)."""
    try:
        return (root / LOCK_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _lock_text(lock: IO[str]) -> str:
    lock.seek(0)
    return lock.read().strip()


def _busy_words(holder: str) -> str:
    """'`cargotrace analyze` (pid 12, since ...)' from the lock file's text."""
    purpose, _, rest = holder.partition(" ")
    if not purpose or purpose == "process":
        return f"another cargotrace process {rest}".strip()
    return f"`cargotrace {purpose}` {rest}".strip()


def snapshot_max_bytes() -> float:
    """The largest case `analyze` copies for readers (CARGOTRACE_SNAPSHOT_MAX_GB, in GB)."""
    text = os.environ.get("CARGOTRACE_SNAPSHOT_MAX_GB", "").strip()
    try:
        gb = float(text) if text else SNAPSHOT_MAX_GB_DEFAULT
    except ValueError:
        gb = SNAPSHOT_MAX_GB_DEFAULT
    return max(gb, 0.0) * 1e9 if gb == gb else SNAPSHOT_MAX_GB_DEFAULT * 1e9  # NaN -> default


def _make_snapshot(case: Case, holder: str) -> bool:
    """Copy the committed case to SNAPSHOT_DIR for readers; False when there is no room."""
    folder = case.root / SNAPSHOT_DIR
    shutil.rmtree(folder, ignore_errors=True)
    case.con.execute("CHECKPOINT")  # everything committed is in the file, the WAL empty
    size = (case.root / DB_NAME).stat().st_size
    if size > snapshot_max_bytes():
        return False  # readers are told to wait instead
    if shutil.disk_usage(case.root).free < 2 * size + 100_000_000:
        return False
    folder.mkdir()
    # copied by another process: opening and closing the file here would drop DuckDB's own
    # lock on it (POSIX record locks belong to the process and go with any close)
    part = folder / (DB_NAME + ".part")
    for command in (["cp", "--reflink=auto"], ["cp"]):
        done = subprocess.run(
            [*command, str(case.root / DB_NAME), str(part)], capture_output=True, check=False
        )
        if done.returncode == 0:
            break
    else:
        shutil.rmtree(folder, ignore_errors=True)
        return False
    os.replace(part, folder / DB_NAME)
    (folder / OWNER_NAME).write_text(holder, encoding="utf-8")
    return True


def _connect_reader(root: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the case, or, while `analyze` writes it, to the copy of
    its last committed state that the analysis made; else the case is busy."""
    try:
        return _connect(root / DB_NAME, read_only=True)
    except CaseBusyError as busy:
        holder = _holder(root)
        folder = root / SNAPSHOT_DIR
        try:
            owner = (folder / OWNER_NAME).read_text(encoding="utf-8").strip()
        except OSError:
            owner = ""
        if not holder or owner != holder:
            raise CaseBusyError(
                f"case {root} is busy: {_busy_words(holder)} is writing it. A case can be "
                "written by one process or read by several, not both at once: run this "
                "command again when that one ends (nothing is wrong with the case)"
            ) from busy
        con = _connect(folder / DB_NAME, read_only=True)
        told = _TOLD.get()
        if told is None or (str(root), holder) not in told:  # once per command (`one_command`)
            if told is not None:
                told.add((str(root), holder))
            print(
                f"note: {_busy_words(holder)} is writing case {root}; this command reads the "
                "case as it was before that began (its last committed state)",
                file=sys.stderr,
                flush=True,
            )
        return con


# (case, writer) pairs the running command was told about: `check` opens the case three
# times and said it three times. Per command, not per process: a notebook running a second
# command while the same analysis writes is told again that it reads the earlier state.
_TOLD: ContextVar[set[tuple[str, str]] | None] = ContextVar("cargotrace_told", default=None)


@contextmanager
def one_command() -> Iterator[None]:
    """The case's notes are said once within (a command of the command line, a method of the
    library's case); a scope inside another is the outer one's. Outside any, each opening of
    the case is a command of its own."""
    if _TOLD.get() is not None:
        yield
        return
    token = _TOLD.set(set())
    try:
        yield
    finally:
        _TOLD.reset(token)


def _take_lock(root: Path, purpose: str | None = None) -> IO[str]:
    try:
        handle = open(root / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held for the case's life
    except OSError as exc:
        raise CaseError(
            f"case {root} cannot be written ({LOCK_NAME}: {os_reason(exc)}); this command "
            "changes the case and needs write access to its folder. The read-only commands "
            "(check, report, export, explain, quarantine) work on it as it is"
        ) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CaseBusyError(
            f"case {root} is busy: {_busy_words(_holder(root))} is writing it; try again when it ends"
        ) from None
    # say who holds it (read by whoever finds the case busy; emptied by the next writer)
    handle.seek(0)
    handle.truncate()
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    handle.write(f"{purpose or 'process'} (pid {os.getpid()}, since {since})")
    handle.flush()
    return handle


MEMORY_LIMIT_ENV = "CARGOTRACE_MEMORY_LIMIT"  # e.g. "4GB": DuckDB's share of the memory
# DuckDB's own default is 80% of RAM; ours keeps a whole process (Python, Arrow chunks and
# DuckDB, which spills to `case.duckdb.tmp/` beyond its share) under about 1.5 GB.
DEFAULT_MEMORY_LIMIT = "800MB"


def memory_limit() -> str:
    """DuckDB's memory limit: CARGOTRACE_MEMORY_LIMIT, else DEFAULT_MEMORY_LIMIT."""
    wanted = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not wanted:
        return DEFAULT_MEMORY_LIMIT
    try:
        duckdb.connect(config={"memory_limit": wanted}).close()
    except duckdb.Error:
        raise CaseError(
            f"{MEMORY_LIMIT_ENV}={wanted!r} is not a memory size; use e.g. 1GB, 4GB or 800MB"
        ) from None
    return wanted


# DuckDB's allocator (jemalloc, on Linux) keeps the pages its statements free for a few
# seconds before it hands them back, and purges them only as it allocates again, unless its
# background threads do it (DuckDB's `allocator_background_threads`, off by default; duckdb
# issues 8004 and 14087: one or two threads held far more than their share). The faster a
# statement churns through its pool (a spilled stage's pages read back, sorted, freed), the
# more it held: the slow suite's 2 GB NMEA log peaked at 1,571 MiB alone on a quiet machine
# (DuckDB's exact pass over the duplicates, 1,537) and at 1,710-1,723 MiB in two CIs, but at
# 1,017-1,092 MiB at load 6-10, where the same statements ran slower. With the background
# threads, on the quiet machine right after: 1,163 MiB, and 106 s against 116 (Dec 2026,
# issue 16).
ALLOCATOR_SETTINGS: dict[str, str | bool | int | float | list[str]] = {
    "allocator_background_threads": True
}


def _connect(db_path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit(),
        **ALLOCATOR_SETTINGS,
    }
    try:
        con = duckdb.connect(str(db_path), read_only=read_only, config=config)
        # DuckDB's own progress bar would print to stdout during long statements, through
        # the command's output and its progress (cli/app.py shows the steps of an ingest)
        con.execute("SET enable_progress_bar = false")
        return con
    except duckdb.IOException as exc:
        text = str(exc)
        if not read_only and any(
            w in text.lower() for w in ("permission denied", "read-only", "read only")
        ):
            raise CaseError(
                f"case {db_path.parent} cannot be written ({text.splitlines()[0]}); this command "
                "changes the case and needs write access. The read-only commands (check, "
                "report, export, explain, quarantine) work on it as it is"
            ) from None
        if "lock" in text.lower():
            raise CaseBusyError(
                f"case {db_path.parent} is busy: another cargotrace process has it open for writing"
            ) from None
        raise CaseError(
            f"cannot open {db_path}: {text}. If the file is damaged, restore a copy or rebuild "
            f"the case by ingesting the files listed in its ledger again"
        ) from None
    except duckdb.Error as exc:
        if "different configuration" in str(exc):
            raise CaseBusyError(
                f"case {db_path.parent} is already open in this process "
                f"({'for writing' if read_only else 'for reading'}); close it first"
            ) from None
        raise CaseError(
            f"cannot open {db_path}: {exc}. If the file is damaged, restore a copy or rebuild "
            f"the case by ingesting the source files again"
        ) from None


def database_reason(exc: Exception) -> str:
    """A plain message for an error DuckDB raised while reading or writing a case."""
    text = str(exc)
    lower = text.lower()
    if "no space left" in lower or "disk full" in lower:
        return (
            "the disk is full (the database could not write); free space and run the "
            "command again: the unfinished step changed nothing in the case"
        )
    if "read-only" in lower or "read only" in lower or "permission denied" in lower:
        return (
            f"the case cannot be written ({text.splitlines()[0]}); the read-only commands "
            "(check, report, export, explain, quarantine) work on it as it is"
        )
    if "out of memory" in lower:
        return (
            f"out of memory in the database ({text.splitlines()[0]}); set {MEMORY_LIMIT_ENV} "
            "(e.g. 2GB) so DuckDB spills to disk, or free memory, and run again"
        )
    return f"the database refused the operation: {text.splitlines()[0] if text else type(exc).__name__}"
