"""Vessel screening: every vessel the case knows (identity reports, sightings, AIS) against
the list entries: exact IMO and MMSI, then names after normalisation (prefixes, Roman
numerals, transliteration, former names). Each (vessel, entry) pair is scored once by
`scoring`: the identifier or the name, then what both sides say of flag (the MMSI's MID and
the reported flag), call sign, ship type, build year, tonnage and length, and how many
vessels of the case or entries of the lists bear the name."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import duckdb

from cargotrace.case.store import table_exists
from cargotrace.reference.mid import mmsi_flag
from cargotrace.screening.catalog import Catalog
from cargotrace.screening.hits import Hit, name_rule
from cargotrace.screening.index import paused_gc
from cargotrace.screening.normalize import NameCache
from cargotrace.screening.scoring import (
    VesselFacts,
    combine,
    common_name_penalty,
    identifier_feature,
    name_feature,
    ship_type_category,
    vessel_qualifiers,
)


@dataclass
class VesselSubject:
    key: str
    mmsi: set[str] = field(default_factory=set)
    imo: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)
    call_signs: set[str] = field(default_factory=set)
    ship_types: set[str] = field(default_factory=set)  # categories (tanker, fishing ...)
    build_year: int | None = None
    tonnage_gt: float | None = None
    length_m: float | None = None

    def facts(self) -> VesselFacts:
        return VesselFacts(
            flags=self.ais_flags | self.flags, call_signs=set(self.call_signs), ship_types=set(self.ship_types),
            build_year=self.build_year, tonnage_gt=self.tonnage_gt, length_m=self.length_m, mmsi=set(self.mmsi),
        )  # fmt: skip

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
        """SELECT CAST(mmsi AS VARCHAR), imo, upper(trim(name)), upper(flag),
                  upper(replace(trim(callsign), ' ', '')), ship_type FROM vessel_reports
           UNION SELECT CAST(mmsi AS VARCHAR), imo, upper(trim(vessel_name)), NULL, NULL, NULL FROM sightings
           ORDER BY 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST, 4 NULLS LAST, 5 NULLS LAST, 6 NULLS LAST"""
    ).fetchall()
    by_key: dict[str, VesselSubject] = {}
    imo_key: dict[str, str] = {}
    name_key: dict[str, str] = {}
    for mmsi, imo, name, flag, call_sign, ship_type in reports:
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
        if call_sign and call_sign != "0":
            subject.call_signs.add(call_sign)
        if category := ship_type_category(ship_type):
            subject.ship_types.add(category)
    for (mmsi,) in con.execute(
        "SELECT DISTINCT CAST(mmsi AS VARCHAR) FROM positions WHERE mmsi IS NOT NULL ORDER BY 1"
    ).fetchall():
        key = ships.get(mmsi, mmsi)
        by_key.setdefault(key, VesselSubject(key, {mmsi})).mmsi.add(mmsi)
    _add_details(con, by_key, ships)
    return sorted(by_key.values(), key=lambda s: s.key)


def _add_details(
    con: duckdb.DuckDBPyConnection, by_key: dict[str, VesselSubject], ships: dict[str, str]
) -> None:
    """Length, build year and tonnage, where the case holds them (`vessel_details`, from the
    columns of a vessels file); the first value of each per MMSI."""
    if not table_exists(con, "vessel_details"):
        return
    for mmsi, length_m, build_year, tonnage_gt in con.execute(
        """SELECT CAST(mmsi AS VARCHAR), first(length_m ORDER BY source_row), first(build_year ORDER BY source_row),
                  first(tonnage_gt ORDER BY source_row)
           FROM vessel_details WHERE mmsi IS NOT NULL GROUP BY mmsi ORDER BY 1"""
    ).fetchall():
        subject = by_key.get(ships.get(mmsi, mmsi))
        if subject is not None and subject.length_m is None:
            subject.length_m, subject.build_year, subject.tonnage_gt = (
                length_m,
                build_year,
                tonnage_gt,
            )


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


@dataclass
class _Pair:
    """What matched between one subject and one entry, before scoring."""

    ids: list[dict[str, Any]] = field(default_factory=list)
    name: tuple[float, str, str, str, str, int] | None = (
        None  # similarity, kind, rule, listed, own, target
    )

    def offer(self, candidate: tuple[float, str, str, str, str, int]) -> None:
        if self.name is None or candidate[0] > self.name[0]:
            self.name = candidate


def screen_vessels(
    catalog: Catalog, subjects: list[VesselSubject], *, threshold: float = 0.85
) -> list[Hit]:
    """One scored hit or lead per (vessel, entry) pair that shares an identifier or a name."""
    with paused_gc():
        return _screen_vessels(catalog, subjects, threshold)


def _screen_vessels(catalog: Catalog, subjects: list[VesselSubject], threshold: float) -> list[Hit]:
    pairs: dict[tuple[int, int], _Pair] = {}
    for si, s in enumerate(subjects):
        for ident, values, index in (
            ("imo", s.imo, catalog.by_imo),
            ("mmsi", s.mmsi, catalog.by_mmsi),
        ):
            for value in sorted(values):
                for i in index.get(value, []):
                    pairs.setdefault((si, i), _Pair()).ids.append(identifier_feature(ident, value))
    norm = NameCache(vessel=True)
    queries, owners = [], []
    bearers: Counter[str] = Counter()
    for si, s in enumerate(subjects):
        keys = set()
        for name in sorted(s.names):
            n = norm(name)
            if n.compact:
                queries.append(n)
                owners.append((si, name))
                keys.add(n.sorted_skel)
        bearers.update(keys)
    targets = catalog.vessel_names
    found = targets.index.match(queries, threshold=threshold)
    for q, t, score, how in zip(found.query, found.target, found.score, found.how, strict=True):
        si, name = owners[q]
        i = targets.entry[t]
        entry, subject = catalog.entries[i], subjects[si]
        if entry.imo and subject.imo and entry.schema == "Vessel" and entry.imo not in subject.imo:
            continue  # same name, another IMO: another ship
        rule = name_rule(targets.kind[t], int(how))
        pairs.setdefault((si, i), _Pair()).offer(
            (float(score), targets.kind[t], rule, targets.raw[t], name, int(t))
        )
    hits = []
    for (si, i), pair in sorted(pairs.items()):
        s, e = subjects[si], catalog.entries[i]
        main = list(pair.ids)
        subject_name = None
        facts = s.facts()
        if {f["feature"] for f in pair.ids} == {"mmsi"}:
            facts.flags = set(s.flags)  # the MID flag comes from the MMSI itself: no corroboration
        qualifiers = vessel_qualifiers(facts, e.facts())
        if pair.name is not None:
            similarity, kind, rule, listed, subject_name, t = pair.name
            main.append(name_feature(similarity, kind, rule, listed))
        if not pair.ids:
            common = max(
                bearers[norm(subject_name or "").sorted_skel],
                targets.bearers_of(pair.name[5]) if pair.name else 0,
            )
            where = "vessels in the case or entries on the lists"
            if penalty := common_name_penalty(common, where):
                qualifiers.append(penalty)
        else:
            qualifiers = [
                f for f in qualifiers if f["feature"] != "mmsi_differs"
            ]  # MMSIs change with the flag
        hit = _hit(catalog, s, i, pair.name[3] if pair.name else None, pair.name[1] if pair.name else None,
                   subject_name)  # fmt: skip
        hits.append(hit.scored(combine(main, qualifiers)))
    return hits


def _hit(catalog: Catalog, s: VesselSubject, i: int, matched: str | None, kind: str | None,
         subject_name: str | None = None) -> Hit:  # fmt: skip
    e = catalog.entries[i]
    linked = catalog.linked_entries(e)
    return Hit(
        subject_type="vessel", subject=subject_name or s.display, subject_key=s.key, list=e.list,
        list_date=e.list_date, list_file=e.list_file, entry=e.name, entry_id=e.entry_id, entry_schema=e.schema,
        score=0.0, rule="", matched_name=matched, name_kind=kind,
        mmsi=",".join(sorted(s.mmsi)) or None, imo=",".join(sorted(s.imo)) or None, programs=e.programs,
        flags=_flag_check(s, e.flag, e.past_flags),
        linked=[{k: v for k, v in item.items() if k != "index"} for item in linked],
    )  # fmt: skip
