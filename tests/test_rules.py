"""Every rule of contract §3 at its boundaries, on tiny hand-built cases with exact answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cargotrace.case.store import Case

from builders import T0, VOSTOCHNY, CaseBuilder, dwell


@pytest.mark.parametrize(("minutes", "is_call"), [(119, False), (121, True)])
def test_port_call_minimum_dwell(tmp_path, minutes, is_call):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(273000001, VOSTOCHNY, T0, minutes / 60)
    calls = b.table("SELECT * FROM port_calls")
    assert len(calls) == (1 if is_call else 0)
    if is_call:
        assert calls[0]["port_locode"] == "RUVYP"
        assert calls[0]["arrived_at"] == T0
        assert calls[0]["source"] == "ais"


def test_sighting_is_a_call_on_that_day_and_merges_with_ais(tmp_path):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(273000001, VOSTOCHNY, T0, 5)
    b.sighting(T0 + timedelta(hours=3), "RUVYP")
    b.sighting(T0 - timedelta(days=4), "KPNJN")
    calls = b.table("SELECT port_locode, source, arrived_at FROM port_calls ORDER BY arrived_at")
    assert [(c["port_locode"], c["source"]) for c in calls] == [
        ("KPNJN", "sighting"),
        ("RUVYP", "both"),
    ]
    assert calls[0]["arrived_at"] == (T0 - timedelta(days=4))


def _arrival_case(tmp_path, previous_days_back: int) -> CaseBuilder:
    b = CaseBuilder(tmp_path)
    b.sighting(T0 - timedelta(days=previous_days_back), "KPNJN")
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    return b


@pytest.mark.parametrize(("days_back", "qualifies"), [(30, True), (31, False)])
def test_lookback_boundary(tmp_path, days_back, qualifies):
    b = _arrival_case(tmp_path, days_back)
    arrivals = b.table("SELECT * FROM arrivals")
    assert len(arrivals) == (1 if qualifies else 0)
    if qualifies:
        assert arrivals[0]["previous_port_locode"] == "KPNJN"
        assert arrivals[0]["days_since_previous"] == 30


def test_arrival_needs_port_served_by_a_station(tmp_path):
    b = CaseBuilder(tmp_path)
    b.stations = []
    b.sighting(T0 - timedelta(days=3), "KPNJN")
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    assert b.table("SELECT * FROM arrivals") == []


def test_previous_call_must_be_in_origin_country(tmp_path):
    b = CaseBuilder(tmp_path)
    b.sighting(T0 - timedelta(days=3), "KRPUS")
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    assert b.table("SELECT * FROM arrivals") == []


@pytest.mark.parametrize(("days_after", "linked"), [(-1, False), (0, True), (7, True), (8, False)])
def test_window_boundary(tmp_path, days_after, linked):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.85, 40.10)
    b.shipment("W1", T0 + timedelta(days=days_after))
    links = b.table("SELECT * FROM linked_shipments")
    assert len(links) == (1 if linked else 0)
    if linked:
        assert links[0]["lag_days"] == days_after


def test_latest_qualifying_arrival_wins(tmp_path):
    b = CaseBuilder(tmp_path)
    b.sighting(T0 - timedelta(days=3), "KPNJN")
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    b.sighting(T0 + timedelta(days=2), "KPNJN", mmsi=273000002, name="OTHER SHIP")
    b.positions += dwell(273000002, VOSTOCHNY, T0 + timedelta(days=4), 24)
    b.station("515002", "Тихорецкая", 45.85, 40.10)
    b.shipment("W1", T0 + timedelta(days=5))
    b.shipment("W2", T0 + timedelta(days=2))
    links = b.table(
        "SELECT waybill, lag_days, vessel_name, arrival_id FROM linked_shipments ORDER BY waybill"
    )
    assert [(r["waybill"], r["lag_days"]) for r in links] == [("W1", 1), ("W2", 2)]
    assert links[0]["arrival_id"] != links[1]["arrival_id"]


def test_non_interest_cargo_and_non_port_stations_do_not_link(tmp_path):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.85, 40.10)
    b.station("850007", "Кемерово", 55.35, 86.08)
    b.shipment("COAL", T0 + timedelta(days=1), cargo="уголь каменный")
    b.shipment("MINE", T0 + timedelta(days=1), origin_esr="850007")
    assert b.table("SELECT * FROM linked_shipments") == []


# 1 degree of latitude is 111.195 km on the mean-radius sphere: offsets in latitude give
# exact great-circle distances.
KM_PER_DEG_LAT = 6371.0088 * 3.141592653589793 / 180


@pytest.mark.parametrize(("km", "near"), [(19.9, True), (20.1, False)])
def test_near_facility_boundary(tmp_path, km, near):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.facility("Depot", 45.0 + km / KM_PER_DEG_LAT, 40.0)
    b.shipment("W1", T0 + timedelta(days=1))
    sites = b.table("SELECT * FROM sites")
    assert len(sites) == 1
    assert sites[0]["facility_km"] == pytest.approx(km, abs=1e-3)
    assert sites[0]["near_facility"] is near


def test_stations_within_2_km_merge_into_one_site(tmp_path):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.station("515017", "Тихорецкая-Сорт", 45.0 + 1.9 / KM_PER_DEG_LAT, 40.0)
    b.station("515021", "Далёкая", 45.0 + 2.1 / KM_PER_DEG_LAT + 1.9 / KM_PER_DEG_LAT, 40.0)
    b.shipment("W1", T0 + timedelta(days=1), dest_esr="515002")
    b.shipment("W2", T0 + timedelta(days=1), dest_esr="515017")
    b.shipment("W3", T0 + timedelta(days=1), dest_esr="515021")
    sites = b.table("SELECT * FROM sites ORDER BY shipments DESC")
    assert [s["shipments"] for s in sites] == [2, 1]


def test_label_change_departure_explosives_arrival_ammunition(tmp_path):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.shipment("W1", T0 + timedelta(days=1), cargo="Взрывчатые вещества")
    b.shipment("W1", T0 + timedelta(days=6), cargo="Боеприпасы", record="прибытие")
    changes = b.table("SELECT * FROM label_changes")
    assert [(c["waybill"], c["declared"], c["at_destination"]) for c in changes] == [
        ("W1", "explosives", "ammunition")
    ]


def test_reverse_flow_call_then_origin_country(tmp_path):
    b = CaseBuilder(tmp_path)
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    b.sighting(T0 + timedelta(days=3), "KPNJN")
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.shipments.append(
        [
            "OIL1",
            "",
            "departure",
            (T0 - timedelta(days=2)).date().isoformat(),
            "",
            "515002",
            "",
            "984700",
            "дизельное топливо",
            60.0,
        ]
    )
    out = b.table(
        "SELECT port_locode, next_port_locode, days_to_next, rail_cargo_to_port FROM outbound"
    )
    assert out == [
        {
            "port_locode": "RUVYP",
            "next_port_locode": "KPNJN",
            "days_to_next": 2,
            "rail_cargo_to_port": "oil_products: 60.0 t",
        }
    ]


def test_place_only_sighting_near_a_site_is_evidence_there(tmp_path):
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.shipment("W1", T0 + timedelta(days=1))
    b.sightings.append(
        [
            (T0 + timedelta(days=20)).isoformat(),
            "",
            "",
            "",
            "",
            45.0 + 4.9 / KM_PER_DEG_LAT,
            40.0,
            "imagery",
            0.7,
            "new storage",
        ]
    )
    b.sightings.append(
        [
            (T0 + timedelta(days=20)).isoformat(),
            "",
            "",
            "",
            "",
            45.0 + 5.1 / KM_PER_DEG_LAT,
            40.0,
            "imagery",
            0.7,
            "too far",
        ]
    )
    b.run()
    from cargotrace import workflow

    [result] = workflow.explain(b.case_dir, "W1")
    chain = result["links"][0]["evidence_chain"]
    assert [step for step in chain if "Observed at the site" in step] == [
        f"  Observed at the site {(T0 + timedelta(days=20)).date().isoformat()} by imagery: new storage (4.9 km away) [sightings.csv, row 3]"
    ]
    with Case.open(b.case_dir) as case:
        assert case.scalar("SELECT count(*) FROM port_calls WHERE vessel_key IS NULL") == 0


def test_linked_shipment_to_an_unknown_station_is_a_site_without_a_place(tmp_path):
    """A destination code that no station file lists (found by the identity work: a TypeError)."""
    b = _arrival_case(tmp_path, 3)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.shipment("W1", T0 + timedelta(days=1), dest_esr="515002")
    b.shipment("W2", T0 + timedelta(days=1), dest_esr="999999")
    b.shipment("W3", T0 + timedelta(days=1), dest_esr="")
    sites = b.table("SELECT * FROM sites ORDER BY shipments DESC, site_id")
    assert sum(s["shipments"] for s in sites) >= 2
    assert any(s["lat"] is None for s in sites)
