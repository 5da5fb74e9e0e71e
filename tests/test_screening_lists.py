"""Sanctions list readers: OFAC SDN legacy CSV and UN consolidated XML (the real files in
shared/data/sanctions), FollowTheMoney JSON lines (a hand-built OpenSanctions-style file)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from cargotrace.ingest.kinds.list_formats import (
    read_ftm,
    read_list,
    read_sdn_csv,
    read_un_xml,
    sniff_format,
)

from conftest import shared_data

FTM_ENTITIES = [
    {"id": "ofac-37095", "schema": "Vessel", "caption": "LADY R", "datasets": ["us_ofac_sdn"],
     "last_change": "2024-05-03T12:00:00", "properties": {"name": ["LADY R"], "imoNumber": ["IMO9161003"],
     "flag": ["ru"], "previousName": ["LADY RITA"], "mmsi": ["273215020"]}},
    {"id": "ofac-37049", "schema": "Company", "caption": "TRANSMORFLOT LLC", "datasets": ["us_ofac_sdn"],
     "last_change": "2024-04-30T08:00:00", "properties": {"name": ["TRANSMORFLOT LLC"],
     "alias": ["ООО «ТРАНСМОРФЛОТ»"], "innCode": ["3017041900"]}},
    {"id": "own-1", "schema": "Ownership", "datasets": ["us_ofac_sdn"],
     "properties": {"owner": ["ofac-37049"], "asset": ["ofac-37095"]}},
    {"id": "san-1", "schema": "Sanction", "datasets": ["us_ofac_sdn"],
     "properties": {"entity": ["ofac-37095"], "authority": ["OFAC"], "program": ["RUSSIA-EO14024"]}},
    {"id": "ofac-22407", "schema": "Organization", "caption": "OBORONLOGISTIKA OOO", "datasets": ["us_ofac_sdn"],
     "properties": {"name": ["OBORONLOGISTIKA OOO"], "innCode": ["7718857267", "7718857268"],
     "ogrnCode": ["1117746641572"]}},
    {"id": "person-1", "schema": "Person", "caption": "Ivan Petrov", "datasets": ["demo"],
     "properties": {"name": ["Ivan Petrov"], "weakAlias": ["Vanya"]}},
    {"id": "addr-1", "schema": "Address", "datasets": ["demo"], "properties": {"full": ["Moscow"]}},
]  # fmt: skip


def write_ftm(path: Path, extra_lines: tuple[str, ...] = ("", "{not json")) -> Path:
    lines = [json.dumps(e, ensure_ascii=False) for e in FTM_ENTITIES] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sniff_formats(tmp_path: Path) -> None:
    assert sniff_format(shared_data("sanctions", "sdn.csv")) == "ofac-sdn-csv"
    assert sniff_format(shared_data("sanctions", "UN_consolidated_2026-02-27.xml")) == "un-xml"
    assert sniff_format(write_ftm(tmp_path / "entities.ftm.json")) == "ftm-jsonl"
    simple = tmp_path / "watch.csv"
    simple.write_text(
        "name,imo,mmsi,list,note\nNORD FALCON,9900112,273990011,DEMO-LIST,x\n", encoding="utf-8"
    )
    assert sniff_format(simple) == "csv"


def test_sdn_csv_real_file() -> None:
    listed = read_sdn_csv(shared_data("sanctions", "sdn.csv"))
    assert listed.name == "OFAC SDN" and listed.format == "ofac-sdn-csv"
    assert len(listed.entries) == 14_965 and not listed.rejected
    assert listed.skipped == 1  # the DOS end-of-file marker line
    assert sum(1 for e in listed.entries if e.schema == "Vessel") == 851
    assert listed.published is None and listed.date_source.startswith("unknown")
    by_id = {e.entry_id: e for e in listed.entries}
    lady_r = by_id["ofac-sdn:37095"]
    assert (lady_r.name, lady_r.imo, lady_r.flag, lady_r.programs) == (
        "LADY R",
        "9161003",
        "RU",
        ["RUSSIA-EO14024"],
    )
    assert [(link.relation, link.name) for link in lady_r.links] == [
        ("linked_to", "TRANSMORFLOT LLC")
    ]
    ebano = by_id["ofac-sdn:4243"]  # "f.k.a. 'ANA I'; f.k.a. 'SAND SWAN'"
    assert ebano.former_names == ["ANA I", "SAND SWAN"]
    artavil = by_id[
        "ofac-sdn:15036"
    ]  # Former Vessel Flag Malta / Tuvalu / Tanzania; MMSI in the remarks
    assert (artavil.mmsi, sorted(artavil.past_flags)) == ("572469210", ["MT", "TV", "TZ"])
    oboron = by_id["ofac-sdn:22407"]
    assert (oboron.inn, oboron.ogrn) == ("7718857267", "1117746641572")
    assert (
        oboron.programs == ["UKRAINE-EO13685", "RUSSIA-EO14024"] and oboron.schema == "Organization"
    )
    assert by_id["ofac-sdn:37049"].imo == "6016988"  # TRANSMORFLOT LLC's company IMO number
    assert by_id["ofac-sdn:306"].aliases == ["BNC"]


def test_sdn_date_from_the_file_name(tmp_path: Path) -> None:
    copy = tmp_path / "sdn_2024-05-03.csv"
    shutil.copy(shared_data("sanctions", "sdn.csv"), copy)
    listed = read_list(copy)
    assert (listed.published, listed.date_source) == (date(2024, 5, 3), "file name")


def test_un_xml_real_file() -> None:
    listed = read_un_xml(shared_data("sanctions", "UN_consolidated_2026-02-27.xml"))
    assert listed.name == "UN SC Consolidated"
    assert (listed.published, listed.date_source) == (
        date(2026, 2, 27),
        "dateGenerated in the file",
    )
    assert len(listed.entries) == 1003
    assert sum(1 for e in listed.entries if e.schema == "Person") == 730
    by_id = {e.entry_id: e for e in listed.entries}
    assert by_id["un:KPi.001"].name == "YUN HO-JIN" and by_id["un:KPi.001"].aliases == [
        "Yun Ho-chin"
    ]
    assert by_id["un:KPi.001"].programs == ["DPRK"]
    adf = by_id["un:CDe.001"]
    assert "Allied Democratic Forces" in adf.aliases and "NALU" in adf.former_names
    assert sum(1 for e in listed.entries if e.imo) == 16  # company IMO numbers in the comments
    assert any(any("\u0400" <= c <= "\u04ff" for c in a) for e in listed.entries for a in e.aliases)


def test_ftm_jsonl(tmp_path: Path) -> None:
    listed = read_ftm(write_ftm(tmp_path / "opensanctions.json"))
    assert listed.format == "ftm-jsonl"
    assert [e.entry_id for e in listed.entries] == [
        "ofac-37095",
        "ofac-37049",
        "ofac-22407",
        "person-1",
    ]
    assert listed.published == date(2024, 5, 3) and "last_change" in listed.date_source
    assert (
        listed.skipped == 4
    )  # blank line + Ownership, Sanction and Address records folded or ignored
    assert [row for row, _ in listed.rejected] == [9]
    vessel, company, oboron, person = listed.entries
    assert (vessel.imo, vessel.mmsi, vessel.flag, vessel.former_names) == (
        "9161003",
        "273215020",
        "RU",
        ["LADY RITA"],
    )
    assert vessel.programs == ["OFAC RUSSIA-EO14024"]
    assert [(lk.relation, lk.name) for lk in vessel.links] == [("owner", "TRANSMORFLOT LLC")]
    assert [(lk.relation, lk.name) for lk in company.links] == [("owner_of", "LADY R")]
    assert company.inn == "3017041900" and company.aliases == ["ООО «ТРАНСМОРФЛОТ»"]
    assert (oboron.inn, oboron.ogrn) == (
        "7718857267",
        "1117746641572",
    )  # invalid second INN ignored
    assert person.weak_aliases == ["Vanya"] and person.datasets == ["demo"]
    assert listed.name == "us_ofac_sdn, demo"


def test_ftm_fragments_of_one_entity_are_merged_and_counted(tmp_path: Path) -> None:
    """A repeated entity id is a fragment: merged into the first line's entry, counted as
    skipped (folded), never dropped silently; a stamp that is not a date is ignored."""
    lines = [
        {"id": "v1", "schema": "Vessel", "properties": {"name": ["SUN"], "imoNumber": ["IMO9161003"]},
         "datasets": ["a"], "last_change": "2024-05-03T10:00:00"},
        {"id": "v1", "schema": "Vessel", "properties": {"name": ["SUN STAR"], "mmsi": ["273215020"],
         "previousName": ["LADY"], "imoNumber": ["9999999"]}, "datasets": ["b"], "last_change": "yesterday"},
        {"id": "v2", "schema": "Vessel", "properties": {"name": ["MOON"]}, "last_seen": "not a date"},
    ]  # fmt: skip
    path = tmp_path / "fragments.json"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    listed = read_ftm(path)
    assert [(e.entry_id, e.row) for e in listed.entries] == [("v1", 1), ("v2", 3)]
    sun = listed.entries[0]
    assert (sun.name, sun.aliases, sun.former_names) == ("SUN", ["SUN STAR"], ["LADY"])
    assert (sun.imo, sun.mmsi, sun.datasets) == (
        "9161003",
        "273215020",
        ["a", "b"],
    )  # first IMO kept
    assert listed.skipped == 1 and listed.detail["fragments_merged"] == 1
    assert listed.published == date(2024, 5, 3) and listed.name == "a, b"


def test_unknown_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a structured"):
        read_list(path)
