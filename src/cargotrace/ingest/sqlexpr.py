"""SQL expressions that type raw strings, shared by every kind (DuckDB dialect).

Each returns NULL when the text cannot be read, so the caller decides whether that row is
quarantined (a value was given but unreadable) or kept with a missing value.

Numbers: decimal comma or point; thousands separated by spaces (plain, non-breaking,
figure, thin, narrow no-break), apostrophes, or by `.`/`,` when the other one is the
decimal mark (`1.234,5`, `1,234.5`) or when there are several groups (`1 234 567`,
`1.234.567`). A single `1,234` is read as 1.234 (decimal comma: the Russian convention).
Infinity, NaN and exponents beyond two digits are not numbers.

Dates: ISO `YYYY-MM-DD` (a time may follow), `YYYY.MM.DD`, `YYYY/MM/DD`, `DD.MM.YYYY`
(also followed by «г.» or a time), `DD.MM.YY`, `DD-MM-YYYY`, `DD/MM/YYYY`, and Excel
serial day numbers (20000..80000, i.e. 1954..2119). Impossible dates (31.02.2023) are NULL.
"""

from __future__ import annotations

from cargotrace.ingest.types import sql_str

_SPACE_CHARS = (" ", "\u00a0", "\u2007", "\u2009", "\u202f", "\t", "'", "\u2019")
UNIT_SUFFIX = "(кг|kgs?|тн|тонн[аы]?|т|t|tonnes?|tons?)"


def compact_number(col: str) -> str:
    """The text with every kind of space and apostrophe removed (cheap `replace` calls)."""
    out = col
    for ch in _SPACE_CHARS:
        out = f"replace({out}, {sql_str(ch)}, '')"
    return out


def parse_number(c: str) -> str:
    """A DOUBLE from text already passed through `compact_number` (NULL when unreadable)."""
    dots = f"(length({c}) - length(replace({c}, '.', '')))"
    commas = f"(length({c}) - length(replace({c}, ',', '')))"
    return (
        f"(CASE WHEN NOT regexp_full_match({c}, '[-+]?([0-9]|[.,][0-9])[0-9.,]*([eE][-+]?[0-9]{{1,2}})?') THEN NULL "
        f"WHEN {commas} = 0 AND {dots} <= 1 THEN try_cast({c} AS DOUBLE) "
        f"WHEN {dots} = 0 AND {commas} = 1 THEN try_cast(replace({c}, ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({c}, '[-+]?[0-9]{{1,3}}(\\.[0-9]{{3}})+(,[0-9]+)?') "
        f"THEN try_cast(replace(replace({c}, '.', ''), ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({c}, '[-+]?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?') "
        f"THEN try_cast(replace({c}, ',', '') AS DOUBLE) END)"
    )


def number(col: str) -> str:
    """Numbers with decimal comma, and space / non-breaking / thin-space thousands."""
    return parse_number(compact_number(col))


def strip_unit(col: str) -> str:
    """The text without a trailing weight unit (`61 250 кг` -> `61 250`)."""
    return f"regexp_replace({col}, '\\s*{UNIT_SUFFIX}\\.?$', '', 'i')"


def unit_of(col: str) -> str:
    """The trailing weight unit of a value, lower case (`кг`, `t`, ...), or NULL."""
    return f"nullif(lower(regexp_extract({col}, '[0-9.,\\s]{UNIT_SUFFIX}\\.?$', 1, 'i')), '')"


def date(col: str, date_format: str | None = None) -> str:
    """ISO, DD.MM.YYYY, DD.MM.YY, DD-MM-YYYY, DD/MM/YYYY or an Excel serial day number.

    With `date_format` (a mapping's strptime format) that format is tried first and only the
    unambiguous ISO form and Excel serials besides it: a value the format does not fit is
    not silently read the other way round."""
    custom = ""
    if date_format:
        parsed = f"try_strptime({col}, {sql_str(date_format)})"
        custom = f"WHEN {parsed} IS NOT NULL THEN CAST({parsed} AS DATE) "
    iso = (
        f"WHEN regexp_full_match({col}, '\\d{{4}}[-./]\\d{{1,2}}[-./]\\d{{1,2}}([ T].*)?') "
        f"THEN CAST(try_strptime(regexp_replace(regexp_extract({col}, '^\\d{{4}}[-./]\\d{{1,2}}[-./]\\d{{1,2}}'), '[./]', '-', 'g'), '%Y-%m-%d') AS DATE) "
    )
    day_first = (
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}[.-]\\d{{1,2}}[.-]\\d{{4}}(\\s.*)?') "
        f"THEN CAST(try_strptime(replace(regexp_extract({col}, '^\\d{{1,2}}[.-]\\d{{1,2}}[.-]\\d{{4}}'), '-', '.'), '%d.%m.%Y') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{2}}(\\s.*)?') "
        f"THEN CAST(try_strptime(regexp_extract({col}, '^\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{2}}'), '%d.%m.%y') AS DATE) "
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') "
        f"THEN CAST(try_strptime({col}, '%d/%m/%Y') AS DATE) "
    )
    serial = (
        f"WHEN regexp_full_match({col}, '\\d{{5}}(\\.\\d+)?') AND try_cast({col} AS DOUBLE) BETWEEN 20000 AND 80000 "
        f"THEN DATE '1899-12-30' + CAST(floor(CAST({col} AS DOUBLE)) AS INTEGER) "
    )
    return f"(CASE {custom}{iso}{'' if date_format else day_first}{serial}END)"


