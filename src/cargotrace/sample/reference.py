"""Hard-coded reference data of the synthetic sample case.

Real places (stations, depots, ports) with real-ish coordinates; fictitious vessels.
Stations: ESR codes and OpenStreetMap coordinates from the OSM-RU ESR list
(github.com/MichaelODeli/railway_materials, RU_stations_new.csv, 2023-04-01; coordinates
(c) OpenStreetMap contributors, ODbL). Depots: coordinates from public reporting as
summarised in the case brief. Ports: UN/LOCODE points of the `searoute` gazetteer.
"""

from __future__ import annotations

from dataclasses import dataclass

from cargotrace.sample.codes import make_imo
from cargotrace.sample.geo import LatLon


@dataclass(frozen=True)
class Station:
    esr: str
    name: str
    lat: float
    lon: float
    port_locode: str = ""


@dataclass(frozen=True)
class Facility:
    name: str
    category: str
    lat: float
    lon: float
    source: str


@dataclass(frozen=True)
class Vessel:
    name: str
    mmsi: str
    imo: str
    callsign: str
    ship_type: str = "70"
    flag: str = "RU"


# --- rail -----------------------------------------------------------------------------
PORT_STATIONS: dict[str, Station] = {
    "RUVYP": Station("985906", "Находка-Восточная", 42.77481842, 133.10072327, "RUVYP"),
    "RUDUN": Station("983406", "Дунай", 42.87614822, 132.34283447, "RUDUN"),
}

# Destination sites of the linked shipments: 12 near a depot, then 4 far from any.
SITES_NEAR: tuple[Station, ...] = (
    Station("520102", "Тихорецкая", 45.84929276, 40.11808395),
    Station("525318", "Челбас", 45.81095123, 39.99221802),
    Station("539306", "Моздок", 43.7519989, 44.64471436),
    Station("539202", "Луковский", 43.75268936, 44.55427551),
    Station("614704", "Котлубань", 48.94788361, 44.22081757),
    Station("614600", "Качалино", 49.12031555, 44.06445312),
    Station("237401", "Киржач", 56.15157318, 38.84540176),
    Station("237558", "Санино", 56.00030518, 38.911026),
    Station("587206", "Каменская", 48.3294487, 40.25869751),
    Station("580003", "Лихая", 48.15596008, 40.19114304),
    Station("590302", "Тресвятская", 51.76376724, 39.5229454),
    Station("069608", "Куженкино", 57.72712326, 33.97581863),
)
SITES_FAR: tuple[Station, ...] = (
    Station("438302", "Валуйки", 50.19914627, 38.12081909),
    Station("586504", "Миллерово", 48.92131805, 40.39269257),
    Station("202008", "Унеча", 52.8420372, 32.67860413),
    Station("206507", "Суджа", 51.20581055, 35.31042862),
)
SITES: tuple[Station, ...] = SITES_NEAR + SITES_FAR

# Decoy (a): industrial explosives from a Kuzbass station (serves no port) to coal mines.
INDUSTRIAL_ORIGIN = Station("870000", "Кемерово-Сортировочная", 55.32352448, 86.03966522)
MINE_STATIONS: tuple[Station, ...] = (
    Station("864902", "Междуреченск", 53.69871521, 88.02207184),
    Station("863007", "Ерунаково", 53.99827576, 87.18801117),
    Station("887904", "Черногорские Копи", 53.8086586, 91.28329468),
)
# Decoy (b): coal and containers from the port stations.
COAL_DESTINATIONS: tuple[Station, ...] = (
    Station("982403", "Артём-Приморский 1", 43.37977982, 132.19120789),
    Station("983800", "Партизанск", 43.14818573, 133.14057922),
    Station("988306", "Уссурийск", 43.8015976, 131.98123169),
)
CONTAINER_DESTINATIONS: tuple[Station, ...] = (
    Station("183502", "Ворсино", 55.24098206, 36.66786194),
    Station("851508", "Новосибирск-Восточный", 55.06794357, 82.97414398),
    Station("970406", "Хабаровск I", 48.49695969, 135.07304382),
)


def all_stations() -> list[Station]:
    stations = [
        *PORT_STATIONS.values(),
        *SITES,
        INDUSTRIAL_ORIGIN,
        *MINE_STATIONS,
        *COAL_DESTINATIONS,
        *CONTAINER_DESTINATIONS,
    ]
    return sorted(stations, key=lambda s: s.esr)


