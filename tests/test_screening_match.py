"""Screening against the real OFAC SDN (2024-05-03) and UN consolidated lists: listed
vessels and companies found from realistic variants, and unrelated names at the same edit
distance not found."""

from __future__ import annotations

import pytest
from rapidfuzz.distance import Levenshtein

from cargotrace.ingest.kinds.list_formats import read_sdn_csv, read_un_xml
from cargotrace.sample.reference import ALL_VESSELS
from cargotrace.screening.catalog import Catalog
from cargotrace.screening.hits import Hit, merge
from cargotrace.screening.parties import PartySubject, owner_hits, screen_parties
from cargotrace.screening.resolve import cluster_parties
from cargotrace.screening.scoring import HIT_MIN, NAME_WEIGHT, QUALIFIERS
from cargotrace.screening.translit import to_latin
from cargotrace.screening.vessels import VesselSubject, screen_vessels

from conftest import shared_data


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    sdn = read_sdn_csv(shared_data("sanctions", "sdn.csv"))
    un = read_un_xml(shared_data("sanctions", "UN_consolidated_2026-02-27.xml"))
    return Catalog.from_lists([(sdn, "sdn.csv"), (un, "UN_consolidated_2026-02-27.xml")])


def vessel(
    catalog: Catalog, name: str | None = None, imo: str | None = None, mmsi: str | None = None
) -> list[Hit]:
    subject = VesselSubject(
        "S", {mmsi} if mmsi else set(), {imo} if imo else set(), {name} if name else set()
    )
    return merge(screen_vessels(catalog, [subject]))


def party(catalog: Catalog, name: str, inn: str | None = None) -> list[Hit]:
    subject = PartySubject(name, {"consignor"}, 1)
    if inn:
        subject.add_id(inn)
    return merge(screen_parties(catalog, [subject]))


def entries(hits: list[Hit]) -> set[str]:
    return {h.entry for h in hits}


# ------------------------------------------------------------------ identifiers


@pytest.mark.parametrize(
    ("imo", "entry", "owner"),
    [
        ("9161003", "LADY R", "TRANSMORFLOT LLC"),
        ("9358010", "MAIA-1", "TRANSMORFLOT LLC"),
        ("9179842", "ANGARA", "M LEASING LLC"),
        ("8517839", "MARIA", "IBEX SHIPPING INC"),
    ],
)
def test_ships_of_the_story_found_by_imo(
    catalog: Catalog, imo: str, entry: str, owner: str
) -> None:
    [hit] = vessel(catalog, imo=imo)
    assert (hit.entry, hit.rule, hit.score, hit.list) == (entry, "imo", 1.0, "OFAC SDN")
    assert hit.programs == "RUSSIA-EO14024" and hit.flags["list"] == "RU"
    assert [(x["relation"], x["name"]) for x in hit.linked] == [("linked_to", owner)]


def test_imo_and_name_agree_and_flags_compared(catalog: Catalog) -> None:
    [hit] = vessel(catalog, name="LADY R", imo="9161003", mmsi="273215020")
    assert hit.rule == "imo" and set(hit.rules) == {"imo", "name_exact"}
    assert hit.flags == {
        "list": "RU",
        "list_former": [],
        "ais": ["RU"],
        "reported": [],
        "check": "same",
    }
    [other_flag] = vessel(catalog, imo="9161003", mmsi="613215020")  # an MMSI of Cameroon
    assert other_flag.flags["check"] == "different" and other_flag.flags["ais"] == ["CM"]


def test_former_flag_recognised(catalog: Catalog) -> None:
    [hit] = vessel(catalog, imo="9187629", mmsi="256000001")  # ARTAVIL, formerly Maltese
    assert hit.entry == "ARTAVIL" and hit.flags["check"] == "former_flag"


def test_mmsi_from_the_remarks(catalog: Catalog) -> None:
    [hit] = vessel(catalog, mmsi="572469210")
    assert (hit.entry, hit.rule, hit.score) == ("ARTAVIL", "mmsi", 0.95)


def test_listed_owner_follows_a_listed_vessel(catalog: Catalog) -> None:
    owners = owner_hits(catalog, vessel(catalog, name="LADY R", imo="9161003"))
    assert [(h.entry, h.rule, h.subject_type) for h in owners] == [
        ("TRANSMORFLOT LLC", "list_link", "party")
    ]
    assert owners[0].role == "linked_to of vessel LADY R"


def test_company_found_by_inn(catalog: Catalog) -> None:
    hits = party(catalog, "ООО «Рога и копыта»", inn="7718857267")
    assert [(h.entry, h.rule) for h in hits] == [("OBORONLOGISTIKA OOO", "inn")]


