"""Synthetic rail waybill records: linked explosives, background explosives and decoys.

Weights are kept as integer tenths of a kilogram so that the truth totals are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import numpy as np

from cargotrace.sample.codes import esr_short_form_unambiguous, make_wagon
from cargotrace.sample.reference import (
    COAL_DESTINATIONS,
    CONTAINER_DESTINATIONS,
    INDUSTRIAL_ORIGIN,
    MINE_STATIONS,
    PORT_STATIONS,
    SITES,
    Station,
)
from cargotrace.sample.schedule import PERIOD_DAYS, WINDOW_DAYS, Schedule, day_of

T = TypeVar("T")
Label = tuple[str, str]  # (cargo text, cargo code)

LINKED_TONNES_TARGET = 74_000.0
BACKGROUND_SHARE = 0.05  # of all explosives leaving the port stations
LAG_WEIGHTS = np.array([0.07, 0.14, 0.18, 0.17, 0.15, 0.12, 0.10, 0.07])
EXPLOSIVES_LABELS = (
    ("Взрывчатые вещества", "731006"),
    ("ВЗРЫВЧАТЫЕ ВЕЩЕСТВА", "731006"),
    ("взрывчатые вещества", "731006"),
    ("ВВ", "731006"),
    ("взрывчатые материалы", "731014"),
    ("Взрывчатые материалы", "731014"),
)
INDUSTRIAL_LABELS = (
    ("ВВ промышленные", "731203"),
    ("Аммонит 6ЖВ", "731207"),
    ("аммонит", "731207"),
)
COAL_LABELS = (
    ("Уголь каменный", "161005"),
    ("УГОЛЬ КАМЕННЫЙ", "161005"),
    ("уголь каменный", "161005"),
)
CONTAINER_LABELS = (("Контейнеры", "941012"), ("контейнеры", "941012"), ("КОНТЕЙНЕРЫ", "941012"))
AMMUNITION_LABELS = ("боеприпасы", "БОЕПРИПАСЫ", "Боеприпасы")
PORT_CONSIGNORS = {"RUVYP": "ООО «ВОСТОК-ТРАНЗИТ» (ДЕМО)", "RUDUN": "в/ч 99001 (ДЕМО)"}
WAGON_TYPE = {"explosives": 2, "industrial": 2, "coal": 6, "container": 4}

DEPARTURE_HEADER = (
    "Номер накладной",
    "Операция",
    "Дата отправления",
    "Станция отправления",
    "Код станции отправления",
    "Станция назначения",
    "Код станции назначения",
    "Наименование груза",
    "Код груза",
    "Вес груза, кг",
    "Грузоотправитель",
    "Грузополучатель",
    "Номер вагона",
)
ARRIVAL_HEADER = (
    "waybill",
    "wagon",
    "record",
    "departed_on",
    "arrived_on",
    "origin_station",
    "origin_esr",
    "destination_station",
    "destination_esr",
    "cargo",
    "weight_t",
)


@dataclass
class Consignment:
    waybill: str
    wagon: str
    day: date
    origin: Station
    destination: Station
    cargo: str
    cargo_code: str
    kg10: int  # weight in tenths of a kilogram
    consignor: str
    consignee: str
    category: str  # linked | background | industrial | coal | container | broken
    arrival_id: str = ""

    @property
    def tonnes(self) -> float:
        return self.kg10 / 10_000


class Identifiers:
    """Unique waybill and wagon numbers, drawn deterministically."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.waybills: set[str] = set()
        self.wagons: set[str] = set()

    def waybill(self) -> str:
        while True:
            prefix = ("ЭА", "ЭБ", "ЭВ", "ЭД")[int(self.rng.integers(0, 4))]
            number = f"{prefix}{int(self.rng.integers(100_000, 1_000_000))}"
            if number not in self.waybills:
                self.waybills.add(number)
                return number

    def wagon(self, kind: str) -> str:
        while True:
            number = make_wagon(WAGON_TYPE[kind], int(self.rng.integers(0, 1_000_000)))
            if number not in self.wagons:
                self.wagons.add(number)
                return number


def _kg10(rng: np.random.Generator, low_kg: int, high_kg: int, fraction_share: float = 0.3) -> int:
    kg = int(rng.integers(low_kg, high_kg + 1))
    tenth = int(rng.integers(1, 10)) if rng.uniform() < fraction_share else 0
    return kg * 10 + tenth


def _pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    return options[int(rng.integers(0, len(options)))]


def _consignee(site: Station) -> str:
    return f"в/ч {99100 + SITES.index(site):05d} (ДЕМО)"


