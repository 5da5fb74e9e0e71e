"""The case database schema, its version, and the migrations between versions.

Source tables hold what was ingested (every row with its provenance: file hash, file name,
sheet, row number). Derived tables are rebuilt by `analyze` in one transaction.
"""

from __future__ import annotations

from cargotrace.case import quarantine
from cargotrace.case.columns import Column as C
from cargotrace.case.columns import Table, markdown
from cargotrace.case.hash128 import md5_number_sql
from cargotrace.reference.mid import mid_flags_view_sql, mmsi_kind_sql, mmsi_mid_sql

SCHEMA_VERSION = 5

# Every ingested row says where it came from: the file's content hash, its name, the sheet
# of a workbook and the row, as a spreadsheet numbers it (the header counts: a CSV's first
# data row is 2; a GeoJSON feature's number; an NMEA log's line).
PROVENANCE = (
    C("file_hash", "VARCHAR", "SHA-256 of the source file's bytes (its ledger row)"),
    C("source_file", "VARCHAR", "name of the source file"),
    C("sheet", "VARCHAR", "sheet of a workbook, else empty"),
    C(
        "source_row",
        "BIGINT",
        "row of the source file, as a spreadsheet numbers it (the "
        "header counts: a CSV's first data row is 2); a GeoJSON feature's number, a log's line",
    ),
)
_MMSI = C("mmsi", "BIGINT", "Maritime Mobile Service Identity (9 digits)")
_IMO = C("imo", "VARCHAR", "IMO ship number (7 digits, check digit verified)")
_LAT = C("lat", "DOUBLE", "latitude (WGS 84)", "deg", minimum=-90, maximum=90)
_LON = C("lon", "DOUBLE", "longitude (WGS 84)", "deg", minimum=-180, maximum=180)
_GEOMETRY = C("geometry_wkt", "VARCHAR", "polygon outline as WKT (WGS 84), when given")
_KINEMATICS = (
    C("sog", "DOUBLE", "speed over ground; NULL when not available (102.3)", "kn"),
    C("cog", "DOUBLE", "course over ground, 0-359.9; NULL when not available (360)", "deg"),
    C("heading", "SMALLINT", "true heading, 0-359; NULL when not available (511)", "deg"),
    C("nav_status", "SMALLINT", "AIS navigational status 0-14; NULL when not defined (15)"),
    C("msg_type", "SMALLINT", "AIS message type (1-27), when known"),
)

