"""A case: a folder holding one DuckDB file, a lock, and what was derived from it.

Writers take an exclusive, non-blocking lock on `case.lock`, so a second writer is told at
once that the case is busy instead of waiting or corrupting anything. Every ingest and
every analysis runs in one DuckDB transaction: a killed process leaves the case as it was.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import duckdb

from cargotrace.case.schema import MIGRATIONS, SCHEMA_VERSION, create_statements
from cargotrace.errors import CaseBusyError, CaseError

DB_NAME = "case.duckdb"
LOCK_NAME = "case.lock"


def quote_ident(name: str) -> str:
    """Quote an SQL identifier; the one place identifiers are quoted."""
    return '"' + name.replace('"', '""') + '"'


class Case:
    """An open case. Use `Case.open(path, write=True)` as a context manager."""

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection, lock: IO[str] | None) -> None:
        self.root = root
        self.con = con
        self._lock = lock
        # True when this open made the case: the caller seeds its reference data
        # (workflow.init_case: the default port gazetteer, ingest/ports.py)
        self.created = False

    # ------------------------------------------------------------------ opening
    @classmethod
    @contextmanager
    def open(
        cls, root: str | os.PathLike[str], *, write: bool = False, create: bool = False
    ) -> Iterator[Case]:
        root_path = Path(root)
        db_path = root_path / DB_NAME
        if not db_path.exists():
            if not create:
                raise CaseError(
                    f"{root_path} is not a cargotrace case (no {DB_NAME}); "
                    f"run `cargotrace init --case {root_path}` first"
                )
            root_path.mkdir(parents=True, exist_ok=True)
        lock = _take_lock(root_path) if (write or create) else None
        try:
            con = _connect(db_path, read_only=not (write or create))
        except BaseException:
            if lock:
                lock.close()
            raise
        case = cls(root_path, con, lock)
        try:
            if write or create:
                case._ensure_schema()
            else:
                case._check_version()
            yield case
        finally:
            con.close()
            if lock:
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

    def _check_version(self) -> None:
        version = self._stored_version()
        if version is None:
            raise CaseError(f"{self.root} holds no cargotrace schema; run `cargotrace init`")
        if version != SCHEMA_VERSION:
            raise CaseError(
                f"case {self.root} has schema version {version}, this cargotrace uses "
                f"{SCHEMA_VERSION}; open it once for writing (e.g. `cargotrace check`) to migrate"
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
            raise
        else:
            self.con.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None


def _take_lock(root: Path) -> IO[str]:
    handle = open(root / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held for the case's life
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CaseBusyError(
            f"case {root} is busy: another cargotrace process is writing it; try again when it ends"
        ) from None
    return handle


MEMORY_LIMIT_ENV = "CARGOTRACE_MEMORY_LIMIT"  # e.g. "4GB": DuckDB's share of the memory
# DuckDB's own default is 80% of RAM; ours keeps a whole process (Python, Arrow chunks and
# DuckDB, which spills to `case.duckdb.tmp/` beyond its share) under about 1.5 GB.
DEFAULT_MEMORY_LIMIT = "1GB"


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


def _connect(db_path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit()}
    try:
        return duckdb.connect(str(db_path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
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