def test_a_valid_different_inn_vetoes_a_name_match(catalog: Catalog) -> None:
    assert party(catalog, "ООО «Оборонлогистика»", inn="7707083893") == []  # Sberbank's INN
    assert entries(party(catalog, "ООО «Оборонлогистика»", inn="7718857268")) == {
        "OBORONLOGISTIKA OOO"
    }  # invalid: ignored


# ------------------------------------------------------------------ names: found


@pytest.mark.parametrize(
    ("name", "entry", "rule"),
    [
        ("LADY R", "LADY R", "name_exact"),
        ("M/V LADY R", "LADY R", "name_exact"),
        ("ЛЕДИ Р", "LADY R", "name_phonetic"),
        ("т/х «Леди Р»", "LADY R", "name_phonetic"),
        ("Ангара", "ANGARA", "name_exact"),
        ("MAIA 1", "MAIA-1", "name_exact"),
        ("MAYA-1", "MAIA-1", "name_translit"),
        ("МАЙЯ-1", "MAIA-1", "name_translit"),
        ("SPARTA 4", "SPARTA IV", "name_exact"),
        ("SAND SWAN", "EBANO", "former_name_exact"),  # f.k.a. in the remarks
        ("M/V ANA I", "EBANO", "former_name_exact"),
        ("Спарта IV", "SPARTA IV", "name_exact"),
    ],
)
def test_vessel_names_found(catalog: Catalog, name: str, entry: str, rule: str) -> None:
    hits = {h.entry: h for h in vessel(catalog, name=name)}
    assert entry in hits, (name, sorted(hits))
    # a name alone is a lead (issue 18): found, but scored below any identifier match
    assert hits[entry].rule == rule and hits[entry].status == "lead"
    assert hits[entry].score <= NAME_WEIGHT < HIT_MIN


@pytest.mark.parametrize(
    ("name", "entry", "rule"),
    [
        ("ООО «Оборонлогистика»", "OBORONLOGISTIKA OOO", "name_exact"),
        ("Оборонлогистика", "OBORONLOGISTIKA OOO", "name_exact"),  # legal form dropped
        (
            'Общество с ограниченной ответственностью "ОБОРОНЛОГИСТИКА"',
            "OBORONLOGISTIKA OOO",
            "name_exact",
        ),
        ("Oboronlogistika LLC", "OBORONLOGISTIKA OOO", "name_exact"),
        ("OBORONLOGISTICS", "OBORONLOGISTIKA OOO", "name_fuzzy"),
        ("ООО Трансморфлот", "TRANSMORFLOT LLC", "name_exact"),
        ("LLC TRANSMORFLOT", "TRANSMORFLOT LLC", "name_exact"),
        ("Vladimir Vladimirovich PUTIN", "PUTIN, Vladimir Vladimirovich", "name_reordered"),
        ("Путин Владимир Владимирович", "PUTIN, Vladimir Vladimirovich", "name_exact"),
        ("YUN HO CHIN", "YUN HO-JIN", "alias_exact"),
        ("윤호진", "YUN HO-JIN", "name_exact"),  # Hangul, DPRK-list romanisation
        ("Li Je Seon", "RI JE-SON", "name_korean"),  # South Korean spelling of a DPRK name
        ("NAMCHEONGANG TRADING", "NAMCHONGANG TRADING CORPORATION", "name_translit"),
    ],
)
def test_party_names_found(catalog: Catalog, name: str, entry: str, rule: str) -> None:
    hits = {h.entry: h for h in party(catalog, name)}
    assert entry in hits, (name, sorted(hits))
    assert hits[entry].rule == rule and hits[entry].status == "lead"
    assert hits[entry].score <= NAME_WEIGHT + QUALIFIERS["legal_form_same"] < HIT_MIN


def test_conflicting_legal_form_is_reported_and_costs(catalog: Catalog) -> None:
    [hit] = [h for h in party(catalog, "АО «Трансморфлот»") if h.entry == "TRANSMORFLOT LLC"]
    assert (
        hit.score == pytest.approx(NAME_WEIGHT - 0.05)
        and "legal forms differ: JSC / LLC" in hit.notes
    )
    assert [p["feature"] for p in hit.penalties] == ["legal_form_conflict"]


# ------------------------------------------------------------------ names: not found


def distance(a: str, b: str) -> int:
    """Edit distance a naive matcher sees: upper-case Latin, punctuation and legal forms kept."""
    return Levenshtein.distance(to_latin(a), to_latin(b))


