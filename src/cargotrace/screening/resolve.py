"""Entity resolution inside the case: the spellings of one organisation among consignors,
consignees and vessel parties («ООО "Восток-Транзит"», ООО ВОСТОК ТРАНЗИТ, Vostok-Tranzit
LLC ...) grouped into clusters.

Pairs come from the same blocked matcher the screening uses (the case's own names are the
index); a pair joins two clusters when it scores at least `MIN_SCORE`, strongest pairs
first, unless that would put two different valid INNs/OGRNs, or legal forms of different
families (LLC vs JSC), into one cluster. Equal valid INNs join spellings outright.

A cluster's id is a hash of its members' sorted normalised names: the same spellings give
the same id on every run, whatever the order of the records.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from cargotrace.screening.index import HOW, NameIndex
from cargotrace.screening.legalforms import compatible
from cargotrace.screening.normalize import NameCache, NormName
from cargotrace.screening.parties import PartySubject

MIN_SCORE = 0.90


@dataclass
class Cluster:
    cluster_id: str
    canonical: str
    members: list[PartySubject]
    legal_form: str | None
    inn: list[str]
    ogrn: list[str]
    rules: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(m.records for m in self.members)

    def as_dict(self) -> dict[str, object]:
        return {
            "cluster_id": self.cluster_id, "canonical": self.canonical, "records": self.records,
            "spellings": [{"name": m.name, "records": m.records, "roles": sorted(m.roles)} for m in self.members],
            "roles": sorted({r for m in self.members for r in m.roles}), "legal_form": self.legal_form,
            "inn": self.inn, "ogrn": self.ogrn, "rules": self.rules,
        }  # fmt: skip


class _Groups:
    """Union-find that refuses merges mixing identifiers or legal-form families."""

    def __init__(self, subjects: list[PartySubject], names: list[NormName]) -> None:
        self.parent = list(range(len(subjects)))
        self.ids = [{*s.inn, *s.ogrn} for s in subjects]
        self.forms = [{n.legal_form} - {None} for n in names]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        ids = self.ids[ra] | self.ids[rb]
        inns = {x for x in ids if len(x) in (10, 12)}
        ogrns = {x for x in ids if len(x) in (13, 15)}
        if len(inns) > 1 or len(ogrns) > 1:
            return False
        if not all(compatible(x, y) for x in self.forms[ra] for y in self.forms[rb]):
            return False
        ra, rb = min(ra, rb), max(ra, rb)
        self.parent[rb] = ra
        self.ids[ra], self.forms[ra] = ids, self.forms[ra] | self.forms[rb]
        return True


def cluster_parties(subjects: list[PartySubject]) -> list[Cluster]:
    """Clusters of `subjects` (sets each subject's `cluster_id`), largest first."""
    norm = NameCache(vessel=False)
    names = [norm(s.name) for s in subjects]
    groups = _Groups(subjects, names)
    rules: dict[tuple[int, int], str] = {}
    by_id: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(subjects):
        for number in sorted(s.inn | s.ogrn):
            by_id[number].append(i)
    for number, holders in sorted(by_id.items()):
        for other in holders[1:]:
            if groups.union(holders[0], other):
                rules[(holders[0], other)] = "inn" if len(number) in (10, 12) else "ogrn"
    usable = [i for i, n in enumerate(names) if n.compact]
    index = NameIndex([names[i] for i in usable])
    found = index.match([names[i] for i in usable], threshold=MIN_SCORE)
    pairs = sorted(
        {(usable[q], usable[t], float(sc), int(h)) for q, t, sc, h in zip(found.query, found.target, found.score, found.how, strict=True) if q < t},
        key=lambda p: (-p[2], subjects[p[0]].name, subjects[p[1]].name),
    )  # fmt: skip
    for a, b, _score, how in pairs:
        if groups.union(a, b):
            rules[(a, b)] = HOW[how]
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(subjects)):
        members[groups.find(i)].append(i)
    clusters = []
    for root, idx in members.items():
        cluster = _cluster([subjects[i] for i in idx], [names[i] for i in idx])
        cluster.rules = sorted({r for (a, b), r in rules.items() if groups.find(a) == root})
        for i in idx:
            subjects[i].cluster_id = cluster.cluster_id
        clusters.append(cluster)
    return sorted(clusters, key=lambda c: (-len(c.members), -c.records, c.cluster_id))


def _cluster(members: list[PartySubject], names: list[NormName]) -> Cluster:
    keys = sorted({n.key for n in names})
    cluster_id = "PC-" + hashlib.sha1("\x1e".join(keys).encode("utf-8")).hexdigest()[:10]
    order = sorted(
        range(len(members)),
        key=lambda i: (-members[i].records, names[i].legal_form is None, members[i].name),
    )
    forms = Counter(n.legal_form for n in names if n.legal_form)
    return Cluster(
        cluster_id, members[order[0]].name, [members[i] for i in order],
        forms.most_common(1)[0][0] if forms else None,
        sorted({x for m in members for x in m.inn}), sorted({x for m in members for x in m.ogrn}),
    )  # fmt: skip
