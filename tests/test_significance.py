"""The chance test: exact small cases, and calibration on seeded synthetic timelines."""

from __future__ import annotations

import numpy as np
import pytest

from cargotrace.logistics.significance import covered_days, lag_histogram, shift_test


def test_covered_days_includes_day_zero_to_window():
    covered = covered_days(np.array([2]), 12, 7)
    assert covered.tolist() == [False, False] + [True] * 8 + [False, False]
    wrapped = covered_days(np.array([8]), 12, 7)
    assert wrapped.tolist() == [True] * 4 + [False] * 4 + [True] * 4
    assert covered_days(np.array([8]), 12, 7, circular=False).tolist() == [False] * 8 + [True] * 4


def test_exact_p_value_on_a_tiny_case():
    # One arrival on day 10, one departure on day 12, a 30-day axis and a 7-day window:
    # 8 of the 30 shifts (including the observed one) put the departure inside [10, 17].
    result = shift_test([(np.array([10]), np.array([12]))], 30, 7)
    assert result["observed_within_window"] == 1.0
    # an arrival on the last day does not reach past the end of the period for the observed share
    late = shift_test([(np.array([29]), np.array([0]))], 30, 7)
    assert late["observed_within_window"] == 0.0
    assert result["permutations"] == 29
    assert result["p_value"] == pytest.approx(8 / 30, abs=1e-6)
    assert result["expected_within_window"] == pytest.approx(7 / 29, abs=1e-6)


def test_weekly_shifts_keep_weekdays():
    result = shift_test([(np.array([10]), np.array([12]))], 28, 7, weekly=True)
    assert result["permutations"] == 3  # shifts by 7, 14 and 21 days


def test_lag_histogram_counts_days_after_latest_arrival():
    hist = lag_histogram([(np.array([3, 10]), np.array([4, 11, 11, 12]))], 30, 14)
    observed = {h["lag_days"]: h["observed"] for h in hist if h["observed"]}
    assert observed == {1: 3, 2: 1}


def _timeline(
    rng: np.random.Generator, planted: bool, n_days: int = 180, window: int = 7
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two ports; ~12 arrivals each; departures in bursts of 3-8 wagons (trains).

    Null: bursts at random days. Planted: 80% of bursts start 0-window days after an arrival.
    """
    per_port = []
    for _port in range(2):
        arrivals = np.sort(rng.choice(n_days - window, size=12, replace=False))
        departures = []
        for _burst in range(15):
            if planted and rng.random() < 0.8:
                day = rng.choice(arrivals) + rng.integers(0, window + 1)
            else:
                day = rng.integers(0, n_days - window)
            departures += [day] * int(rng.integers(3, 9))
        per_port.append((arrivals, np.array(departures, dtype=np.int64)))
    return per_port


@pytest.mark.slow
def test_calibration_false_positive_rate_and_power():
    rng = np.random.default_rng(20240613)
    cases = 200
    null_p = [shift_test(_timeline(rng, planted=False), 180, 7)["p_value"] for _ in range(cases)]
    planted_p = [shift_test(_timeline(rng, planted=True), 180, 7)["p_value"] for _ in range(cases)]
    false_positive_rate = float(np.mean(np.array(null_p) < 0.05))
    power = float(np.mean(np.array(planted_p) < 0.05))
    print(
        f"calibration: false positives {false_positive_rate:.3f}, power {power:.3f} over {cases} seeded cases"
    )
    assert false_positive_rate <= 0.07
    assert power >= 0.95
