"""Vessel screening: every vessel the case knows (identity reports, sightings, AIS) against
the list entries: exact IMO and MMSI, then names after normalisation (prefixes, Roman
numerals, transliteration, former names). The flag a list gives is compared with the flag
the MMSI claims (its MID) and the flag reported for the vessel."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from cargotrace.reference.mid import mmsi_flag
from cargotrace.screening.catalog import Catalog
from cargotrace.screening.hits import ID_SCORES, Hit, name_rule
from cargotrace.screening.normalize import NameCache


@dataclass
class VesselSubject:
    key: str
    mmsi: set[str] = field(default_factory=set)
    imo: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)

    @property
    def display(self) -> str:
        if self.names:
            return sorted(self.names)[0]
        return f"MMSI {sorted(self.mmsi)[0]}" if self.mmsi else f"IMO {sorted(self.imo)[0]}"

    @property
    def ais_flags(self) -> set[str]:
        return {f for f in (mmsi_flag(m) for m in self.mmsi) if f}


def _ships(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """MMSI -> ship key, for MMSIs linked to one ship (maritime/ships.py) when analysed."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ship_links'"
    ).fetchone()[0]:  # type: ignore[index]
        return {}
    return dict(con.execute(
        """SELECT CAST(mmsi AS VARCHAR), min(ship_key) FROM ship_links WHERE ship_key LIKE 'IMO:%'
           GROUP BY mmsi HAVING count(DISTINCT ship_key) = 1"""
    ).fetchall())  # fmt: skip


def vessel_subjects(con: duckdb.DuckDBPyConnection) -> list[VesselSubject]:
    """One subject per vessel: grouped by ship (an IMO with all its MMSIs and names, when
    the ships stage linked them), else MMSI, else IMO, else name (as port calls do)."""
    ships = _ships(con)
    reports = con.execute(
        """SELECT CAST(mmsi AS VARCHAR), imo, upper(trim(name)), upper(flag) FROM vessel_reports
           UNION SELECT CAST(mmsi AS VARCHAR), imo, upper(trim(vessel_name)), NULL FROM sightings
           ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST"""
    ).fetchall()
    by_key: dict[str, VesselSubject] = {}
    imo_key: dict[str, str] = {}
    name_key: dict[str, str] = {}
    for mmsi, imo, name, flag in reports:
        key = ships.get(mmsi or "") or mmsi or (imo_key.get(imo) if imo else None)
        key = key or (name_key.get(name) if name else None)
        key = key or (f"IMO:{imo}" if imo else f"NAME:{name}" if name else None)
        if key is None:
            continue
        subject = by_key.setdefault(key, VesselSubject(key))
        if mmsi:
            subject.mmsi.add(mmsi)
        if imo:
            subject.imo.add(imo)
            imo_key.setdefault(imo, key)
        if name:
            subject.names.add(name)
            name_key.setdefault(name, key)
        if flag:
            subject.flags.add(flag)
    for (mmsi,) in con.execute(
        "SELECT DISTINCT CAST(mmsi AS VARCHAR) FROM positions WHERE mmsi IS NOT NULL ORDER BY 1"
    ).fetchall():
        key = ships.get(mmsi, mmsi)
        by_key.setdefault(key, VesselSubject(key, {mmsi})).mmsi.add(mmsi)
    return sorted(by_key.values(), key=lambda s: s.key)


def _flag_check(subject: VesselSubject, listed: str | None, past: list[str]) -> dict[str, object]:
    seen = sorted(subject.ais_flags | subject.flags)
    if not listed or not seen:
        check = "unknown"
    elif listed in seen:
        check = "same"
    elif any(f in past for f in seen):
        check = "former_flag"
    else:
        check = "different"
    return {"list": listed, "list_former": past, "ais": sorted(subject.ais_flags), "reported": sorted(subject.flags),
            "check": check}  # fmt: skip


def screen_vessels(
    catalog: Catalog, subjects: list[VesselSubject], *, threshold: float = 0.85
) -> list[Hit]:
    hits: list[Hit] = []
    for s in subjects:
        for ident, values, index in (
            ("imo", s.imo, catalog.by_imo),
            ("mmsi", s.mmsi, catalog.by_mmsi),
        ):
            for value in sorted(values):
                for i in index.get(value, []):
                    hits.append(_hit(catalog, s, i, ID_SCORES[ident], ident, None, None))
    norm = NameCache(vessel=True)
    queries, owners = [], []
    for si, s in enumerate(subjects):
        for name in sorted(s.names):
            n = norm(name)
            if n.compact:
                queries.append(n)
                owners.append((si, name))
    targets = catalog.vessel_names
    found = targets.index.match(queries, threshold=threshold)
    for q, t, score, how in zip(found.query, found.target, found.score, found.how, strict=True):
        si, name = owners[q]
        entry = catalog.entries[targets.entry[t]]
        subject = subjects[si]
        if entry.imo and subject.imo and entry.schema == "Vessel" and entry.imo not in subject.imo:
            continue  # same name, another IMO: another ship
        hits.append(_hit(catalog, subject, targets.entry[t], float(score), name_rule(targets.kind[t], int(how)),
                         targets.raw[t], targets.kind[t], name))  # fmt: skip
    return hits


def _hit(catalog: Catalog, s: VesselSubject, i: int, score: float, rule: str, matched: str | None,
         kind: str | None, subject_name: str | None = None) -> Hit:  # fmt: skip
    e = catalog.entries[i]
    linked = catalog.linked_entries(e)
    return Hit(
        subject_type="vessel", subject=subject_name or s.display, subject_key=s.key, list=e.list,
        list_date=e.list_date, list_file=e.list_file, entry=e.name, entry_id=e.entry_id, entry_schema=e.schema,
        score=score, rule=rule, matched_name=matched, name_kind=kind, rules=[rule],
        mmsi=",".join(sorted(s.mmsi)) or None, imo=",".join(sorted(s.imo)) or None, programs=e.programs,
        flags=_flag_check(s, e.flag, e.past_flags),
        linked=[{k: v for k, v in item.items() if k != "index"} for item in linked],
    )  # fmt: skip
