"""Readers for sanctions lists, independent of a case: the OFAC SDN legacy CSV, the UN
Security Council consolidated list XML, and FollowTheMoney entities as JSON lines (as
OpenSanctions exports them). Each returns a `ListFile`: the list's name, its date and how
that date was found, and one `ListEntry` per listed vessel, company, organisation or
person, with aliases, former names, identifiers and links to other entries.

FollowTheMoney is parsed here directly rather than with the `followthemoney` package: its
JSON-lines form is plain JSON with a stable property vocabulary, while the package pulls
in some 25 dependencies (PyICU built from source against the system ICU, SQLAlchemy with
mypy, rdflib, phonenumbers ...) for no gain in reading it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from cargotrace.ingest.readers.sources import open_binary
from cargotrace.reference.checkdigits import inn_check_ok, ogrn_check_ok
from cargotrace.reference.country_names import country_code

# FtM schemata screened as list entries; the others are folded into them (links, sanctions).
MATCHABLE = {"Vessel", "Company", "Organization", "Person", "LegalEntity", "PublicBody", "Airplane"}
LINK_SCHEMATA = {
    "Ownership": ("owner", "asset", "owner"),
    "Directorship": ("director", "organization", "director"),
    "UnknownLink": ("subject", "object", "linked_to"),
    "Associate": ("person", "associate", "associate"),
    "Family": ("person", "relative", "family"),
    "Membership": ("member", "organization", "member"),
    "Employment": ("employee", "employer", "employee"),
    "Representation": ("agent", "client", "agent"),
    "Succession": ("predecessor", "successor", "predecessor"),
}


@dataclass
class Link:
    """`relation` of the other party to this entry: owner, operator, linked_to, ..."""

    relation: str
    name: str | None = None
    entry_id: str | None = None


@dataclass
class ListEntry:
    entry_id: str
    schema: str
    name: str
    row: int
    aliases: list[str] = field(default_factory=list)
    weak_aliases: list[str] = field(default_factory=list)
    former_names: list[str] = field(default_factory=list)
    imo: str | None = None
    mmsi: str | None = None
    flag: str | None = None
    past_flags: list[str] = field(default_factory=list)
    call_sign: str | None = None
    vessel_type: str | None = None
    tonnage_gt: float | None = None
    build_year: int | None = None
    length_m: float | None = None
    inn: str | None = None
    ogrn: str | None = None
    programs: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    listed_on: str | None = None
    note: str | None = None

    def vessel_details(self) -> dict[str, Any]:
        """Type, tonnage, build year and length as the list gives them (those it gives)."""
        found = {"type": self.vessel_type, "tonnage_gt": self.tonnage_gt, "build_year": self.build_year,
                 "length_m": self.length_m}  # fmt: skip
        return {k: v for k, v in found.items() if v is not None}

    def names(self) -> Iterator[tuple[str, str]]:
        """(name, kind) for every name of the entry, kind: name, alias, weak_alias, former_name."""
        seen = set()
        for kind, values in (("name", [self.name]), ("alias", self.aliases), ("former_name", self.former_names),
                             ("weak_alias", self.weak_aliases)):  # fmt: skip
            for value in values:
                text = " ".join(str(value).split())
                if text and text.upper() not in seen:
                    seen.add(text.upper())
                    yield text, kind


@dataclass
class ListFile:
    format: str
    name: str
    published: date | None
    date_source: str
    entries: list[ListEntry]
    rejected: list[tuple[int, list[str]]] = field(default_factory=list)  # (row, raw fields)
    skipped: int = 0  # blank lines and FtM records folded into entries (links, sanctions)
    detail: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- sniffing


def sniff_format(path: Path) -> str:
    """'ofac-sdn-csv', 'un-xml', 'ftm-jsonl' or 'csv' (the simple name, imo, mmsi, list, note)."""
    with open_binary(path) as handle:
        head = handle.read(64 * 1024)
    text = _decode(head).lstrip("\ufeff \t\r\n")
    if text.startswith("<") and (
        "<CONSOLIDATED_LIST" in text or "<INDIVIDUALS" in text or "<ENTITIES" in text
    ):
        return "un-xml"
    if text.startswith("{"):
        first = text.split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            obj = None
        if isinstance(obj, dict) and "schema" in obj:
            return "ftm-jsonl"
        if path.suffix.lower() in (".jsonl", ".ndjson", ".ftm", ".json"):
            return "ftm-jsonl"
    try:
        rows = list(csv.reader(io.StringIO(text.split("\n", 3)[0] if text else "")))
    except csv.Error:  # e.g. a bare CR inside the first line: not the OFAC layout
        return "csv"
    if rows and len(rows[0]) == 12 and rows[0][0].strip().isdigit() and rows[0][2].strip().lower() in (
        "individual", "vessel", "aircraft", "-0-",
    ):  # fmt: skip
        return "ofac-sdn-csv"
    return "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(data) - 4:  # a character cut by the sample boundary
            return data[: exc.start].decode("utf-8")
        return data.decode("cp1252", errors="replace")


def read_list(path: Path, fmt: str | None = None) -> ListFile:
    fmt = fmt or sniff_format(path)
    readers = {"ofac-sdn-csv": read_sdn_csv, "un-xml": read_un_xml, "ftm-jsonl": read_ftm}
    if fmt not in readers:
        raise ValueError(f"{path.name}: not a structured sanctions list ({fmt})")
    return readers[fmt](path)


_DATE_IN_NAME = re.compile(r"(20\d\d|19\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])")


def date_from_name(path: Path) -> date | None:
    match = _DATE_IN_NAME.search(path.name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _dated(path: Path, found: date | None, source: str) -> tuple[date | None, str]:
    if found is not None:
        return found, source
    named = date_from_name(path)
    if named is not None:
        return named, "file name"
    return None, "unknown (not stated in the file; put YYYY-MM-DD in the file name to record it)"


# --------------------------------------------------------------------------- OFAC SDN CSV

_SDN_NULL = "-0-"
_AKA = re.compile(r"^(?:alt\.\s+)?([afn])\.k\.a\.,?\s+'(.*)'\.?$", re.IGNORECASE | re.DOTALL)
_IMO_REMARK = re.compile(
    r"(?:Vessel Registration Identification|Identification Number)\s+IMO\s+(\d{7})"
)
_MMSI_REMARK = re.compile(r"\bMMSI\s+(\d{9})\b")
_LINKED = re.compile(r"^Linked To:\s*(.+?)\.?$")
_FORMER_FLAG = re.compile(r"^(?:alt\.\s+)?Former Vessel Flag\s+(.+?)\.?$")
_FORMER_NAME = re.compile(r"^(?:alt\.\s+)?Former Vessel Name\s+'?(.+?)'?\.?$")
_BUILD_YEAR = re.compile(r"^(?:alt\.\s+)?Vessel Year of Build\s+(\d{4})\.?$")
_TAX_ID = re.compile(r"^(?:alt\.\s+)?(?:Tax ID No\.|INN)\s+(\d{10}|\d{12})\s+\(Russia\)")
_REG_ID = re.compile(
    r"^(?:alt\.\s+)?(?:Registration ID|Registration Number|OGRN)\s+(\d{13}|\d{15})\s+\(Russia\)"
)


def _sdn(value: str) -> str | None:
    text = value.strip()
    return None if not text or text == _SDN_NULL else text


def _number(value: str | None) -> float | None:
    """A positive number as lists write it ('12,345'), else None."""
    if not value:
        return None
    try:
        number = float(value.replace(",", "").strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _remark_segments(remarks: str) -> list[str]:
    """SDN remarks are '; '-separated statements."""
    return [s.strip() for s in re.split(r";\s+", remarks) if s.strip()]


def _apply_sdn_remarks(entry: ListEntry, remarks: str) -> None:
    vessel = entry.schema == "Vessel"
    for segment in _remark_segments(remarks):
        if m := _AKA.match(segment):
            kind, name = m[1].lower(), m[2].strip()
            (entry.former_names if kind == "f" else entry.aliases).append(name)
        elif m := _LINKED.match(segment):
            entry.links.append(Link("linked_to", m[1].strip()))
        elif m := _FORMER_FLAG.match(segment):
            code = country_code(m[1])
            if code and code not in entry.past_flags:
                entry.past_flags.append(code)
        elif vessel and (m := _FORMER_NAME.match(segment)):
            entry.former_names.append(m[1].strip())
        elif vessel and (m := _BUILD_YEAR.match(segment)):
            entry.build_year = int(m[1])
        elif m := _TAX_ID.match(segment):
            if inn_check_ok(m[1]) and entry.inn is None:
                entry.inn = m[1]
        elif m := _REG_ID.match(segment):
            if ogrn_check_ok(m[1]) and entry.ogrn is None:
                entry.ogrn = m[1]
    if m := _IMO_REMARK.search(remarks):
        entry.imo = m[1]
    if m := _MMSI_REMARK.search(remarks):
        entry.mmsi = m[1]


def read_sdn_csv(path: Path) -> ListFile:
    """OFAC SDN legacy CSV (no header; ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
    Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks; '-0-' is null). Vessels are
    SDN_Type 'vessel' with the IMO number, MMSI and former names in the remarks."""
    with open_binary(path) as handle:
        text = _decode(handle.read())
    entries: list[ListEntry] = []
    rejected: list[tuple[int, list[str]]] = []
    skipped = 0
    schema_of = {"vessel": "Vessel", "individual": "Person", "aircraft": "Airplane"}
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() or f.strip() == "\x1a" for f in fields):
            skipped += 1  # blank lines and the DOS end-of-file marker OFAC appends
            continue
        if len(fields) != 12 or not fields[0].strip().isdigit():
            rejected.append((number, fields))
            continue
        ent, name, kind, program, title, call_sign, vtype, tons, grt, vflag, vowner, remarks = (
            fields
        )
        entry = ListEntry(
            entry_id=f"ofac-sdn:{ent.strip()}", schema=schema_of.get((_sdn(kind) or "").lower(), "Organization"),
            name=(_sdn(name) or ""), row=number, call_sign=_sdn(call_sign), flag=country_code(_sdn(vflag)),
            programs=[p.strip(" []") for p in (_sdn(program) or "").split("] [") if p.strip(" []")],
            datasets=["OFAC SDN"],
            note="; ".join(x for x in (_sdn(title), _sdn(vtype), _sdn(remarks)) if x) or None,
        )  # fmt: skip
        entry.vessel_type = _sdn(vtype)
        entry.tonnage_gt = _number(_sdn(grt)) or _number(_sdn(tons))
        if owner := _sdn(vowner):
            entry.links.append(Link("owner", owner))
        _apply_sdn_remarks(entry, _sdn(remarks) or "")
        entries.append(entry)
    published, source = _dated(path, None, "")
    return ListFile("ofac-sdn-csv", "OFAC SDN", published, source, entries, rejected, skipped,
                    {"vessels": sum(1 for e in entries if e.schema == "Vessel")})  # fmt: skip


# --------------------------------------------------------------------------- UN XML

_UN_IMO = re.compile(r"IMO\)?\s*(?:number|Number)?:?\s*(\d{7})")


def _text(node: ElementTree.Element | None) -> str | None:
    if node is None or node.text is None:
        return None
    return " ".join(node.text.split()) or None


def _un_entry(node: ElementTree.Element, row: int) -> ListEntry:
    individual = node.tag == "INDIVIDUAL"
    parts = [
        _text(node.find(t)) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
    ]
    name = " ".join(p for p in parts if p)
    ref = _text(node.find("REFERENCE_NUMBER")) or _text(node.find("DATAID")) or str(row)
    entry = ListEntry(
        entry_id=f"un:{ref}", schema="Person" if individual else "Organization", name=name, row=row,
        programs=[p for p in [_text(node.find("UN_LIST_TYPE"))] if p], datasets=["UN SC"],
        listed_on=_text(node.find("LISTED_ON")), note=_text(node.find("COMMENTS1")),
    )  # fmt: skip
    original = _text(node.find("NAME_ORIGINAL_SCRIPT"))
    if original:
        entry.aliases.append(original)
    for alias in node.findall("INDIVIDUAL_ALIAS" if individual else "ENTITY_ALIAS"):
        value, quality = (
            _text(alias.find("ALIAS_NAME")),
            (_text(alias.find("QUALITY")) or "").lower(),
        )
        if not value:
            continue
        if quality == "f.k.a.":
            entry.former_names.append(value)
        elif quality == "low":
            entry.weak_aliases.append(value)
        else:
            entry.aliases.append(value)
    if not individual and entry.note and (m := _UN_IMO.search(entry.note)):
        entry.imo = m[1]  # the company's IMO number, not a ship's
    nationality = node.find("NATIONALITY")
    if nationality is not None:
        codes = [country_code(_text(v)) for v in nationality.findall("VALUE")]
        entry.flag = None if individual else next((c for c in codes if c), None)
    return entry


def read_un_xml(path: Path) -> ListFile:
    """UN Security Council consolidated list (INDIVIDUAL and ENTITY records)."""
    entries: list[ListEntry] = []
    generated: date | None = None
    with open_binary(path) as handle:
        row = 0
        for event, node in ElementTree.iterparse(handle, events=("start", "end")):
            if event == "start" and node.tag == "CONSOLIDATED_LIST" and node.get("dateGenerated"):
                try:
                    generated = date.fromisoformat(str(node.get("dateGenerated"))[:10])
                except ValueError:
                    generated = None
            if event == "end" and node.tag in ("INDIVIDUAL", "ENTITY"):
                row += 1
                entries.append(_un_entry(node, row))
                node.clear()
    published, source = _dated(path, generated, "dateGenerated in the file")
    return ListFile("un-xml", "UN SC Consolidated", published, source, entries,
                    detail={"individuals": sum(1 for e in entries if e.schema == "Person")})  # fmt: skip


# --------------------------------------------------------------------------- FollowTheMoney


def _values(props: dict[str, Any], key: str) -> list[Any]:
    value = props.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _strs(props: dict[str, Any], key: str) -> list[str]:
    out = []
    for v in _values(props, key):
        if isinstance(v, dict):
            v = v.get("caption") or v.get("id")
        if v is not None and str(v).strip():
            out.append(str(v).strip())
    return out


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _props(obj: dict[str, Any]) -> dict[str, Any]:
    """An entity's properties; anything but an object (damaged line) counts as none."""
    props = obj.get("properties")
    return props if isinstance(props, dict) else {}


