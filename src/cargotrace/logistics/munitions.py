"""Tonnes to rounds with a named round profile, as central, low and high estimates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from cargotrace.errors import InputError


@dataclass(frozen=True)
class RoundProfile:
    name: str
    label: str
    kg_low: float
    kg_central: float
    kg_high: float
    sources: tuple[str, ...]
    rounds_per_container: int | None = None


def load_profiles() -> dict[str, RoundProfile]:
    text = (
        resources.files("cargotrace.reference").joinpath("round_profiles.toml").read_text("utf-8")
    )
    data = tomllib.loads(text)["profiles"]
    return {
        name: RoundProfile(
            name,
            p["label"],
            float(p["kg_low"]),
            float(p["kg_central"]),
            float(p["kg_high"]),
            tuple(p.get("sources", [])),
            p.get("rounds_per_container"),
        )  # fmt: skip
        for name, p in data.items()
    }


def equivalent(tonnes: float, profile_name: str) -> dict[str, Any]:
    profiles = load_profiles()
    if profile_name not in profiles:
        raise InputError(
            f"unknown round profile {profile_name!r}; known: {', '.join(sorted(profiles))}"
        )
    p = profiles[profile_name]
    kg = tonnes * 1000.0
    return {
        "profile": p.name,
        "label": p.label,
        "central": round(kg / p.kg_central),
        "low": round(kg / p.kg_high),
        "high": round(kg / p.kg_low),
        "kg_per_round_low": p.kg_low,
        "kg_per_round_central": p.kg_central,
        "kg_per_round_high": p.kg_high,
        "method": "interval arithmetic over the profile's mass range per round (packaging included)",
        "why_this_wide": (
            "the records give tonnes, not rounds: the spread is the spread of plausible packaged "
            "mass per round for the profile, and assumes all linked tonnage is rounds of that profile"
        ),
        "containers_central": round(kg / p.kg_central / p.rounds_per_container)
        if p.rounds_per_container
        else None,
        "rounds_per_container": p.rounds_per_container,
        "sources": list(p.sources),
    }
