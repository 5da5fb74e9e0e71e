"""The list entries a case screens against, indexed: identifiers (IMO, MMSI, INN, OGRN) in
dicts, names in two `NameIndex`es (vessel names and party names, normalised differently).
Built from the case tables or straight from `ListFile`s (benchmarks, tests)."""

from __future__ import annotations

import builtins
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb

from cargotrace.ingest.kinds.list_formats import ListFile
from cargotrace.screening.index import NameIndex
from cargotrace.screening.normalize import NameCache, NormName
from cargotrace.screening.scoring import VesselFacts, ship_type_category

VESSEL_TARGETS = {"Vessel", "LegalEntity"}  # LegalEntity: a name-only row of a simple CSV
PARTY_TARGETS = {"Company", "Organization", "LegalEntity", "PublicBody", "Person"}


@dataclass
class Entry:
    entry_id: str
    list: str
    list_date: str | None
    list_file: str | None
    schema: str
    name: str
    names: builtins.list[tuple[str, str]]
    imo: str | None = None
    mmsi: str | None = None
    flag: str | None = None
    past_flags: builtins.list[str] = field(default_factory=builtins.list)
    inn: str | None = None
    ogrn: str | None = None
    programs: str | None = None
    links: builtins.list[dict[str, str | None]] = field(default_factory=builtins.list)
    call_sign: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # type, tonnage_gt, build_year, length_m

    def facts(self) -> VesselFacts:
        """What the list says of the vessel beyond its name, for the scoring model."""
        category = ship_type_category(self.details.get("type"))
        return VesselFacts(
            flags={self.flag} if self.flag else set(), past_flags=set(self.past_flags),
            call_signs={self.call_sign.upper().replace(" ", "")} if self.call_sign else set(),
            ship_types={category} if category else set(), build_year=self.details.get("build_year"),
            tonnage_gt=self.details.get("tonnage_gt"), length_m=self.details.get("length_m"),
            mmsi={str(self.mmsi)} if self.mmsi else set(),
        )  # fmt: skip

    @property
    def korean(self) -> bool:
        text = f"{self.programs or ''} {self.list}".upper()
        return (
            "DPRK" in text
            or "KOREA" in text
            or self.flag in ("KP", "KR")
            or any("\uac00" <= ch <= "\ud7a3" for n, _ in self.names for ch in n)
        )


@dataclass
class NameTargets:
    """One side of a NameIndex: entry and name kind of each indexed name."""

    index: NameIndex
    entry: list[int]
    kind: list[str]
    raw: list[str]
    bearers: Counter[str] = field(default_factory=Counter)  # name key -> entries bearing it

    def bearers_of(self, target: int) -> int:
        return self.bearers[self.index.names[target].sorted_skel]