SOURCE = (
    Table("meta", "Settings of the case: schema version, findings, stored results.", (
        C("key", "VARCHAR", "name of the setting", primary_key=True),
        C("value", "VARCHAR", "its value (text or JSON)"),
    )),
    Table("ledger", "One row per ingested file, identified by the hash of its content.", (
        C("file_hash", "VARCHAR", "SHA-256 of the file's bytes", primary_key=True),
        C("kind", "VARCHAR", "input kind (shipments, ais, vessels, ...)", not_null=True),
        C("file_name", "VARCHAR", "name of the file"),
        C("path", "VARCHAR", "path it was ingested from"),
        C("size_bytes", "BIGINT", "size of the file", "bytes"),
        C("rows_read", "BIGINT", "rows read (kept + quarantined + duplicate)", "rows"),
        C("rows_kept", "BIGINT", "rows stored in the kind's table", "rows"),
        C("rows_quarantined", "BIGINT", "rows refused, with a reason (quarantine)", "rows"),
        C("rows_duplicate", "BIGINT", "exact duplicates dropped", "rows"),
        C("rows_skipped", "BIGINT", "lines that hold no record (comments, other messages)", "rows"),
        C("ingested_at", "TIMESTAMPTZ", "when it was ingested", "UTC"),
        C("detail", "VARCHAR", "JSON: column mapping, units, unmapped columns, ..."),
    ), order_by="ingested_at"),
    Table("quarantine", "Rows refused at ingest, each with the reason and the raw text.", (
        C("kind", "VARCHAR", "input kind of the file"),
        C("reason", "VARCHAR", "why the row was refused (bad_mmsi, bad_date, ...)"),
        C("column_name", "VARCHAR", "the column at fault, when one is"),
        C("raw", "VARCHAR", "the row as read"),
        *PROVENANCE,
    ), order_by="source_file, source_row",
       export_order=("kind", "source_file", "sheet", "source_row", "reason", "column_name",
                     "raw", "file_hash")),
    Table("quarantine_runs", "Refused messages of NMEA logs, stored compactly: up to 100 "
          "refused messages of one file with the same reason in one row (`cargotrace quarantine` "
          "and `export --table quarantine` list them one row each, case/quarantine.py). NMEA logs "
          "now keep their runs in a Parquet part of the case folder instead (`quarantine/`, "
          "named in the ledger's `detail`, read with this table); logs ingested earlier, here.", (
        C("kind", "VARCHAR", "input kind of the file"),
        C("reason", "VARCHAR", "why the messages were refused (no_timestamp, bad_checksum, ...)"),
        C("column_name", "VARCHAR", "the field at fault, when one is"),
        C("rows", "BIGINT", "refused messages in the run", "rows"),
        C("last_row", "BIGINT", "line of the run's last message"),
        C("source_rows", "BIGINT[]", "line of each message (its last line), in file order"),
        C("raw", "VARCHAR[]", "each message as read (its sentences joined by newlines)"),
        *PROVENANCE,
    ), order_by="source_file, source_row"),
    Table("shipments", "Rail waybill records (departures and arrivals), one row per record.", (
        C("row_hash", "UHUGEINT", "md5 of the row (a copy in another file has the same): of "
          "each mapped field's name and cell in field order, then each other column's header "
          "and cell by header, joined by chr(31) (a missing cell chr(0)); stored as "
          "md5_number, shown by table() and exports as the md5's hex digest", exported=False),
        C("waybill", "VARCHAR", "waybill (consignment) number"),
        C("wagon", "VARCHAR", "wagon number (8 digits, check digit)"),
        C("container", "VARCHAR", "container number (ISO 6346)", exported=False),
        C("record", "VARCHAR", "departure or arrival"),
        C("departed_on", "DATE", "date of departure"),
        C("arrived_on", "DATE", "date of arrival"),
        C("origin_station", "VARCHAR", "station of departure, as written"),
        C("origin_esr", "VARCHAR", "ESR code of the station of departure"),
        C("destination_station", "VARCHAR", "station of destination, as written"),
        C("destination_esr", "VARCHAR", "ESR code of the station of destination"),
        C("cargo", "VARCHAR", "cargo as written in the record"),
        C("cargo_code", "VARCHAR", "ETSNG cargo code, when given", exported=False),
        C("cargo_class", "VARCHAR", "class of the cargo (reference/cargo_classes.toml)"),
        C("cargo_rule", "VARCHAR", "the rule that gave the class"),
        C("weight_t", "DOUBLE", "weight of the cargo", "t", minimum=0),
        C("consignor", "VARCHAR", "consignor (sender), as written"),
        C("consignee", "VARCHAR", "consignee (receiver), as written"),
        C("flags", "VARCHAR", "comma-separated doubts about the row (bad check digit, ...)"),
        C("attributes", "VARCHAR", "JSON: the file's columns that have no place here", exported=False),
        *PROVENANCE,
        C("consignor_inn", "VARCHAR", "consignor's INN (taxpayer number): its column, else found in the name"),
        C("consignee_inn", "VARCHAR", "consignee's INN: its column, else found in the name"),
    ), order_by="source_file, source_row"),
    Table("positions", "AIS position reports of vessels.", (
        _MMSI,
        C("timestamp", "TIMESTAMPTZ", "time of the report", "UTC"),
        _LAT,
        _LON,
        *_KINEMATICS,
        *PROVENANCE,
        C("flags", "VARCHAR", "mmsi_invalid when the MMSI cannot be a ship's (steps no ship can "
          "sail: table impossible_fixes, made by analyze)"),
    )),
    Table("ais_stations", "AIS stations that are not vessels (base stations, aids to "
          "navigation, SAR aircraft, SART/MOB/EPIRB), kept apart from vessel positions.", (
        C("station_kind", "VARCHAR", "base_station, aid_to_navigation, sar_aircraft, ..."),
        _MMSI,
        C("timestamp", "TIMESTAMPTZ", "time of the report", "UTC"),
        _LAT,
        _LON,
        *_KINEMATICS,
        *PROVENANCE,
    )),
    Table("vessel_reports", "Identity reports of vessels: static AIS messages and vessels files.", (
        _MMSI,
        _IMO,
        C("name", "VARCHAR", "vessel name"),
        C("callsign", "VARCHAR", "radio call sign"),
        C("ship_type", "VARCHAR", "type of ship"),
        C("flag", "VARCHAR", "flag state, ISO 3166 alpha-2"),
        C("observed_at", "TIMESTAMPTZ", "time of the report, when known", "UTC"),
        *PROVENANCE,
        C("flag_source", "VARCHAR", "reported, or mid when derived from the MMSI"),
        C("flags", "VARCHAR", "comma-separated doubts (mmsi_invalid, ...)"),
        C("draught_m", "DOUBLE", "draught reported (AIS type 5, a CSV Draft column); voyage "
          "data, not part of the identity", "m"),
        C("length_m", "DOUBLE", "length: AIS types 5 and 19 dimensions A + B (to bow + to stern), "
          "a CSV Length column", "m"),
    )),
    Table("sightings", "Observations that are not AIS: imagery, port records, press.", (
        C("sighting_id", "VARCHAR", "identifier of the sighting"),
        C("observed_at", "TIMESTAMPTZ", "time of the observation", "UTC"),
        C("vessel_name", "VARCHAR", "vessel name, as written"),
        _IMO,
        _MMSI,
        C("port", "VARCHAR", "UN/LOCODE of the port (resolved from a name when needed)"),
        _LAT,
        _LON,
        C("source", "VARCHAR", "who observed it"),
        C("confidence", "DOUBLE", "how sure the source is", "0-1", minimum=0, maximum=1),
        C("note", "VARCHAR", "free text"),
        *PROVENANCE,
    )),
    Table("detections", "Vessels detected in satellite imagery (SAR or optical), unnamed.", (
        C("detection_id", "VARCHAR", "identifier of the detection"),
        C("detected_at", "TIMESTAMPTZ", "time of the image", "UTC"),
        _LAT,
        _LON,
        C("length_m", "DOUBLE", "estimated length of the vessel", "m"),
        C("score", "DOUBLE", "detector's score", "0-1"),
        C("scene_id", "VARCHAR", "the image (scene) it was found in"),
        C("source", "VARCHAR", "sensor or provider"),
        C("footprint_wkt", "VARCHAR", "outline of the scene as WKT, when given"),
        *PROVENANCE,
    ), order_by="detected_at, detection_id"),
    Table("empty_scenes", "Scenes given without a detection (kind `detections`, a row with a footprint "
          "and no position): imagery in which nothing was detected. Never a detection.", (
        C("scene_id", "VARCHAR", "the image (scene)"),
        C("scene_at", "TIMESTAMPTZ", "time the scene was taken", "UTC"),
        C("source", "VARCHAR", "sensor or provider"),
        C("footprint_wkt", "VARCHAR", "outline of the scene as WKT"),
        *PROVENANCE,
    ), order_by="scene_at, scene_id"),
    Table("gfw_events", "Events computed by Global Fishing Watch: port visits, encounters, loitering, gaps.", (
        C("event_id", "VARCHAR", "GFW's event id"),
        C("event_type", "VARCHAR", "port_visit, encounter, loitering, gap (or fishing)"),
        C("started_at", "TIMESTAMPTZ", "start of the event", "UTC"),
        C("ended_at", "TIMESTAMPTZ", "end of the event", "UTC"),
        _LAT,
        _LON,
        _MMSI,
        C("vessel_name", "VARCHAR", "the vessel's name as GFW gives it"),
        C("flag", "VARCHAR", "the vessel's flag, ISO 3166 alpha-2"),
        C("gfw_vessel_id", "VARCHAR", "GFW's vessel id"),
        C("visit_id", "VARCHAR", "port visit: GFW's visit id"),
        C("gfw_confidence", "INTEGER", "port visit: GFW's confidence level (2-4)"),
        C("anchorage_id", "VARCHAR", "port visit: GFW's anchorage where it began"),
        C("anchorage_name", "VARCHAR", "port visit: the anchorage's (port's) name"),
        C("anchorage_country", "VARCHAR", "port visit: the anchorage's country, ISO 3166 alpha-2"),
        C("anchorage_lat", "DOUBLE", "port visit: the anchorage's latitude", "deg", minimum=-90, maximum=90),
        C("anchorage_lon", "DOUBLE", "port visit: the anchorage's longitude", "deg", minimum=-180, maximum=180),
        C("other_mmsi", "BIGINT", "encounter: the other vessel's MMSI"),
        C("other_name", "VARCHAR", "encounter: the other vessel's name"),
        C("other_flag", "VARCHAR", "encounter: the other vessel's flag, ISO 3166 alpha-2"),
        C("hours", "DOUBLE", "duration (gap, loitering: GFW's; else end - start)", "h"),
        C("distance_km", "DOUBLE", "encounter: median distance; gap, loitering: distance covered", "km"),
        C("intentional_disabling", "BOOLEAN", "gap: GFW judges the transponder switched off"),
        C("off_lat", "DOUBLE", "gap: where AIS went off", "deg"),
        C("off_lon", "DOUBLE", "gap: where AIS went off", "deg"),
        C("on_lat", "DOUBLE", "gap: where AIS came back", "deg"),
        C("on_lon", "DOUBLE", "gap: where AIS came back", "deg"),
        *PROVENANCE,
    ), order_by="started_at, event_id"),
    Table("ports", "Ports: the UN/LOCODE gazetteer and ports files.", (
        C("locode", "VARCHAR", "UN/LOCODE"),
        C("name", "VARCHAR", "name of the port"),
        C("country", "VARCHAR", "country, ISO 3166 alpha-2"),
        _LAT,
        _LON,
        C("radius_km", "DOUBLE", "radius of the port area around its point", "km"),
        _GEOMETRY,
        C("origin", "VARCHAR", "gazetteer or file"),
        *PROVENANCE,
    )),
    Table("stations", "Rail stations; port_locode marks one that serves a port.", (
        C("esr", "VARCHAR", "ESR code of the station"),
        C("name", "VARCHAR", "name, as written"),
        C("name_norm", "VARCHAR", "name normalised for matching"),
        _LAT,
        _LON,
        C("port_locode", "VARCHAR", "UN/LOCODE of the port it serves"),
        *PROVENANCE,
    )),
    Table("facilities", "Places of interest on land (ammunition depots, arsenals, ...).", (
        C("name", "VARCHAR", "name of the facility"),
        C("category", "VARCHAR", "ammunition_depot, arsenal, ..."),
        _LAT,
        _LON,
        C("source", "VARCHAR", "where it is known from"),
        _GEOMETRY,
        *PROVENANCE,
    )),
    Table("watchlist", "Vessels and entities of interest, one row per listed name.", (
        C("name", "VARCHAR", "listed name"),
        _IMO,
        _MMSI,
        C("list", "VARCHAR", "name of the list"),
        C("note", "VARCHAR", "free text"),
        C("schema", "VARCHAR", "FollowTheMoney schema (Vessel, Company, Person, ...)"),
        *PROVENANCE,
    ), order_by="name"),
    Table("borders", "Country polygons (distance to the border).", (
        C("code2", "VARCHAR", "ISO 3166 alpha-2"),
        C("code3", "VARCHAR", "ISO 3166 alpha-3"),
        C("name", "VARCHAR", "name of the country"),
        _GEOMETRY,
        *PROVENANCE,
    )),
    Table("watchlist_lists", "Structured watchlists: one row per list file.", (
        C("file_hash", "VARCHAR", "SHA-256 of the list file"),
        C("list", "VARCHAR", "name of the list"),
        C("format", "VARCHAR", "file format (FollowTheMoney, OFAC, ...)"),
        C("published", "DATE", "publication date of the list"),
        C("date_source", "VARCHAR", "where the date was read"),
        C("source_file", "VARCHAR", "name of the list file"),
        C("entries", "BIGINT", "entries in the list", "rows"),
        C("detail", "VARCHAR", "JSON: more about the list"),
    )),
    Table("watchlist_entries", "Details of structured watchlist rows, keyed by "
          "(file_hash, source_row) of `watchlist`.", (
        C("file_hash", "VARCHAR", "SHA-256 of the list file"),
        C("source_row", "BIGINT", "row of the `watchlist` entry"),
        C("entry_id", "VARCHAR", "the list's identifier of the entry"),
        C("list", "VARCHAR", "name of the list"),
        C("schema", "VARCHAR", "FollowTheMoney schema"),
        C("name", "VARCHAR", "main name"),
        _IMO,
        _MMSI,
        C("flag", "VARCHAR", "flag state, ISO 3166 alpha-2"),
        C("past_flags", "VARCHAR", "earlier flags, comma-separated"),
        C("call_sign", "VARCHAR", "radio call sign"),
        C("inn", "VARCHAR", "Russian taxpayer number (INN)"),
        C("ogrn", "VARCHAR", "Russian registration number (OGRN)"),
        C("programs", "VARCHAR", "sanctions programmes"),
        C("listed_on", "VARCHAR", "date of listing, as given"),
        C("vessel_details", "VARCHAR", "JSON: tonnage, build year, ... of a listed vessel"),
    )),
    Table("watchlist_names", "Every name of a structured watchlist entry (aliases, spellings).", (
        C("file_hash", "VARCHAR", "SHA-256 of the list file"),
        C("source_row", "BIGINT", "row of the `watchlist` entry"),
        C("name", "VARCHAR", "the name"),
        C("kind", "VARCHAR", "main, alias, previous, ..."),
    )),
    Table("watchlist_links", "Relations of structured watchlist entries (owner, operator, ...).", (
        C("file_hash", "VARCHAR", "SHA-256 of the list file"),
        C("source_row", "BIGINT", "row of the `watchlist` entry"),
        C("relation", "VARCHAR", "kind of relation"),
        C("other_name", "VARCHAR", "name of the other party"),
        C("other_entry_id", "VARCHAR", "the list's identifier of the other party"),
    )),
    Table("vessel_parties", "Owners, managers and operators of vessels, from vessels files.", (
        _MMSI,
        _IMO,
        C("vessel_name", "VARCHAR", "vessel name"),
        C("role", "VARCHAR", "owner, manager, operator, ..."),
        C("party", "VARCHAR", "name of the party"),
        *PROVENANCE,
    )),
    Table("vessel_details", "Length, build year and gross tonnage from vessels files "
          "(screening compares them).", (
        _MMSI,
        _IMO,
        C("vessel_name", "VARCHAR", "vessel name"),
        C("length_m", "DOUBLE", "length overall", "m"),
        C("build_year", "INTEGER", "year of build"),
        C("tonnage_gt", "DOUBLE", "gross tonnage", "GT"),
        *PROVENANCE,
    )),
)  # fmt: skip

