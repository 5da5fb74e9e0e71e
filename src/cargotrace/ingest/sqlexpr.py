"""SQL expressions that type raw strings, shared by every kind (DuckDB dialect).

Each returns NULL when the text cannot be read, so the caller decides whether that row is
quarantined (a value was given but unreadable) or kept with a missing value.
"""

from __future__ import annotations

from cargotrace.ingest.loader import sql_str

_SPACES = "[\\s\u00a0\u2007\u2009\u202f'']"  # '' is an escaped apostrophe (Swiss thousands)


def number(col: str) -> str:
    """Numbers with decimal comma, and space / non-breaking / thin-space thousands."""
    compact = f"regexp_replace({col}, '{_SPACES}', '', 'g')"
    return (
        f"(CASE WHEN {compact} SIMILAR TO '-?[0-9]{{1,3}}(\\.[0-9]{{3}})+,[0-9]+' "
        f"THEN try_cast(replace(replace({compact}, '.', ''), ',', '.') AS DOUBLE) "
        f"WHEN {compact} SIMILAR TO '-?[0-9]{{1,3}}(,[0-9]{{3}})+\\.[0-9]+' "
        f"THEN try_cast(replace({compact}, ',', '') AS DOUBLE) "
        f"ELSE try_cast(replace({compact}, ',', '.') AS DOUBLE) END)"
    )


def date(col: str, date_format: str | None = None) -> str:
    """ISO, DD.MM.YYYY, DD.MM.YY, DD/MM/YYYY or an Excel serial day number."""
    custom = f"WHEN try_strptime({col}, {sql_str(date_format)}) IS NOT NULL THEN CAST(try_strptime({col}, {sql_str(date_format)}) AS DATE) " if date_format else ""
    return (
        f"(CASE {custom}"
        f"WHEN regexp_full_match({col}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}([ T].*)?') "
        f"THEN CAST(try_strptime(regexp_extract({col}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}'), '%Y-%m-%d') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}( .*)?') "
        f"THEN CAST(try_strptime(regexp_extract({col}, '^\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}'), '%d.%m.%Y') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{2}}') "
        f"THEN CAST(try_strptime({col}, '%d.%m.%y') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') "
        f"THEN CAST(try_strptime({col}, '%d/%m/%Y') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{5}}(\\.\\d+)?') AND try_cast({col} AS DOUBLE) BETWEEN 20000 AND 80000 "
        f"THEN DATE '1899-12-30' + CAST(floor(CAST({col} AS DOUBLE)) AS INTEGER) "
        f"END)"
    )


def date_is_ambiguous(col: str) -> str:
    """DD/MM/YYYY with both parts <= 12 could be MM/DD: flag it."""
    return (
        f"(regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') AND "
        f"try_cast(split_part({col}, '/', 1) AS INTEGER) <= 12 AND try_cast(split_part({col}, '/', 2) AS INTEGER) <= 12 "
        f"AND split_part({col}, '/', 1) <> split_part({col}, '/', 2))"
    )


def timestamp(col: str) -> str:
    """ISO 8601 (naive = UTC), epoch seconds, or DD/MM/YYYY HH:MM:SS (Danish Maritime Authority)."""
    return (
        f"(CASE WHEN regexp_full_match({col}, '\\d{{9,10}}(\\.\\d+)?') THEN to_timestamp(CAST({col} AS DOUBLE)) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}} \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?') "
        f"THEN CAST(coalesce(try_strptime({col}, '%d/%m/%Y %H:%M:%S'), try_strptime({col}, '%d/%m/%Y %H:%M')) AS TIMESTAMP) AT TIME ZONE 'UTC' "
        f"WHEN regexp_full_match({col}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN CAST(try_cast({col} AS DATE) AS TIMESTAMP) AT TIME ZONE 'UTC' "
        f"ELSE try_cast({col} AS TIMESTAMPTZ) END)"
    )


def first_reason(*checks: tuple[str, str, str | None]) -> tuple[str, str]:
    """Build `_reason` and `_column` from (condition, reason, column) in priority order."""
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {sql_str(r)}" for cond, r, _ in checks) + " END"
    column = "CASE " + " ".join(
        f"WHEN {cond} THEN {sql_str(c) if c else 'NULL'}" for cond, _, c in checks
    ) + " END"
    return reason, column
