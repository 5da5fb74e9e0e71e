"""A watchlist match: which subject of the case matched which list entry, how and how well
(the features and penalties of `scoring`), and whether that makes it a hit or a lead."""

from __future__ import annotations

import builtins
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cargotrace.screening.index import HOW
from cargotrace.screening.scoring import Score, explain


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
    status: str = "lead"  # hit (score >= scoring.HIT_MIN) or lead
    features: builtins.list[dict[str, Any]] = field(default_factory=builtins.list)
    penalties: builtins.list[dict[str, Any]] = field(default_factory=builtins.list)

    def scored(self, result: Score) -> Hit:
        """Take the score, status, features and penalties of the scoring model."""
        self.score, self.status = result.score, result.status
        self.features, self.penalties = result.features, result.penalties
        mains = [f["feature"] for f in result.features if f.get("main")]
        if mains:
            self.rule, self.rules = mains[0], sorted(set(mains))
        return self

    @property
    def explanation(self) -> str:
        return explain(self.features, self.penalties, self.score)

    @property
    def hit_id(self) -> str:
        text = "\x1f".join(
            (
                self.subject_type,
                self.subject_key,
                self.list_file or "",
                self.entry_id,
            )
        )
        return "H" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]

    def better_than(self, other: Hit) -> bool:
        return (self.score, -len(self.rule)) > (other.score, -len(other.rule))

    def as_dict(self) -> dict[str, Any]:
        return {"hit_id": self.hit_id, **asdict(self), "explanation": self.explanation}

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
    """One row per subject and list entry: the best-scored, with the roles of the others that
    score as well (a party linked to two listed vessels is one row); weaker ones are noted."""
    rows: dict[tuple[str, str, str | None, str], list[Hit]] = {}
    for hit in hits:
        rows.setdefault(
            (hit.subject_type, hit.subject_key, hit.list_file, hit.entry_id), []
        ).append(hit)
    out = []
    for group in rows.values():
        best = group[0]
        for hit in group[1:]:
            if hit.better_than(best):
                best = hit
        roles = sorted({h.role for h in group if h.role and h.score == best.score})
        if len(roles) > 1:
            best.role = "; ".join(roles)
        weaker = sorted({h.role for h in group if h.role and h.score < best.score})
        if weaker:
            best.notes.append(f"also, with a lower score: {'; '.join(weaker)}")
        out.append(best)
    return sorted(out, key=Hit.sort_key)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