def date_is_ambiguous(col: str) -> str:
    """DD/MM/YYYY with both parts <= 12 could be MM/DD: flag it."""
    return (
        f"(regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}') AND "
        f"try_cast(split_part({col}, '/', 1) AS INTEGER) <= 12 AND try_cast(split_part({col}, '/', 2) AS INTEGER) <= 12 "
        f"AND try_cast(split_part({col}, '/', 1) AS INTEGER) <> try_cast(split_part({col}, '/', 2) AS INTEGER))"
    )


MAX_UTC_OFFSET_MINUTES = 14 * 60  # the widest offset in use (Kiribati, UTC+14)


def utc_offset_ok(col: str) -> str:
    """False for a time whose UTC offset no place has (`+25:00`, `+05:99`, beyond ±14:00)."""
    parts = f"regexp_extract({col}, '\\d:\\d{{2}}(?::\\d{{2}}(?:\\.\\d+)?)?\\s*[+-](\\d{{2}}):?(\\d{{2}})?$', ['h', 'm'])"
    hours, minutes = (
        f"try_cast(nullif({parts}.h, '') AS INTEGER)",
        f"coalesce(try_cast(nullif({parts}.m, '') AS INTEGER), 0)",
    )
    return (
        f"(coalesce({hours} * 60 + {minutes} <= {MAX_UTC_OFFSET_MINUTES} AND {minutes} < 60, true))"
    )


def timestamp(col: str, date_format: str | None = None) -> str:
    """ISO 8601 (naive = UTC; offsets up to ±14:00), epoch seconds or milliseconds,
    `YYYYMMDD_HHMMSS` (aisdb's provider CSV), or DD/MM/YYYY HH:MM[:SS] (Danish Maritime
    Authority). With `date_format` (a mapping's strptime format; naive = UTC) that format is
    tried first, and besides it only the unambiguous forms (ISO, epoch), not day-first."""
    custom = ""
    if date_format:
        parsed = f"try_strptime({col}, {sql_str(date_format)})"
        zoned = "%z" in date_format or "%Z" in date_format
        value = (
            f"CAST({parsed} AS TIMESTAMPTZ)"
            if zoned
            else f"CAST({parsed} AS TIMESTAMP) AT TIME ZONE 'UTC'"
        )
        custom = f"WHEN {parsed} IS NOT NULL THEN {value} "
    day_first = (
        f"WHEN regexp_full_match({col}, '\\d{{1,2}}/\\d{{1,2}}/\\d{{4}} \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?') "
        f"THEN CAST(coalesce(try_strptime({col}, '%d/%m/%Y %H:%M:%S'), try_strptime({col}, '%d/%m/%Y %H:%M')) AS TIMESTAMP) AT TIME ZONE 'UTC' "
    )
    return (
        f"(CASE {custom}WHEN regexp_full_match({col}, '\\d{{9,10}}(\\.\\d+)?') THEN to_timestamp(CAST({col} AS DOUBLE)) "
        f"WHEN regexp_full_match({col}, '\\d{{12,13}}') THEN to_timestamp(CAST({col} AS DOUBLE) / 1000) "
        f"WHEN regexp_full_match({col}, '\\d{{8}}[_T]?\\d{{6}}Z?') "
        f"THEN CAST(try_strptime(regexp_replace({col}, '[_TZ]', '', 'g'), '%Y%m%d%H%M%S') AS TIMESTAMP) AT TIME ZONE 'UTC' "
        f"{'' if date_format else day_first}"
        f"WHEN regexp_full_match({col}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN CAST(try_cast({col} AS DATE) AS TIMESTAMP) AT TIME ZONE 'UTC' "
        f"WHEN NOT {utc_offset_ok(col)} THEN NULL "
        f"ELSE try_cast({col} AS TIMESTAMPTZ) END)"
    )


def first_reason(*checks: tuple[str, str, str | None]) -> tuple[str, str]:
    """Build `_reason` and `_column` from (condition, reason, column) in priority order."""
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {sql_str(r)}" for cond, r, _ in checks) + " END"
    column = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {sql_str(c) if c else 'NULL'}" for cond, _, c in checks)
        + " END"
    )
    return reason, column


def first_check(*checks: tuple[str, str, str | None]) -> tuple[str, str, str]:
    """`first_reason` with each condition evaluated once: (the number of the first check
    that holds, NULL if none; `_reason` and `_column` of a column `_check` holding it)."""
    number = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {n}" for n, (cond, _, _) in enumerate(checks, 1))
        + " END"
    )
    reasons = ", ".join(sql_str(r) for _, r, _ in checks)
    columns = ", ".join(sql_str(c) if c else "NULL" for _, _, c in checks)
    return number, f"[{reasons}][_check]", f"CAST([{columns}] AS VARCHAR[])[_check]"
