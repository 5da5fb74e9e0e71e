"""What a declared table is: its columns with type, unit and meaning, said once.

The declarations themselves live in case/schema.py. From them come the DDL of the case
(`Table.ddl`), the columns of the exports (`Table.export_sql`), the types of the findings
JSON schema's fields that are case columns (report/schema.py) and the table of columns in
docs/schema.md (`markdown`). See DEVELOPING.md, "Adding a column".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

# DuckDB type -> JSON Schema (type, format)
_JSON_TYPES: dict[str, tuple[str, str | None]] = {
    "VARCHAR": ("string", None),
    "DOUBLE": ("number", None),
    "BIGINT": ("integer", None),
    "UHUGEINT": ("integer", None),  # the row hashes (not in Arrow: `Case.arrow`)
    "INTEGER": ("integer", None),
    "SMALLINT": ("integer", None),
    "BOOLEAN": ("boolean", None),
    "DATE": ("string", "date"),
    "TIMESTAMPTZ": ("string", "date-time"),
    "BIGINT[]": ("array", None),
    "VARCHAR[]": ("array", None),
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BIGINT[]": pa.list_(pa.int64()),
    "VARCHAR[]": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type, one of _JSON_TYPES
    description: str
    unit: str = ""  # "t", "km", "kn", "deg", "UTC", ... ("" when none)
    nullable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    exported: bool = True  # in `export --table` of the table
    primary_key: bool = False
    not_null: bool = False  # a NOT NULL constraint in the DDL

    def __post_init__(self) -> None:
        if self.type not in _JSON_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type}")

    def ddl(self) -> str:
        extra = " PRIMARY KEY" if self.primary_key else " NOT NULL" if self.not_null else ""
        return f"{self.name} {self.type}{extra}"

    def json_schema(self) -> dict[str, Any]:
        """The column as a JSON Schema property (its type, null when nullable, its range)."""
        kind, fmt = _JSON_TYPES[self.type]
        out: dict[str, Any] = {"type": [kind, "null"] if self.nullable else kind}
        if fmt:
            out["format"] = fmt
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    # "source": created by the case (DDL from the columns); "view": a view whose SQL yields
    # the columns; "derived": written by `analyze` (a test holds its columns to these)
    role: str = "source"
    order_by: str | None = None  # the export's order
    export_order: tuple[str, ...] = ()  # the export's column order when not the table's

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: a column is declared twice")
        if not set(self.export_order) <= set(names):
            raise ValueError(f"table {self.name}: export_order names an unknown column")

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(c.ddl() for c in self.columns)})"
        )

    def exported(self) -> tuple[str, ...]:
        order = self.export_order or self.names
        return tuple(n for n in order if self.column(n).exported)

    def export_sql(self) -> str:
        """The SELECT of `export --table NAME`: the exported columns, in the export's order."""
        order = f" ORDER BY {self.order_by}" if self.order_by else ""
        return f"SELECT {', '.join(self.exported())} FROM {self.name}{order}"

    def arrow_schema(self) -> pa.Schema:
        """The columns as an Arrow schema (for a table a Python step writes)."""
        return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in self.columns])

    def json_properties(self, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        return {n: self.column(n).json_schema() for n in (names or self.names)}


def markdown(tables: tuple[Table, ...]) -> str:
    """The tables and their columns as Markdown (docs/schema.md)."""
    lines = [
        "# The case's tables and their columns",
        "",
        "Generated from `src/cargotrace/case/schema.py` by `python -m cargotrace.case.schema "
        "> docs/schema.md`; do not edit by hand (tests/test_schema_declared_once.py checks it "
        "is up to date).",
        "",
        "Roles: *source* tables hold what was ingested, *view*s are computed from them on "
        "read, *derived* tables are written by `cargotrace analyze`. Times are UTC.",
    ]
    for table in tables:
        lines += ["", f"## {table.name} ({table.role})", "", table.description, ""]
        lines += ["| column | type | unit | description |", "|---|---|---|---|"]
        for c in table.columns:
            text = c.description.replace("|", "\\|")
            lines.append(f"| {c.name} | {c.type} | {c.unit} | {text} |")
    return "\n".join(lines) + "\n"