class Catalog:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_imo: dict[str, list[int]] = defaultdict(list)
        self.by_mmsi: dict[str, list[int]] = defaultdict(list)
        self.by_inn: dict[str, list[int]] = defaultdict(list)
        self.by_ogrn: dict[str, list[int]] = defaultdict(list)
        self.by_entry_id: dict[tuple[str | None, str], int] = {}
        for i, e in enumerate(entries):
            self.by_entry_id[(e.list_file, e.entry_id)] = i
            if e.schema == "Vessel" and e.imo:
                self.by_imo[e.imo].append(i)
            if e.schema == "Vessel" and e.mmsi:
                self.by_mmsi[str(e.mmsi)].append(i)
            if e.inn:
                self.by_inn[e.inn].append(i)
            if e.ogrn:
                self.by_ogrn[e.ogrn].append(i)
        self._exact: dict[tuple[str | None, str], int] | None = None
        self._links: dict[int, builtins.list[dict[str, object]]] = {}
        self._party_norm = NameCache(vessel=False)
        self.vessel_names = self._targets(VESSEL_TARGETS, vessel=True)
        self.party_names = self._targets(PARTY_TARGETS, vessel=False)

    def _targets(self, schemata: set[str], *, vessel: bool) -> NameTargets:
        norm = NameCache(vessel=True) if vessel else self._party_norm
        names: list[NormName] = []
        entry, kind, raw, korean = [], [], [], []
        for i, e in enumerate(self.entries):
            if e.schema not in schemata:
                continue
            is_korean = e.korean
            for name, name_kind in e.names:
                n = norm(name)
                if not n.compact:
                    continue  # a script we do not romanise (Arabic, Chinese ...)
                names.append(n)
                entry.append(i)
                kind.append(name_kind)
                raw.append(name)
                korean.append(is_korean)
        bearers: Counter[str] = Counter()
        for key, _ in {(n.sorted_skel, i) for n, i in zip(names, entry, strict=True)}:
            bearers[key] += 1
        return NameTargets(NameIndex(names, korean), entry, kind, raw, bearers)

    def linked_entries(self, entry: Entry) -> list[dict[str, object]]:
        """The entry's links, each marked with the list entry it names when that is listed too
        (computed once per entry; callers copy what they keep)."""
        cached = self._links.get(id(entry))
        if cached is not None:
            return cached
        out: builtins.list[dict[str, object]] = []
        for link in entry.links:
            target = None
            if link.get("entry_id"):
                target = self.by_entry_id.get((entry.list_file, str(link["entry_id"])))
            if target is None and link.get("name"):
                target = self._by_exact_name(entry.list_file, str(link["name"]))
            item: dict[str, object] = {
                "relation": link.get("relation"),
                "name": link.get("name"),
                "listed": target is not None,
            }
            if target is not None:
                other = self.entries[target]
                item.update(
                    {
                        "entry_id": other.entry_id,
                        "entry": other.name,
                        "programs": other.programs,
                        "index": target,
                    }
                )
            out.append(item)
        self._links[id(entry)] = out
        return out

    def _by_exact_name(self, list_file: str | None, name: str) -> int | None:
        """The party entry of the same list whose normalised name (legal form included) is
        `name`'s: resolves "Linked To: TRANSMORFLOT LLC" to that entry."""
        if self._exact is None:
            self._exact = {}
            targets = self.party_names
            for n, i in zip(targets.index.names, targets.entry, strict=True):
                self._exact.setdefault((self.entries[i].list_file, n.key), i)
        return self._exact.get((list_file, self._party_norm(name).key))

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_lists(cls, lists: list[tuple[ListFile, str]]) -> Catalog:
        """From parsed list files: (list, source file name)."""
        entries = []
        for listed, file_name in lists:
            date = listed.published.isoformat() if listed.published else None
            for e in listed.entries:
                entries.append(Entry(
                    e.entry_id, ", ".join(e.datasets) or listed.name, date, file_name, e.schema, e.name,
                    list(e.names()), e.imo, e.mmsi, e.flag, e.past_flags, e.inn, e.ogrn, "; ".join(e.programs) or None,
                    [{"relation": lk.relation, "name": lk.name, "entry_id": lk.entry_id} for lk in e.links],
                    e.call_sign, e.vessel_details(),
                ))  # fmt: skip
        return cls(entries)

    @classmethod
    def from_case(cls, con: duckdb.DuckDBPyConnection) -> Catalog:
        rows = con.execute(
            """SELECT w.file_hash, w.source_row, w.name, w.imo, CAST(w.mmsi AS VARCHAR), w.list, w.schema,
                      w.source_file, e.entry_id, e.flag, e.past_flags, e.inn, e.ogrn, e.programs,
                      l.list, CAST(l.published AS VARCHAR), e.call_sign, e.vessel_details
               FROM watchlist w
               LEFT JOIN watchlist_entries e USING (file_hash, source_row)
               LEFT JOIN watchlist_lists l USING (file_hash)
               ORDER BY w.source_file, w.file_hash, w.source_row"""
        ).fetchall()
        names: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
        for fh, row, name, kind in con.execute(
            "SELECT file_hash, source_row, name, kind FROM watchlist_names ORDER BY file_hash, source_row, rowid"
        ).fetchall():
            names[(fh, row)].append((name, kind))
        links: dict[tuple[str, int], list[dict[str, str | None]]] = defaultdict(list)
        for fh, row, relation, other, other_id in con.execute(
            "SELECT file_hash, source_row, relation, other_name, other_entry_id FROM watchlist_links ORDER BY file_hash, source_row, rowid"
        ).fetchall():
            links[(fh, row)].append({"relation": relation, "name": other, "entry_id": other_id})
        entries = []
        for (fh, row, name, imo, mmsi, lst, schema, source_file, entry_id, flag, past, inn, ogrn, programs,
             list_name, published, call_sign, details) in rows:  # fmt: skip
            entries.append(Entry(
                entry_id or f"{source_file}:{row}", lst or list_name or source_file, published, source_file,
                schema or "LegalEntity", name, names.get((fh, row)) or [(name, "name")], imo, mmsi, flag,
                [p for p in (past or "").split(",") if p], inn, ogrn, programs, links.get((fh, row), []),
                call_sign, json.loads(details) if details else {},
            ))  # fmt: skip
        return cls(entries)
