"""Real port gazetteers ingested as `ports`: NGA's World Port Index writes its port names
under "Main Port Name" and country *names* under "Country Code"; stored as written, North
Korea's ports had no name and the country "NORTH KOREA", so `--origin-country KP` never
saw them (and they replaced the built-in gazetteer's entries of the same LOCODE)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.compute as pc
import pytest

import cargotrace
from cargotrace.errors import InputError

from conftest import shared_data

# (country cell, locode cell, the port's stored country): what `places._PORT_COUNTRY` says
PORT_COUNTRIES = [
    ("kp", "KPNJN", "KP"),  # a code as written wins
    ("RU", "XXDUN", "RU"),  # a made-up LOCODE with its country given
    ("\xa0ru\xa0", "XXDUO", "RU"),  # padded with no-break spaces
    ("North Korea", "KP NAM", "KP"),  # WPI: a name, the LOCODE spaced
    ("Curacao", "CW WIL", "CW"),  # by name pycountry's fuzzy search would say NL
    ("Japan", "JB HBI", "JP"),  # WPI's typo JB is no ISO code: the name decides
    ("", "RUVYP", "RU"),
    ("-0-", "K", None),  # nothing to go by
    ("Atlantis", "ZZ ABC", "ZZ"),  # neither resolves: the prefix, as before
    ("408", "ZZ ABD", "KP"),  # ISO 3166 numeric, by pycountry's look-up
    ("Korea, North", "ZZ ABE", "KP"),  # as sanctions lists write it
    ("Burma", "XX ABC", "MM"),  # by pycountry's fuzzy search
]


def test_port_country(tmp_path: Path) -> None:
    """Resolved in SQL, a name by `country_code` once per distinct name the codes leave."""
    path = tmp_path / "ports.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["locode", "name", "country", "lat", "lon"])
        for i, (country, locode, _) in enumerate(PORT_COUNTRIES):
            writer.writerow([locode, f"port {i}", country, 10.0, 20.0])
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ports", path)
    assert (result.rows_kept, result.rows_quarantined) == (len(PORT_COUNTRIES), 0)
    ports = case.table("ports").filter(pc.equal(pc.field("origin"), "user")).to_pylist()
    stored = {int(p["name"].split()[1]): p["country"] for p in ports}
    assert [stored[i] for i in range(len(PORT_COUNTRIES))] == [e for _, _, e in PORT_COUNTRIES]


def test_world_port_index_names_and_iso_countries(tmp_path: Path) -> None:
    wpi = shared_data("ports", "UpdatedPub150.csv")
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ports", wpi)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (3768, 3338, 430)
    ports = case.table("ports", pandas=True)
    user = ports[ports.origin == "user"]
    assert len(user) == 3338 and set(user.country.str.len()) == {2}
    korean = user[user.country == "KP"].sort_values("locode")
    assert list(zip(korean.locode, korean.name, strict=True)) == [
        ("KPCHO", "Ch'ongjin"),
        ("KPHAE", "Haeju Hang"),
        ("KPHGM", "Hungnam"),
        ("KPNAM", "Nampo"),
        ("KPRJN", "Najin"),
        ("KPSGN", "Kyomip'o"),
        ("KPSON", "Kimch'aek"),
        ("KPWON", "Wonsan"),
    ]
    willemstad = user[user.locode == "CWWIL"]
    assert list(zip(willemstad.name, willemstad.country, strict=True)) == [("Willemstad", "CW")]


def test_un_locode_layout_country_location_function(tmp_path: Path) -> None:
    """geoapify's UN/LOCODE with coordinates (the whole code list, 116,029 places): the code is
    `country` + `location`, and only places whose function begins with 1 are ports. Before,
    the file was refused: no `locode` column."""
    unlocode = shared_data("ports", "unlocode_all_geoapify.csv.gz")
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ports", unlocode)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (116029, 16388, 99641)
    reasons = {(q["reason"], q["rows"]) for q in case.quarantine()}
    assert reasons == {("not_a_port", 99036), ("missing_coordinates", 605)}
    ports = case.table("ports", pandas=True)
    korean = ports[(ports.origin == "user") & (ports.country == "KP")].sort_values("locode")
    assert list(zip(korean.locode, korean.name, strict=True)) == [
        ("KPCHO", "Chongjin"),
        ("KPHAE", "Haeju"),
        ("KPHGM", "Hungnam"),
        ("KPNAM", "Nampo"),
        ("KPODA", "Odaejin"),
        ("KPRIW", "Riwon"),
        ("KPRJN", "Rajin (Najin)"),
        ("KPSAM", "Samcha do"),
        ("KPSGN", "Songnim"),
        ("KPSIN", "Sinpo"),
        ("KPSON", "Songjin"),
        ("KPTCH", "Tanchon"),
        ("KPWON", "Wonsan"),
    ]  # KPGEN (Gensan) has no coordinates: quarantined


def test_a_function_column_of_ones_own_is_not_read_as_un_locode(tmp_path: Path) -> None:
    own = tmp_path / "ports.csv"
    own.write_text(
        "locode,name,country,lat,lon,function\n"
        "RUDUN,Dunai naval facility,RU,42.88,132.34,naval base\n"
    )
    case = cargotrace.open_case(tmp_path / "case")
    (result,) = case.ingest("ports", own)
    assert (result.rows_kept, result.rows_quarantined) == (1, 0)


def test_without_locode_or_country_and_location_the_header_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "ports.csv"
    bare.write_text("name,country,lat,lon\nDunai,RU,42.88,132.34\n")
    case = cargotrace.open_case(tmp_path / "case")
    with pytest.raises(InputError, match=r"required column\(s\) \['locode'\] not found"):
        case.ingest("ports", bare)
