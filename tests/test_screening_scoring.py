"""The scoring model of screening (issue 18): hand-built pairs for every feature and
penalty with their exact scores; a name alone is a lead; a party reached through a vessel
inherits the vessel's score; one row per subject and entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.screening.catalog import Catalog, Entry
from cargotrace.screening.hits import Hit, merge
from cargotrace.screening.parties import PartySubject, owner_hits, screen_parties
from cargotrace.screening.scoring import (
    HIT_MIN,
    NAME_CAP,
    VesselFacts,
    combine,
    explain,
    name_feature,
    ship_type_category,
    vessel_qualifiers,
)
from cargotrace.screening.vessels import VesselSubject, screen_vessels, vessel_subjects

from builders import write_csv


def listed(**kw: object) -> Entry:
    """A listed tanker: NORDIC PEARL, IMO 9000007, flag RU (formerly PA), call sign UBCD7,
    built 2005, 28,000 GT, 180 m, MMSI 273000007."""
    base: dict[str, object] = dict(
        entry_id="e1", list="TEST", list_date="2024-05-03", list_file="t.csv", schema="Vessel",
        name="NORDIC PEARL", names=[("NORDIC PEARL", "name"), ("SEA PEARL", "former_name")], imo="9000007",
        mmsi="273000007", flag="RU", past_flags=["PA"], call_sign="UBCD7",
        details={"type": "Crude Oil Tanker", "build_year": 2005, "tonnage_gt": 28000.0, "length_m": 180.0},
    )  # fmt: skip
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def one(subject: VesselSubject, entry: Entry | None = None) -> Hit:
    [hit] = screen_vessels(Catalog([entry or listed()]), [subject])
    return hit


def named(name: str = "NORDIC PEARL", mmsi: str | None = None, **kw: object) -> VesselSubject:
    s = VesselSubject(mmsi or "S", {mmsi} if mmsi else set(), set(), {name})
    for key, value in kw.items():
        setattr(s, key, value)
    return s


# ------------------------------------------------------------------ main features


def test_name_alone_is_a_lead() -> None:
    hit = one(named())
    assert (hit.score, hit.status, hit.rule) == (0.70, "lead", "name_exact")
    assert hit.explanation == "name_exact 0.70 (name «NORDIC PEARL», similarity 1.00) = 0.70"


def test_former_name_alone_is_a_lead_too() -> None:
    hit = one(named("SEA PEARL"))
    assert (hit.score, hit.status, hit.rule, hit.name_kind) == (
        0.70,
        "lead",
        "former_name_exact",
        "former_name",
    )


def test_identifiers_are_hits() -> None:
    imo = one(VesselSubject("S", set(), {"9000007"}, {"OTHER NAME"}))
    assert (imo.score, imo.status, imo.rule) == (1.0, "hit", "imo")
    mmsi = one(VesselSubject("273000007", {"273000007"}, set(), set()))
    # the MID flag (RU) comes from the MMSI itself, so it corroborates nothing here
    assert (mmsi.score, mmsi.status, mmsi.rule, mmsi.penalties) == (0.95, "hit", "mmsi", [])


def test_imo_and_name_are_one_row_with_both_features() -> None:
    hit = one(VesselSubject("S", set(), {"9000007"}, {"NORDIC PEARL", "SEA PEARL"}))
    assert (hit.score, hit.rule, hit.rules) == (1.0, "imo", ["imo", "name_exact"])
    assert "also name_exact 0.70" in hit.explanation


# ------------------------------------------------------------------ qualifiers, one at a time


@pytest.mark.parametrize(
    ("attributes", "feature", "score"),
    [
        ({"flags": {"RU"}}, "flag_same", 0.78),
        ({"flags": {"PA"}}, "former_flag", 0.75),
        ({"call_signs": {"UBCD7"}}, "call_sign_same", 0.82),
        ({"ship_types": {"tanker"}}, "ship_type_same", 0.75),
        ({"build_year": 2006}, "build_year_same", 0.75),
        ({"tonnage_gt": 29000.0}, "tonnage_close", 0.75),
        ({"length_m": 185.0}, "length_close", 0.75),
        ({"flags": {"US"}}, "flag_differs", 0.60),
        ({"call_signs": {"WXYZ"}}, "call_sign_differs", 0.65),
        (
            {"ship_types": {"fishing"}},
            "ship_type_conflict",
            0.55,
        ),  # a fishing boat vs a listed tanker
        ({"build_year": 1990}, "build_year_differs", 0.60),
        ({"tonnage_gt": 900.0}, "tonnage_off", 0.60),
        ({"length_m": 20.0}, "length_off", 0.55),  # off by more than 20 %
    ],
)
def test_each_attribute_raises_or_lowers_a_name_match(
    attributes: dict[str, object], feature: str, score: float
) -> None:
    hit = one(named(**attributes))
    fired = [f["feature"] for f in hit.features[1:] + hit.penalties]
    assert (fired, hit.score, hit.status) == ([feature], score, "lead")


def test_attributes_within_the_dead_band_neither_raise_nor_lower() -> None:
    # cargo vs tanker (AIS confuses them), 2 years apart, 15 % off in tonnage and length
    hit = one(named(ship_types={"cargo"}, build_year=2007, tonnage_gt=32_900.0, length_m=207.0))
    assert (hit.features[1:], hit.penalties, hit.score) == ([], [], 0.70)


def test_mmsi_of_another_ship_lowers_a_name_match() -> None:
    hit = one(named(mmsi="366000001"))  # US MID: flag_differs too
    assert [p["feature"] for p in hit.penalties] == ["flag_differs", "mmsi_differs"]
    assert hit.score == 0.40


def test_corroborated_name_becomes_a_hit_and_stays_below_identifiers() -> None:
    hit = one(named(flags={"RU"}, call_signs={"UBCD7"}))
    assert (hit.score, hit.status) == (0.90, "hit")
    everything = one(named(flags={"RU"}, call_signs={"UBCD7"}, ship_types={"tanker"}, build_year=2005,
                           tonnage_gt=28000.0, length_m=180.0))  # fmt: skip
    assert (everything.score, everything.status) == (NAME_CAP, "hit")
    assert everything.explanation.endswith(
        f"= 0.94 (capped at {NAME_CAP:.2f} without an identifier)"
    )


def test_identifier_hit_shows_contradictions_and_stays_a_hit() -> None:
    """A listed ship renamed and reflagged (ANKERGRACHT = TAMBEY): IMO 1.00 - flag 0.10."""
    hit = one(VesselSubject("244000001", {"244000001"}, {"9000007"}, {"ANKERGRACHT"}, {"NL"}))
    assert (hit.score, hit.status, [p["feature"] for p in hit.penalties]) == (
        0.90,
        "hit",
        ["flag_differs"],
    )
    assert "mmsi_differs" not in hit.explanation  # MMSIs change with the flag


# ------------------------------------------------------------------ rarity


@pytest.mark.parametrize(("bearers", "penalty", "score"), [(1, None, 0.70), (2, -0.05, 0.65), (4, -0.10, 0.60),
                                                            (16, -0.20, 0.50), (64, -0.20, 0.50)])  # fmt: skip
def test_a_common_name_weighs_less(bearers: int, penalty: float | None, score: float) -> None:
    """FREEDOM on 16 vessels of a case: 16 subjects, 16 rows, each -0.20."""
    subjects = [VesselSubject(f"36600{i:04d}", set(), set(), {"FREEDOM"}) for i in range(bearers)]
    hits = merge(
        screen_vessels(Catalog([listed(name="FREEDOM", names=[("FREEDOM", "name")])]), subjects)
    )
    assert len(hits) == bearers and len({h.subject_key for h in hits}) == bearers
    assert {h.score for h in hits} == {score}
    assert {p["weight"] for h in hits for p in h.penalties} == ({penalty} if penalty else set())


def test_a_name_many_entries_bear_weighs_less() -> None:
    entries = [listed(entry_id=f"e{i}", imo=None, mmsi=None) for i in range(4)]
    hits = screen_vessels(Catalog(entries), [named()])
    assert [h.score for h in hits] == [0.60] * 4


# ------------------------------------------------------------------ parties


def party_catalog() -> Catalog:
    owner = Entry("p1", "TEST", None, "t.csv", "Company", "NORDIC SHIPPING LLC",
                  [("NORDIC SHIPPING LLC", "name")], inn="7718857267")  # fmt: skip
    ship = listed(links=[{"relation": "owner", "name": "NORDIC SHIPPING LLC", "entry_id": "p1"}])
    return Catalog([ship, owner])


def test_party_name_and_legal_form() -> None:
    catalog = party_catalog()
    same, dropped, other = (screen_parties(catalog, [PartySubject(n)]) for n in
                            ("ООО «Нордик Шиппинг»", "Nordic Shipping", "АО «Нордик Шиппинг»"))  # fmt: skip
    # 0.70 x 0.97 (same romanisation skeleton) + 0.05 (LLC on both)
    assert (same[0].score, same[0].status, [f["feature"] for f in same[0].features]) == (
        0.729,
        "lead",
        ["name_translit", "legal_form_same"],
    )
    assert (dropped[0].score, dropped[0].penalties) == (0.70, [])
    assert (other[0].score, [p["feature"] for p in other[0].penalties]) == (
        0.629,  # 0.70 x 0.97 - 0.05 (JSC vs LLC)
        ["legal_form_conflict"],
    )


def test_party_inn_is_a_hit() -> None:
    subject = PartySubject("ООО «Ромашка»")
    subject.add_id("7718857267")
    [hit] = screen_parties(party_catalog(), [subject])
    assert (hit.score, hit.status, hit.rule) == (1.0, "hit", "inn")


def test_owner_of_a_listed_vessel_is_corroborated() -> None:
    catalog = party_catalog()
    vessel_hits = screen_vessels(
        catalog, [VesselSubject("S", set(), {"9000007"}, {"NORDIC PEARL"})]
    )
    subject = PartySubject("Nordic Shipping LLC", {"owner"}, 1, vessels={"NORDIC PEARL"})
    [hit] = screen_parties(catalog, [subject], vessel_hits=vessel_hits)
    assert [f["feature"] for f in hit.features] == ["name_exact", "legal_form_same", "owner_listed"]
    assert (hit.score, hit.status) == (0.90, "hit")


@pytest.mark.parametrize(("vessel", "score", "status"), [
    (VesselSubject("S", set(), {"9000007"}, set()), 1.0, "hit"),
    (VesselSubject("S", set(), set(), {"NORDIC PEARL"}), 0.70, "lead"),
])  # fmt: skip
def test_party_through_a_vessel_inherits_its_score(
    vessel: VesselSubject, score: float, status: str
) -> None:
    catalog = party_catalog()
    vessel_hits = screen_vessels(catalog, [vessel])
    [hit] = owner_hits(catalog, vessel_hits)
    assert (hit.entry, hit.rule, hit.score, hit.status) == (
        "NORDIC SHIPPING LLC",
        "list_link",
        score,
        status,
    )
    assert hit.score <= vessel_hits[0].score and hit.features[0]["via"] == vessel_hits[0].rules


def test_a_party_linked_to_two_vessels_is_one_row() -> None:
    catalog = party_catalog()
    vessel_hits = screen_vessels(catalog, [VesselSubject("A", set(), {"9000007"}, set()),
                                           VesselSubject("B", set(), set(), {"NORDIC PEARL"}),
                                           VesselSubject("C", {"273000007"}, set(), set())])  # fmt: skip
    [hit] = merge(owner_hits(catalog, vessel_hits))
    assert (hit.score, hit.status, hit.role) == (1.0, "hit", "owner of vessel IMO 9000007")
    assert hit.notes[-1] == (
        "also, with a lower score: owner of vessel MMSI 273000007; owner of vessel NORDIC PEARL"
    )
    both = merge(owner_hits(catalog, screen_vessels(catalog, [VesselSubject("A", set(), {"9000007"}, set()),
                                                             VesselSubject("D", set(), {"9000007"}, {"X"})])))  # fmt: skip
    assert [h.role for h in both] == ["owner of vessel IMO 9000007; owner of vessel X"]


# ------------------------------------------------------------------ the pieces


def test_ship_type_categories() -> None:
    assert [ship_type_category(v) for v in (30, "80", "Crude Oil Tanker", "Bulk Carrier", "37", None, "99")] == [
        "fishing", "tanker", "tanker", "cargo", "pleasure", None, None,
    ]  # fmt: skip


def test_qualifiers_need_both_sides() -> None:
    assert vessel_qualifiers(VesselFacts(), listed().facts()) == []
    assert vessel_qualifiers(VesselFacts(flags={"US"}, length_m=30.0), VesselFacts()) == []


def test_combine_and_explain() -> None:
    result = combine([name_feature(0.9, "weak_alias", "weak_alias_fuzzy", "PEARL")], [])
    assert (result.score, result.status) == (0.504, "lead")  # 0.70 x 0.9 x 0.8
    assert explain(result.features, result.penalties, result.score) == (
        "weak_alias_fuzzy 0.50 (weak alias «PEARL», similarity 0.90) = 0.50"
    )
    assert HIT_MIN == 0.85


# ------------------------------------------------------------------ attributes from a case


def test_vessels_file_details_reach_the_scoring(tmp_path: Path) -> None:
    """Length, build year and gross tonnage columns of a vessels file feed the model."""
    case_dir = tmp_path / "case"
    workflow.init_case(case_dir)
    path = write_csv(tmp_path / "vessels.csv", ["mmsi", "imo", "name", "flag", "callsign", "Length, m", "Year built",
                                                "Gross tonnage"],
                     [["273000001", "", "NORDIC PEARL", "RU", "UBCD7", "181", "2005", "28,000"],
                      ["366000002", "", "NORDIC PEARL", "US", "WXYZ", "20", "1990", "900"]])  # fmt: skip
    workflow.ingest(case_dir, "vessels", [path])
    with Case.open(case_dir) as case:
        subjects = {s.key: s for s in vessel_subjects(case.con)}
    near = subjects["273000001"]
    assert (near.length_m, near.build_year, near.tonnage_gt, near.call_signs) == (
        181.0,
        2005,
        28000.0,
        {"UBCD7"},
    )
    entry = listed(imo=None, mmsi=None)
    [same] = screen_vessels(Catalog([entry]), [near])
    # 0.70 + flag 0.08 + call sign 0.12 + build year 0.05 + tonnage 0.05 + length 0.05 -> capped 0.94
    assert (same.score, same.status) == (NAME_CAP, "hit")
    [other] = screen_vessels(Catalog([entry]), [subjects["366000002"]])
    # 0.70 - flag 0.10 - call sign 0.05 - build year 0.10 - tonnage 0.10 - length 0.15 -> 0.20
    assert (other.score, other.status) == (0.20, "lead")
    assert [p["feature"] for p in other.penalties] == [
        "flag_differs", "call_sign_differs", "build_year_differs", "tonnage_off", "length_off",
    ]  # fmt: skip