def _explosives(
    ids: Identifiers,
    rng: np.random.Generator,
    day: date,
    port: str,
    site: Station,
    label: Label,
    category: str,
    arrival_id: str = "",
) -> Consignment:
    return Consignment(
        ids.waybill(),
        ids.wagon("explosives"),
        day,
        PORT_STATIONS[port],
        site,
        label[0],
        label[1],
        _kg10(rng, 55_000, 68_000),
        PORT_CONSIGNORS[port],
        _consignee(site),
        category,
        arrival_id,
    )


def linked_consignments(
    schedule: Schedule, ids: Identifiers, rng: np.random.Generator
) -> list[Consignment]:
    """Explosives leaving each qualifying arrival's port 0..7 days after the arrival day,
    about 74,000 t in all, spread over the 16 sites (every site gets some)."""
    arrivals = schedule.qualifying
    shares = rng.uniform(0.6, 1.4, size=len(arrivals))
    targets = shares / shares.sum() * LINKED_TONNES_TARGET * 10_000
    popularity = rng.uniform(0.6, 1.6, size=len(SITES))
    out: list[Consignment] = []
    for i, arr in enumerate(arrivals):
        chosen = {
            i % len(SITES),
            *rng.choice(len(SITES), size=int(rng.integers(3, 7)), replace=False).tolist(),
        }
        sites = sorted(chosen)
        weights = popularity[sites] / popularity[sites].sum()
        labels: dict[tuple[int, int], Label] = {}
        total = 0
        while total < targets[i] - 310_000:  # stop within about half a wagon of the target
            lag = int(rng.choice(WINDOW_DAYS + 1, p=LAG_WEIGHTS))
            site = sites[int(rng.choice(len(sites), p=weights))]
            label = labels.setdefault((lag, site), _pick(rng, EXPLOSIVES_LABELS))
            day = arr.day + timedelta(days=lag)
            c = _explosives(ids, rng, day, arr.port, SITES[site], label, "linked", arr.arrival_id)
            out.append(c)
            total += c.kg10
    return out


def background_consignments(
    schedule: Schedule, linked_kg10: int, ids: Identifiers, rng: np.random.Generator
) -> list[Consignment]:
    """Explosives from the port stations on days outside every arrival's 8-day block:
    shipments of interest that must not be linked (about 5% of port explosives)."""
    target = linked_kg10 * BACKGROUND_SHARE / (1 - BACKGROUND_SHARE)
    free = [
        (port, d)
        for port in sorted(schedule.blocked)
        for d in range(PERIOD_DAYS)
        if d not in schedule.blocked[port]
    ]
    out: list[Consignment] = []
    total = 0
    while total < target - 310_000:
        port, d = free[int(rng.integers(0, len(free)))]
        site = SITES[int(rng.integers(0, len(SITES)))]
        label = _pick(rng, EXPLOSIVES_LABELS)
        for _ in range(int(rng.integers(2, 6))):
            c = _explosives(ids, rng, day_of(d), port, site, label, "background")
            out.append(c)
            total += c.kg10
    return out


def _decoy(
    ids: Identifiers,
    rng: np.random.Generator,
    kind: str,
    day: date,
    origin: Station,
    dest: Station,
    label: Label,
    kg: tuple[int, int],
    consignor: str,
    consignee: str,
) -> Consignment:
    return Consignment(
        ids.waybill(),
        ids.wagon(kind),
        day,
        origin,
        dest,
        label[0],
        label[1],
        _kg10(rng, *kg),
        consignor,
        consignee,
        kind,
    )


def port_decoys(
    linked: list[Consignment], ids: Identifiers, rng: np.random.Generator
) -> list[Consignment]:
    """Coal and containers from the same port stations, half of them on linked days."""
    linked_days = sorted({(c.origin.port_locode, c.day) for c in linked})
    out: list[Consignment] = []
    for kind, n, dests, labels, kg in (
        ("coal", 240, COAL_DESTINATIONS, COAL_LABELS, (66_000, 70_500)),
        ("container", 160, CONTAINER_DESTINATIONS, CONTAINER_LABELS, (18_000, 52_000)),
    ):
        for _ in range(n):
            if rng.uniform() < 0.5:
                port, day = linked_days[int(rng.integers(0, len(linked_days)))]
            else:
                port = ("RUVYP", "RUDUN")[int(rng.integers(0, 2))]
                day = day_of(int(rng.integers(0, PERIOD_DAYS)))
            dest = _pick(rng, dests)
            consignee = f"АО «ПОЛУЧАТЕЛЬ-{dests.index(dest) + 1}» (ДЕМО)"
            out.append(
                _decoy(
                    ids,
                    rng,
                    kind,
                    day,
                    PORT_STATIONS[port],
                    dest,
                    _pick(rng, labels),
                    kg,
                    "АО «ПОРТ-СЕРВИС» (ДЕМО)",
                    consignee,
                )
            )
    return out


