"""Issue 17, "the headline moves": no messy copy of the records moves the totals.

A re-saved copy of the leak, an implausible weight, a year typo and waybills typed with
Latin look-alikes each once moved the headline without a warning. Each item has a named test
on a tiny hand-built case, and the totals invariants run as Hypothesis properties over
generated variants. The properties re-run only the logistics stages on a copy of a case
whose maritime events are already derived (shipments change nothing upstream), so that each
example costs a fraction of a second.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.ingest.registry import ingest_file
from cargotrace.ingest.types import Mapping
from cargotrace.logistics import significance
from cargotrace.reference.checkdigits import wagon_check_digit
from cargotrace.reference.identifiers import CONFUSABLES, id_key, id_key_sql, is_mixed_script
from cargotrace.settings import AnalysisSettings

from builders import RU_HEADER_CSV, T0, CaseBuilder, write_csv

DAY0 = T0.date()
# Letters of waybill prefixes that have a Latin twin (and Э, which has none).
PREFIXES = ("ЭА", "ЭВ", "ЭК", "ЭМ", "ЭН", "ЭР", "ЭС", "ЭТ", "ЕО", "ХА", "ЭХ", "ВС")
ARRIVAL_DAYS = [DAY0 + timedelta(days=30 * k) for k in range(6)]  # Sep 2023 - Feb 2024
LOGISTICS = ["consignments", "stations", "linking", "label_changes"]
PROPERTY = settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def wagon(serial: int) -> str:
    first = f"2{serial:06d}"
    return first + str(wagon_check_digit(first))


def base_records() -> list[dict[str, Any]]:
    """40 explosives departures from the port station to Kotluban over six months (about a
    third within a week after an arrival), and ammunition arrival records for every third."""
    out = []
    for i in range(40):
        day = DAY0 + timedelta(days=(i * 37) % 170)
        record = {
            "waybill": f"{PREFIXES[i % len(PREFIXES)]}{400000 + i}",
            "record": "отправление",
            "day": day,
            "cargo": "взрывчатые вещества",
            "kg10": 500_000 + 1_237 * i,  # tenths of a kilogram
            "wagon": wagon(1000 + i),
        }
        out.append(record)
        if i % 3 == 0:
            out.append(record | {"record": "прибытие", "cargo": "боеприпасы"})
    return out


def _kg_text(kg10: int, grouping: bool, decimal: str) -> str:
    kg, tenth = divmod(kg10, 10)
    body = f"{kg:,}".replace(",", " ") if grouping else str(kg)
    return f"{body}{decimal}{tenth}" if tenth else body


def write_records(
    path: Path,
    records: list[dict[str, Any]],
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
    date_format: str = "%d.%m.%Y",
    grouping: bool = True,
    decimal: str = ",",
    weight_header: str = "Вес груза, кг",
) -> Path:
    """The records as a Russian leak file; the defaults are the original's layout."""
    header = [weight_header if h == "Вес груза, кг" else h for h in RU_HEADER_CSV]
    rows = [
        [r["waybill"], r["record"], r["day"].strftime(date_format), "Находка-Восточная", "984700",
         "Котлубань", "515002", r["cargo"], r.get("weight") or _kg_text(r["kg10"], grouping, decimal),
         r["wagon"]]
        for r in records
    ]  # fmt: skip
    return write_csv(path, header, rows, encoding=encoding, delimiter=delimiter)


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> Path:
    """A case with stations, a depot and six arrivals from Rajin, analysed: no shipments."""
    root = tmp_path_factory.mktemp("bare")
    b = CaseBuilder(root)
    b.station("515002", "Котлубань", 48.997, 44.216)
    b.facility("Kotluban arsenal", 48.99, 44.2)
    for day in ARRIVAL_DAYS:
        b.sighting(
            T0.replace(year=day.year, month=day.month, day=day.day) - timedelta(days=5), "KPNJN"
        )
        b.sighting(T0.replace(year=day.year, month=day.month, day=day.day), "RUVYP")
    b.run()
    return b.case_dir


def fresh_copy(bare: Path) -> Path:
    target = bare.parent / f"copy-{uuid.uuid4().hex[:8]}"
    shutil.copytree(bare, target)
    return target


