"""The blocks of the findings (contract §4) as TypedDicts: report/findings.py builds them and
mypy checks every key it writes. Values read from the case are typed as the case declares
them (case/schema.py); times are ISO 8601 text. tests/test_findings_types.py holds the
declarations against findings built from a case.

Blocks assembled elsewhere (screening, significance, sensitivity, left out) keep their own
shape and are typed here as JSON objects.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from cargotrace.screening.findings import ScreeningKeys

Json = dict[str, Any]


class Sighting(TypedDict):
    observed_at: str | None
    source: str | None
    confidence: float | None
    source_file: str | None
    source_row: int | None


class SiteSighting(Sighting):
    km: float
    note: str | None


# "from" is a keyword: the functional form
ShipIdentity = TypedDict(
    "ShipIdentity",
    {
        "mmsi": str,
        "vessel_key": str | None,
        "name": str | None,
        "callsign": str | None,
        "flag": str | None,
        "from": str | None,
        "to": str | None,
        "sources": str | None,
        "rule": str | None,
        "evidence": str | None,
    },
)


class IdentityChange(TypedDict):
    from_vessel_key: str | None
    to_vessel_key: str | None
    dark_from: str | None
    dark_to: str | None
    dark_hours: float | None
    possible_dark_calls: Any
    note: str


class ShipTimeline(TypedDict):
    ship_key: str
    imo: str | None
    identities: list[ShipIdentity]
    changes: list[IdentityChange]


class Arrival(TypedDict):
    ship_key: str | None
    identity_changed: bool
    previous_mmsi: str | None
    previous_vessel_name: str | None
    identity_timeline: list[ShipIdentity]
    arrival_id: str
    vessel_name: str | None
    imo: str | None
    mmsi: str | None
    port_locode: str
    arrived_at: str
    departed_at: str | None
    previous_port_locode: str
    previous_call_at: str | None
    days_since_previous: int | None
    evidence: list[str]
    confidence: float | None
    previous_call_evidence: list[str]
    previous_call_confidence: float | None
    sightings: list[Sighting]
    previous_call_sightings: list[Sighting]
    detections: list[
        Json
    ]  # the dark satellite detection this call rests on (maritime/detection_calls.py)
    previous_call_detections: list[Json]
    draught_changes: list[Json]  # maritime/draught.py, between the previous call and this one
    watchlist: NotRequired[list[Json]]  # set once the screening block is known


class LinkedShipment(TypedDict):
    waybill: str
    wagon: str | None
    arrival_id: str
    lag_days: int
    tonnes: float | None
    site_id: str | None
    weight_left_out: str | None
    recorded_t: float | None
    confidence: float | None
    departed_on: str | None
    cargo: str | None
    cargo_class: str | None
    origin_station: str | None
    destination_station: str | None
    source_file: str | None
    source_row: int | None
    consignor: str | None
    consignee: str | None
    watchlist: list[Json]
    evidence_chain: list[str]


class Site(TypedDict):
    site_id: str
    name: str | None
    esr: str | None
    lat: float | None
    lon: float | None
    tonnes: float
    shipments: int
    nearest_facility: str | None
    nearest_category: str | None
    facility_km: float | None
    near_facility: bool
    border_km: float | None
    stations: list[str]
    label_changes: int
    sightings: list[SiteSighting]
    nearest_by_category: dict[str, Json]


class LabelChange(TypedDict):
    waybill: str
    wagon: str | None
    declared: str | None
    at_destination: str | None
    declared_text: str | None
    at_destination_text: str | None
    departure_file: str | None
    departure_row: int | None
    arrival_file: str | None
    arrival_row: int | None


class Totals(TypedDict):
    linked_tonnes: float
    linked_shipments: int
    linked_weights_left_out: int
    arrivals: int
    sites: int
    sites_near_facility: int
    munitions_equivalent: Json  # logistics/munitions.py: profile, central, low, high


class MissingInput(TypedDict):
    kind: str
    effect: str


class Quarantine(TypedDict):
    rows: int
    by_reason: list[Json]


class MaritimeLists(TypedDict):
    identity_events: list[Json]
    ship_identities: list[ShipTimeline]
    shuttles: list[Json]
    possible_dark_calls: list[Json]
    encounters: list[Json]
    loitering: list[Json]
    gaps: list[Json]
    draught_changes: list[Json]


class Findings(MaritimeLists, ScreeningKeys):
    cargotrace_version: str
    synthetic: bool
    parameters: Json
    missing_inputs: list[MissingInput]
    arrivals: list[Arrival]
    linked_shipments: list[LinkedShipment]
    sites: list[Site]
    label_changes: list[LabelChange]
    totals: Totals
    significance: Json
    outbound: list[Json]
    lag_histogram: list[Json]
    sensitivity: list[Json]
    sensitivity_summary: list[Json]
    events: dict[str, int]
    quarantine: Quarantine
    left_out: Json
