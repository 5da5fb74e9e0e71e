"""Analysis settings: one typed, validated object, echoed into every output (contract §3)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cargotrace.errors import InputError
from cargotrace.reference.country_names import code_hint, country_name

INTEREST_CLASSES = ("explosives", "ammunition")


@dataclass(frozen=True)
class AnalysisSettings:
    window_days: int = 7
    origin_country: str = "KP"
    lookback_days: int = 30
    near_km: float = 20.0
    # Port calls (maritime/port_calls.py), hysteresis rules in the manner of Global Fishing
    # Watch's port visits: a call begins inside the port area (its polygon, else a circle of
    # `radius_km`, default `port_radius_km`) and ends only once the vessel is
    # `port_exit_buffer_km` beyond it; a stop begins below `stop_begin_kn` and ends above
    # `stop_end_kn`; an AIS gap of at least `port_gap_hours` inside the area is an in-port
    # gap; a call needs a stop or an in-port gap spanning at least `min_call_hours`.
    port_radius_km: float = 5.0
    port_exit_buffer_km: float = 1.0
    stop_begin_kn: float = 0.2
    stop_end_kn: float = 0.5
    min_call_hours: float = 2.0
    port_gap_hours: float = 4.0
    port_gap_max_days: float = 30.0  # a longer silence in port ends the visit (two stays)
    site_merge_km: float = 2.0
    site_sighting_km: float = 5.0  # a place-only sighting this close to a site is evidence there
    border_country: str = "UA"
    facility_categories: tuple[str, ...] = ("ammunition_depot", "arsenal")
    interest_classes: tuple[str, ...] = INTEREST_CLASSES
    munitions_profile: str = "152mm_artillery"
    # Dark periods (maritime/gaps.py, dark_calls.py): a gap of at least `gap_hours` between
    # two fixes; a port of the origin country is a possible dark call when sailing there
    # (sea-route distance) and on to the gap's end at the vessel's service speed (the
    # `service_speed_quantile` of its moving speeds, `default_service_speed_kn` when
    # unknown), with `min_call_hours` at the berth, fits in the gap. A gap longer than
    # `dark_call_max_gap_days` offers no dark calls (it says more about coverage, or about two
    # unrelated samples in one case, than about a trip); it stays a gap, marked as beyond it.
    gap_hours: float = 6.0
    dark_call_max_gap_days: float = 30.0
    default_service_speed_kn: float = 12.0
    service_speed_quantile: float = 0.95
    # Encounters (maritime/encounters.py): two vessels within `encounter_max_m` for at least
    # `encounter_min_hours` at a median speed under `encounter_max_sog_kn`, more than
    # `encounter_min_port_km` from every port.
    encounter_max_m: float = 500.0
    encounter_min_hours: float = 2.0
    encounter_max_sog_kn: float = 2.0
    encounter_min_port_km: float = 10.0
    # Loitering (maritime/loitering.py), after Global Fishing Watch: slower than
    # `loitering_max_sog_kn` for at least `loitering_min_hours`, more than
    # `loitering_min_port_km` from every port and `loitering_min_shore_km` (20 nm) from shore.
    loitering_max_sog_kn: float = 2.0
    loitering_min_hours: float = 4.0
    loitering_min_port_km: float = 10.0
    loitering_min_shore_km: float = 37.04
    # Likely intentional AIS disabling (maritime/disabling.py), after GFW: a gap of at least
    # `disabling_min_gap_hours`, both ends `disabling_min_shore_km` (50 nm) from shore, and
    # at least `disabling_min_prior_fixes` fixes in the `disabling_min_gap_hours` before it.
    disabling_min_gap_hours: float = 12.0
    disabling_min_shore_km: float = 92.6
    disabling_min_prior_fixes: int = 14
    # Draught change across a gap (maritime/draught.py): the draught reported after a gap
    # differs from the one before by at least `draught_change_min_m` (loaded or unloaded dark).
    draught_change_min_m: float = 1.0
    # more vessels than this able to meet in one cell and bin are a crowd (a convoy, a fleet
    # leaving port, spoofing): listed in `encounter_crowds`, not searched pair by pair
    encounter_max_vessels_per_cell: int = 64
    # GNSS interference (maritime/interference.py): a cell of `interference_cell_deg` and a
    # UTC hour where at least `interference_min_vessels` MMSIs make impossible jumps.
    interference_cell_deg: float = 0.5
    interference_min_vessels: int = 3
    # Circling (maritime/interference.py): at least `circling_min_fixes` fixes of one MMSI in
    # one hour on a circle of radius `circling_min_radius_km` to `circling_max_radius_km`.
    circling_min_fixes: int = 6
    circling_min_radius_km: float = 0.5
    circling_max_radius_km: float = 30.0
    # Satellite detections (maritime/detections.py, detection_attribution.py): a vessel placed
    # at a detection's time from its fixes within `detection_match_hours` matches it within
    # `detection_match_base_m` plus `detection_match_drift_kn` times the time to that fix, with
    # lengths within `detection_length_tolerance` (relative) when both known; a dark detection's
    # candidates reach it from their last fix and their next fix at `dark_detection_max_speed_kn`.
    detection_match_hours: float = 2.0
    detection_match_base_m: float = 1000.0
    detection_match_drift_kn: float = 4.0
    detection_length_tolerance: float = 0.35
    dark_detection_max_speed_kn: float = 16.0
    # a ship is also silent up to this many days before its first fix and after its last
    dark_detection_silence_days: float = 45.0
    # a dark detection in port whose best candidate holds this share of the scores is its call
    detection_call_min_share: float = 0.8
    # Identity (maritime/identity.py): a step faster than `max_speed_kn` (and longer than
    # `jump_min_km`) is impossible; an MMSI whose track jumps back and forth at least
    # `shared_mmsi_min_jumps` times is split into two transmitters and flagged.
    max_speed_kn: float = 50.0
    jump_min_km: float = 10.0
    shared_mmsi_min_jumps: int = 4
    # Ships (maritime/ships.py): "imo" chains port calls, gaps and encounters by ship (the
    # IMO number, across changes of MMSI, name and flag); "mmsi" by transmitter. Two MMSIs of
    # one IMO transmitting far apart in at least `clone_min_bins` ten-minute bins: a clone.
    vessel_identity: str = "imo"
    clone_min_bins: int = 3
    # Voyages (maritime/voyages.py): a shuttle is a vessel sailing between the same two
    # ports at least `shuttle_min_legs` times within `shuttle_period_days`.
    shuttle_min_legs: int = 3
    shuttle_period_days: int = 90
    # Evidence period (logistics/consignments.py): record and port-call days split where
    # `period_gap_days` pass without any; a group with fewer than `period_min_share` of the
    # records of the largest group lies outside the period (kept, flagged, off the test's axis).
    period_gap_days: int = 90
    period_min_share: float = 0.1
    engine: str = "duckdb"
    # How the DuckDB engine computes the per-fix stages (track, port zones): "numpy" (the
    # kernels in maritime/kernels/) or "sql" (the stage SQL, as Spark runs it). Same tables
    # either way, so it is not echoed into the findings' parameters.
    maritime_kernel: str = "numpy"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = [
            f"{f.name} must be a finite number, not {getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), float) and not math.isfinite(getattr(self, f.name))
        ]
        if problems:  # NaN and infinity would reach the SQL and the findings JSON as text
            raise InputError("; ".join(problems))
        if not 0 <= self.window_days <= 365:
            problems.append("--window-days must be between 0 and 365")
        if not 0 < self.lookback_days <= 3650:
            problems.append("--lookback-days must be between 1 and 3650")
        if not 0 <= self.near_km <= 20000:
            problems.append("--near-km must be between 0 and 20000")
        for option, code in (
            ("--origin-country", self.origin_country),
            ("--border-country", self.border_country),
        ):
            if not country_name(code):  # fmt: skip
                problems.append(f"{option}: {code_hint(code)}")
        if not 0 <= self.stop_begin_kn <= self.stop_end_kn:
            problems.append("stop_begin_kn must be at least 0 and not above stop_end_kn")
        for name in ("port_radius_km", "min_call_hours", "port_gap_hours", "gap_hours", "default_service_speed_kn",
                     "encounter_max_m", "encounter_min_hours", "max_speed_kn", "dark_call_max_gap_days",
                     "loitering_max_sog_kn", "loitering_min_hours", "disabling_min_gap_hours",
                     "interference_cell_deg", "interference_min_vessels", "port_gap_max_days", "detection_match_hours",
                     "draught_change_min_m", "circling_min_fixes", "circling_min_radius_km",
                     "detection_match_base_m", "detection_length_tolerance", "dark_detection_max_speed_kn",
                     "dark_detection_silence_days"):  # fmt: skip
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive")
        if min(self.loitering_min_port_km, self.loitering_min_shore_km, self.disabling_min_shore_km,
               self.disabling_min_prior_fixes) < 0:  # fmt: skip
            problems.append("loitering and disabling distances and fix counts must not be negative")
        if self.circling_max_radius_km < self.circling_min_radius_km:
            problems.append("circling_max_radius_km must not be below circling_min_radius_km")
        if self.port_exit_buffer_km < 0 or self.encounter_min_port_km < 0 or self.jump_min_km < 0:
            problems.append(
                "port_exit_buffer_km, encounter_min_port_km and jump_min_km must not be negative"
            )
        if not 0 < self.detection_call_min_share <= 1:
            problems.append("detection_call_min_share must be in (0, 1]")
        if self.detection_match_drift_kn < 0:
            problems.append("detection_match_drift_kn must not be negative")
        if self.encounter_max_vessels_per_cell < 2:
            problems.append("encounter_max_vessels_per_cell must be at least 2")
        if not 1 <= self.period_gap_days <= 36500:
            problems.append("period_gap_days must be between 1 and 36500")
        if not 0 <= self.period_min_share <= 1:
            problems.append("period_min_share must be between 0 and 1")
        if not 0 < self.service_speed_quantile <= 1:
            problems.append("service_speed_quantile must be in (0, 1]")
        if self.engine not in ("duckdb", "spark"):
            problems.append("--engine must be duckdb or spark")
        if self.vessel_identity not in ("imo", "mmsi"):
            problems.append("vessel_identity must be imo or mmsi")
        if self.clone_min_bins < 1:
            problems.append("clone_min_bins must be at least 1")
        if self.maritime_kernel not in ("numpy", "sql"):
            problems.append("maritime_kernel must be numpy or sql")
        if problems:
            raise InputError("; ".join(problems))

    def as_parameters(self) -> dict[str, Any]:
        """The parameters block of the findings: every knob that shaped the result."""
        params = asdict(self)
        params.pop("extra")
        params.pop("maritime_kernel")
        params["facility_categories"] = list(self.facility_categories)
        params["interest_classes"] = list(self.interest_classes)
        return params


def with_pairs(base: AnalysisSettings, pairs: Sequence[str]) -> AnalysisSettings:
    """`base` with `NAME=VALUE` pairs (the `--set` option) applied, every value typed like
    the setting's default; tuples are comma-separated. Unknown names are refused."""
    fields = {f.name for f in dataclasses.fields(AnalysisSettings)} - {"engine", "extra"}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            raise InputError(
                f"--set {pair!r}: expected NAME=VALUE with NAME one of the analysis settings: {', '.join(sorted(fields))}"
            )
        default = getattr(AnalysisSettings(), name)
        text = text.strip()
        try:
            if isinstance(default, bool):
                values[name] = text.lower() in ("1", "true", "yes")
            elif isinstance(default, tuple):
                values[name] = tuple(v.strip() for v in text.split(",") if v.strip())
            else:
                values[name] = type(default)(text)
        except ValueError:
            raise InputError(
                f"--set {pair!r}: {text!r} is not a valid {type(default).__name__}"
            ) from None
    return dataclasses.replace(base, **values)