def figures(case: Case, analysed: bool = False) -> dict[str, Any]:
    """The headline figures of a case (re-running the logistics stages unless `analysed`)."""
    if not analysed:
        run_stages(case.con, AnalysisSettings(), LOGISTICS)
    links = case.rows("SELECT waybill, tonnes FROM linked_shipments")
    stats = significance.compute(case.con, AnalysisSettings())
    return {
        "linked": len(links),
        "tonnes": round(sum(r["tonnes"] or 0 for r in links), 6),
        "tonnes_by_waybill": {r["waybill"]: r["tonnes"] for r in links},
        "label_changes": case.scalar("SELECT count(*) FROM label_changes"),
        "p_value": stats["p_value"],
        "observed": stats["observed_within_window"],
        "expected": stats["expected_within_window"],
        "shipment_rows": case.scalar("SELECT count(*) FROM shipments"),
        "left_out_weights": case.scalar(
            "SELECT count(*) FROM consignments WHERE weight_left_out IS NOT NULL"
        ),
        "out_of_period": [
            r["waybill"]
            for r in case.rows(
                "SELECT waybill FROM consignments WHERE date_out_of_period ORDER BY waybill"
            )
        ],
        "mixed": case.scalar("SELECT count(*) FROM consignments WHERE mixed_script"),
    }


def measure(bare: Path, files: list[Path], full: bool = False) -> dict[str, Any]:
    """Ingest `files` into a copy of `bare` and read the headline figures; `full` runs the
    whole analysis and adds its `findings` and the `case` folder."""
    case_dir = fresh_copy(bare)
    with Case.open(case_dir, write=True) as case:
        for path in files:
            ingest_file(case, "shipments", path, Mapping())
        if full:
            findings = workflow.analyze_case(case, AnalysisSettings())
            return figures(case, analysed=True) | {"findings": findings, "case": case_dir}
        got = figures(case)
    shutil.rmtree(case_dir)
    return got


@pytest.fixture(scope="module")
def base(bare, tmp_path_factory) -> dict[str, Any]:
    path = write_records(tmp_path_factory.mktemp("base") / "leak.csv", base_records())
    figures = measure(bare, [path])
    assert figures["linked"] > 5 and figures["label_changes"] > 5  # the case exercises the rules
    return figures | {"path": path}


@pytest.fixture(scope="module")
def based(bare, base) -> Path:
    """The bare case with the original leak file ingested (not analysed)."""
    case_dir = fresh_copy(bare)
    workflow.ingest(case_dir, "shipments", [base["path"]])
    return case_dir


