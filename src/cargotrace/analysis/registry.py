"""The stages of the analysis, in the order they run, each with the tables it reads and writes.

A stage is SQL (a function from settings to statements, the same text for every engine) or a
small Python step over a few hundred rows (site clustering, geodesy), or both. The two
per-fix stages (track, port zones) also have a NumPy kernel that the DuckDB engine runs
instead of their SQL (maritime/kernels/); the SQL stays their definition.
tests/test_stage_declarations.py checks `reads` and `writes` against what the steps run.
"""

from __future__ import annotations

import duckdb

from cargotrace.logistics import (
    arrivals,
    consignments,
    label_changes,
    linking,
    reverse_flow,
    sensitivity,
    significance,
    sites,
    stations,
)
from cargotrace.maritime import (
    dark_calls,
    detection_attribution,
    detection_calls,
    detections,
    disabling,
    draught,
    encounters,
    gaps,
    gfw_calls,
    identity,
    interference,
    loitering,
    port_areas,
    port_calls,
    ships,
    track,
    voyages,
)
from cargotrace.maritime.kernels import encounters as encounters_kernel
from cargotrace.maritime.kernels import port_zones as port_zones_kernel
from cargotrace.maritime.kernels import track as track_kernel
from cargotrace.screening import stage as screening_stage
from cargotrace.settings import AnalysisSettings
from cargotrace.stage import Stage


def _stations(con: duckdb.DuckDBPyConnection, _settings: AnalysisSettings) -> None:
    stations.resolve(con)


