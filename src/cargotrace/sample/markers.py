"""How synthetic sample data recognise themselves once ingested, whatever command ingested them.

The seeded generator (sample/generate.py, reference.py, rail.py, sightings.py) marks what it
invents: vessel names end in "(DEMO)", consignors and consignees in "(ДЕМО)", sighting sources
and notes say "SYNTHETIC", and its vessels use MMSIs 273990000-273990099 (documented in the
sample's README). A case holding any such row shows the SYNTHETIC banner: the marker travels
with the data, not with the `demo` command (tests/test_synthetic_marker.py checks that every
input the generator writes is recognised alone).
"""

from __future__ import annotations

from cargotrace.case.store import Case

DEMO_MMSI_RANGE = (273990000, 273990099)
_DEMO_MMSI = f"mmsi BETWEEN {DEMO_MMSI_RANGE[0]} AND {DEMO_MMSI_RANGE[1]}"

# (table, SQL condition) pairs: one synthetic row in any of them marks the case
MARKED_ROWS = (
    ("positions", _DEMO_MMSI),
    ("vessel_reports", f"name LIKE '%(DEMO)%' OR {_DEMO_MMSI}"),
    (
        "sightings",
        "source LIKE '%SYNTHETIC%' OR note LIKE '%SYNTHETIC%' OR vessel_name LIKE '%(DEMO)%'",
    ),
    ("shipments", "consignor LIKE '%(ДЕМО)%' OR consignee LIKE '%(ДЕМО)%'"),
    ("watchlist", "name LIKE '%(DEMO)%'"),
    ("facilities", "source LIKE '%SYNTHETIC%'"),
)


def synthetic_tables(case: Case) -> list[str]:
    """The tables of the case that hold rows of the synthetic sample."""
    return [
        table
        for table, condition in MARKED_ROWS
        if case.has_table(table)
        and case.scalar(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {condition})")
    ]


def is_synthetic(case: Case) -> bool:
    """True for a case made by `demo` or holding any row of the synthetic sample."""
    return case.meta("synthetic") == "true" or bool(synthetic_tables(case))
