"""Party screening: consignors and consignees of the shipments and vessel owners, operators
and managers, against the companies, organisations and persons on the lists. Names are
normalised (legal forms split off and compared as forms, both scripts brought to one
Latin skeleton); INN and OGRN, where the records carry them and their check digits hold,
match exactly and veto a name match with a different, valid number. Each (party, entry)
pair is scored once by `scoring`: identifier or name, legal forms, how many entries bear the
name, and whether the party owns a vessel of the case that is a hit on an entry the list
links to this one."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb

from cargotrace.reference.checkdigits import inn_check_ok, ogrn_check_ok
from cargotrace.screening.catalog import Catalog
from cargotrace.screening.hits import Hit, name_rule
from cargotrace.screening.index import LEGAL_FORM_PENALTY, paused_gc
from cargotrace.screening.normalize import NameCache
from cargotrace.screening.scoring import (
    combine,
    common_name_penalty,
    identifier_feature,
    inherited,
    legal_form_qualifier,
    name_feature,
    owner_listed_qualifier,
)

_INN = re.compile(r"(?:ИНН|INN)\s*[:№#]?\s*(\d{10}|\d{12})\b", re.IGNORECASE)
_OGRN = re.compile(r"(?:ОГРН(?:ИП)?|OGRN(?:IP)?)\s*[:№#]?\s*(\d{13}|\d{15})\b", re.IGNORECASE)
_ROLE_OF_KEY = (
    ("consignor", r"отправ|consignor|shipper"),
    ("consignee", r"получ|consignee|receiver"),
)


@dataclass
class PartySubject:
    name: str
    roles: set[str] = field(default_factory=set)
    records: int = 0
    inn: set[str] = field(default_factory=set)
    ogrn: set[str] = field(default_factory=set)
    invalid_ids: set[str] = field(default_factory=set)
    vessels: set[str] = field(default_factory=set)
    cluster_id: str | None = None

    def add_id(self, number: str) -> None:
        if len(number) in (10, 12):
            (self.inn if inn_check_ok(number) else self.invalid_ids).add(number)
        elif len(number) in (13, 15):
            (self.ogrn if ogrn_check_ok(number) else self.invalid_ids).add(number)


def ids_in_text(text: str) -> list[str]:
    return [m for m in _INN.findall(text)] + [m for m in _OGRN.findall(text)]


def party_subjects(con: duckdb.DuckDBPyConnection) -> list[PartySubject]:
    """Distinct spellings of every party in the case, with roles, record counts and the
    INN/OGRN found in the name itself or in an INN/OGRN column of the record."""
    by_name: dict[str, PartySubject] = {}
    rows = con.execute(
        """SELECT name, role, count(*) FROM (
               SELECT trim(consignor) AS name, 'consignor' AS role FROM shipments
               UNION ALL SELECT trim(consignee), 'consignee' FROM shipments
           ) WHERE name IS NOT NULL AND name <> '' GROUP BY ALL
           UNION ALL
           SELECT trim(party), role, count(*) FROM vessel_parties WHERE nullif(trim(party), '') IS NOT NULL GROUP BY ALL
           ORDER BY 1, 2"""
    ).fetchall()
    for name, role, n in rows:
        subject = by_name.setdefault(name, PartySubject(name))
        subject.roles.add(role)
        subject.records += int(n)
        for number in ids_in_text(name):
            subject.add_id(number)
    for name, vessel in con.execute(
        "SELECT DISTINCT trim(party), coalesce(vessel_name, imo, CAST(mmsi AS VARCHAR)) FROM vessel_parties ORDER BY 1, 2"
    ).fetchall():
        if name in by_name and vessel:
            by_name[name].vessels.add(vessel)
    for name, number in _attribute_ids(con) + _inn_columns(con):
        if name in by_name:
            by_name[name].add_id(number)
    return sorted(by_name.values(), key=lambda s: s.name)


def _inn_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(party, INN) from the shipments' `consignor_inn`/`consignee_inn` (the record's INN
    column, else the INN written in the name)."""
    return con.execute(
        """SELECT DISTINCT * FROM (
               SELECT trim(consignor), consignor_inn FROM shipments WHERE consignor IS NOT NULL AND consignor_inn IS NOT NULL
               UNION ALL SELECT trim(consignee), consignee_inn FROM shipments WHERE consignee IS NOT NULL AND consignee_inn IS NOT NULL
           ) ORDER BY 1, 2"""
    ).fetchall()


