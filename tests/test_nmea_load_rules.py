"""The rules that refuse AIS positions are defined once (ingest/kinds/ais_rules.py, written
with ingest/predicates.py) and run two ways: as SQL over a position CSV's typed columns and
over a decoded NMEA batch's Arrow columns, on the decoder's thread (ingest/nmea/load.py).
Both give every row the same reason, on values at and around every boundary (NULL, NaN,
-0.0, 90/91, 180/181, the earliest AIS time, the future)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from cargotrace.ingest.kinds import ais_rules
from cargotrace.ingest.nmea import load
from cargotrace.ingest.predicates import Abs, Col, Compare, IsNull, Num, both, either
from cargotrace.ingest.sqlexpr import first_reason

NOW = datetime.now(UTC)
TIMES = [
    None,
    datetime(1997, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1998, 1, 1, tzinfo=UTC),
    datetime(2023, 9, 1, tzinfo=UTC),
    NOW + timedelta(hours=12),
    NOW + timedelta(days=2),
    datetime(2999, 1, 1, tzinfo=UTC),
]
LATS = [None, 0.0, -0.0, 43.1, 90.0, -90.0, 90.5, 91.0, -91.0, -101.5, float("nan")]
LONS = [None, 0.0, -0.0, 131.9, 180.0, -180.0, 180.5, 181.0, 205.0, float("nan")]


def _table(times: list[datetime | None] = TIMES) -> pa.Table:
    rows = list(itertools.product(times, LATS, LONS, [1, 5, 19]))
    ts, lat, lon, msg_type = (list(c) for c in zip(*rows, strict=True))
    return pa.table(
        {
            "line_no": pa.array(range(1, len(rows) + 1), pa.int64()),
            "timestamp": pa.array(ts, pa.timestamp("us", "UTC")),
            "lat": pa.array(lat, pa.float64()),
            "lon": pa.array(lon, pa.float64()),
            "msg_type": pa.array(msg_type, pa.int8()),
        }
    )


def _sql_reasons(table: pa.Table, checks: list[ais_rules.Check]) -> list[str | None]:
    reason, _ = first_reason(*checks)
    con = duckdb.connect()
    con.register("rows", table)
    return [r[0] for r in con.execute(f"SELECT {reason} FROM rows ORDER BY line_no").fetchall()]


def _arrow_reasons(table: pa.Table, rules: tuple) -> list[str | None]:
    rows, codes = load._refusals(table, rules)
    out: list[str | None] = [None] * table.num_rows
    for row, code in zip(rows.tolist(), codes.tolist(), strict=True):
        out[row] = rules[code].reason
    return out


def test_position_rules_refuse_the_same_rows_in_sql_and_in_arrow():
    table = _table()
    sql = _sql_reasons(table, ais_rules.position_checks("timestamp", "lat", "lon"))
    arrow = _arrow_reasons(table, ais_rules.POSITION_RULES)
    assert arrow == sql
    assert set(sql) == {None, *ais_rules.REASONS}  # every reason, and kept rows


def test_position_rules_refuse_the_same_rows_when_most_have_no_time():
    """A log without times: the rules after the first judge the rows it left only."""
    table = _table([None] * 20 + TIMES)
    sql = _sql_reasons(table, ais_rules.position_checks("timestamp", "lat", "lon"))
    arrow = _arrow_reasons(table, ais_rules.POSITION_RULES)
    assert arrow == sql
    assert sql.count("no_timestamp") > table.num_rows // 2
    assert set(sql) == {None, *ais_rules.REASONS}


def test_identity_report_rule_refuses_the_same_rows_in_sql_and_in_arrow():
    """Types 5 and 24 with an implausible time are refused, type 19 never (it counts through
    its position): `Statics.flush` stores the others."""
    table = _table()
    implausible = ais_rules.implausible_time_sql("timestamp")
    sql = _sql_reasons(
        table, [(f"{implausible} AND msg_type <> 19", "implausible_timestamp", None)]
    )
    arrow = _arrow_reasons(table, load._STATIC_RULES)
    assert arrow == sql
    assert "implausible_timestamp" in sql


def test_untimed_positions_are_refused_first():
    """The decoder may leave positions without a time undecoded (`load.UNTIMED_REFUSED`)
    because the first rule refuses them whatever their fields."""
    assert load.UNTIMED_REFUSED
    first = ais_rules.POSITION_RULES[0]
    assert first.check({"ts": "t"}) == ("t IS NULL", "no_timestamp", "timestamp")


def test_a_condition_keeps_sqls_three_valued_logic_and_nan_order():
    """NULL OR true is true, NULL AND false is false, NULL otherwise stays unknown (not
    held); NaN equals NaN and is above every number (DuckDB's order)."""
    values = [None, float("nan"), -1.0, 0.0, 1.0, 2.0]
    a, b = (list(c) for c in zip(*itertools.product(values, values), strict=True))
    table = pa.table({"a": pa.array(a, pa.float64()), "b": pa.array(b, pa.float64())})
    cases = [
        Compare(Col("a"), "=", Col("b")),
        Compare(Col("a"), "<>", Col("b")),
        Compare(Col("a"), "<", Col("b")),
        Compare(Col("a"), ">", Col("b")),
        Compare(Abs(Col("a")), ">", Num(1)),
        either(IsNull(Col("a")), Compare(Col("b"), ">", Num(1))),
        either(Compare(Col("a"), ">", Num(0)), Compare(Col("b"), ">", Num(0))),
        both(Compare(Col("a"), ">", Num(0)), Compare(Col("b"), ">", Num(0))),
    ]
    con = duckdb.connect()
    con.register("t", table)
    names = {"a": "a", "b": "b"}
    for case in cases:
        sql = [r[0] for r in con.execute(f"SELECT {case.sql(names)} FROM t").fetchall()]
        assert case.arrow({"a": table["a"], "b": table["b"]}).to_pylist() == sql, case
        assert case.holds({"a": table["a"], "b": table["b"]}).to_pylist() == [bool(v) for v in sql]


def test_identity_reports_with_an_implausible_time_are_refused_or_left_out(tmp_path):
    """A type 5 (or 24) report with an implausible time is quarantined; a type 19 one is
    neither stored nor refused as a report (its position is refused: one message, one
    row); a report without a time is stored as it is, each time (a repeat cannot be told
    without a time); a timed report heard again is a duplicate."""
    from functools import reduce
    from operator import xor

    from pyais.encode import encode_dict

    from cargotrace import workflow
    from cargotrace.case.store import Case

    def tagged(seconds: int, sentence: str) -> str:
        fields = f"s:a,c:{seconds}"
        return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"

    t = int(datetime(2023, 9, 1, tzinfo=UTC).timestamp())

    def five(seq: int) -> list[str]:  # two sentences, sequence id `seq`
        fields = {"type": 5, "mmsi": 273123456, "imo": 9074729, "shipname": "SPARTA IV"}
        return encode_dict({**fields, "ship_type": 70}, talker_id="AI", seq_id=seq)

    [nineteen] = encode_dict(
        {"type": 19, "mmsi": 273123457, "lat": 43.1, "lon": 131.9, "shipname": "ONE NINE"},
        talker_id="AI",
    )
    lines = [
        *(tagged(0, s) for s in five(1)),  # c:0: refused (lines 1-2)
        tagged(0, nineteen),  # c:0: its position refused (line 3)
        *(tagged(t, s) for s in five(2)),  # stored (lines 4-5)
        *(tagged(t + 0, s) for s in five(3)),  # heard again: a duplicate (lines 6-7)
        *five(4),  # no time: stored (lines 8-9)
        *five(5),  # no time: stored again (lines 10-11)
    ]
    log = tmp_path / "reports.nmea"
    log.write_text("\n".join(lines) + "\n")
    [result] = workflow.ingest(tmp_path / "case", "ais", [log])
    assert (result.rows_read, result.rows_quarantined, result.rows_duplicate) == (6, 2, 1)
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    with Case.open(tmp_path / "case") as case:
        refused = case.rows("SELECT source_row, reason FROM quarantine_rows ORDER BY source_row")
        reports = case.rows(
            "SELECT mmsi, name, observed_at, source_row FROM vessel_reports ORDER BY source_row"
        )
    assert refused == [
        {"source_row": 2, "reason": "implausible_timestamp"},
        {"source_row": 3, "reason": "implausible_timestamp"},
    ]
    assert [(r["name"], r["observed_at"], r["source_row"]) for r in reports] == [
        ("SPARTA IV", datetime(2023, 9, 1, tzinfo=UTC), 5),
        ("SPARTA IV", None, 9),
        ("SPARTA IV", None, 11),
    ]