def _same_headline(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in ("linked", "label_changes", "p_value", "observed", "expected"):
        assert got[key] == want[key], key
    assert got["tonnes"] == pytest.approx(want["tonnes"], abs=1e-6)


# --- item 1: a re-saved copy ----------------------------------------------------------------
def test_a_resaved_copy_of_the_records_counts_each_consignment_once(bare, base, tmp_path):
    copy = write_records(tmp_path / "leak_resaved.csv", base_records(), encoding="utf-8",
                         delimiter=",", date_format="%Y-%m-%d", grouping=False)  # fmt: skip
    both = measure(bare, [base["path"], copy], full=True)
    _same_headline(both, base)
    assert both["shipment_rows"] == 2 * base["shipment_rows"]  # every row kept as evidence
    findings = both["findings"]
    repeats = findings["left_out"]["duplicate_records"]
    assert repeats["rows"] == base["shipment_rows"]
    assert repeats["consignments"] == base["shipment_rows"]
    assert findings["left_out"]["conflicting_versions"]["consignments"] == 0
    assert findings["totals"]["linked_shipments"] == base["linked"]


def test_conflicting_versions_of_a_consignment_are_reported_not_summed(bare, base, tmp_path):
    records = base_records()
    linked = next(r for r in records if r["waybill"] in base["tonnes_by_waybill"])
    other = [r | {"kg10": r["kg10"] + 20_000} if r is linked else r for r in records]
    copy = write_records(tmp_path / "leak_v2.csv", other, encoding="utf-8", delimiter=",")
    both = measure(bare, [base["path"], copy], full=True)
    _same_headline(both, base)  # the first version counts, once
    findings = both["findings"]
    conflicts = findings["left_out"]["conflicting_versions"]
    assert conflicts["consignments"] == 1
    item = conflicts["items"][0]
    assert item["waybill"] == linked["waybill"]
    assert [(v["weight_t"], v["counted"]) for v in item["versions"]] == [
        (linked["kg10"] / 10_000, True),
        ((linked["kg10"] + 20_000) / 10_000, False),
    ]
    assert [v["source_file"] for v in item["versions"]] == ["leak.csv", "leak_v2.csv"]


def test_rows_of_one_waybill_in_different_containers_stay_apart(bare, tmp_path):
    header = [
        "waybill",
        "record",
        "departed_on",
        "origin_esr",
        "destination_esr",
        "cargo",
        "weight_t",
        "container",
    ]
    row = ["ЭА1", "departure", "2023-09-02", "984700", "515002", "взрывчатые вещества"]
    original = write_csv(tmp_path / "containers.csv", header,
                         [row + ["20.5", "CSQU3054383"], row + ["20.5", "CSQU 305438 3"], row + ["21.5", "MSKU3054384"]])  # fmt: skip
    resaved = write_csv(
        tmp_path / "containers_resaved.csv", header, [row + ["20,50", "CSQU3054383"]], delimiter=";"
    )
    got = measure(bare, [original, resaved])
    assert got["shipment_rows"] == 4  # every row kept as evidence
    assert got["linked"] == 2 and got["tonnes"] == pytest.approx(42.0)


@PROPERTY
@given(
    picks=st.sets(st.integers(0, 53), min_size=1, max_size=54),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    date_format=st.sampled_from(["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]),
    grouping=st.booleans(),
    decimal=st.sampled_from([",", "."]),
    reverse=st.booleans(),
)
def test_property_resaved_copies_never_move_the_headline(
    based, base, tmp_path, picks, encoding, delimiter, date_format, grouping, decimal, reverse
):
    records = base_records()
    subset = [records[i] for i in sorted(picks) if i < len(records)]
    if reverse:
        subset.reverse()
    copy = write_records(tmp_path / f"copy-{uuid.uuid4().hex[:8]}.csv", subset, encoding=encoding,
                         delimiter=delimiter, date_format=date_format, grouping=grouping,
                         decimal=decimal)  # fmt: skip
    got = measure(based, [copy])
    _same_headline(got, base)
    assert base["shipment_rows"] <= got["shipment_rows"] <= base["shipment_rows"] + len(subset)


# --- item 2: implausible weights --------------------------------------------------------------
def test_an_implausible_weight_never_enters_a_total(bare, base, tmp_path):
    records = base_records()
    linked = next(r for r in records if r["waybill"] in base["tonnes_by_waybill"])
    linked["weight"] = "1 000 000 000 000 000 000 000"
    path = write_records(tmp_path / "leak.csv", records)
    got = measure(bare, [path], full=True)
    assert got["linked"] == base["linked"]  # the shipment still counts as a shipment
    assert got["tonnes"] == pytest.approx(
        base["tonnes"] - base["tonnes_by_waybill"][linked["waybill"]], abs=1e-6
    )
    findings = got["findings"]
    assert findings["totals"]["linked_tonnes"] < 10_000
    assert findings["totals"]["linked_weights_left_out"] == 1
    assert sum(s["tonnes"] for s in findings["sites"]) == pytest.approx(got["tonnes"], abs=1e-3)
    weights = findings["left_out"]["weights"]
    assert weights == {"rows": 1, "linked_shipments": 1, "by_reason": {"weight_implausible": 1},
                       "waybills": [linked["waybill"]]}  # fmt: skip
    chain = next(x for x in findings["linked_shipments"] if x["waybill"] == linked["waybill"])
    assert "left out of totals: weight_implausible" in chain["evidence_chain"][0]
    assert chain["tonnes"] is None and chain["weight_left_out"] == "weight_implausible"
    assert chain["recorded_t"] == pytest.approx(1e18)
    assert any(linked["waybill"] in line for line in findings["left_out"]["summary"])


def test_a_kg_column_read_as_tonnes_is_left_out_of_totals(bare, base, tmp_path):
    path = write_records(tmp_path / "leak_t.csv", base_records(), weight_header="Вес груза, т")
    got = measure(bare, [path])
    assert got["linked"] == base["linked"]
    assert got["tonnes"] == 0  # 50,000 "t" per wagon: every weight left out, none summed
    assert got["left_out_weights"] == len(base_records())


@PROPERTY
@given(
    index=st.integers(0, 53),
    kg=st.one_of(st.integers(1_000_001, 10**24), st.sampled_from([10**21, 50_000_000])),
)
def test_property_an_implausible_weight_changes_only_its_own_tonnes(
    bare, base, tmp_path, index, kg
):
    records = base_records()
    target = records[index % len(records)]
    for r in records:  # the departure and its arrival record alike
        if r["waybill"] == target["waybill"]:
            r["weight"] = str(kg)
    got = measure(bare, [write_records(tmp_path / f"{uuid.uuid4().hex[:8]}.csv", records)])
    assert got["linked"] == base["linked"]
    want = base["tonnes"] - base["tonnes_by_waybill"].get(target["waybill"], 0.0)
    assert got["tonnes"] == pytest.approx(want, abs=1e-6)
    assert got["left_out_weights"] == sum(r["waybill"] == target["waybill"] for r in records)


# --- item 3: a date outside the period --------------------------------------------------------
def test_a_departure_dated_outside_the_evidence_period_stays_off_the_test(bare, base, tmp_path):
    records = base_records()
    typo = next(
        r
        for r in records
        if r["record"] == "отправление" and r["waybill"] not in base["tonnes_by_waybill"]
    )
    without = [r for r in records if r["waybill"] != typo["waybill"]]
    typo_day = typo["day"].replace(year=typo["day"].year + 1)
    with_typo = [r | {"day": typo_day} if r is typo else r for r in records]
    reference = measure(bare, [write_records(tmp_path / "without.csv", without)])
    got = measure(bare, [write_records(tmp_path / "typo.csv", with_typo)], full=True)
    for key in ("p_value", "observed", "expected"):
        assert got[key] == reference[key], key
    assert got["out_of_period"] == [typo["waybill"]]
    findings = got["findings"]
    period = findings["left_out"]["out_of_period_dates"]
    assert period["rows"] == 1 and period["departures_kept_off_test"] == 1
    assert period["waybills"] == [typo["waybill"]]
    assert period["period"]["last_day"] < typo_day.isoformat()
    assert findings["significance"]["out_of_period_departures"] == 1


@PROPERTY
@given(index=st.integers(0, 53), years=st.sampled_from([-3, -2, -1, 1, 2, 3]))
def test_property_a_year_typo_never_moves_the_significance(bare, tmp_path, index, years):
    records = base_records()
    departures = [r for r in records if r["record"] == "отправление"]
    typo = departures[index % len(departures)]["waybill"]
    # its arrival record (if any) carries the same departure date, typo included
    moved = [r | {"day": r["day"].replace(year=r["day"].year + years)} if r["waybill"] == typo else r
             for r in records]  # fmt: skip
    case_dir = fresh_copy(bare)
    with Case.open(case_dir, write=True) as case:
        ingest_file(
            case,
            "shipments",
            write_records(tmp_path / f"{uuid.uuid4().hex[:8]}.csv", moved),
            Mapping(),
        )
        got = figures(case)
        case.con.execute("DELETE FROM shipments WHERE waybill = ?", [typo])
        reference = figures(case)  # the same records without the mistyped one
    shutil.rmtree(case_dir)
    for key in ("p_value", "observed", "expected", "linked", "tonnes"):
        assert got[key] == reference[key], key
    assert got["out_of_period"] == [typo] * sum(r["waybill"] == typo for r in records)


def test_dates_of_a_second_batch_of_records_are_not_out_of_period(bare, tmp_path):
    """Two batches of similar size months apart are both the period (the rule is for strays)."""
    records = base_records()
    later = [
        r | {"waybill": r["waybill"] + "L", "day": r["day"] + timedelta(days=400)} for r in records
    ]
    got = measure(bare, [write_records(tmp_path / "two.csv", records + later)])
    assert got["out_of_period"] == []


# --- item 4: look-alike letters -----------------------------------------------------------
LATIN_TWIN = {cyr: lat for lat, cyr in CONFUSABLES.items() if lat.isascii()}


def test_latin_look_alikes_in_waybills_still_meet_their_departure(bare, base, tmp_path):
    records = base_records()
    for r in records:
        if r["record"] == "прибытие":  # ЭА400000 -> ЭA400000 (Latin A), as in issue 17
            r["waybill"] = "".join(LATIN_TWIN.get(ch, ch) for ch in r["waybill"])
    got = measure(bare, [write_records(tmp_path / "lookalike.csv", records)], full=True)
    assert got["label_changes"] == base["label_changes"]
    findings = got["findings"]
    mixed = findings["left_out"]["mixed_script_ids"]
    mixed_waybills = sorted({r["waybill"] for r in records if is_mixed_script(r["waybill"])})
    assert mixed["rows"] == len([r for r in records if is_mixed_script(r["waybill"])]) > 0
    assert mixed["waybills"] == mixed_waybills
    assert len(findings["label_changes"]) == base["label_changes"]


@PROPERTY
@given(data=st.data())
def test_property_look_alike_letters_never_change_the_label_changes(bare, base, tmp_path, data):
    records = base_records()
    for r in records:
        if r["record"] == "прибытие":
            swap = data.draw(
                st.lists(st.booleans(), min_size=len(r["waybill"]), max_size=len(r["waybill"]))
            )
            r["waybill"] = "".join(
                LATIN_TWIN.get(ch, ch) if s else ch
                for ch, s in zip(r["waybill"], swap, strict=True)
            )
    got = measure(bare, [write_records(tmp_path / f"{uuid.uuid4().hex[:8]}.csv", records)])
    _same_headline(got, base)
    assert got["mixed"] == sum(is_mixed_script(r["waybill"]) for r in records)


SQL = duckdb.connect()
ID_TEXT = st.text(
    alphabet=st.sampled_from("ЭАВЕКМНОРСТХУЁёаеорсхуABCEHKMOPTXYaeopcxy0123456789 -/."), max_size=12
)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(ID_TEXT, min_size=1, max_size=20))
def test_id_key_in_python_and_sql_agree(texts):
    with duckdb.connect() as con:
        got = [
            r[0]
            for r in con.execute(
                f"SELECT {id_key_sql('t')} FROM unnest(?) AS u(t)", [texts]
            ).fetchall()
        ]
    assert got == [id_key(t) for t in texts]
    for text, key in zip(texts, got, strict=True):
        if key is not None:
            assert id_key(text.lower()) == key and id_key(key) == key  # case-blind, idempotent


def test_id_key_folds_look_alikes_and_punctuation():
    assert id_key("ЭA498498") == id_key("ЭА498498") == id_key("эа-498 498") == "ЭА498498"
    assert id_key("EO12") == id_key("ЕО12")
    assert id_key("ЭБ1") != id_key("Э61")  # only look-alike letters fold, never letters to digits
    assert (
        is_mixed_script("ЭA498498")
        and not is_mixed_script("ЭА498498")
        and not is_mixed_script("EO12")
    )


# --- item 5: a stale analysis -----------------------------------------------------------------
def test_export_and_report_warn_when_the_analysis_is_stale(bare, base, tmp_path):
    runner = CliRunner()
    case_dir = fresh_copy(bare)
    workflow.ingest(case_dir, "shipments", [base["path"]])
    workflow.analyze(case_dir, AnalysisSettings())
    out = tmp_path / "findings.json"

    fresh = runner.invoke(app, ["export", "--case", str(case_dir), "--out", str(out)])
    assert fresh.exit_code == 0 and "STALE" not in fresh.stderr
    assert json.loads(out.read_text())["analysis_status"]["stale"] is False

    later = write_records(
        tmp_path / "more.csv", [r | {"waybill": r["waybill"] + "M"} for r in base_records()[:3]]
    )
    workflow.ingest(case_dir, "shipments", [later])
    stale = runner.invoke(app, ["export", "--case", str(case_dir), "--out", str(out)])
    assert stale.exit_code == 0
    assert (
        "STALE" in stale.stderr
        and "more.csv" in stale.stderr
        and "cargotrace analyze" in stale.stderr
    )
    status = json.loads(out.read_text())["analysis_status"]
    assert status["stale"] is True and status["files_since"] == ["more.csv"]
    report = runner.invoke(
        app, ["report", "--case", str(case_dir), "--out", str(tmp_path / "r.html")]
    )
    assert report.exit_code == 0 and "STALE" in report.stderr
    assert 'id="stale-banner"' in (tmp_path / "r.html").read_text(encoding="utf-8")
    table = runner.invoke(app, ["export", "--case", str(case_dir), "--format", "csv", "--table", "linked_shipments",
                                "--out", str(tmp_path / "l.csv")])  # fmt: skip
    assert "STALE" in table.stderr

    workflow.analyze(case_dir, AnalysisSettings())
    again = runner.invoke(
        app, ["report", "--case", str(case_dir), "--out", str(tmp_path / "r.html")]
    )
    assert again.exit_code == 0 and "STALE" not in again.stderr
    assert 'id="stale-banner"' not in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_report_lists_what_the_totals_leave_out(bare, base, tmp_path):
    records = base_records()
    records[0]["weight"] = "1 000 000 000 000 000 000 000"
    case_dir = fresh_copy(bare)
    workflow.ingest(case_dir, "shipments", [write_records(tmp_path / "leak.csv", records)])
    workflow.analyze(case_dir, AnalysisSettings())
    workflow.report(case_dir, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="left-out"' in html and 'id="left-out-note"' in html
    assert "weight_implausible" in html and records[0]["waybill"] in html


def test_explain_finds_a_waybill_typed_with_look_alikes(bare, base):
    case_dir = fresh_copy(bare)
    workflow.ingest(case_dir, "shipments", [base["path"]])
    workflow.analyze(case_dir, AnalysisSettings())
    waybill = base_records()[0]["waybill"]  # ЭА400000
    typed = "".join(LATIN_TWIN.get(ch, ch) for ch in waybill)
    assert typed != waybill
    got = workflow.explain(case_dir, typed)[0]
    assert [r["waybill"] for r in got["records"]] == [waybill, waybill]
    assert got["label_changes"] and got["label_changes"][0]["waybill"] == waybill