# The views the case defines over its source tables (their SQL below).
VIEWS = (
    Table("vessels", "One row per MMSI: the latest value of each identity attribute.", (
        _MMSI,
        _IMO,
        C("name", "VARCHAR", "vessel name"),
        C("callsign", "VARCHAR", "radio call sign"),
        C("ship_type", "VARCHAR", "type of ship"),
        C("flag", "VARCHAR", "flag state, ISO 3166 alpha-2 (reported, else from the MID)"),
        C("first_seen", "TIMESTAMPTZ", "first report or position", "UTC"),
        C("last_seen", "TIMESTAMPTZ", "last report or position", "UTC"),
        C("flag_source", "VARCHAR", "reported, or mid", exported=False),
        C("mmsi_kind", "VARCHAR", "ship, or another kind of station", exported=False),
        C("mmsi_valid", "BOOLEAN", "the MMSI is well formed with a known MID", exported=False),
    ), role="view", order_by="mmsi"),
    Table("vessel_identities", "Every identity an MMSI has shown: one row per distinct (imo, "
          "name, callsign, ship_type, flag) in its reports, partial reports combined.", (
        _MMSI,
        _IMO,
        C("name", "VARCHAR", "vessel name"),
        C("callsign", "VARCHAR", "radio call sign"),
        C("ship_type", "VARCHAR", "type of ship"),
        C("flag", "VARCHAR", "flag state, ISO 3166 alpha-2"),
        C("first_seen", "TIMESTAMPTZ", "first report of this identity", "UTC"),
        C("last_seen", "TIMESTAMPTZ", "last report of this identity", "UTC"),
        C("reports", "BIGINT", "reports of this identity", "rows"),
        C("sources", "VARCHAR", "their files, comma-separated"),
    ), role="view", order_by="mmsi, first_seen NULLS FIRST, last_seen, name"),
    Table("quarantine_rows", "Every refused row, one row each: `quarantine` and the runs of "
          "`quarantine_runs` expanded (what `cargotrace quarantine` and `export --table "
          "quarantine` list).", (
        C("kind", "VARCHAR", "input kind of the file"),
        C("reason", "VARCHAR", "why the row was refused (bad_mmsi, bad_date, ...)"),
        C("column_name", "VARCHAR", "the column at fault, when one is"),
        C("raw", "VARCHAR", "the row as read"),
        *PROVENANCE,
    ), role="view", order_by="source_file, source_row"),
)  # fmt: skip

