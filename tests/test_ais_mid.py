"""MMSI kinds and the ITU MID table: known MMSIs, pyais' table, SQL twin of the Python."""

from __future__ import annotations

import random

import duckdb
import pytest

from cargotrace.reference.mid import (
    MMSI_RANGES,
    mid_flags_view_sql,
    mid_table,
    mmsi_flag,
    mmsi_kind,
    mmsi_kind_sql,
    mmsi_mid,
    mmsi_mid_sql,
    mmsi_valid,
)

# Where this table departs from pyais on purpose (ISO code of the territory; see mid.py).
CORRECTED = {
    501: ("AQ", "TF"),
    608: ("IO", "SH"),
    618: ("AQ", "TF"),
    635: ("AQ", "TF"),
    740: ("UK", "FK"),
}
ADDED = {550: "TL", 638: "SS"}  # allocated by the ITU, missing from pyais' table


@pytest.mark.parametrize(
    ("mmsi", "flag"),
    [(273123456, "RU"), (445012345, "KP"), (366999999, "US"), (367000001, "US"), (368100200, "US"),
     (369970000, "US"), (636019876, "LR"), (637000001, "LR"), (351000001, "PA"), (477000001, "HK"),
     ("273123456", "RU"), ("273123456.0", "RU")],
)  # fmt: skip
def test_known_mmsis_give_their_flag(mmsi, flag):
    assert mmsi_kind(mmsi) == "ship" and mmsi_valid(mmsi)
    assert mmsi_flag(mmsi) == flag


@pytest.mark.parametrize(
    ("mmsi", "kind", "mid", "valid"),
    [(2730001, "coast_station", 273, True), (27312345, "group", 273, True), (111273001, "sar_aircraft", 273, True),
     (827312345, "handheld", 273, True), (982731234, "craft", 273, True), (992731234, "aton", 273, True),
     (970123456, "sart", None, True), (972123456, "mob", None, True), (974123456, "epirb", None, True),
     (200123456, "ship", 200, False), (217000001, "ship", 217, False), (999999999, "aton", 999, False),
     (123456789, "invalid", None, False), (0, "invalid", None, False), (1, "invalid", None, False),
     (1000000000, "invalid", None, False), (None, "invalid", None, False), ("abc", "invalid", None, False)],
)  # fmt: skip
def test_mmsi_kinds(mmsi, kind, mid, valid):
    assert (mmsi_kind(mmsi), mmsi_mid(mmsi), mmsi_valid(mmsi)) == (kind, mid, valid)
    assert mmsi_flag(mmsi) is None or kind == "ship"


def test_only_ship_mmsis_imply_a_flag():
    assert (
        mmsi_flag(2730001) is None and mmsi_flag(992731234) is None and mmsi_flag(200123456) is None
    )


def test_table_agrees_with_pyais_except_documented_corrections():
    constants = pytest.importorskip("pyais.constants")
    theirs = {mid: code for mid, (code, _) in constants.COUNTRY_MAPPING.items()}
    ours = {mid: entry.flag for mid, entry in mid_table().items()}
    assert set(ours) - set(theirs) == set(ADDED)
    assert set(theirs) <= set(ours)
    differ = {mid: (theirs[mid], ours[mid]) for mid in theirs if theirs[mid] != ours[mid]}
    assert differ == CORRECTED
    assert {mid: ours[mid] for mid in ADDED} == ADDED


def test_flags_are_iso_alpha2():
    pycountry = pytest.importorskip("pycountry")
    for entry in mid_table().values():
        assert 201 <= entry.mid <= 775
        assert pycountry.countries.get(alpha_2=entry.flag) is not None, entry


def test_sql_matches_python():
    rng = random.Random(7)
    edges = [b + d for _, low, high, _ in MMSI_RANGES for b in (low, high) for d in (-1, 0, 1)]
    sample = edges + [rng.randrange(0, 1_100_000_000) for _ in range(20_000)]
    sample += [mid * 1_000_000 + rng.randrange(1_000_000) for mid in range(199, 800)]
    con = duckdb.connect()
    con.execute(mid_flags_view_sql())
    con.execute("CREATE TABLE t AS SELECT unnest(?::BIGINT[]) AS m", [sample])
    rows = con.execute(
        f"""SELECT m, {mmsi_kind_sql("m")}, {mmsi_mid_sql("m")}, f.flag FROM t
            LEFT JOIN mid_flags f ON f.mid = {mmsi_mid_sql("m")} AND {mmsi_kind_sql("m")} = 'ship'"""
    ).fetchall()
    assert len(rows) == len(sample)
    for m, kind, mid, flag in rows:
        assert (kind, mid, flag) == (mmsi_kind(m), mmsi_mid(m), mmsi_flag(m)), m