def industrial_decoys(ids: Identifiers, rng: np.random.Generator, n: int = 90) -> list[Consignment]:
    """Industrial explosives from Kuzbass (a station serving no port) to coal mines."""
    out = []
    for _ in range(n):
        dest = _pick(rng, MINE_STATIONS)
        consignee = f"АО «РАЗРЕЗ-{MINE_STATIONS.index(dest) + 1}» (ДЕМО)"
        day = day_of(int(rng.integers(0, PERIOD_DAYS)))
        label = _pick(rng, INDUSTRIAL_LABELS)
        out.append(
            _decoy(
                ids,
                rng,
                "industrial",
                day,
                INDUSTRIAL_ORIGIN,
                dest,
                label,
                (40_000, 64_000),
                "АО «КУЗБАСС-ВЗРЫВПРОМ» (ДЕМО)",
                consignee,
            )
        )
    return out


# --- formatting -------------------------------------------------------------------------
def tonnes_text(kg10: int) -> str:
    """Exact decimal tonnes (4 places) from tenths of a kilogram."""
    return f"{kg10 // 10_000}.{kg10 % 10_000:04d}"


def fmt_date(day: date, rng: np.random.Generator) -> str:
    return day.strftime("%d.%m.%y") if rng.uniform() < 0.15 else day.strftime("%d.%m.%Y")


def fmt_kg(kg10: int, rng: np.random.Generator) -> str:
    """Kilograms: plain, decimal comma, space thousands separator, or both."""
    kg, tenth = divmod(kg10, 10)
    body = f"{kg:,}".replace(",", " ") if rng.uniform() < 0.3 else str(kg)
    return f"{body},{tenth}" if tenth else body


def fmt_esr(station: Station, rng: np.random.Generator) -> str:
    """6-digit code, or in ~10% of rows the 5-digit form without check digit (only where
    that form cannot be mistaken for a code that lost its leading zero)."""
    if esr_short_form_unambiguous(station.esr) and rng.uniform() < 0.1:
        return station.esr[:5]
    return station.esr


def departure_row(c: Consignment, rng: np.random.Generator) -> list[str]:
    return [
        c.waybill,
        "отправление",
        fmt_date(c.day, rng),
        c.origin.name,
        fmt_esr(c.origin, rng),
        c.destination.name,
        fmt_esr(c.destination, rng),
        c.cargo,
        c.cargo_code,
        fmt_kg(c.kg10, rng),
        c.consignor,
        c.consignee,
        c.wagon,
    ]


def broken_rows(
    ids: Identifiers, schedule: Schedule, rng: np.random.Generator
) -> list[tuple[str, list[str]]]:
    """15 rows that must be quarantined, with the reason planted: impossible dates, empty
    waybills, non-numeric weights, too few fields. Built like linked explosives rows."""
    port_days = [(a.port, a.day) for a in schedule.qualifying]
    out = []
    bad_dates = ("31.02.2023", "31.09.2023", "31.11.2023", "32.10.2023")
    for n in range(15):
        port, day = port_days[int(rng.integers(0, len(port_days)))]
        site = SITES[int(rng.integers(0, len(SITES)))]
        c = _explosives(
            ids,
            rng,
            day + timedelta(days=int(rng.integers(0, 8))),
            port,
            site,
            _pick(rng, EXPLOSIVES_LABELS),
            "broken",
        )
        row = departure_row(c, rng)
        if n < 4:
            row[2], reason = bad_dates[n], "impossible date"
        elif n < 8:
            row[0], reason = "", "empty waybill"
        elif n < 12:
            row[9], reason = "н/д", "non-numeric weight"
        else:
            row, reason = row[:7], "too few fields"
        out.append((reason, row))
    return out


def arrival_rows(
    linked: list[Consignment], coal: list[Consignment], rng: np.random.Generator
) -> tuple[list[list[str]], int]:
    """Arrival records at destination for ~35% of linked consignments (mostly relabelled
    «боеприпасы», a few keep the explosives label) and a few coal consignments (same label).
    Returns rows and the number of label changes (explosives -> ammunition)."""
    rows, changes = [], 0
    picked = [c for c in linked if rng.uniform() < 0.35] + [c for c in coal if rng.uniform() < 0.06]
    for c in sorted(picked, key=lambda c: (c.day, c.waybill)):
        transit = int(rng.integers(9, 17)) if c.category == "linked" else int(rng.integers(1, 4))
        cargo = c.cargo
        if c.category == "linked" and rng.uniform() < 0.92:
            cargo = _pick(rng, AMMUNITION_LABELS)
            changes += 1
        rows.append(
            [
                c.waybill,
                c.wagon,
                "arrival",
                c.day.isoformat(),
                (c.day + timedelta(days=transit)).isoformat(),
                c.origin.name,
                c.origin.esr,
                c.destination.name,
                c.destination.esr,
                cargo,
                tonnes_text(c.kg10),
            ]
        )
    return rows, changes
