"""The offline HTML report: escaping of hostile data, CSP, banner, embedded JSON, size."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cargotrace.report.html import BANNER_TEXT, embed_json, render_report
from cargotrace.report.pdf import ChromiumNotFoundError, render_pdf

from report_data_example import HOSTILE_STRINGS, example_report_data

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "cargotrace" / "report" / "templates"
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "srcset",
    "background",
}


class PageParser(HTMLParser):
    """Collects what matters for injection checks: tags, attributes, script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script, self._body = dict(attrs), []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._body)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._body.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def hostile() -> dict[str, Any]:
    return example_report_data(hostile=True)


@pytest.fixture(scope="module")
def hostile_html(hostile: dict[str, Any]) -> str:
    return render_report(hostile)


def embedded(page: PageParser) -> Any:
    [(attrs, body)] = [(a, b) for a, b in page.scripts if a.get("id") == "report-data"]
    assert attrs.get("type") == "application/json"
    return json.loads(body)


def test_banner_only_when_synthetic() -> None:
    data = example_report_data(n_shipments=50)
    html = render_report(data)
    assert html.count(BANNER_TEXT) >= 2  # top banner + print notes + footer
    assert 'id="synthetic-banner"' in html
    data["synthetic"] = False
    html = render_report(data)
    assert BANNER_TEXT not in html
    assert "SYNTHETIC" not in html


def test_hostile_strings_never_unescaped(hostile: dict[str, Any], hostile_html: str) -> None:
    raw = json.dumps(hostile, ensure_ascii=False)
    for s in HOSTILE_STRINGS:
        assert s in raw  # the fixture really carries them
        if any(c in s for c in '<>"\u202e'):
            assert s not in hostile_html, s
    assert "\u202e" not in hostile_html and "\u202c" not in hostile_html
    assert "</script><script>" not in hostile_html
    assert "<img" not in hostile_html
    # the escaped forms are shown as text in the tables
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_html
    assert "[U+202E]evil[U+202C]" in hostile_html


def test_only_our_scripts_and_no_event_handlers(hostile_html: str) -> None:
    page = parse(hostile_html)
    scripts = page.scripts
    assert len(scripts) == 2
    assert [a.get("type") for a, _ in scripts] == ["application/json", None]
    assert scripts[1][1] == (TEMPLATES / "report.js").read_text(encoding="utf-8")
    assert sum(1 for tag, _ in page.tags if tag == "script") == 2
    for tag, attrs in page.tags:
        assert tag not in {"img", "iframe", "object", "embed", "base", "form", "link"} or (
            tag == "link" and attrs.get("href") == "data:,"
        ), tag
        for name, value in attrs.items():
            assert not name.lower().startswith("on"), (tag, name)
            if name.lower() in URL_ATTRS and value is not None:
                assert (
                    not re.sub(r"\s", "", value).lower().startswith(("javascript:", "vbscript:"))
                ), (tag, name, value)
                assert value.startswith(("#", "data:")), (tag, name, value)
            if name.lower() == "style":
                pytest.fail(f"inline style attribute on <{tag}> would be blocked by the CSP")


def test_embedded_json_round_trips(hostile: dict[str, Any], hostile_html: str) -> None:
    data = embedded(parse(hostile_html))
    assert data == json.loads(json.dumps(hostile))
    cargo = {s["cargo"] for s in data["findings"]["linked_shipments"]}
    assert any("</script><script>alert(2)</script>" in c for c in cargo)
    start = hostile_html.index('id="report-data">')
    body = hostile_html[start : hostile_html.index("</script>", start)]
    assert "<" not in body.split(">", 1)[1] and "&" not in body and "\u2028" not in body


def test_embed_json_escapes_and_cleans() -> None:
    out = str(
        embed_json({"a": "</script>&\u2028\u2029\u202e", "n": math.nan, "i": math.inf, "t": (1, 2)})
    )
    assert (
        out
        == '{"a":"\\u003c/script\\u003e\\u0026\\u2028\\u2029\\u202e","n":null,"i":null,"t":[1,2]}'
    )
    assert json.loads(out)["a"] == "</script>&\u2028\u2029\u202e"


