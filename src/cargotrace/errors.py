"""Errors a user can act on. The CLI turns these into exit status 2 and one clear message."""

from __future__ import annotations


class CargotraceError(Exception):
    """Base class: anything the user can fix (bad input, busy case, bad usage)."""


class InputError(CargotraceError):
    """Unusable input, located as precisely as we can: file, row, column."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.detail = message
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class CaseBusyError(CargotraceError):
    """Another process is writing this case."""


class CaseError(CargotraceError):
    """The case folder is missing, corrupted or of an unknown schema."""
