"""Screening inside a case: watchlists of every layout through `ingest watchlist`, vessel
owners from a vessels file, the analysis stages, findings and evidence chains, and the
demo (its DEMO-LIST hits, and no hit at all against the real SDN list)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.demo import run_demo
from cargotrace.errors import InputError
from cargotrace.report.schema import validate_findings
from cargotrace.sample.reference import SHUTTLES
from cargotrace.screening import stage
from cargotrace.screening.findings import watchlist_block
from cargotrace.settings import AnalysisSettings
from test_screening_lists import write_ftm

from builders import write_csv
from conftest import shared_data

SHIPMENT_HEADER = ["waybill", "departed_on", "origin_station", "destination_station", "cargo", "weight, t",
                   "consignor", "consignee", "ИНН грузоотправителя"]  # fmt: skip
VOSTOK = ["ООО «Восток-Транзит»", "ООО ВОСТОК ТРАНЗИТ", "Восток-Транзит ООО", "OOO VOSTOK-TRANZIT",
          "Общество с ограниченной ответственностью «Восток-Транзит»"]  # fmt: skip


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    workflow.init_case(tmp_path / "case")
    return tmp_path / "case"


def ingest(case_dir: Path, kind: str, path: Path) -> Any:
    [result] = workflow.ingest(case_dir, kind, [path])
    return result


def test_every_watchlist_layout_is_recognised(case_dir: Path, tmp_path: Path) -> None:
    sdn = tmp_path / "sdn_2024-05-03.csv"
    shutil.copy(shared_data("sanctions", "sdn.csv"), sdn)
    simple = write_csv(tmp_path / "watch.csv", ["name", "imo", "mmsi", "list", "note"],
                       [["NORD FALCON (DEMO)", "9900112", "273990011", "DEMO-LIST", "fictitious"]])  # fmt: skip
    results = {
        "sdn": ingest(case_dir, "watchlist", sdn),
        "un": ingest(
            case_dir, "watchlist", shared_data("sanctions", "UN_consolidated_2026-02-27.xml")
        ),
        "ftm": ingest(case_dir, "watchlist", write_ftm(tmp_path / "os.json")),
        "csv": ingest(case_dir, "watchlist", simple),
    }
    assert {k: r.detail["format"] for k, r in results.items()} == {
        "sdn": "ofac-sdn-csv", "un": "un-xml", "ftm": "ftm-jsonl", "csv": "csv",
    }  # fmt: skip
    assert (results["sdn"].rows_kept, results["sdn"].rows_skipped) == (14_965, 1)
    assert results["un"].rows_kept == 1003
    assert (
        results["ftm"].rows_kept,
        results["ftm"].rows_quarantined,
        results["ftm"].rows_skipped,
    ) == (4, 1, 4)
    assert results["csv"].rows_kept == 1
    assert workflow.check_case(case_dir) == []
    with Case.open(case_dir) as case:
        lists = case.rows(
            "SELECT list, format, CAST(published AS VARCHAR) AS published, source_file, entries FROM watchlist_lists ORDER BY source_file"
        )
        assert [(r["list"], r["published"], r["source_file"], r["entries"]) for r in lists] == [
            ("UN SC Consolidated", "2026-02-27", "UN_consolidated_2026-02-27.xml", 1003),
            ("us_ofac_sdn, demo", "2024-05-03", "os.json", 4),
            ("OFAC SDN", "2024-05-03", "sdn_2024-05-03.csv", 14_965),
        ]
        assert case.scalar("SELECT count(*) FROM watchlist_names WHERE kind = 'former_name'") >= 87
        assert (
            case.scalar(
                "SELECT other_name FROM watchlist_links l JOIN watchlist_entries e USING (file_hash, source_row) WHERE e.entry_id = 'ofac-sdn:37095'"
            )
            == "TRANSMORFLOT LLC"
        )
    again = ingest(case_dir, "watchlist", sdn)
    assert again.already_ingested


def test_vessel_owners_from_a_vessels_file(case_dir: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "vessels.csv", ["mmsi", "imo", "name", "flag", "Registered owner", "Operator"],
                     [["273000001", "9000001", "TEST SHIP", "RU", "ООО «Оборонлогистика»", ""]])  # fmt: skip
    ingest(case_dir, "vessels", path)
    with Case.open(case_dir) as case:
        assert case.rows(
            "SELECT mmsi, vessel_name, role, party, source_row FROM vessel_parties"
        ) == [
            {
                "mmsi": 273000001,
                "vessel_name": "TEST SHIP",
                "role": "registered owner",
                "party": "ООО «Оборонлогистика»",
                "source_row": 2,
            }
        ]


@pytest.fixture
def screened(case_dir: Path, tmp_path: Path) -> Path:
    """Identities and waybills naming real listed entities (no movements), screened."""
    ingest(case_dir, "watchlist", shared_data("sanctions", "sdn.csv"))
    ingest(case_dir, "vessels", write_csv(tmp_path / "vessels.csv", ["mmsi", "imo", "name", "flag", "owner"], [
        ["273215020", "9161003", "LADY R", "RU", ""],
        ["273000002", "", "ЛЕДИ Р", "RU", ""],
        ["273000003", "9000003", "TEST SHIP", "RU", "Oboronlogistika LLC"],
    ]))  # fmt: skip
    rows = [[f"W{i}", "2023-09-01", "Находка-Восточная", "Моздок", "взрывчатые вещества", "60", name, "в/ч 99100", ""]
            for i, name in enumerate(VOSTOK)]  # fmt: skip
    rows += [["W10", "2023-09-02", "Находка-Восточная", "Моздок", "взрывчатые вещества", "60", "ООО «Оборонлогистика»", "АО «Восток-Транзит»", ""],
             ["W11", "2023-09-03", "Находка-Восточная", "Моздок", "взрывчатые вещества", "60", "OBORONLOGISTIKA", "в/ч 99101", "7718857267"],
             ["W12", "2023-09-04", "Находка-Восточная", "Моздок", "взрывчатые вещества", "60", "ООО Ромашка", "в/ч 99101", "7718857267"]]  # fmt: skip
    ingest(case_dir, "shipments", write_csv(tmp_path / "shipments.csv", SHIPMENT_HEADER, rows))
    with Case.open(case_dir, write=True) as case:
        stage.build_clusters(case.con, AnalysisSettings())
        stage.build_hits(case.con, AnalysisSettings())
    return case_dir


def stored(case_dir: Path, waybill: str, column: str = "consignor") -> str:
    """A party as the shipments table holds it (ingest may canonicalise the spelling)."""
    with Case.open(case_dir) as case:
        return str(case.scalar(f"SELECT {column} FROM shipments WHERE waybill = ?", [waybill]))


def test_stages_find_vessels_owners_and_parties(screened: Path) -> None:
    with Case.open(screened) as case:
        hits = case.rows(
            "SELECT subject_type, subject, role, entry, rule, score FROM watchlist_hits ORDER BY subject_type DESC, subject, entry, role"
        )
    found = {(h["subject_type"], h["subject"], h["entry"], h["rule"]) for h in hits}
    assert ("vessel", "LADY R", "LADY R", "imo") in found
    assert ("vessel", "ЛЕДИ Р", "LADY R", "name_phonetic") in found
    assert (
        "party",
        "TRANSMORFLOT LLC",
        "TRANSMORFLOT LLC",
        "list_link",
    ) in found  # LADY R's owner, per the list
    assert ("party", stored(screened, "W10"), "OBORONLOGISTIKA OOO", "name_exact") in found
    assert (
        "party",
        "Oboronlogistika LLC",
        "OBORONLOGISTIKA OOO",
        "name_exact",
    ) in found  # a vessel owner
    assert (
        "party",
        stored(screened, "W11"),
        "OBORONLOGISTIKA OOO",
        "inn",
    ) in found  # INN of the record
    assert (
        "party",
        stored(screened, "W12"),
        "OBORONLOGISTIKA OOO",
        "inn",
    ) in found  # another name, same INN
    assert not any(
        "ВОСТОК" in h["subject"].upper() or "VOSTOK" in h["subject"].upper() for h in hits
    )
    roles = {h["subject"]: h["role"] for h in hits if h["subject_type"] == "party"}
    assert roles["Oboronlogistika LLC"] == "owner" and "consignor" in roles[stored(screened, "W10")]


def test_clusters_group_the_spellings_of_one_company(screened: Path) -> None:
    block = _block(screened)
    vostok = {block.cluster_of[stored(screened, f"W{i}")] for i in range(len(VOSTOK))}
    assert len(vostok) == 1, vostok
    [cluster] = [c for c in block.clusters if c["cluster_id"] in vostok]
    assert (
        len(cluster["spellings"]) >= 2
        and cluster["records"] == 5
        and cluster["legal_form"] == "LLC"
    )
    assert (
        block.cluster_of[stored(screened, "W10", "consignee")] not in vostok
    )  # the JSC is another company
    oboron = {block.cluster_of[stored(screened, w)] for w in ("W10", "W11", "W12")}
    assert oboron == {block.cluster_of["Oboronlogistika LLC"]}
    [cluster] = [c for c in block.clusters if c["cluster_id"] in oboron]
    assert (
        cluster["inn"] == ["7718857267"]
        and "owner" in cluster["roles"]
        and "consignor" in cluster["roles"]
    )
    with Case.open(screened, write=True) as case:  # ids are stable across reruns
        before = case.rows("SELECT cluster_id, name FROM party_clusters ORDER BY name")
        stage.build_clusters(case.con, AnalysisSettings())
        assert case.rows("SELECT cluster_id, name FROM party_clusters ORDER BY name") == before


def test_findings_mark_arrivals_and_shipments(screened: Path) -> None:
    block = _block(screened)
    arrival = {"arrival_id": "A1", "vessel_name": "LADY R", "imo": "9161003", "mmsi": "273215020",
               "port_locode": "RUVYP"}  # fmt: skip
    arrival["watchlist"] = block.for_arrival(arrival)
    assert [(h["entry"], h["rule"]) for h in arrival["watchlist"]] == [("LADY R", "imo")]
    link = {
        "waybill": "W11",
        "arrival_id": "A1",
        "consignor": stored(screened, "W11"),
        "consignee": "в/ч 99101",
    }
    link["watchlist"] = block.for_link(link, arrival)
    lines = block.chain_lines(link, arrival)
    assert lines[0].startswith(
        "Watchlist: vessel LADY R (IMO 9161003) is on OFAC SDN as LADY R [rule imo, score 1.00"
    )
    assert "the list links it to TRANSMORFLOT LLC, listed too" in lines[0]
    assert (
        f"Watchlist: consignor «{stored(screened, 'W11')}» is on OFAC SDN as OBORONLOGISTIKA OOO [rule inn"
        in " ".join(lines)
    )
    assert block.chain_lines({"consignor": stored(screened, "W0"), "consignee": None}, None) == []
    cousin = {"consignor": "Oboronlogistika LLC", "consignee": None}  # listed itself
    assert block.chain_lines(cousin, None) == block.chain_lines(dict(cousin), None)  # deterministic
    out = block.finish([arrival], [link])
    assert out["screening"]["hits_in_chain"] >= 3
    assert {h["entry"] for h in out["watchlist_hits"] if h["in_chain"]} >= {
        "LADY R",
        "TRANSMORFLOT LLC",
        "OBORONLOGISTIKA OOO",
    }
    assert all(
        set(h) >= {"subject_type", "subject", "list", "entry", "score", "rule"}
        for h in out["watchlist_hits"]
    )
    assert any(c["listed"] for c in out["party_clusters"])


def _block(case_dir: Path) -> Any:
    with Case.open(case_dir) as case:
        return watchlist_block(case)


# ------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_demo(tmp_path_factory.mktemp("screening-demo"))


def test_demo_list_hits_in_the_demo_findings(demo: Any) -> None:
    findings = demo.findings
    validate_findings(findings)
    hits = findings["watchlist_hits"]
    assert {h["subject"] for h in hits} == {v.name for v in SHUTTLES}
    assert all(h["list"] == "DEMO-LIST" and h["rule"] == "imo" and h["in_chain"] for h in hits)
    assert all(a["watchlist"] for a in findings["arrivals"])
    assert all(
        any(line.startswith("Watchlist: vessel ") for line in s["evidence_chain"])
        for s in findings["linked_shipments"]
    )
    assert findings["screening"]["lists"][0]["list"] == "DEMO-LIST"
    on_disk = json.loads(demo.findings_path.read_text(encoding="utf-8"))
    assert on_disk["watchlist_hits"] == json.loads(json.dumps(hits))
    html = demo.report_path.read_text(encoding="utf-8")
    assert 'id="watchlist-table"' in html and 'id="arrival-row-0"' in html


def test_demo_ships_hit_nothing_on_the_real_sdn_list(demo: Any, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(demo.case_dir, case_dir)
    ingest(case_dir, "watchlist", shared_data("sanctions", "sdn.csv"))
    ingest(case_dir, "watchlist", shared_data("sanctions", "UN_consolidated_2026-02-27.xml"))
    with Case.open(case_dir, write=True) as case:
        stage.build_hits(case.con, AnalysisSettings())
        lists = case.rows("SELECT DISTINCT list FROM watchlist_hits")
        subjects = case.scalar("SELECT count(DISTINCT subject_key) FROM watchlist_hits")
    assert lists == [{"list": "DEMO-LIST"}] and subjects == 4


def test_broken_list_is_bad_input_not_a_traceback(case_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "UN.xml"
    broken.write_text(
        '<?xml version="1.0"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>', encoding="utf-8"
    )
    with pytest.raises(InputError, match="not well-formed XML") as info:
        ingest(case_dir, "watchlist", broken)
    assert info.value.file == str(broken)
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM watchlist") == 0