# Derived tables the findings are built from (written by `analyze`; tests hold their
# columns to these declarations).
_STARTED = C("started_at", "TIMESTAMPTZ", "start", "UTC")
_ENDED = C("ended_at", "TIMESTAMPTZ", "end", "UTC")
_EVENT_SOURCE = C(
    "source",
    "VARCHAR",
    "ais (derived here from the positions) or gfw (Global Fishing Watch)",
    nullable=False,
)
_EVENT_CONFIDENCE = C(
    "confidence",
    "DOUBLE",
    "ais 1.0; gfw 0.75 (maritime/gfw_events.py)",
    "0-1",
    nullable=False,
    minimum=0,
    maximum=1,
)
_EVENT_ID = C("event_id", "VARCHAR", "GFW's event id (gfw only)")

DERIVED = (
    Table("sites", "Destination sites of linked shipments: stations within site_merge_km "
          "merged, with the nearest facility of interest and the border distance.", (
        C("site_id", "VARCHAR", "site-<hash of its stations>", nullable=False),
        C("name", "VARCHAR", "name of its main station (most tonnes)"),
        C("esr", "VARCHAR", "ESR code of its main station"),
        _LAT,
        _LON,
        C("stations", "VARCHAR", "JSON list of its stations' keys"),
        C("tonnes", "DOUBLE", "linked tonnage delivered to it", "t", nullable=False, minimum=0),
        C("shipments", "BIGINT", "linked shipments delivered to it", nullable=False, minimum=0),
        C("nearest_facility", "VARCHAR", "nearest facility of interest"),
        C("nearest_category", "VARCHAR", "its category"),
        C("facility_km", "DOUBLE", "distance to it", "km", minimum=0),
        C("near_facility", "BOOLEAN", "facility_km <= near_km", nullable=False),
        C("nearest_by_category", "VARCHAR", "JSON: nearest facility of every category and km"),
        C("border_km", "DOUBLE", "distance to the border country", "km", minimum=0),
    ), role="derived", order_by="tonnes DESC, site_id"),
    Table("linked_shipments", "Shipments of interest linked to an arrival of interest: "
          "departed from a station serving the arrival port within window_days of it.", (
        C("shipment_id", "UHUGEINT", "the shipment's row hash (shipments.row_hash)",
          nullable=False),
        C("waybill", "VARCHAR", "waybill number", nullable=False),
        C("wagon", "VARCHAR", "wagon number"),
        C("arrival_id", "VARCHAR", "the arrival it is linked to", nullable=False),
        C("vessel_name", "VARCHAR", "vessel of that arrival"),
        C("port_locode", "VARCHAR", "port of that arrival (UN/LOCODE)"),
        C("lag_days", "BIGINT", "days from the arrival to the departure", "days",
          nullable=False, minimum=0),
        C("tonnes", "DOUBLE", "weight counted in totals (NULL when left out)", "t"),
        C("recorded_t", "DOUBLE", "weight as recorded", "t"),
        C("weight_left_out", "VARCHAR", "why the weight is not counted, when it is not"),
        C("date_out_of_period", "BOOLEAN", "departure outside the period the data covers"),
        C("copies", "BIGINT", "records of the consignment across files"),
        C("conflicting", "BOOLEAN", "its records disagree (weight, cargo, stations)"),
        C("departed_on", "DATE", "date of departure"),
        C("cargo", "VARCHAR", "cargo as written"),
        C("cargo_class", "VARCHAR", "class of the cargo"),
        C("cargo_rule", "VARCHAR", "the rule that gave the class"),
        C("origin_station", "VARCHAR", "station of departure"),
        C("origin_esr", "VARCHAR", "its ESR code"),
        C("destination_station", "VARCHAR", "station of destination"),
        C("destination_esr", "VARCHAR", "its ESR code"),
        C("destination_station_key", "VARCHAR", "the destination station as matched"),
        C("consignor", "VARCHAR", "consignor, as written"),
        C("consignee", "VARCHAR", "consignee, as written"),
        *PROVENANCE,
        C("site_id", "VARCHAR", "the destination site (sites)"),
    ), role="derived", order_by="departed_on, waybill, wagon"),
    Table("label_changes", "Consignments whose cargo is described differently at departure "
          "and at arrival.", (
        C("waybill", "VARCHAR", "waybill number", nullable=False),
        C("wagon", "VARCHAR", "wagon number"),
        C("declared", "VARCHAR", "cargo class declared at departure"),
        C("at_destination", "VARCHAR", "cargo class recorded at arrival"),
        C("declared_text", "VARCHAR", "cargo as written at departure"),
        C("at_destination_text", "VARCHAR", "cargo as written at arrival"),
        C("departed_on", "DATE", "date of departure"),
        C("arrived_on", "DATE", "date of arrival (else of departure) of the arrival record"),
        C("departure_file", "VARCHAR", "file of the departure record"),
        C("departure_row", "BIGINT", "its row"),
        C("arrival_file", "VARCHAR", "file of the arrival record"),
        C("arrival_row", "BIGINT", "its row"),
        C("arrival_waybill", "VARCHAR", "waybill as written in the arrival record"),
    ), role="derived", order_by="waybill, wagon"),
    # the maritime events of every source (maritime/gfw_events.py): the AIS rules' and GFW's
    Table("all_encounters", "Ship-to-ship encounters: the AIS rule's (table encounters) and Global "
          "Fishing Watch's that no AIS encounter of the pair overlaps (gfw_encounters).", (
        C("mmsi_a", "BIGINT", "the lower MMSI of the pair (GFW: vessel.ssvid)", nullable=False),
        C("mmsi_b", "BIGINT", "the higher MMSI of the pair", nullable=False),
        _STARTED,
        _ENDED,
        C("hours", "DOUBLE", "duration", "h", minimum=0),
        C("median_distance_m", "DOUBLE", "median distance between the two", "m", minimum=0),
        C("median_sog_kn", "DOUBLE", "median speed over ground (AIS only)", "kn"),
        _LAT,
        _LON,
        C("nearest_port_km", "DOUBLE", "distance to the nearest port", "km", minimum=0),
        _EVENT_SOURCE,
        _EVENT_CONFIDENCE,
        _EVENT_ID,
        C("vessel_name", "VARCHAR", "GFW: the vessel's name"),
        C("other_name", "VARCHAR", "GFW: the other vessel's name"),
    ), role="derived", order_by="started_at, mmsi_a, mmsi_b"),
    Table("all_loitering", "Loitering at sea: the AIS rule's (table loitering) and Global Fishing "
          "Watch's that no AIS loitering of the vessel overlaps (gfw_loitering).", (
        C("loitering_id", "VARCHAR", "hash of the MMSI and start (GFW: of its event id)", nullable=False),
        C("mmsi", "BIGINT", "Maritime Mobile Service Identity (GFW: vessel.ssvid)", nullable=False),
        _STARTED,
        _ENDED,
        C("hours", "DOUBLE", "duration", "h", minimum=0),
        C("fixes", "BIGINT", "AIS fixes in it (AIS only)"),
        _LAT,
        _LON,
        C("median_sog_kn", "DOUBLE", "median speed over ground (AIS only)", "kn"),
        C("nearest_port_km", "DOUBLE", "distance to the nearest port", "km", minimum=0),
        C("shore_km", "DOUBLE", "distance to shore, when borders are known (AIS only)", "km"),
        C("shore_known", "BOOLEAN", "shore_km could be measured"),
        _EVENT_SOURCE,
        _EVENT_CONFIDENCE,
        _EVENT_ID,
        C("vessel_name", "VARCHAR", "GFW: the vessel's name"),
        C("distance_km", "DOUBLE", "GFW: distance covered while loitering", "km"),
    ), role="derived", order_by="started_at, mmsi"),
    Table("all_gaps", "AIS gaps (dark periods): the AIS rule's (table gaps) and Global Fishing "
          "Watch's that no AIS gap of the ship overlaps (gfw_gaps).", (
        C("gap_id", "VARCHAR", "hash of the gap (GFW: of its event id)", nullable=False),
        C("vessel_key", "VARCHAR", "the transmitter (its MMSI; GFW: vessel.ssvid)"),
        C("mmsi", "BIGINT", "Maritime Mobile Service Identity"),
        _STARTED,
        _ENDED,
        C("hours", "DOUBLE", "duration", "h", minimum=0),
        C("start_lat", "DOUBLE", "last position before the gap (GFW: offPosition)", "deg"),
        C("start_lon", "DOUBLE", "last position before the gap", "deg"),
        C("end_lat", "DOUBLE", "first position after the gap (GFW: onPosition)", "deg"),
        C("end_lon", "DOUBLE", "first position after the gap", "deg"),
        C("distance_km", "DOUBLE", "great-circle distance across the gap", "km"),
        C("implied_speed_kn", "DOUBLE", "distance / duration", "kn"),
        C("began_offshore", "BOOLEAN", "the gap began outside every port (AIS only)"),
        C("ended_offshore", "BOOLEAN", "the gap ended outside every port (AIS only)"),
        C("start_port_locode", "VARCHAR", "port where the gap began (AIS only)"),
        C("end_port_locode", "VARCHAR", "port where the gap ended (AIS only)"),
        C("service_speed_kn", "DOUBLE", "speed assumed for dark-call reach (AIS only)", "kn"),
        C("speed_assumed", "BOOLEAN", "service_speed_kn is the default, not seen (AIS only)"),
        C("possible_dark_calls", "VARCHAR", "ports it could have called at, ';'-separated (AIS only)"),
        C("possible_dark_call_count", "BIGINT", "how many"),
        C("beyond_dark_call_bound", "BOOLEAN", "longer than dark_call_max_gap_days"),
        C("ship_key", "VARCHAR", "the ship across changes of transmitter"),
        C("identity_change", "BOOLEAN", "the ship changed transmitter in it"),
        C("previous_vessel_key", "VARCHAR", "its transmitter before, when it changed"),
        C("note", "VARCHAR", "what else to know"),
        _EVENT_SOURCE,
        _EVENT_CONFIDENCE,
        _EVENT_ID,
        C("vessel_name", "VARCHAR", "GFW: the vessel's name"),
        C("intentional_disabling", "BOOLEAN", "GFW: GFW judges the transponder switched off"),
    ), role="derived", order_by="mmsi, started_at, vessel_key"),
)  # fmt: skip

