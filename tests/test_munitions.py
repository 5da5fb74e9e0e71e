"""Tonnes to rounds: exact arithmetic over the profile's mass range."""

from __future__ import annotations

import pytest

from cargotrace.errors import InputError
from cargotrace.logistics.munitions import equivalent, load_profiles


def test_published_figure_74000_tonnes_is_1_6_million_152mm_rounds():
    result = equivalent(74_000, "152mm_artillery")
    assert result["central"] == 1_600_000  # 74,000,000 kg / 46.25 kg
    assert result["low"] == round(74_000_000 / 55.0)
    assert result["high"] == round(74_000_000 / 40.0)
    assert result["containers_central"] == round(1_600_000 / 450)


def test_every_profile_has_a_sourced_ordered_range():
    for profile in load_profiles().values():
        assert profile.kg_low < profile.kg_central < profile.kg_high
        assert profile.sources


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(InputError, match="unknown round profile"):
        equivalent(1.0, "nope")
