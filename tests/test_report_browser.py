"""The report in a real headless Chromium: offline, no errors, charts drawn, interactions.

Skipped when /usr/bin/chromium is absent, except under CI=true where that is a failure.
Screenshots (1440 and 390 px wide, full page) go to a tmp dir and, when the environment
variable CARGOTRACE_SCREENSHOTS names a directory, there as well.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cargotrace.report.html import render_report
from cargotrace.report.pdf import QUIET_HEADLESS_ARGS, render_pdf

from report_data_example import example_report_data

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = list(QUIET_HEADLESS_ARGS)


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI")
        pytest.skip(f"{CHROMIUM} not installed")


@pytest.fixture(scope="module")
def hostile_data() -> dict[str, Any]:
    return example_report_data(hostile=True)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, hostile_data: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(hostile_data), encoding="utf-8")
    return path


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


class Watch:
    """Fails the test on any network request, console error, page error or dialog."""

    def __init__(self, page: Any, allowed_url: str) -> None:
        self.problems: list[str] = []
        self.allowed = allowed_url

        def route(r: Any) -> None:
            if r.request.url == self.allowed:
                r.continue_()
            else:
                r.abort()  # recorded by the request listener below

        def request(req: Any) -> None:
            if req.url != self.allowed and not req.url.startswith(("data:", "about:")):
                self.problems.append(f"request {req.url}")

        def dialog(d: Any) -> None:
            self.problems.append(f"dialog {d.type}: {d.message}")
            d.dismiss()

        page.route("**/*", route)
        page.on("request", request)
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("dialog", dialog)

    def check(self) -> None:
        assert not self.problems, self.problems


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    out = os.environ.get("CARGOTRACE_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / name)


def _count(page: Any, selector: str) -> int:
    return int(page.locator(selector).count())


def test_report_in_browser_desktop(
    browser: Any, report_file: Path, hostile_data: dict[str, Any], tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    url = report_file.as_uri()
    watch = Watch(page, url)
    page.goto(url)
    page.wait_for_selector("html[data-report-ready]")

    # every chart has content (one round trip for all counts)
    n = page.evaluate(
        """sel => Object.fromEntries(Object.entries(sel).map(([k, q]) => [k, document.querySelectorAll(q).length]))""",
        {
            "countries": "#map-overview path.country",
            "flows": "#map-overview path.flow",
            "overview_sites": "#map-overview circle.site",
            "detail_sites": "#map-sites circle.site",
            "ports": "#map-ports rect",
            "sea_legs": "#map-ports path.sea-leg",
            "calls": "#timeline rect.call",
            "gaps": "#timeline rect.gap",
            "departure_bars": "#timeline rect[fill]",
            "lag_bars": "#lag-chart rect.bar-observed",
            "lag_points": "#lag-chart circle",
            "bands": "#sankey path.sankey-band",
            "sensitivity_cells": "#sensitivity td",
            "shipment_rows": "#shipments-body tr.ship",
            "foreign": "img, iframe, object, embed",
            "scripts": "script",
        },
    )
    assert n["countries"] > 10 and n["flows"] >= 16, n
    assert n["overview_sites"] == 16 and n["detail_sites"] == 16, n
    assert n["ports"] >= 3 and n["sea_legs"] == 2, n
    assert n["calls"] > 30 and n["gaps"] > 5 and n["departure_bars"] > 100, n
    assert n["lag_bars"] >= 31 and n["lag_points"] > 20, n
    assert n["bands"] >= 16 and n["sensitivity_cells"] == 20, n
    assert n["shipment_rows"] == 50, n
    # hostile names are shown as text, never as markup
    assert n["foreign"] == 0 and n["scripts"] == 2, n
    for svg in ("map-overview", "map-sites", "map-ports", "timeline", "lag-chart", "sankey"):
        box = page.locator(f"#{svg}").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, svg
    assert "<script>alert(1)</script>" in page.locator("#sites-table").inner_text()

    # click a site on the detail map -> its table row is highlighted
    circle = page.locator("#map-sites circle.site").nth(3)
    index = circle.get_attribute("data-site")
    circle.click()
    row = page.locator(f"#site-row-{index}")
    assert "highlight" in (row.get_attribute("class") or "")
    assert _count(page, "#sites-table tr.highlight") == 1
    assert "selected" in (circle.get_attribute("class") or "")

    # search filters the shipments table; a row expands to its evidence chain
    data = hostile_data
    target = data["findings"]["linked_shipments"][5]
    page.fill("#shipment-search", target["waybill"])
    assert _count(page, "#shipments-body tr.ship") == 1
    assert target["waybill"] in page.locator("#shipments-body tr.ship").inner_text()
    page.locator("#shipments-body button.expand").click()
    detail = page.locator("#shipments-body tr.detail").inner_text()
    assert target["evidence_chain"][0].split(" (IMO")[0][:12] in detail
    assert str(target["source_row"]) in detail
    page.fill("#shipment-search", "no such waybill at all")
    assert _count(page, "#shipments-body tr.ship") == 0
    page.fill("#shipment-search", "")
    assert _count(page, "#shipments-body tr.ship") == 50

    # click-to-sort: tonnes descending first
    page.locator('#shipments-head th[data-col="tonnes"]').click()
    first = float(
        page.locator("#shipments-body tr.ship")
        .first.locator("td.num")
        .first.inner_text()
        .replace(",", "")
    )
    assert first == max(s["tonnes"] for s in data["findings"]["linked_shipments"])

    # the site filter button in the sites table narrows the shipments table
    page.locator(f"#site-row-{index} button.site-filter").click()
    expected = data["findings"]["sites"][int(index or 0)]["shipments"]
    assert _count(page, "#shipments-body tr.ship") == min(50, expected)

    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, tmp_path, "report-1440.png")
    watch.check()
    page.close()


def test_report_in_browser_mobile(browser: Any, report_file: Path, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    url = report_file.as_uri()
    watch = Watch(page, url)
    page.goto(url)
    page.wait_for_selector("html[data-report-ready]")
    # nothing wider than the screen: tables and wide charts scroll inside their boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#map-overview").bounding_box()
    assert box and box["width"] <= 390 and box["height"] > 100
    assert _count(page, "#map-sites circle.site") == 16
    _shot(page, tmp_path, "report-390.png")
    watch.check()
    page.close()


def test_render_pdf(tmp_path: Path) -> None:
    _need_chromium()
    html = tmp_path / "report.html"
    html.write_text(
        render_report(example_report_data(hostile=True, n_shipments=30)), encoding="utf-8"
    )
    pdf = tmp_path / "out" / "report.pdf"
    render_pdf(html, pdf)
    head = pdf.read_bytes()[:5]
    assert head == b"%PDF-"
    assert pdf.stat().st_size > 50_000