TABLES: dict[str, Table] = {t.name: t for t in SOURCE + VIEWS + DERIVED}


# The ITU MID table (reference/mid.csv) as a view: mid, flag, administration.
MID_FLAGS_VIEW = mid_flags_view_sql("mid_flags")

# The contract's `vessels` table: one row per MMSI, from identity reports and positions.
# Latest value of each attribute; a reported flag wins over one derived from the MID, and
# an MMSI seen only in positions gets its MID's flag. Extra columns: flag_source
# ('reported' or 'mid'), mmsi_kind and mmsi_valid (reference/mid.py).
# The reported half of `vessels`: one row per MMSI of the identity reports, the latest value
# of each attribute (a statement that needs only the reported name or IMO of a vessel joins
# this instead of `vessels`, which also groups every position for first and last seen).
REPORTED_IDENTITY_SQL = """
    SELECT mmsi,
           arg_max(imo, ts) FILTER (WHERE imo IS NOT NULL) AS imo,
           arg_max(name, ts) FILTER (WHERE name IS NOT NULL) AS name,
           arg_max(callsign, ts) FILTER (WHERE callsign IS NOT NULL) AS callsign,
           arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type,
           arg_max(flag, ts) FILTER (WHERE flag IS NOT NULL AND flag_source IS DISTINCT FROM 'mid') AS reported_flag,
           min(observed_at) AS first_reported, max(observed_at) AS last_reported
    FROM (SELECT mmsi, imo, name, callsign, ship_type, flag, flag_source, observed_at,
                 coalesce(observed_at, TIMESTAMPTZ '1970-01-01') AS ts
          FROM vessel_reports WHERE mmsi IS NOT NULL) reports
    GROUP BY mmsi
"""

