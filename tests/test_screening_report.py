"""The report's watchlist section, arrival flags and shipments column: hostile names stay
text (same security model as the rest of the report), and they render in Chromium."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from cargotrace.report.html import render_report
from cargotrace.screening.findings import WatchlistBlock
from test_report_browser import Watch, _need_chromium

from report_data_example import HOSTILE_STRINGS, example_report_data

EVIL = HOSTILE_STRINGS[0]  # <script>alert(1)</script>
EVIL_IMG = HOSTILE_STRINGS[1]


def with_watchlist(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    f = data["findings"]
    arrival = f["arrivals"][0]
    vessel_hit = {
        "hit_id": "H1", "subject_type": "vessel", "subject": arrival["vessel_name"], "role": None,
        "list": "DEMO-LIST " + EVIL, "list_date": "2024-05-03", "list_file": EVIL_IMG, "entry": "ENTRY " + EVIL,
        "entry_id": "e1", "entry_schema": "Vessel", "score": 1.0, "rule": "imo", "rules": ["imo", "name_exact"],
        "matched_name": None, "name_kind": None, "mmsi": arrival["mmsi"], "imo": arrival["imo"], "cluster_id": None,
        "programs": "RUSSIA-EO14024", "flags": {"list": "RU", "ais": ["RU"], "reported": [], "check": "same"},
        "linked": [{"relation": "linked_to", "name": "OWNER " + EVIL_IMG, "listed": True}], "notes": [EVIL],
        "in_chain": True, "arrivals": [arrival["arrival_id"]], "shipments": 3,
    }  # fmt: skip
    party_hit = dict(vessel_hit, hit_id="H2", subject_type="party", subject="ООО «" + EVIL + "»", role="consignor",
                     rule="name_translit", rules=["name_translit"], matched_name="OOO " + EVIL, name_kind="alias",
                     cluster_id="PC-0123456789", flags={}, linked=[], in_chain=False, shipments=0)  # fmt: skip
    f["watchlist_hits"] = [vessel_hit, party_hit]
    f["party_clusters"] = [{
        "cluster_id": "PC-0123456789", "canonical": "ООО «" + EVIL + "»", "records": 7, "roles": ["consignor"],
        "spellings": [{"name": "ООО «" + EVIL + "»", "records": 5, "roles": ["consignor"]},
                      {"name": EVIL_IMG, "records": 2, "roles": ["consignor"]}],
        "legal_form": "LLC", "inn": ["7718857267"], "ogrn": [], "rules": ["translit"], "listed": True,
    }]  # fmt: skip
    f["screening"] = {"lists": [{"list": "DEMO-LIST " + EVIL, "format": "csv", "published": None,
                                 "source_file": EVIL_IMG, "entries": 4}], "hits": 2, "hits_in_chain": 1}  # fmt: skip
    brief = {
        k: vessel_hit[k]
        for k in ("hit_id", "subject", "list", "list_date", "entry", "entry_id", "score", "rule")
    }
    arrival["watchlist"] = [brief]
    for s in f["linked_shipments"]:
        if s["arrival_id"] == arrival["arrival_id"]:
            s["watchlist"] = [dict(brief, role="vessel")]
    return data


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return with_watchlist(example_report_data(hostile=True, n_shipments=120))


def test_watchlist_strings_stay_out_of_the_markup(data: dict[str, Any]) -> None:
    html = render_report(data)
    markup = html.split('id="report-data"')[0]
    assert EVIL not in markup and EVIL_IMG not in markup and "<img" not in html
    assert (
        'id="watchlist-table"' in markup
        and 'id="clusters-table"' in markup
        and 'href="#watchlist"' in markup
    )
    assert sum(
        1 for i in range(len(data["findings"]["arrivals"])) if f'id="arrival-row-{i}"' in markup
    ) == len(data["findings"]["arrivals"])


def test_block_without_tables_is_empty() -> None:
    block = WatchlistBlock()
    assert block.for_arrival({"mmsi": "1", "imo": None, "vessel_name": "X"}) == []
    assert block.chain_lines({"consignor": "X", "consignee": None}, None) == []
    out = block.finish([], [])
    assert (
        out["watchlist_hits"] == []
        and out["party_clusters"] == []
        and out["screening"]["hits"] == 0
    )


def test_party_hit_reaches_other_spellings_of_its_cluster() -> None:
    hit = {"hit_id": "H", "subject_type": "party", "subject": "ООО «ОБОРОНЛОГИСТИКА»", "list": "OFAC SDN",
           "list_date": "2024-05-03", "entry": "OBORONLOGISTIKA OOO", "entry_id": "e", "score": 1.0,
           "rule": "name_exact", "programs": None, "mmsi": None, "imo": None, "linked": [], "cluster_id": "PC-1"}  # fmt: skip
    block = WatchlistBlock(
        hits=[hit], cluster_of={"ООО «ОБОРОНЛОГИСТИКА»": "PC-1", "Оборонлогистика ООО": "PC-1"}
    )
    [line] = block.chain_lines({"consignor": None, "consignee": "Оборонлогистика ООО"}, None)
    assert line == (
        "Watchlist: consignee «Оборонлогистика ООО» is the same organisation as «ООО «ОБОРОНЛОГИСТИКА»» "
        "(cluster PC-1), which is on OFAC SDN of 2024-05-03 as OBORONLOGISTIKA OOO [rule name_exact, score 1.00]"
    )


@pytest.mark.browser
def test_watchlist_section_in_chromium(data: dict[str, Any], tmp_path: Path) -> None:
    _need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "report.html"
    path.write_text(render_report(data), encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            watch = Watch(page, path.as_uri())
            page.goto(path.as_uri())
            page.wait_for_selector("html[data-report-ready]")
            rows = page.locator("#watchlist-body tr")
            assert rows.count() == 2
            first = rows.first.inner_text()
            assert EVIL in first and "imo (+ name_exact)" in first and "RU / RU (same)" in first
            assert "OWNER " + EVIL_IMG + " (listed)" in first
            assert page.locator("#clusters-body li").count() == 2
            assert EVIL_IMG in page.locator("#clusters-body").inner_text()
            assert "listed: DEMO-LIST" in page.locator("#arrival-row-0").inner_text()
            assert (
                page.locator("#watchlist-summary")
                .inner_text()
                .startswith("Screened against DEMO-LIST")
            )
            assert page.locator('#shipments-head th[data-col="listed"]').count() == 1
            assert page.locator("img, iframe, object, embed").count() == 0
            watch.check()
        finally:
            browser.close()