def test_csp_allows_only_the_bundled_script(hostile_html: str) -> None:
    page = parse(hostile_html)
    [csp] = [
        a["content"]
        for t, a in page.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None
    assert "default-src 'none'" in csp and "img-src data:" in csp
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    css_digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{css_digest}'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # the CSP meta comes before any style or script
    assert hostile_html.index("Content-Security-Policy") < hostile_html.index("<style>")


def test_page_structure(hostile_html: str) -> None:
    page = parse(hostile_html)
    ids = {a.get("id") for _, a in page.tags}
    for needed in (
        "map-overview",
        "map-sites",
        "map-ports",
        "timeline",
        "lag-chart",
        "sankey",
        "sensitivity",
        "sites-table",
        "shipments-table",
        "shipment-search",
        "label-changes",
        "quality",
        "method",
    ):
        assert needed in ids, needed
    assert sum(1 for i in ids if i and i.startswith("site-row-")) == 16
    assert "@media print" in hostile_html and "break-inside: avoid" in hostile_html
    for phrase in ("circumstantial", "does <em>not</em>", "look-back", "window", "quarantined"):
        assert phrase in hostile_html


def test_minimal_and_odd_values_render() -> None:
    data: dict[str, Any] = {
        "title": "empty",
        "synthetic": False,
        "generated_at": None,
        "cargotrace_version": "0.1.0",
        "findings": {
            "parameters": {},
            "arrivals": [],
            "linked_shipments": [],
            "sites": [],
            "label_changes": [],
            "totals": {"linked_tonnes": math.nan, "munitions_equivalent": {}},
            "significance": {"p_value": None},
            "lag_histogram": [],
            "sensitivity": [],
            "quarantine": {"rows": 0},
        },
        "map": {"countries": [], "ports": [], "facilities": [], "flows": [], "sea_legs": []},
        "timeline": {"vessels": [], "departures_per_day": []},
    }
    html = render_report(data)
    assert "No destination sites." in html and "NaN" not in html.split('id="report-data"')[0]
    assert embedded(parse(html))["findings"]["totals"]["linked_tonnes"] is None


def test_size_bound_for_demo_sized_case() -> None:
    data = example_report_data(real_borders=False, ring_points=200)
    assert len(data["findings"]["linked_shipments"]) == 1200
    assert len(data["map"]["countries"]) >= 30
    html = render_report(data)
    size = len(html.encode("utf-8"))
    assert size < 5_000_000, size
    # evidence chains travel once, in the JSON, not duplicated into markup
    chain_line = data["findings"]["linked_shipments"][0]["evidence_chain"][2]
    assert html.count(chain_line.split("«")[0]) == 1


def test_render_does_not_mutate_input(hostile: dict[str, Any]) -> None:
    before = copy.deepcopy(hostile)
    render_report(hostile)
    assert hostile == before


def test_render_pdf_reports_missing_chromium(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    html.write_text(render_report(example_report_data(n_shipments=10)), encoding="utf-8")
    with pytest.raises(ChromiumNotFoundError, match="Chromium"):
        render_pdf(html, tmp_path / "x.pdf", chromium=str(tmp_path / "no-such-chromium"))


def test_return_voyages_and_identity_problems_are_drawn(hostile_html: str) -> None:
    plain = render_report(example_report_data(n_shipments=50))
    assert 'href="#outbound"' in plain and "3 found" in plain
    assert "NORD FALCON 1" in plain and "KPNJN" in plain
    assert "2 identity events" in plain
    assert "NORD FALCON → FALCON" in plain and "vessels.csv:7" in plain
    assert "MMSI 273990012: 5 impossible jumps" in plain and "shared mmsi" in plain
    assert "No return voyages found." not in plain
    data = example_report_data(n_shipments=50)
    data["findings"]["outbound"] = []
    data["findings"]["identity_events"] = []
    empty = render_report(data)
    assert "No return voyages found." in empty and "No identity problems found." in empty


@pytest.mark.parametrize(
    ("p", "permutations", "shown"),
    [(0.0055, 181, "0.0055"), (0.00549, None, "0.0055"), (0.0004, 99, "0.010"), (0.27, 500, "0.27"),
     (0.0501, 1000, "0.051"), (1.0, 10, "1.0"), (None, 10, "—")],
)  # fmt: skip
def test_p_value_rounds_up_and_never_below_the_resolution(p, permutations, shown) -> None:
    from cargotrace.report.html import fmt_p

    assert fmt_p(p, permutations) == shown
    if p is not None and permutations:
        assert float(shown) >= max(p, 1 / (permutations + 1))


def test_tables_name_ports_and_date_sighting_calls_to_the_day() -> None:
    data = example_report_data()
    [arrival] = data["findings"]["arrivals"][:1]
    arrival["evidence"], arrival["arrived_at"] = ["sighting"], "2023-10-05T00:00:00Z"
    port = next(p for p in data["map"]["ports"] if p["locode"] == arrival["port_locode"])
    html = render_report(data)
    row = re.search(r'<tr id="arrival-row-0">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert f"{port['name']} ({port['locode']})" in cells
    assert "2023-10-05" in cells and not any("2023-10-05 00:00" in c for c in cells)