def _ftm_entry(obj: dict[str, Any], row: int) -> ListEntry:
    props = _props(obj)
    names = _strs(props, "name")
    caption = str(obj.get("caption") or (names[0] if names else ""))
    entry = ListEntry(
        entry_id=str(obj.get("id") or f"row-{row}"),
        schema=str(obj.get("schema")),
        name=caption,
        row=row,
    )
    entry.aliases = (
        [n for n in names if n != caption] + _strs(props, "alias") + _strs(props, "abbreviation")
    )
    entry.weak_aliases = _strs(props, "weakAlias")
    entry.former_names = _strs(props, "previousName")
    first = {
        key: next(iter(_strs(props, key)), None)
        for key in ("imoNumber", "mmsi", "callSign", "flag")
    }
    entry.imo = re.sub(r"^IMO\s*", "", first["imoNumber"].upper()) if first["imoNumber"] else None
    entry.mmsi, entry.call_sign = first["mmsi"], first["callSign"]
    entry.flag = country_code(first["flag"]) if first["flag"] else None
    entry.past_flags = [c for c in (country_code(v) for v in _strs(props, "pastFlags")) if c]
    entry.vessel_type = next(iter(_strs(props, "type")), None)
    entry.tonnage_gt = next(
        (
            n
            for n in map(_number, _strs(props, "grossRegisteredTonnage") + _strs(props, "tonnage"))
            if n
        ),
        None,
    )
    entry.build_year = next(
        (int(v[:4]) for v in _strs(props, "buildDate") if v[:4].isdigit()), None
    )
    entry.length_m = next((n for n in map(_number, _strs(props, "length")) if n), None)
    entry.inn = next((v for v in _strs(props, "innCode") if inn_check_ok(v)), None)
    entry.ogrn = next((v for v in _strs(props, "ogrnCode") if ogrn_check_ok(v)), None)
    entry.programs = _strs(props, "programId")
    datasets = obj.get("datasets") or []
    entry.datasets = [str(d) for d in (datasets if isinstance(datasets, list) else [datasets])]
    entry.listed_on = next(iter(_strs(props, "createdAt")), None)
    entry.note = "; ".join(_strs(props, "notes")) or None
    for relation in ("owner", "operator", "parent"):
        for value in _values(props, relation):
            if ref := _ref(value):
                entry.links.append(Link(relation, None, ref))
    return entry