# --- facilities -------------------------------------------------------------------------
BRIEF = "public reporting (case brief)"
ILLUSTRATIVE = "SYNTHETIC demo: illustrative location, not a verified facility"
DEPOTS: tuple[Facility, ...] = (
    Facility(
        "719th artillery ammunition base (Tikhoretsk)", "ammunition_depot", 45.886, 40.041, BRIEF
    ),
    Facility("Mozdok ammunition depot", "ammunition_depot", 43.739, 44.523, BRIEF),
    Facility("Kotluban arsenal (Samofalovka)", "arsenal", 48.997, 44.216, BRIEF),
    Facility("51st arsenal (Kirzhach)", "arsenal", 56.101, 38.754, BRIEF),
    Facility("Kamensk-Shakhtinsky ammunition depot", "ammunition_depot", 48.288, 40.199, BRIEF),
    Facility("Kitayevo ammunition depot", "ammunition_depot", 51.781, 39.506, BRIEF),
    Facility("Khotilovo ammunition depot", "ammunition_depot", 57.689, 33.981, BRIEF),
)
DECOY_FACILITIES: tuple[Facility, ...] = (
    Facility("Open-pit coal mine near Mezhdurechensk", "mine", 53.672, 88.061, ILLUSTRATIVE),
    Facility("Open-pit coal mine near Erunakovo", "mine", 54.021, 87.236, ILLUSTRATIVE),
    Facility("Open-pit coal mine near Chernogorsk", "mine", 53.832, 91.247, ILLUSTRATIVE),
    Facility(
        "Industrial explosives plant near Kemerovo", "industrial_plant", 55.37, 86.11, ILLUSTRATIVE
    ),
)

# --- ports ------------------------------------------------------------------------------
# Default gazetteer points (searoute ports.geojson) and the custom Dunai port.
PORT_POINTS: dict[str, LatLon] = {
    "RUVYP": (42.733333, 133.05),
    "KPNJN": (42.2333, 130.3),
    "KRPUS": (35.098203, 129.035797),
    "CNSHA": (31.400091, 121.497113),
    "RUDUN": (42.88, 132.34),
}
CUSTOM_PORTS = (("RUDUN", "Dunai naval facility", "RU", 42.88, 132.34, 3.0),)

BERTHS: dict[str, tuple[LatLon, ...]] = {
    "RUVYP": ((42.7420, 133.0760), (42.7465, 133.0700), (42.7395, 133.0815)),
    "RUDUN": ((42.8720, 132.3520), (42.8745, 132.3485)),
    "KRPUS": ((35.0950, 129.0450),),
    "CNSHA": ((31.3920, 121.5080),),
}
RAJIN_PIERS: tuple[LatLon, ...] = ((42.2440, 130.3050), (42.2415, 130.3010), (42.2465, 130.3085))

# Sea lanes (lat, lon), ending just before the berth (the berth is appended per call).
SEA_LANES: dict[str, tuple[LatLon, ...]] = {
    "KPNJN-RUVYP": (
        (42.2350, 130.3150),
        (42.2000, 130.3800),
        (42.1000, 130.5500),
        (42.1800, 131.3000),
        (42.4000, 132.4000),
        (42.6000, 132.9500),
        (42.6900, 133.0400),
    ),
    "KPNJN-RUDUN": (
        (42.2350, 130.3150),
        (42.2000, 130.3800),
        (42.1000, 130.5500),
        (42.1800, 131.3000),
        (42.5000, 132.4300),
        (42.7700, 132.4300),
        (42.8500, 132.3750),
    ),
    "SEA-RUVYP": (
        (41.4000, 134.6000),
        (42.2000, 133.6000),
        (42.6000, 133.0500),
        (42.6900, 133.0500),
    ),
    "CNSHA-KRPUS": (
        (31.3000, 121.7500),
        (31.2590, 121.8400),
        (31.3000, 122.9000),
        (32.9840, 125.3440),
        (33.4540, 126.0350),
        (33.7350, 126.6430),
        (34.1040, 127.4450),
        (34.4070, 128.1690),
        (34.7620, 128.9160),
        (35.0000, 129.2000),
        (35.0700, 129.0700),
    ),
    "KRPUS-RUVYP": (
        (35.0700, 129.0700),
        (35.0000, 129.2000),
        (35.4290, 129.5970),
        (36.1840, 129.7400),
        (38.3170, 130.5060),
        (38.9600, 130.7360),
        (42.4000, 132.8500),
        (42.6000, 132.9800),
        (42.6900, 133.0400),
    ),
}

# --- vessels (all FICTITIOUS) -----------------------------------------------------------
SHUTTLES: tuple[Vessel, ...] = (
    Vessel("NORD FALCON (DEMO)", "273990011", make_imo("990011"), "UDMA1"),
    Vessel("AMUR HERON (DEMO)", "273990012", make_imo("990012"), "UDMA2"),
    Vessel("TAIGA STAR (DEMO)", "273990013", make_imo("990013"), "UDMA3"),
    Vessel("PRIMORYE WIND (DEMO)", "273990014", make_imo("990014"), "UDMA4"),
)
# One shuttle changes identity at sea (new MMSI, name, call sign and flag; same IMO, the
# hull) half-way between a Rajin call and its next Vostochny arrival (sample/generate.py).
RENAMED_FROM = SHUTTLES[2]
RENAMED_TO = Vessel("VOSTOK PEARL (DEMO)", "620990013", RENAMED_FROM.imo, "D6DM3", flag="KM")
BUSAN_DECOY = Vessel("OCEAN MERIDIAN (DEMO)", "273990021", make_imo("990021"), "UDMB1")
STALE_DECOY = Vessel("BELUGA DAWN (DEMO)", "273990022", make_imo("990022"), "UDMB2")
ALL_VESSELS: tuple[Vessel, ...] = (*SHUTTLES, RENAMED_TO, BUSAN_DECOY, STALE_DECOY)