VESSELS_VIEW = f"""
CREATE OR REPLACE VIEW vessels AS
WITH seen AS (
    SELECT mmsi, min(timestamp) AS first_seen, max(timestamp) AS last_seen
    FROM positions GROUP BY mmsi
), latest AS ({REPORTED_IDENTITY_SQL}), joined AS (
    SELECT coalesce(l.mmsi, s.mmsi) AS mmsi, l.imo, l.name, l.callsign, l.ship_type, l.reported_flag,
           least(s.first_seen, l.first_reported) AS first_seen,
           greatest(s.last_seen, l.last_reported) AS last_seen
    FROM latest l FULL OUTER JOIN seen s ON l.mmsi = s.mmsi
), classified AS (
    SELECT *, {mmsi_kind_sql("mmsi")} AS mmsi_kind, {mmsi_mid_sql("mmsi")} AS mid FROM joined
)
SELECT c.mmsi, c.imo, c.name, c.callsign, c.ship_type,
       coalesce(c.reported_flag, CASE WHEN c.mmsi_kind = 'ship' THEN m.flag END) AS flag,
       c.first_seen, c.last_seen,
       CASE WHEN c.reported_flag IS NOT NULL THEN 'reported'
            WHEN c.mmsi_kind = 'ship' AND m.flag IS NOT NULL THEN 'mid' END AS flag_source,
       c.mmsi_kind,
       c.mmsi_kind <> 'invalid' AND (c.mid IS NULL OR m.mid IS NOT NULL) AS mmsi_valid
FROM classified c LEFT JOIN mid_flags m ON m.mid = c.mid
"""