# (listed name, a variant that must match, an unrelated name at the same or a smaller
# edit distance from the listed name, which must not)
SAME_DISTANCE_VESSELS = [
    ("LADY R", "ЛЕДИ Р", "LUCY R"),
    ("LADY R", "ЛЕДИ Р", "ЛЕДА Р"),
    ("LADY R", "ЛЕДИ Р", "LADY RO"),
    ("MAIA-1", "MAYA-1", "MAIN-1"),
    ("MAIA-1", "MAYA-1", "MAIA-2"),
    ("ANGARA", "M/V ANGARA", "ANKARA"),
    ("SPARTA IV", "M/V SPARTA 4", "SPARTA V"),
]
SAME_DISTANCE_PARTIES = [
    ("OBORONLOGISTIKA OOO", "OBORONLOGISTIKA LLC", "ORIONLOGISTIKA OOO"),
    ("OBORONLOGISTIKA OOO", "OBORONLOGISTIKA LLC", "OBORONLOGISTIKA-2 OOO"),
    ("TRANSMORFLOT LLC", "TRANSMORFLOT OOO", "TRANSMORPORT LLC"),
    ("PUTIN, Vladimir Vladimirovich", "Vladimir Vladimirovich Putin", "PUTIN, Vadim Vladimirovich"),
]


@pytest.mark.parametrize(("listed", "variant", "unrelated"), SAME_DISTANCE_VESSELS)
def test_unrelated_vessel_names_at_the_same_distance_do_not_match(
    catalog: Catalog, listed: str, variant: str, unrelated: str
) -> None:
    assert distance(variant, listed) >= distance(unrelated, listed)
    assert listed in entries(vessel(catalog, name=variant))
    assert listed not in entries(vessel(catalog, name=unrelated))


@pytest.mark.parametrize(("listed", "variant", "unrelated"), SAME_DISTANCE_PARTIES)
def test_unrelated_party_names_at_the_same_distance_do_not_match(
    catalog: Catalog, listed: str, variant: str, unrelated: str
) -> None:
    assert distance(variant, listed) >= distance(unrelated, listed)
    assert listed in entries(party(catalog, variant))
    assert listed not in entries(party(catalog, unrelated))


@pytest.mark.parametrize(
    "name",
    ["LADY K", "ЛЕДИ К", "ANKARA", "MARIO", "MAIN-1", "ООО «Трансморпорт»", "ООО «Оборонпромлогистика»",
     "GUGNIN PUTIN", "ООО «Восток-Транзит»", "АО «Порт-Сервис»"],
)  # fmt: skip
def test_near_miss_names_do_not_match_the_story_entries(catalog: Catalog, name: str) -> None:
    story = {"LADY R", "ANGARA", "MARIA", "MAIA-1", "TRANSMORFLOT LLC", "OBORONLOGISTIKA OOO",
             "PUTIN, Vladimir Vladimirovich"}  # fmt: skip
    assert not (entries(vessel(catalog, name=name)) | entries(party(catalog, name))) & story


def test_same_name_with_another_imo_is_another_ship(catalog: Catalog) -> None:
    assert "ANGARA" not in entries(vessel(catalog, name="ANGARA", imo="9000001"))


def test_demo_ships_are_not_on_the_real_lists(catalog: Catalog) -> None:
    """The bundled demo's fictitious ships must not hit the real SDN or UN lists."""
    subjects = [VesselSubject(v.mmsi, {v.mmsi}, {v.imo}, {v.name}) for v in ALL_VESSELS]
    assert screen_vessels(catalog, subjects) == []
    demo_parties = ["ООО «ВОСТОК-ТРАНЗИТ» (ДЕМО)", "в/ч 99001 (ДЕМО)", "АО «ПОРТ-СЕРВИС» (ДЕМО)",
                    "в/ч 99100 (ДЕМО)", "АО «ПОЛУЧАТЕЛЬ-1» (ДЕМО)", "АО «РАЗРЕЗ-1» (ДЕМО)"]  # fmt: skip
    assert screen_parties(catalog, [PartySubject(n, {"consignee"}, 1) for n in demo_parties]) == []


def test_screening_the_list_against_itself_finds_every_vessel(catalog: Catalog) -> None:
    """Every SDN vessel found by its own name and IMO: nothing lost in normalisation."""
    vessels = [e for e in catalog.entries if e.schema == "Vessel" and e.list == "OFAC SDN"]
    subjects = [
        VesselSubject(e.entry_id, set(), {e.imo} if e.imo else set(), {e.name}) for e in vessels
    ]
    found = {(h.subject_key, h.entry_id) for h in screen_vessels(catalog, subjects)}
    assert all((e.entry_id, e.entry_id) in found for e in vessels)


def test_clusters_of_real_list_spellings_are_stable() -> None:
    names = [
        "ООО «Оборонлогистика»",
        "OBORONLOGISTIKA OOO",
        "Oboronlogistika LLC",
        "ООО Трансморфлот",
        "TRANSMORFLOT LLC",
    ]
    a = cluster_parties([PartySubject(n, {"consignor"}, 1) for n in names])
    b = cluster_parties([PartySubject(n, {"consignor"}, 1) for n in reversed(names)])
    assert sorted(c.cluster_id for c in a) == sorted(c.cluster_id for c in b)
    assert sorted(len(c.members) for c in a) == [2, 3]
