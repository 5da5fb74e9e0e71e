"""The analysis stages of screening: `party_clusters` (entity resolution of the case's
parties) and `screening` (vessels and parties against every ingested list). Both are
small Python steps over distinct names and write one derived table each."""

from __future__ import annotations

import duckdb

from cargotrace.case.store import table_exists
from cargotrace.ingest.kinds.watchlists import ensure_tables, insert_rows
from cargotrace.screening.catalog import Catalog
from cargotrace.screening.hits import Hit, dumps, merge
from cargotrace.screening.parties import owner_hits, party_subjects, screen_parties
from cargotrace.screening.resolve import cluster_parties
from cargotrace.screening.vessels import screen_vessels, vessel_subjects
from cargotrace.settings import AnalysisSettings

HITS_COLUMNS = """
    hit_id VARCHAR, subject_type VARCHAR, subject VARCHAR, subject_key VARCHAR, role VARCHAR,
    list VARCHAR, list_date DATE, list_file VARCHAR, entry VARCHAR, entry_id VARCHAR,
    entry_schema VARCHAR, score DOUBLE, rule VARCHAR, rules VARCHAR, matched_name VARCHAR,
    name_kind VARCHAR, mmsi VARCHAR, imo VARCHAR, cluster_id VARCHAR, programs VARCHAR,
    flags VARCHAR, linked VARCHAR, notes VARCHAR, status VARCHAR, features VARCHAR, penalties VARCHAR,
    explanation VARCHAR"""
CLUSTER_COLUMNS = """
    cluster_id VARCHAR, canonical VARCHAR, name VARCHAR, roles VARCHAR, records BIGINT,
    cluster_records BIGINT, spellings BIGINT, legal_form VARCHAR, inn VARCHAR, ogrn VARCHAR,
    rules VARCHAR, position INTEGER"""


def build_clusters(con: duckdb.DuckDBPyConnection, _settings: AnalysisSettings) -> None:
    ensure_tables(con)
    subjects = party_subjects(con)
    clusters = cluster_parties(subjects)
    con.execute(f"CREATE OR REPLACE TABLE party_clusters ({CLUSTER_COLUMNS})")
    rows = [
        (c.cluster_id, c.canonical, m.name, ", ".join(sorted(m.roles)), m.records, c.records, len(c.members),
         c.legal_form, ", ".join(c.inn) or None, ", ".join(c.ogrn) or None, ", ".join(c.rules) or None, position)
        for c in clusters for position, m in enumerate(c.members)
    ]  # fmt: skip
    insert_rows(con, "party_clusters", rows)


def build_hits(con: duckdb.DuckDBPyConnection, _settings: AnalysisSettings) -> None:
    ensure_tables(con)
    con.execute(f"CREATE OR REPLACE TABLE watchlist_hits ({HITS_COLUMNS})")
    if not con.execute("SELECT count(*) FROM watchlist").fetchone()[0]:  # type: ignore[index]
        return
    catalog = Catalog.from_case(con)
    vessel_hits = screen_vessels(catalog, vessel_subjects(con))
    subjects = party_subjects(con)
    cluster_of = (
        dict(con.execute("SELECT name, cluster_id FROM party_clusters").fetchall())
        if table_exists(con, "party_clusters")
        else {}
    )
    for s in subjects:
        s.cluster_id = cluster_of.get(s.name)
    party_hits = screen_parties(catalog, subjects, vessel_hits=vessel_hits)
    hits = merge(vessel_hits + party_hits + owner_hits(catalog, vessel_hits))
    write_hits(con, hits)


def write_hits(con: duckdb.DuckDBPyConnection, hits: list[Hit]) -> None:
    rows = [
        (h.hit_id, h.subject_type, h.subject, h.subject_key, h.role, h.list, h.list_date, h.list_file, h.entry,
         h.entry_id, h.entry_schema, h.score, h.rule, ", ".join(h.rules), h.matched_name, h.name_kind, h.mmsi,
         h.imo, h.cluster_id, h.programs, dumps(h.flags), dumps(h.linked), dumps(h.notes), h.status,
         dumps(h.features), dumps(h.penalties), h.explanation)
        for h in hits
    ]  # fmt: skip
    insert_rows(con, "watchlist_hits", rows)