# Every identity an MMSI has shown: one row per distinct (imo, name, callsign, ship_type,
# flag) in its reports, each attribute carried forward in time order (undated reports
# first, then by file and row) and, before its first report, back from the first one, so
# that partial reports (AIS type 24 parts A and B, a vessels file without a flag) combine
# into one identity while a rename or a reflagging starts a new one. first_seen/last_seen
# span the reports of that identity (a name used, dropped and used again is one row);
# reports counts them (a static AIS message, a vessels file row, or for position CSVs the
# first and last row of each identity in the file: see ingest/kinds/position_identities.py);
# sources lists their files.
VESSEL_IDENTITIES_VIEW = """
CREATE OR REPLACE VIEW vessel_identities AS
WITH r AS (
    SELECT mmsi, observed_at, source_file, imo, name, callsign, ship_type, flag,
           row_number() OVER (PARTITION BY mmsi ORDER BY observed_at NULLS FIRST, source_file, source_row) AS k
    FROM vessel_reports WHERE mmsi IS NOT NULL
), filled AS (
    SELECT mmsi, observed_at, source_file,
           coalesce(last_value(imo IGNORE NULLS) OVER past, first_value(imo IGNORE NULLS) OVER future) AS imo,
           coalesce(last_value(name IGNORE NULLS) OVER past, first_value(name IGNORE NULLS) OVER future) AS name,
           coalesce(last_value(callsign IGNORE NULLS) OVER past, first_value(callsign IGNORE NULLS) OVER future) AS callsign,
           coalesce(last_value(ship_type IGNORE NULLS) OVER past, first_value(ship_type IGNORE NULLS) OVER future) AS ship_type,
           coalesce(last_value(flag IGNORE NULLS) OVER past, first_value(flag IGNORE NULLS) OVER future) AS flag
    FROM r
    WINDOW past AS (PARTITION BY mmsi ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           future AS (PARTITION BY mmsi ORDER BY k ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
)
SELECT mmsi, imo, name, callsign, ship_type, flag, min(observed_at) AS first_seen,
       max(observed_at) AS last_seen, count(*) AS reports,
       string_agg(DISTINCT source_file, ', ' ORDER BY source_file) AS sources
FROM filled
GROUP BY mmsi, imo, name, callsign, ship_type, flag
"""