STAGES: list[Stage] = [
    Stage(
        "track",
        reads=("positions",),
        writes=("track", "shared_mmsi", "split_fixes", "spoofed_fixes", "unspoofed_fixes"),
        sql=track.statements,
        kernel=track_kernel.build,
        output="track",
    ),
    Stage(
        "identity",
        reads=("shared_mmsi", "vessel_reports", "vessels"),
        writes=("identity_events",),
        sql=identity.statements,
        output="identity_events",
    ),
    Stage(
        "ships",
        reads=(
            "identity_events",
            "shared_mmsi",
            "sightings",
            "track",
            "vessel_identities",
            "vessel_reports",
        ),
        writes=(
            "ship_links",
            "candidate_links",
            "clone_pairs",
            "identity_events",
            "imo_claims",
            "imo_runs",
            "kept_links",
            "linked_fixes",
            "mmsi_imos",
            "ship_timeline",
        ),
        sql=ships.statements,
        python=ships.build_timeline,
        python_reads=("ship_links",),
        output="ship_links",
    ),
    Stage(
        "port_areas",
        reads=("ports",),
        writes=("port_areas", "port_cells", "port_edges"),
        python=port_areas.build,
        output="port_areas",
    ),
    Stage(
        "port_zones",
        reads=("port_areas", "port_cells", "port_edges", "track"),
        writes=("zone_marks", "port_stops", "visits"),
        sql=port_calls.zone_statements,
        kernel=port_zones_kernel.build,
        output="zone_marks",
    ),
    Stage(
        "observed_calls",
        reads=(
            "port_areas",
            "port_stops",
            "ports",
            "ship_links",
            "sightings",
            "vessel_reports",
            "vessels",
            "visits",
            "zone_marks",
        ),
        writes=("observed_calls", "ais_calls", "sighting_calls", "sighting_vessels"),
        sql=port_calls.statements,
        output="observed_calls",
    ),
    Stage(
        "gaps",
        reads=("port_areas", "positions", "ship_links", "track", "zone_marks"),
        writes=(
            "gaps",
            "ais_coverage",
            "change_gaps",
            "coverage_gaps",
            "dark_call_candidates",
            "dark_calls",
            "gap_end_ports",
            "gap_facts",
            "gap_stretches",
            "raw_gaps",
            "sea_distances",
            "service_speed",
        ),
        sql=gaps.statements,
        python=dark_calls.build,  # the possible dark calls, along sea routes
        python_reads=("gap_facts", "dark_call_candidates"),
        output="gaps",
    ),
    Stage(
        "encounters",
        reads=("ports", "positions", "ship_links"),
        writes=("encounters", "binned", "close_pairs", "encounter_crowds"),
        sql=encounters.statements,
        kernel=encounters_kernel.build,
        output="encounters",
    ),
    Stage(
        "loitering",
        reads=("borders", "ports", "positions", "spoofed_fixes"),
        writes=("loitering", "loitering_candidates", "loitering_shore"),
        sql=loitering.statements,
        python=loitering.build,
        python_reads=("loitering_candidates",),
        output="loitering",
    ),
    Stage(
        "ais_disabling",
        reads=("borders", "gaps", "positions"),
        writes=("ais_disabling", "disabling_candidates", "disabling_shore"),
        python=disabling.build,
        output="ais_disabling",
    ),
    Stage(
        "draught_changes",
        reads=("gaps", "vessel_reports"),
        writes=("draught_changes",),
        sql=draught.statements,
        output="draught_changes",
    ),
    Stage(
        "detection_matches",
        reads=("detections", "positions", "vessel_details", "vessel_reports"),
        writes=(
            "detection_matches",
            "detection_fixes",
            "detection_placed",
            "detection_pool",
            "detection_presence",
            "detection_vessels",
        ),
        python=detections.build,
        output="detection_matches",
    ),
    Stage(
        "dark_detections",
        reads=(
            "detection_matches",
            "detections",
            "gaps",
            "ship_links",
            "vessel_details",
            "vessel_reports",
        ),
        writes=("detection_candidates", "dark_detections", "detection_silences"),
        python=detection_attribution.build,
        output="detection_candidates",
    ),
    Stage(
        "detection_calls",
        reads=("dark_detections", "detection_candidates", "observed_calls", "ports"),
        writes=("detection_calls",),
        python=detection_calls.build,
        output="detection_calls",
    ),
    Stage(
        "gfw_calls",
        reads=("gfw_events", "observed_calls", "ports", "ship_links"),
        writes=("gfw_calls",),
        sql=gfw_calls.statements,
        output="gfw_calls",
    ),
    Stage(
        "port_calls",
        reads=("detection_calls", "gfw_calls", "observed_calls", "ports", "vessels"),
        writes=("port_calls",),
        sql=port_calls.union_statements,
        output="port_calls",
    ),
    Stage(
        "interference",
        reads=("positions", "spoofed_fixes"),
        writes=(
            "interference",
            "circling",
            "interference_marks",
            "position_jumps",
            "spoofed_positions",
        ),
        sql=interference.statements,
        output="interference",
    ),
    Stage(
        "interference_flags",
        reads=("gaps", "interference", "interference_marks", "port_calls"),
        writes=("interference_flags",),
        sql=interference.flag_statements,
        output="interference_flags",
    ),
    Stage(
        "voyages",
        reads=("dark_calls", "gaps", "port_calls", "vessels"),
        writes=("voyages", "shuttles"),
        sql=voyages.statements,
        output="voyages",
    ),
    Stage(
        "arrivals",
        reads=("port_calls", "ship_links", "stations"),
        writes=("arrivals",),
        sql=arrivals.statements,
        output="arrivals",
    ),
    Stage(
        "consignments",
        reads=("ledger", "port_calls", "shipments"),
        writes=("consignments", "consignment_records", "evidence_period"),
        sql=consignments.statements,
        output="consignments",
    ),
    Stage(
        "stations",
        reads=("consignments", "stations"),
        writes=("shipment_stations", "station_name_norm"),
        python=_stations,
        output="shipment_stations",
    ),
    Stage(
        "linking",
        reads=("arrivals", "consignments", "shipment_stations"),
        writes=("linked_shipments", "shipments_of_interest"),
        sql=linking.statements,
        output="linked_shipments",
    ),
    Stage(
        "sites",
        reads=("borders", "facilities", "linked_shipments", "shipment_stations"),
        writes=("sites", "site_members", "linked_shipments"),
        python=sites.build,
        output="sites",
    ),
    Stage(
        "significance",
        reads=("arrivals", "shipments_of_interest"),
        writes=("significance",),
        python=significance.build,
        output="significance",
    ),
    Stage(
        "sensitivity",
        reads=(
            "facilities",
            "port_calls",
            "ship_links",
            "shipment_stations",
            "shipments_of_interest",
            "stations",
        ),
        writes=("sensitivity", "grid_arrivals"),
        python=sensitivity.build,
        output="sensitivity",
    ),
    Stage(
        "label_changes",
        reads=("consignments",),
        writes=("label_changes",),
        sql=label_changes.statements,
        output="label_changes",
    ),
    Stage(
        "reverse_flow",
        reads=("consignments", "port_calls", "shipment_stations", "stations"),
        writes=("outbound",),
        sql=reverse_flow.statements,
        output="outbound",
    ),
    Stage(
        "party_clusters",
        reads=("shipments", "vessel_parties", "watchlist_entries"),
        writes=("party_clusters",),
        python=screening_stage.build_clusters,
        output="party_clusters",
    ),
    Stage(
        "screening",
        reads=(
            "party_clusters",
            "positions",
            "ship_links",
            "shipments",
            "sightings",
            "vessel_details",
            "vessel_parties",
            "vessel_reports",
            "watchlist",
            "watchlist_entries",
            "watchlist_links",
            "watchlist_lists",
            "watchlist_names",
        ),
        writes=("watchlist_hits",),
        python=screening_stage.build_hits,
        output="watchlist_hits",
    ),
]
