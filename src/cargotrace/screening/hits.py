"""A watchlist hit: which subject of the case matched which list entry, how and how well."""

from __future__ import annotations

import builtins
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cargotrace.screening.index import HOW

# Scores of identifier rules; name rules take theirs from `index.SCORES` or the fuzzy ratio.
ID_SCORES = {"imo": 1.0, "inn": 1.0, "ogrn": 1.0, "mmsi": 0.95}


def name_rule(name_kind: str, how: int) -> str:
    """'name_exact', 'former_name_translit', 'alias_fuzzy' ...: which name, which rule."""
    return f"{name_kind}_{HOW[how]}"


@dataclass
class Hit:
    subject_type: str  # vessel | party
    subject: str  # as written in the case (vessel name, party spelling)
    subject_key: str
    list: str
    list_date: str | None
    list_file: str | None
    entry: str  # the entry's primary name on the list
    entry_id: str
    entry_schema: str
    score: float
    rule: str
    matched_name: str | None = None
    name_kind: str | None = None
    rules: builtins.list[str] = field(default_factory=builtins.list)
    role: str | None = None
    mmsi: str | None = None
    imo: str | None = None
    cluster_id: str | None = None
    programs: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    linked: builtins.list[dict[str, Any]] = field(default_factory=builtins.list)
    notes: builtins.list[str] = field(default_factory=builtins.list)

    @property
    def hit_id(self) -> str:
        text = "\x1f".join(
            (
                self.subject_type,
                self.subject_key,
                self.list_file or "",
                self.entry_id,
                self.role or "",
            )
        )
        return "H" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]

    def better_than(self, other: Hit) -> bool:
        return (self.score, -len(self.rule)) > (other.score, -len(other.rule))

    def as_dict(self) -> dict[str, Any]:
        return {"hit_id": self.hit_id, **asdict(self)}

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.subject_type != "vessel",
            -self.score,
            self.subject,
            self.list,
            self.entry_id,
            self.role or "",
        )


def merge(hits: list[Hit]) -> list[Hit]:
    """One hit per (subject, list file, entry, role): the best, with every rule that fired."""
    best: dict[tuple[str, str, str | None, str, str | None], Hit] = {}
    for hit in hits:
        key = (hit.subject_type, hit.subject_key, hit.list_file, hit.entry_id, hit.role)
        kept = best.get(key)
        if kept is None:
            best[key] = hit
            hit.rules = sorted(set(hit.rules) | {hit.rule})
            continue
        rules = sorted(set(kept.rules) | set(hit.rules) | {hit.rule})
        if hit.better_than(kept):
            best[key] = hit
        best[key].rules = rules
        if "imo" in rules and best[key].score < 1.0:
            best[key].score = 1.0
    return sorted(best.values(), key=Hit.sort_key)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