def _hex_hash_number(column: str) -> str:
    """The number `md5_number` gives of the md5 whose hex digest is in `column`. A column
    that holds numbers already is kept (the migration may run twice: a case made at this
    version whose version was set back)."""
    return (
        f"CASE WHEN typeof({column}) = 'UHUGEINT' THEN CAST({column} AS UHUGEINT) "
        f"ELSE {md5_number_sql(column)} END"
    )


# Migrations: MIGRATIONS[n] upgrades a case of schema version n to n + 1.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "ALTER TABLE positions ADD COLUMN IF NOT EXISTS implied_speed_kn DOUBLE",
        "ALTER TABLE positions ADD COLUMN IF NOT EXISTS flags VARCHAR",
        "ALTER TABLE vessel_reports ADD COLUMN IF NOT EXISTS flag_source VARCHAR",
        "ALTER TABLE vessel_reports ADD COLUMN IF NOT EXISTS flags VARCHAR",
        "UPDATE vessel_reports SET flag_source = 'reported' WHERE flag IS NOT NULL",
    ],
    # impossible speeds moved from the ingest to analyze (table impossible_fixes)
    2: [
        "ALTER TABLE positions DROP COLUMN IF EXISTS implied_speed_kn",
        "UPDATE positions SET flags = CASE WHEN flags LIKE '%mmsi_invalid%' THEN 'mmsi_invalid' END "
        "WHERE flags LIKE '%impossible_speed%'",
    ],
    # the parties' INNs out of shipments.attributes into columns of their own (storing the
    # JSON cost the ingest ~1 CPU s per million rows); `attributes` keeps the unmapped cells
    3: [
        "ALTER TABLE shipments ADD COLUMN IF NOT EXISTS consignor_inn VARCHAR",
        "ALTER TABLE shipments ADD COLUMN IF NOT EXISTS consignee_inn VARCHAR",
        "UPDATE shipments SET consignor_inn = attributes ->> '$.consignor_inn', "
        "consignee_inn = attributes ->> '$.consignee_inn', "
        "attributes = nullif(CAST(json_merge_patch(attributes, "
        """'{"consignor_inn": null, "consignee_inn": null}') AS VARCHAR), '{}') """
        "WHERE attributes LIKE '%consign%_inn%'",
    ],
    # row hashes as numbers (md5_number: UHUGEINT, the md5's bytes read little-endian) instead
    # of their 32 hex digits, in the shipments and in analyze's tables that carry them (made
    # again by the next analyze, but read by the report until then)
    4: [
        f"ALTER TABLE IF EXISTS {table} ALTER {column} TYPE UHUGEINT USING {_hex_hash_number(column)}"
        for table, column in (
            ("shipments", "row_hash"),
            ("consignment_records", "row_hash"),
            ("consignments", "row_hash"),
            ("shipments_of_interest", "row_hash"),
            ("shipments_of_interest", "shipment_id"),
            ("shipment_stations", "shipment_id"),
            ("linked_shipments", "shipment_id"),
        )
    ],
}


def create_statements() -> list[str]:
    statements = [table.ddl() for table in SOURCE]
    statements += [MID_FLAGS_VIEW, VESSELS_VIEW, VESSEL_IDENTITIES_VIEW, quarantine.VIEW_SQL]
    return statements


def missing_column_statements(present: dict[str, set[str]]) -> list[str]:
    """ALTER statements adding the declared columns a case's tables lack (`present`: table ->
    its columns): a column declared at the end of a source table reaches existing cases when
    they are next opened for writing, without a migration."""
    return [
        f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {column.name} {column.type}"
        for table in SOURCE
        if table.name in present
        for column in table.columns
        if column.name not in present[table.name]
    ]


if __name__ == "__main__":  # python -m cargotrace.case.schema > docs/schema.md
    print(markdown(SOURCE + VIEWS + DERIVED), end="")