def _attribute_ids(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(party, number) from unmapped shipment columns named like «ИНН грузоотправителя»."""
    out: list[tuple[str, str]] = []
    for role, pattern in _ROLE_OF_KEY:
        column = "consignor" if role == "consignor" else "consignee"
        out.extend(con.execute(
            f"""SELECT DISTINCT trim({column}), regexp_extract(json_extract_string(attributes, '$."' || replace(k, '"', '\\"') || '"'), '\\d{{10,15}}')
                FROM (SELECT {column}, attributes, unnest(json_keys(attributes)) AS k
                      FROM shipments WHERE {column} IS NOT NULL AND attributes IS NOT NULL AND attributes LIKE '{{%')
                WHERE regexp_matches(lower(k), '(инн|inn|огрн|ogrn)') AND regexp_matches(lower(k), ?)
                ORDER BY 1, 2""",
            [pattern],
        ).fetchall())  # fmt: skip
    return [(name, number) for name, number in out if number]


def screen_parties(
    catalog: Catalog,
    subjects: list[PartySubject],
    *,
    threshold: float = 0.85,
    vessel_hits: list[Hit] | None = None,
) -> list[Hit]:
    """One scored hit or lead per (party, entry) pair sharing an INN, an OGRN or a name."""
    with paused_gc():
        return _screen_parties(catalog, subjects, threshold, vessel_hits)


def _screen_parties(
    catalog: Catalog, subjects: list[PartySubject], threshold: float, vessel_hits: list[Hit] | None
) -> list[Hit]:
    owned = _listed_owners(catalog, vessel_hits or [])
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for si, s in enumerate(subjects):
        for ident, values, index in (
            ("inn", s.inn, catalog.by_inn),
            ("ogrn", s.ogrn, catalog.by_ogrn),
        ):
            for value in sorted(values):
                for i in index.get(value, []):
                    pairs.setdefault((si, i), {"ids": [], "name": None})["ids"].append(
                        identifier_feature(ident, value)
                    )
    norm = NameCache(vessel=False)
    queries = [norm(s.name) for s in subjects]
    keep = [i for i, q in enumerate(queries) if q.compact]
    targets = catalog.party_names
    found = targets.index.match([queries[i] for i in keep], threshold=threshold)
    for q, t, score, how, conflict in zip(
        found.query, found.target, found.score, found.how, found.form_conflict, strict=True
    ):
        si, i = keep[q], targets.entry[t]
        subject, entry = subjects[si], catalog.entries[i]
        if (entry.inn and subject.inn and entry.inn not in subject.inn) or (
            entry.ogrn and subject.ogrn and entry.ogrn not in subject.ogrn
        ):
            continue  # same name, another registered company
        # the name index takes the legal-form conflict off the similarity; the model shows it as a penalty
        similarity = float(score) + (LEGAL_FORM_PENALTY if conflict else 0.0)
        pair = pairs.setdefault((si, i), {"ids": [], "name": None})
        if pair["name"] is None or similarity > pair["name"][0]:
            pair["name"] = (similarity, int(t), int(how), bool(conflict))
    hits = []
    for (si, i), pair in sorted(pairs.items()):
        subject = subjects[si]
        main, qualifiers, notes = list(pair["ids"]), [], []
        matched = kind = None
        if pair["name"] is not None:
            similarity, t, how, conflict = pair["name"]
            matched, kind = targets.raw[t], targets.kind[t]
            main.append(name_feature(similarity, kind, name_rule(kind, how), matched))
            q_norm, t_norm = queries[si], targets.index.names[t]
            qualifiers += legal_form_qualifier(q_norm.legal_form, t_norm.legal_form, conflict)
            if conflict:
                notes.append(f"legal forms differ: {q_norm.legal_form} / {t_norm.legal_form}")
            elif q_norm.legal_form != t_norm.legal_form:
                notes.append(
                    f"legal form {'dropped' if not q_norm.legal_form else q_norm.legal_form} / {t_norm.legal_form or 'none'}"
                )
            if q_norm.script != t_norm.script:
                notes.append(f"transliterated ({q_norm.script} / {t_norm.script})")
            if not pair["ids"] and (
                penalty := common_name_penalty(targets.bearers_of(t), "entries on the lists")
            ):
                qualifiers.append(penalty)
        for vessel in sorted(subject.vessels):
            for listed_vessel, owner in owned.get(vessel.upper(), {}).get(i, []):
                qualifiers.append(owner_listed_qualifier(f"{vessel} (= {listed_vessel})", owner))
                break
        hit = _hit(catalog, subject, i, matched, kind)
        hit.notes.extend(notes)
        hits.append(hit.scored(combine(main, qualifiers)))
    return hits


def _listed_owners(
    catalog: Catalog, vessel_hits: list[Hit]
) -> dict[str, dict[int, list[tuple[str, str]]]]:
    """Vessel (by name, IMO or MMSI as the case writes it) -> listed entry the list links to
    a vessel hit -> (listed vessel, relation): the owners a listed vessel is linked to."""
    out: dict[str, dict[int, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for vh in vessel_hits:
        if vh.status != "hit":
            continue
        i = catalog.by_entry_id.get((vh.list_file, vh.entry_id))
        if i is None:
            continue
        keys = {vh.subject.upper(), *(vh.imo or "").split(","), *(vh.mmsi or "").split(",")} - {""}
        for link in catalog.linked_entries(catalog.entries[i]):
            if link.get("listed"):
                for key in keys:
                    out[key][int(link["index"])].append((vh.entry, str(link["relation"])))  # type: ignore[call-overload]
    return out


def _hit(
    catalog: Catalog,
    s: PartySubject,
    i: int,
    matched: str | None,
    kind: str | None,
) -> Hit:
    e = catalog.entries[i]
    return Hit(
        subject_type="party", subject=s.name, subject_key=s.name, list=e.list, list_date=e.list_date,
        list_file=e.list_file, entry=e.name, entry_id=e.entry_id, entry_schema=e.schema, score=0.0, rule="",
        matched_name=matched, name_kind=kind, role=", ".join(sorted(s.roles)),
        cluster_id=s.cluster_id, programs=e.programs,
        linked=[{k: v for k, v in item.items() if k != "index"} for item in catalog.linked_entries(e)],
        notes=[f"invalid identifier in the records: {', '.join(sorted(s.invalid_ids))}"] if s.invalid_ids else [],
    )  # fmt: skip


def owner_hits(catalog: Catalog, vessel_hits: list[Hit]) -> list[Hit]:
    """Owners, operators and linked companies that the lists themselves name for a listed
    vessel, when those are listed entries too (LADY R -> TRANSMORFLOT LLC). Such a party
    inherits the vessel's score, at most, and is a hit only when the vessel is."""
    out: list[Hit] = []
    for vh in vessel_hits:
        i = catalog.by_entry_id.get((vh.list_file, vh.entry_id))
        if i is None:
            continue
        for link in catalog.linked_entries(catalog.entries[i]):
            if not link.get("listed"):
                continue
            other = catalog.entries[int(link["index"])]  # type: ignore[call-overload]
            hit = Hit(
                subject_type="party", subject=other.name, subject_key=f"LIST:{other.entry_id}", list=other.list,
                list_date=other.list_date, list_file=other.list_file, entry=other.name, entry_id=other.entry_id,
                entry_schema=other.schema, score=0.0, rule="", role=f"{link['relation']} of vessel {vh.subject}",
                programs=other.programs, notes=[f"named on {vh.list} as {link['relation']} of {vh.entry}"],
                mmsi=vh.mmsi, imo=vh.imo,
            )  # fmt: skip
            result = inherited(vh.score, vh.status, vh.subject, str(link["relation"]), vh.rules)
            out.append(hit.scored(result))
    return out
