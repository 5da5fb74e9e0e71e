"""The scoring model of a match: features and penalties, in the manner of OpenSanctions'
logic-v1/v2 matchers (nomenklatura): the score is the best *main* feature (an identifier,
or the name similarity times a weight that keeps a name alone a lead) plus the
*qualifiers*, attributes both sides have that corroborate (+) or contradict (-) the match.

    score = clamp(max(main features) + sum(qualifiers), 0, 1)
    a match without an identifier is capped at NAME_CAP (below any identifier match)
    status = "hit" when score >= HIT_MIN, else "lead"

A name alone scores at most NAME_WEIGHT (0.70): a lead. It takes corroboration (call sign,
flag, ship type, build year, tonnage, length, legal form, a listed owner on a listed
vessel) to reach HIT_MIN. Every rule has its weight here and nowhere else, and every
score carries its explanation: the features that matched and the penalties applied.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from cargotrace.screening.index import LEGAL_FORM_PENALTY

HIT_MIN = 0.85  # a hit: enough to put in the main table
NAME_WEIGHT = 0.70  # an exact name alone: a lead
NAME_CAP = 0.94  # a match without an identifier stays below an MMSI match
NAME_KIND_FACTOR = {"name": 1.0, "alias": 1.0, "former_name": 1.0, "weak_alias": 0.8}

# Main features: identifiers (weight) and the name (NAME_WEIGHT x similarity).
IDENTIFIERS = {"imo": 1.00, "inn": 1.00, "ogrn": 1.00, "mmsi": 0.95}
LINK = "list_link"  # a party reached through a vessel: at most that vessel's score

# Qualifiers: weight added to the score when the feature applies.
QUALIFIERS = {
    # corroborating (both sides have the attribute and it agrees)
    "flag_same": 0.08,
    "former_flag": 0.05,
    "call_sign_same": 0.12,
    "ship_type_same": 0.05,
    "build_year_same": 0.05,
    "tonnage_close": 0.05,
    "length_close": 0.05,
    "legal_form_same": 0.05,
    "owner_listed": 0.15,
    # contradicting
    "flag_differs": -0.10,
    "call_sign_differs": -0.05,
    "ship_type_conflict": -0.15,
    "build_year_differs": -0.10,
    "tonnage_off": -0.10,
    "length_off": -0.15,
    "mmsi_differs": -0.20,
    "legal_form_conflict": -LEGAL_FORM_PENALTY,  # the name index's own rule
}
COMMON_NAME_STEP = -0.05  # per doubling of the bearers of a name (case or lists) ...
COMMON_NAME_MAX = -0.20  # ... down to this
BUILD_YEAR_SAME = 1  # years apart, at most, to corroborate
BUILD_YEAR_DIFFERS = 2  # years apart, more than, to contradict
CLOSE_RATIO = 0.10  # tonnage and length within 10 % corroborate (5 % for length)
LENGTH_CLOSE_RATIO = 0.05
OFF_RATIO = 0.20  # ... and off by more than 20 % contradict

# Ship type categories; AIS ITU codes and list wording both map to one of these.
_TYPE_WORDS = (
    ("tanker", r"TANKER|CRUDE|OIL PRODUCTS|LPG|LNG|CHEMICAL|BUNKER"),
    ("fishing", r"FISH|TRAWL|SEINER|LONGLINER"),
    ("passenger", r"PASSENGER|FERRY|CRUISE"),
    ("tug", r"\bTUG|TOWING|PUSHER"),
    ("pleasure", r"YACHT|PLEASURE|SAILING"),
    ("military", r"MILITARY|NAVAL|WARSHIP|PATROL"),
    ("cargo", r"CARGO|BULK|CONTAINER|CARRIER|RO-?RO|REEFER|REFRIGERATED|HEAVY LIFT|FREIGHT"),
)
_MERCHANT = {"tanker", "cargo"}  # AIS often confuses these: neither corroborates nor contradicts


def ship_type_category(value: str | int | None) -> str | None:
    """'tanker', 'cargo', 'fishing', ... from an AIS ship type code or a list's wording."""
    if value is None:
        return None
    text = str(value).strip().upper()
    if not text:
        return None
    if text.isdigit():
        code = int(text)
        if code == 30:
            return "fishing"
        if code in (31, 32, 52):
            return "tug"
        if code in (36, 37):
            return "pleasure"
        if code == 35:
            return "military"
        return {6: "passenger", 7: "cargo", 8: "tanker"}.get(code // 10)
    for category, pattern in _TYPE_WORDS:
        if re.search(pattern, text):
            return category
    return None


@dataclass
class VesselFacts:
    """What one side knows of a vessel beyond its name (all optional)."""

    flags: set[str] = field(default_factory=set)
    past_flags: set[str] = field(default_factory=set)
    call_signs: set[str] = field(default_factory=set)
    ship_types: set[str] = field(default_factory=set)  # categories
    build_year: int | None = None
    tonnage_gt: float | None = None
    length_m: float | None = None
    mmsi: set[str] = field(default_factory=set)


@dataclass
class Score:
    """A scored match and how the score came about."""

    score: float
    status: str
    features: list[dict[str, Any]]
    penalties: list[dict[str, Any]]

    @property
    def explanation(self) -> str:
        return explain(self.features, self.penalties, self.score)


def _item(name: str, weight: float, detail: str, *, main: bool = False) -> dict[str, Any]:
    return {"feature": name, "weight": round(weight, 3), "detail": detail, "main": main}


def name_feature(similarity: float, kind: str, rule: str, matched: str | None) -> dict[str, Any]:
    weight = NAME_WEIGHT * similarity * NAME_KIND_FACTOR.get(kind, 1.0)
    detail = f"{kind.replace('_', ' ')} «{matched}», similarity {similarity:.2f}"
    return _item(rule, weight, detail, main=True)


def identifier_feature(kind: str, value: str) -> dict[str, Any]:
    return _item(kind, IDENTIFIERS[kind], f"{kind.upper()} {value}", main=True)


def common_name_penalty(bearers: int, where: str) -> dict[str, Any] | None:
    """-0.05 per doubling of the subjects or list entries bearing the name (FREEDOM x 16:
    -0.20)."""
    if bearers < 2:
        return None
    weight = max(COMMON_NAME_MAX, COMMON_NAME_STEP * math.log2(bearers))
    return _item("common_name", weight, f"{bearers} {where} bear this name")


def _ratio_off(a: float, b: float) -> float:
    return abs(a - b) / max(a, b)


def vessel_qualifiers(case: VesselFacts, listed: VesselFacts) -> list[dict[str, Any]]:
    """Corroborating and contradicting attributes, only where both sides have them."""
    out: list[dict[str, Any]] = []
    q = QUALIFIERS
    if case.flags and listed.flags:
        if case.flags & listed.flags:
            flag = sorted(case.flags & listed.flags)[0]
            out.append(_item("flag_same", q["flag_same"], f"flag {flag} on both"))
        elif case.flags & listed.past_flags:
            flag = sorted(case.flags & listed.past_flags)[0]
            out.append(
                _item("former_flag", q["former_flag"], f"flag {flag}, a former flag on the list")
            )
        else:
            out.append(_item("flag_differs", q["flag_differs"],
                             f"list {', '.join(sorted(listed.flags))}, case {', '.join(sorted(case.flags))}"))  # fmt: skip
    elif case.flags and listed.past_flags and case.flags & listed.past_flags:
        flag = sorted(case.flags & listed.past_flags)[0]
        out.append(
            _item("former_flag", q["former_flag"], f"flag {flag}, a former flag on the list")
        )
    if case.call_signs and listed.call_signs:
        if case.call_signs & listed.call_signs:
            sign = sorted(case.call_signs & listed.call_signs)[0]
            out.append(_item("call_sign_same", q["call_sign_same"], f"call sign {sign}"))
        else:
            out.append(_item("call_sign_differs", q["call_sign_differs"],
                             f"list {', '.join(sorted(listed.call_signs))}, case {', '.join(sorted(case.call_signs))}"))  # fmt: skip
    if case.ship_types and listed.ship_types:
        if case.ship_types & listed.ship_types:
            kind = sorted(case.ship_types & listed.ship_types)[0]
            out.append(_item("ship_type_same", q["ship_type_same"], f"{kind} on both"))
        elif not (case.ship_types <= _MERCHANT and listed.ship_types <= _MERCHANT):
            out.append(_item("ship_type_conflict", q["ship_type_conflict"],
                             f"list {', '.join(sorted(listed.ship_types))}, case {', '.join(sorted(case.ship_types))}"))  # fmt: skip
    if case.build_year and listed.build_year:
        years = abs(case.build_year - listed.build_year)
        detail = f"built {listed.build_year} (list) / {case.build_year} (case)"
        if years <= BUILD_YEAR_SAME:
            out.append(_item("build_year_same", q["build_year_same"], detail))
        elif years > BUILD_YEAR_DIFFERS:
            out.append(_item("build_year_differs", q["build_year_differs"], detail))
    if case.tonnage_gt and listed.tonnage_gt:
        off = _ratio_off(case.tonnage_gt, listed.tonnage_gt)
        detail = f"{listed.tonnage_gt:,.0f} GT (list) / {case.tonnage_gt:,.0f} GT (case)"
        if off <= CLOSE_RATIO:
            out.append(_item("tonnage_close", q["tonnage_close"], detail))
        elif off > OFF_RATIO:
            out.append(_item("tonnage_off", q["tonnage_off"], detail))
    if case.length_m and listed.length_m:
        off = _ratio_off(case.length_m, listed.length_m)
        detail = f"{listed.length_m:.0f} m (list) / {case.length_m:.0f} m (case)"
        if off <= LENGTH_CLOSE_RATIO:
            out.append(_item("length_close", q["length_close"], detail))
        elif off > OFF_RATIO:
            out.append(_item("length_off", q["length_off"], detail))
    if case.mmsi and listed.mmsi and not case.mmsi & listed.mmsi:
        out.append(_item("mmsi_differs", q["mmsi_differs"],
                         f"list {', '.join(sorted(listed.mmsi))}, case {', '.join(sorted(case.mmsi))}"))  # fmt: skip
    return out


def legal_form_qualifier(case_form: str | None, list_form: str | None, conflict: bool) -> list[dict[str, Any]]:  # fmt: skip
    if conflict:
        return [_item("legal_form_conflict", QUALIFIERS["legal_form_conflict"], f"{case_form} / {list_form}")]  # fmt: skip
    if case_form and case_form == list_form:
        return [_item("legal_form_same", QUALIFIERS["legal_form_same"], f"{case_form} on both")]
    return []


def owner_listed_qualifier(vessel: str, owner: str) -> dict[str, Any]:
    return _item("owner_listed", QUALIFIERS["owner_listed"],
                 f"owner of vessel {vessel} in the case; the list links that vessel to {owner}")  # fmt: skip


def combine(main: list[dict[str, Any]], qualifiers: list[dict[str, Any]]) -> Score:
    """The score of a pair: best main feature plus qualifiers, capped, with its status."""
    best = max((f["weight"] for f in main), default=0.0)
    score = best + sum(f["weight"] for f in qualifiers)
    if not any(f["feature"] in IDENTIFIERS for f in main):
        score = min(score, NAME_CAP)
    score = round(min(1.0, max(0.0, score)), 3)
    ranked = sorted(main, key=lambda f: -f["weight"])
    features = ranked + [f for f in qualifiers if f["weight"] > 0]
    penalties = [f for f in qualifiers if f["weight"] < 0]
    return Score(score, "hit" if score >= HIT_MIN else "lead", features, penalties)


def inherited(
    vessel_score: float, vessel_status: str, vessel: str, relation: str, via: list[str]
) -> Score:
    """A party reached through a vessel: at most the vessel's score, a hit only when the
    vessel is; `via` names the vessel's own main features (imo, name_exact ...)."""
    detail = (
        f"{relation} of vessel {vessel} on the list; the vessel matched by {', '.join(via) or '?'}"
    )
    feature = {**_item(LINK, vessel_score, detail, main=True), "via": sorted(via)}
    return Score(vessel_score, vessel_status, [feature], [])


def explain(features: list[dict[str, Any]], penalties: list[dict[str, Any]], score: float) -> str:
    """'imo 1.00 (IMO 9014872; also name_exact 0.70) + flag_same +0.08 (...) - flag_differs
    -0.10 (...) = 0.98': the main feature that counts, the others that fired, qualifiers."""
    mains = [f for f in features if f.get("main")]
    if not mains:
        return f"score {score:.2f}"
    best, *others = mains
    also = (
        "; also " + ", ".join(f"{f['feature']} {f['weight']:.2f}" for f in others) if others else ""
    )
    parts = [f"{best['feature']} {best['weight']:.2f} ({best['detail']}{also})"]
    parts += [
        f"+ {f['feature']} {f['weight']:+.2f} ({f['detail']})"
        for f in features
        if not f.get("main")
    ]
    parts += [f"- {p['feature']} {p['weight']:+.2f} ({p['detail']})" for p in penalties]
    capped = (
        f" (capped at {NAME_CAP:.2f} without an identifier)"
        if not any(f["feature"] in IDENTIFIERS or f["feature"] == LINK for f in mains)
        and best["weight"]
        + sum(f["weight"] for f in features if not f.get("main"))
        + sum(p["weight"] for p in penalties)
        > NAME_CAP + 1e-9
        else ""
    )
    return " ".join(parts) + f" = {score:.2f}{capped}"
