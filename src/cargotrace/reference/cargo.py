"""Cargo classification: free text and cargo codes to a class, with the rule that matched."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

OTHER = "other"


@dataclass
class CargoClass:
    name: str
    patterns: list[re.Pattern[str]]
    codes: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)


@dataclass
class Vocabulary:
    classes: list[CargoClass]
    fuzzy_min: float = 88.0

    def classify(self, text: str | None, code: str | None = None) -> tuple[str, str]:
        """Return (cargo_class, rule) for one description; `other` when nothing matches."""
        clean = " ".join((text or "").lower().replace("ё", "е").split())
        digits = re.sub(r"\D", "", code or "")
        for cls in self.classes:
            for pattern in cls.patterns:
                if pattern.search(clean):
                    return cls.name, f"text:{pattern.pattern}"
            for rule in cls.codes:
                if digits and code_matches(rule, digits):
                    return cls.name, f"code:{rule}"
        words = re.findall(r"\w+", clean)
        for cls in self.classes:
            for target in cls.fuzzy:
                for word in words:
                    if len(word) >= 5 and fuzz.ratio(word, target) >= self.fuzzy_min:
                        return cls.name, f"fuzzy:{target}~{word}"
        return OTHER, "none"


CODE_LENGTHS = {"etsng": (5, 6), "gng": (8,)}  # ETSNG: 5 digits + check digit; GNG: HS-based, 8


def code_matches(rule: str, digits: str) -> bool:
    """`rule` is a digit prefix, optionally qualified by its list: `gng:3602`, `etsng:731`."""
    scheme, _, prefix = rule.rpartition(":")
    if scheme and len(digits) not in CODE_LENGTHS.get(scheme.lower(), (len(digits),)):
        return False
    return digits.startswith(prefix)


def _parse(data: dict[str, Any]) -> tuple[list[CargoClass], float | None]:
    classes = []
    for entry in data.get("classes", []):
        classes.append(
            CargoClass(
                name=str(entry["name"]),
                patterns=[re.compile(p) for p in entry.get("patterns", [])],
                codes=[str(c) for c in entry.get("codes", [])],
                fuzzy=[str(w) for w in entry.get("fuzzy", [])],
            )
        )
    fuzzy_min = data.get("fuzzy_min")
    return classes, float(fuzzy_min) if fuzzy_min is not None else None


def load_vocabulary(case_dir: Path | None = None) -> Vocabulary:
    """The bundled vocabulary, with a case's own `cargo_classes.toml` tried first."""
    text = resources.files("cargotrace.reference").joinpath("cargo_classes.toml").read_text("utf-8")
    classes, fuzzy_min = _parse(tomllib.loads(text))
    if case_dir is not None and (case_dir / "cargo_classes.toml").exists():
        user_classes, user_min = _parse(
            tomllib.loads((case_dir / "cargo_classes.toml").read_text("utf-8"))
        )
        classes = user_classes + classes
        fuzzy_min = user_min or fuzzy_min
    return Vocabulary(classes, fuzzy_min or 88.0)