def _merge_fragment(entry: ListEntry, fragment: ListEntry) -> None:
    """A later line with the same entity id is a fragment of the same entity (FtM exports
    may split one entity over several lines, as `ftm aggregate` would merge them): its names,
    flags, programmes, datasets and links are added, and empty fields filled."""

    def extend(values: list[Any], more: list[Any]) -> None:
        values.extend(v for v in more if v not in values)

    names = [fragment.name] if fragment.name and fragment.name != entry.name else []
    extend(entry.aliases, names + fragment.aliases)
    extend(entry.weak_aliases, fragment.weak_aliases)
    extend(entry.former_names, fragment.former_names)
    extend(entry.past_flags, fragment.past_flags)
    extend(entry.programs, fragment.programs)
    extend(entry.datasets, fragment.datasets)
    extend(entry.links, fragment.links)
    for key in ("imo", "mmsi", "flag", "call_sign", "vessel_type", "tonnage_gt", "build_year", "length_m", "inn",
                "ogrn", "listed_on", "note"):  # fmt: skip
        if getattr(entry, key) is None:
            setattr(entry, key, getattr(fragment, key))
    if not entry.name:
        entry.name = fragment.name


def _stamp_date(value: object) -> date | None:
    """The day of a `last_change`/`last_seen` stamp; None when it is not an ISO date."""
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _ftm_objects(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The entity and, in nested exports, the entities inside its properties."""
    yield obj
    for values in _props(obj).values():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, dict) and value.get("schema"):
                yield from _ftm_objects(value)


def read_ftm(path: Path) -> ListFile:
    """FollowTheMoney entities, one JSON object per line. Vessels, companies, organisations
    and persons become entries; Ownership, Directorship and similar link records and
    Sanction records are folded into the entries they name."""
    entries: dict[str, ListEntry] = {}
    nested: dict[str, str] = {}  # matchable entities inside another's properties: id -> name
    links: list[tuple[str, Link]] = []
    programs: dict[str, list[str]] = {}
    rejected: list[tuple[int, list[str]]] = []
    skipped = merged = 0
    latest: date | None = None
    datasets: Counter[str] = Counter()
    schemata: Counter[str] = Counter()
    with open_binary(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                skipped += 1
                continue
            try:
                top = json.loads(line)
                if not isinstance(top, dict) or "schema" not in top:
                    raise ValueError("not an entity")
                objects = list(_ftm_objects(top))
            except (
                ValueError,
                UnicodeDecodeError,
                RecursionError,
            ):  # RecursionError: nested too deeply
                rejected.append((number, [line.decode("utf-8", "replace")[:1000]]))
                continue
            folded = True
            for obj in objects:
                schema = str(obj.get("schema"))
                schemata[schema] += 1
                stamp = _stamp_date(obj.get("last_change") or obj.get("last_seen"))
                if stamp and (latest is None or stamp > latest):
                    latest = stamp
                props = _props(obj)
                if schema in MATCHABLE and obj is top:
                    entry = _ftm_entry(obj, number)
                    if entry.entry_id in entries:  # a fragment: folded into the entity
                        datasets.update(set(entry.datasets) - set(entries[entry.entry_id].datasets))
                        _merge_fragment(entries[entry.entry_id], entry)
                        merged += 1
                    else:
                        datasets.update(entry.datasets)
                        folded = False
                        entries[entry.entry_id] = entry
                elif schema in MATCHABLE and obj.get("id"):
                    nested[str(obj["id"])] = str(
                        obj.get("caption") or (_strs(props, "name") or [""])[0]
                    )
                elif schema in LINK_SCHEMATA:
                    source_key, target_key, relation = LINK_SCHEMATA[schema]
                    for s in _values(props, source_key):
                        for t in _values(props, target_key):
                            if (sid := _ref(s)) and (tid := _ref(t)):
                                links.append((tid, Link(relation, None, sid)))
                                links.append((sid, Link(f"{relation}_of", None, tid)))
                elif schema == "Sanction":
                    label = " ".join(
                        _strs(props, "authority")[:1] + _strs(props, "program")[:1]
                    ).strip()
                    for e in _values(props, "entity"):
                        if (eid := _ref(e)) and label:
                            programs.setdefault(eid, []).append(label)
            if folded:
                skipped += 1
    for target, link in links:
        if target in entries:
            entries[target].links.append(link)
    for eid, labels in programs.items():
        if eid in entries:
            entries[eid].programs.extend(
                label for label in labels if label not in entries[eid].programs
            )
    for entry in entries.values():
        for link in entry.links:
            if link.entry_id and link.name is None:
                link.name = (
                    entries[link.entry_id].name
                    if link.entry_id in entries
                    else nested.get(link.entry_id)
                )
    published, source = _dated(path, latest, "latest last_change/last_seen in the file")
    top_sets = [d for d, _ in datasets.most_common(3)]
    name = (
        top_sets[0]
        if len(datasets) == 1
        else (", ".join(top_sets) + (" …" if len(datasets) > 3 else "")) or path.stem
    )
    ordered = sorted(entries.values(), key=lambda e: e.row)
    return ListFile("ftm-jsonl", name, published, source, ordered, rejected, skipped,
                    {"schemata": dict(schemata.most_common()), "datasets": dict(datasets.most_common()),
                     "fragments_merged": merged})  # fmt: skip
