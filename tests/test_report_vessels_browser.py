"""An AIS-only case from the shared real logs, reported as a new user would see it: in a real
headless Chromium with the network blocked, the vessel map and timeline are drawn (ports, dark
periods, calls), the rail sections are left out, no console error; printed, no table is wider
than the page. Skipped without /usr/bin/chromium (a failure under CI=true)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.report.data import build_report_data
from cargotrace.report.html import render_report
from cargotrace.settings import AnalysisSettings
from test_report_browser import ARGS, CHROMIUM, Watch, _need_chromium

from conftest import shared_data

pytestmark = pytest.mark.browser

LOGS = (("aisdb", "test_data_20211101.nm4"), ("aisdb", "test_data_201201.nmea"), ("gpsd", "sample.aivdm"),
        ("amsa", "ais.txt.gz"), ("noaa", "AISdata_marinecadastre_20220103.csv.gz"))  # fmt: skip
A4_CONTENT_PX = 706  # A4 width less the 12 mm margins of the print style, at 96 px per inch


@pytest.fixture(scope="module")
def ais_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    _need_chromium()
    root = tmp_path_factory.mktemp("ais-only")
    case_dir = root / "case"
    workflow.ingest(case_dir, "ais", [shared_data("ais", *parts) for parts in LOGS])
    workflow.ingest(case_dir, "borders", [shared_data("borders", "ne_110m_admin_0_countries.json")])
    workflow.analyze(case_dir, AnalysisSettings())
    with Case.open(case_dir) as case:
        data = build_report_data(case)
    html = root / "report.html"
    html.write_text(render_report(data), encoding="utf-8")
    return html, data


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, html: Path, width: int, media: str = "screen") -> tuple[Any, Watch]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.emulate_media(media=media)
    watch = Watch(page, html.as_uri())
    page.goto(html.as_uri())
    page.wait_for_selector("html[data-report-ready]")
    return page, watch


def test_ais_only_report_draws_the_vessel_story(browser, ais_report, tmp_path):
    html, data = ais_report
    vessels = data["vessels"]
    assert vessels["holds"]["shipments"] == 0 and vessels["holds"]["positions"] > 100_000
    page, watch = _open(browser, html, 1440)
    located = [p for p in vessels["ports"] if p["lat"] is not None]
    drawn = [g for g in vessels["dark"] if not g["beyond_dark_call_bound"]]
    assert located and drawn
    assert page.locator("#vessel-map circle.vport").count() == len(located)
    assert page.locator("#vessel-map path.dark").count() == len(drawn)
    assert (
        page.locator("#vessel-map path.dark").first.evaluate(
            "e => getComputedStyle(e).strokeDasharray"
        )
        != "none"
    )
    assert page.locator("#vessel-map path.country").count() > 0
    lanes = vessels["lanes"]
    calls = sum(1 for lane in lanes for e in lane["events"] if e["kind"] == "call")
    gaps = sum(1 for lane in lanes for e in lane["events"] if e["kind"] == "gap")
    assert calls > 0 and gaps > 0
    assert page.locator("#vessel-timeline rect.call").count() == calls
    assert page.locator("#vessel-timeline rect.gap").count() == gaps
    assert page.locator("#vessel-timeline text.lane-label").count() == len(lanes)
    cards = page.locator("#vessel-cards .card-value").all_inner_texts()
    assert (
        cards[0] == f"{vessels['counts']['port_calls']:,}"
        and cards[1] == f"{vessels['counts']['gaps']:,}"
    )
    for rail in ("#map-section", "#sites", "#shipments", "#charts", "#sensitivity"):
        assert page.locator(rail).count() == 0, rail
    assert "vessel data and no rail shipments" in page.locator("#summary").inner_text()
    page.screenshot(path=str(tmp_path / "ais-only-1440.png"), full_page=True)
    watch.check()
    page.close()


def test_ais_only_report_prints_every_table_within_the_page(browser, ais_report):
    html, _ = ais_report
    page, watch = _open(browser, html, A4_CONTENT_PX, media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll('table')).map(t =>
               [t.closest('section') ? t.closest('section').id : '', Math.ceil(t.getBoundingClientRect().right)])"""
    )
    assert widths and all(right <= A4_CONTENT_PX for _, right in widths), json.dumps(widths)
    watch.check()
    page.close()


def test_printed_rail_report_keeps_every_column_and_no_sort_arrows(browser, tmp_path):
    from report_data_example import example_report_data

    html = tmp_path / "rail.html"
    html.write_text(render_report(example_report_data(hostile=True)), encoding="utf-8")
    page, watch = _open(browser, html, A4_CONTENT_PX, media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    page.locator("#shipments-all").evaluate("b => b.click()")
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll('table')).map(t =>
               [t.closest('section') ? t.closest('section').id : '', Math.ceil(t.getBoundingClientRect().right)])"""
    )
    assert {"arrivals", "shipments", "watchlist"} <= {s for s, _ in widths}
    assert all(right <= A4_CONTENT_PX for _, right in widths), json.dumps(widths)
    arrows = page.evaluate(
        "() => Array.from(document.querySelectorAll('th .arrow')).filter(e => getComputedStyle(e).display !== 'none').length"
    )
    assert arrows == 0
    watch.check()
    page.close()
