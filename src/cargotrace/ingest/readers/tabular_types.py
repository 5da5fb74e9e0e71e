"""What every tabular reader hands the loader: chunks of strings with row numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa


@dataclass
class RawChunk:
    """Rows of one file as strings: `table` has the columns c0..cN plus `_row`."""

    headers: list[str]
    table: pa.Table
    ragged: list[tuple[int, list[str]]] = field(default_factory=list)
    blank: int = 0


@dataclass
class TableSource:
    """How a file was read: reported by `--dry-run` and stored in the ledger detail."""

    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1
    note: str | None = None
    reader: str | None = None  # CSV: "arrow" (fast path) or "python" (exact path), once read


def strings_table(columns: list[list[str | None]], rows: list[int], width: int) -> pa.Table:
    arrays = {f"c{i}": pa.array(columns[i] if columns else [], pa.string()) for i in range(width)}
    arrays["_row"] = pa.array(rows, pa.int64())
    return pa.table(arrays)
