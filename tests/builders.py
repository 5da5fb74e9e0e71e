"""Tiny hand-built cases: write a few CSV rows, ingest them, analyse, look at the tables."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.ingest.kinds.ais_rules import EARLIEST_AIS
from cargotrace.sample.sightings import SIGHTING_HEADER as SIGHTINGS_COLUMNS
from cargotrace.settings import AnalysisSettings

T0 = datetime(2023, 9, 1, 0, 0, tzinfo=UTC)
VOSTOCHNY = (42.733333, 133.05)
RAJIN = (42.2333, 130.3)
PORT_STATION = {
    "esr": "984700",
    "name": "Находка-Восточная",
    "lat": 42.78,
    "lon": 133.03,
    "port_locode": "RUVYP",
}


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def dwell(
    mmsi: int, at: tuple[float, float], start: datetime, hours: float, step_min: int = 10
) -> list[list[Any]]:
    """Fixes stopped at a berth from `start` for exactly `hours`, plus a moving fix before/after."""
    rows = [[mmsi, (start - timedelta(hours=1)).isoformat(), at[0] - 0.2, at[1], 10.0, 0, 0, 0]]
    n = int(round(hours * 60 / step_min))
    times = [start + timedelta(minutes=step_min * i) for i in range(n)] + [
        start + timedelta(hours=hours)
    ]
    rows += [[mmsi, t.isoformat(), at[0], at[1], 0.1, 0, 0, 5] for t in times]
    rows.append(
        [
            mmsi,
            (start + timedelta(hours=hours, minutes=30)).isoformat(),
            at[0] - 0.2,
            at[1],
            10.0,
            0,
            0,
            0,
        ]
    )
    return rows


POSITION_HEADER = ["mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"]
SIGHTING_HEADER = list(SIGHTINGS_COLUMNS)  # the contract's columns, one definition
SHIPMENT_HEADER = ["waybill", "wagon", "record", "departed_on", "origin_station", "origin_esr",
                   "destination_station", "destination_esr", "cargo", "weight_t"]  # fmt: skip
STATION_HEADER = ["esr", "name", "lat", "lon", "port_locode"]
FACILITY_HEADER = ["name", "category", "lat", "lon", "source"]


class CaseBuilder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.case_dir = root / "case"
        self.positions: list[list[Any]] = []
        self.sightings: list[list[Any]] = []
        self.shipments: list[list[Any]] = []
        self.stations: list[list[Any]] = [[PORT_STATION[k] for k in STATION_HEADER]]
        self.facilities: list[list[Any]] = []

    def sighting(
        self, day: datetime, port: str, mmsi: int = 273000001, name: str = "TEST SHIP"
    ) -> None:
        self.sightings.append([day.isoformat(), name, "", mmsi, port, "", "", "imagery", 0.8, ""])

    def shipment(self, waybill: str, day: datetime, dest_esr: str = "515002", cargo: str = "взрывчатые вещества",
                 weight_t: float = 60.0, origin_esr: str = "984700", record: str = "departure") -> None:  # fmt: skip
        self.shipments.append(
            [
                waybill,
                "",
                record,
                day.date().isoformat(),
                "",
                origin_esr,
                "",
                dest_esr,
                cargo,
                weight_t,
            ]
        )

    def station(self, esr: str, name: str, lat: float, lon: float, port: str = "") -> None:
        self.stations.append([esr, name, lat, lon, port])

    def facility(
        self, name: str, lat: float, lon: float, category: str = "ammunition_depot"
    ) -> None:
        self.facilities.append([name, category, lat, lon, "test"])

    def run(self, **settings: Any) -> Case:
        files = {
            "stations": write_csv(self.root / "stations.csv", STATION_HEADER, self.stations),
            "facilities": write_csv(self.root / "facilities.csv", FACILITY_HEADER, self.facilities),
            "sightings": write_csv(self.root / "sightings.csv", SIGHTING_HEADER, self.sightings),
            "ais": write_csv(self.root / "positions.csv", POSITION_HEADER, self.positions),
            "shipments": write_csv(self.root / "shipments.csv", SHIPMENT_HEADER, self.shipments),
        }
        for kind, path in files.items():
            workflow.ingest(self.case_dir, kind, [path])
        workflow.analyze(self.case_dir, AnalysisSettings(**settings))
        return Case.open(self.case_dir)  # type: ignore[return-value]

    def table(self, sql: str, **settings: Any) -> list[dict[str, Any]]:
        with self.run(**settings) as case:
            return case.rows(sql)


RU_HEADER_CSV = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления", "Код станции отправления",
                 "Станция назначения", "Код станции назначения", "Наименование груза", "Вес груза, кг", "Номер вагона"]  # fmt: skip


def linked_case(tmp_path: Path) -> CaseBuilder:
    """The smallest case with every kind of finding: a dark call at Rajin (a sighting), a
    call at Vostochny, a station near a facility and one departure to link (not yet run)."""
    b = CaseBuilder(tmp_path)
    b.sighting(T0 - timedelta(days=3), "KPNJN")
    b.positions += dwell(273000001, VOSTOCHNY, T0, 24)
    b.station("515002", "Тихорецкая", 45.0, 40.0)
    b.facility("Depot", 45.1, 40.0)
    b.shipment("W1", T0 + timedelta(days=1))
    return b


def write_big_shipments(path: Path, rows: int, seed: int = 0) -> Path:
    """A Windows-1251 CSV of `rows` plausible waybill rows (for crash and load tests)."""
    import random

    rng = random.Random(seed)
    cargo = ["Взрывчатые вещества", "уголь каменный", "контейнеры", "ВВ", "лесоматериалы"]
    with open(path, "w", newline="", encoding="cp1251") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(RU_HEADER_CSV)
        for i in range(rows):
            day = 1 + i % 28
            writer.writerow([f"Э{seed}{i:07d}", "отправление", f"{day:02d}.09.2023", "Находка-Восточная", "984700",
                             "Тихорецкая", "515002", rng.choice(cargo), f"{rng.randint(20000, 69000)},5", "24567893"])  # fmt: skip
    return path


def unusable_positions(positions: pa.Table) -> int:
    """Decoded NMEA positions the rules refuse, counted here with NumPy (not the module's
    SQL): no time, a time before 1998 or after tomorrow, no or an impossible position, or
    lat 0 and lon 0 (null island)."""
    if not positions.num_rows:
        return 0
    us = pc.cast(positions.column("timestamp"), pa.int64()).to_numpy(zero_copy_only=False)
    no_time = np.asarray(positions.column("timestamp").is_null())
    earliest = datetime.fromisoformat(EARLIEST_AIS).replace(tzinfo=UTC).timestamp() * 1e6
    latest = (datetime.now(UTC).timestamp() + 86_400) * 1e6
    with np.errstate(invalid="ignore"):
        odd_time = ~no_time & ((us < earliest) | (us > latest))
        lat = positions.column("lat").to_numpy(zero_copy_only=False).astype(float)
        lon = positions.column("lon").to_numpy(zero_copy_only=False).astype(float)
        bad_place = np.isnan(lat) | np.isnan(lon) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
        bad_place |= (lat == 0) & (lon == 0)
    return int((no_time | odd_time | bad_place).sum())


def stored_rows(case_dir: Path, queries: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Each query's rows from the case, sorted (for comparing two cases whatever the order
    their rows were stored in)."""
    with Case.open(case_dir) as case:
        return {k: sorted(case.con.execute(q).fetchall(), key=repr) for k, q in queries.items()}
