"""Analysis settings: one typed, validated object, echoed into every output (contract §3)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from cargotrace.errors import InputError

INTEREST_CLASSES = ("explosives", "ammunition")


@dataclass(frozen=True)
class AnalysisSettings:
    window_days: int = 7
    origin_country: str = "KP"
    lookback_days: int = 30
    near_km: float = 20.0
    port_radius_km: float = 5.0
    min_call_hours: float = 2.0
    stop_speed_kn: float = 1.0
    site_merge_km: float = 2.0
    border_country: str = "UA"
    facility_categories: tuple[str, ...] = ("ammunition_depot", "arsenal")
    interest_classes: tuple[str, ...] = INTEREST_CLASSES
    munitions_profile: str = "152mm_artillery"
    gap_hours: float = 6.0
    engine: str = "duckdb"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0 <= self.window_days <= 365:
            problems.append("--window-days must be between 0 and 365")
        if not 0 < self.lookback_days <= 3650:
            problems.append("--lookback-days must be between 1 and 3650")
        if not 0 <= self.near_km <= 20000:
            problems.append("--near-km must be between 0 and 20000")
        if not re.fullmatch(r"[A-Z]{2}", self.origin_country):
            problems.append("--origin-country must be an ISO 3166 alpha-2 code such as KP")
        if not re.fullmatch(r"[A-Z]{2}", self.border_country):
            problems.append("--border-country must be an ISO 3166 alpha-2 code such as UA")
        if self.engine not in ("duckdb", "spark"):
            problems.append("--engine must be duckdb or spark")
        if problems:
            raise InputError("; ".join(problems))

    def as_parameters(self) -> dict[str, Any]:
        """The parameters block of the findings: every knob that shaped the result."""
        params = asdict(self)
        params.pop("extra")
        params["facility_categories"] = list(self.facility_categories)
        params["interest_classes"] = list(self.interest_classes)
        return params
