"""Screening results for the findings (contract §4, more fields): `watchlist_hits`,
`party_clusters`, a `screening` summary naming the lists screened, per-arrival and
per-shipment flags, and the evidence-chain lines of shipments whose chain touches a listed
vessel or party. Everything is sorted, so the same case gives the same text."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from cargotrace.case.store import Case
from cargotrace.outputs import iso as _iso
from cargotrace.screening.scoring import HIT_MIN


def status_of(hit: dict[str, Any]) -> str:
    """'hit' or 'lead' (hits written before the scoring model: by their score)."""
    return str(hit.get("status") or ("hit" if float(hit.get("score") or 0) >= HIT_MIN else "lead"))


class ScreeningKeys(TypedDict):
    """The findings' keys from screening (`WatchlistBlock.finish`)."""

    watchlist_hits: list[dict[str, Any]]
    party_clusters: list[dict[str, Any]]
    screening: dict[str, Any]


@dataclass
class WatchlistBlock:
    hits: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    cluster_of: dict[str, str] = field(default_factory=dict)
    spellings: int = 0

    # ------------------------------------------------------------------ lookups

    def for_arrival(self, arrival: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Hits on the arrival's vessel (by MMSI, IMO or name), best first."""
        mmsi, imo = str(arrival.get("mmsi") or ""), str(arrival.get("imo") or "")
        name = str(arrival.get("vessel_name") or "").strip().upper()
        out = []
        for h in self.hits:
            if h["subject_type"] != "vessel":
                continue
            if (
                (mmsi and mmsi in (h["mmsi"] or "").split(","))
                or (imo and imo in (h["imo"] or "").split(","))
                or (name and name == str(h["subject"]).upper())
            ):
                out.append(_brief(h))
        return _unique(out)

    def for_party(self, role: str, name: str | None) -> list[dict[str, Any]]:
        """Hits on a party spelling, or on another spelling of its cluster."""
        if not name:
            return []
        name = name.strip()
        cluster = self.cluster_of.get(name)
        out = []
        for h in self.hits:
            if h["subject_type"] != "party" or h["rule"] == "list_link":
                continue
            if h["subject"] == name:
                out.append({**_brief(h), "role": role, "subject": name})
            elif cluster and h.get("cluster_id") == cluster:
                out.append(
                    {
                        **_brief(h),
                        "role": role,
                        "subject": name,
                        "via_cluster": cluster,
                        "via_spelling": h["subject"],
                    }
                )
        return _unique(out)

    def for_link(
        self, link: Mapping[str, Any], arrival: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        out = [{**h, "role": "vessel"} for h in (self.for_arrival(arrival) if arrival else [])]
        out += self.for_party("consignor", link.get("consignor"))
        out += self.for_party("consignee", link.get("consignee"))
        return out

    def chain_lines(self, link: Mapping[str, Any], arrival: Mapping[str, Any] | None) -> list[str]:
        """One line per listed vessel or party the shipment's chain touches."""
        lines = []
        for h in self.for_link(link, arrival):
            on = f"{h['list']}{' of ' + h['list_date'] if h.get('list_date') else ''}"
            lead = status_of(h) == "lead"
            rules = f"{'lead: ' if lead else ''}rule {h['rule']}, score {h['score']:.2f}"
            if h.get("explanation"):
                rules += f"; {h['explanation']}"
            extra = f"; programme {h['programs']}" if h.get("programs") else ""
            if h["role"] == "vessel":
                ident = (
                    f" (IMO {h['imo']})"
                    if h.get("imo")
                    else f" (MMSI {h['mmsi']})"
                    if h.get("mmsi")
                    else ""
                )
                owners = [x["name"] for x in h.get("linked") or [] if x.get("listed")]
                tail = (
                    f"; the list links it to {', '.join(sorted(owners))}, listed too"
                    if owners
                    else ""
                )
                verb = "may be (name only, a lead)" if lead else "is"
                lines.append(
                    f"Watchlist: vessel {h['subject']}{ident} {verb} on {on} as {h['entry']} [{rules}{extra}]{tail}"
                )
            elif h.get("via_cluster"):
                lines.append(
                    f"Watchlist: {h['role']} «{h['subject']}» is the same organisation as «{h['via_spelling']}» "
                    f"(cluster {h['via_cluster']}), which {'may be (a lead)' if lead else 'is'} on {on} as {h['entry']} "
                    f"[{rules}{extra}]"
                )
            else:
                lines.append(
                    f"Watchlist: {h['role']} «{h['subject']}» {'may be (a lead)' if lead else 'is'} on {on} as "
                    f"{h['entry']} [{rules}{extra}]"
                )
        return lines

    # ------------------------------------------------------------------ findings

    def finish(
        self, arrivals: Sequence[Mapping[str, Any]], linked: Sequence[Mapping[str, Any]]
    ) -> ScreeningKeys:
        """The findings keys; marks each hit with the arrivals and shipments it touches."""
        chain_arrivals: dict[str, set[str]] = defaultdict(set)
        chain_links: dict[str, int] = defaultdict(int)
        linked_arrivals = {s.get("arrival_id") for s in linked}
        for a in arrivals:
            for h in a.get("watchlist") or []:
                chain_arrivals[h["hit_id"]].add(a["arrival_id"])
        for s in linked:
            for h in s.get("watchlist") or []:
                chain_links[h["hit_id"]] += 1
        vessel_in_chain = {hid for hid, ids in chain_arrivals.items() if ids & linked_arrivals}
        out = []
        for h in self.hits:
            item = dict(h)
            item["arrivals"] = sorted(chain_arrivals.get(h["hit_id"], set()))
            item["shipments"] = chain_links.get(h["hit_id"], 0)
            item["in_chain"] = bool(item["arrivals"] or item["shipments"])
            item["status"] = status_of(item)
            out.append(item)
        in_chain_vessels = {
            (h["mmsi"], h["imo"]) for h in out if h["subject_type"] == "vessel" and h["in_chain"]
        }
        for item in out:
            if item["rule"] == "list_link" and (item["mmsi"], item["imo"]) in in_chain_vessels:
                item["in_chain"] = True
        out.sort(
            key=lambda h: (
                h["status"] != "hit",
                not h["in_chain"],
                h["subject_type"] != "vessel",
                -h["score"],
                h["subject"],
                h["list"],
                h["entry_id"],
            )
        )
        listed_clusters = {h["cluster_id"] for h in out if h.get("cluster_id")}
        clusters = [dict(c, listed=c["cluster_id"] in listed_clusters) for c in self.clusters
                    if len(c["spellings"]) > 1 or c["cluster_id"] in listed_clusters]  # fmt: skip
        return {
            "watchlist_hits": out,
            "party_clusters": clusters,
            "screening": {
                "lists": self.lists,
                "hits": sum(1 for h in out if h["status"] == "hit"),
                "leads": sum(1 for h in out if h["status"] == "lead"),
                "matches": len(out),
                "hit_min": HIT_MIN,
                "hits_in_chain": sum(1 for h in out if h["in_chain"] and h["status"] == "hit"),
                "leads_in_chain": sum(1 for h in out if h["in_chain"] and h["status"] == "lead"),
                "vessels_listed": len(
                    {
                        h["subject_key"]
                        for h in out
                        if h["subject_type"] == "vessel" and h["status"] == "hit"
                    }
                ),
                "parties_listed": len(
                    {
                        h["subject_key"]
                        for h in out
                        if h["subject_type"] == "party" and h["status"] == "hit"
                    }
                ),
                "party_spellings": self.spellings,
                "party_clusters": len({c["cluster_id"] for c in self.clusters}),
                "multi_spelling_clusters": sum(1 for c in self.clusters if len(c["spellings"]) > 1),
                "chain_vessel_hits": len(vessel_in_chain),
            },
        }


def _brief(h: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "hit_id",
        "subject",
        "list",
        "list_date",
        "entry",
        "entry_id",
        "score",
        "rule",
        "programs",
        "mmsi",
        "imo",
        "linked",
        "status",
        "explanation",
    )
    return {**{k: h.get(k) for k in keys}, "status": status_of(h)}


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for item in sorted(
        items,
        key=lambda h: (str(h.get("role", "")), -h["score"], h["list"], h["entry_id"], h["subject"]),
    ):
        key = (item.get("role"), item["hit_id"], item["subject"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def watchlist_block(case: Case) -> WatchlistBlock:
    """Read the screening tables of an analysed case (empty when there are none)."""
    block = WatchlistBlock()
    if case.has_table("watchlist_hits"):
        for r in case.rows(
            "SELECT * FROM watchlist_hits ORDER BY subject_type DESC, score DESC, subject, list, entry_id, role"
        ):
            item = {k: _iso(v) for k, v in r.items()}
            for key in ("flags", "linked", "notes", "features", "penalties"):
                item[key] = (
                    json.loads(item[key]) if item.get(key) else ([] if key != "flags" else {})
                )
            item["status"] = status_of(item)
            item["rules"] = [x for x in (item.get("rules") or "").split(", ") if x]
            block.hits.append(item)
    if case.has_table("party_clusters"):
        clusters: dict[str, dict[str, Any]] = {}
        for r in case.rows(
            "SELECT * FROM party_clusters ORDER BY cluster_records DESC, cluster_id, position"
        ):
            c = clusters.setdefault(r["cluster_id"], {
                "cluster_id": r["cluster_id"], "canonical": r["canonical"], "records": r["cluster_records"],
                "spellings": [], "roles": set(), "legal_form": r["legal_form"],
                "inn": [x for x in (r["inn"] or "").split(", ") if x], "ogrn": [x for x in (r["ogrn"] or "").split(", ") if x],
                "rules": [x for x in (r["rules"] or "").split(", ") if x],
            })  # fmt: skip
            roles = [x for x in (r["roles"] or "").split(", ") if x]
            c["spellings"].append({"name": r["name"], "records": r["records"], "roles": roles})
            c["roles"].update(roles)
            block.cluster_of[r["name"]] = r["cluster_id"]
        block.spellings = len(block.cluster_of)
        block.clusters = [dict(c, roles=sorted(c["roles"])) for c in clusters.values()]
        block.clusters.sort(
            key=lambda c: (-len(c["spellings"]), -(c["records"] or 0), c["cluster_id"])
        )
    if case.has_table("watchlist_lists"):
        block.lists = [{k: _iso(v) for k, v in r.items()} for r in case.rows(
            """SELECT list, format, published, date_source, source_file, entries FROM watchlist_lists
               UNION ALL
               SELECT list, 'csv', NULL, 'unknown (simple CSV)', source_file, count(*) FROM watchlist
               WHERE file_hash NOT IN (SELECT file_hash FROM watchlist_lists) GROUP BY list, source_file
               ORDER BY source_file, list"""
        )]  # fmt: skip
    return block
