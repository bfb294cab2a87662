"""Calibration by group: a calibrated group sits on the diagonal, an over-predicted one below it."""

from __future__ import annotations

import numpy as np
import pytest

from harmlens.audit.calibration import calibration_by_group


def test_reliability_by_group_recovers_the_truth():
    rng = np.random.default_rng(1)
    n = 20_000
    s = rng.random(n)
    g = rng.choice(["A", "B"], n)
    # truth: A's outcome rate equals its score; B's is half its score
    y = (rng.random(n) < np.where(g == "A", s, s / 2)).astype(int)
    cal = calibration_by_group(y, s, g, bins=5)
    assert len(cal) == 10 and cal["n"].sum() == n
    a, b = cal[cal.group == "A"], cal[cal.group == "B"]
    assert np.allclose(a.observed, a.mean_predicted, atol=0.03)
    assert np.allclose(b.observed, b.mean_predicted / 2, atol=0.03)
    assert (cal.observed_low <= cal.observed).all() and (cal.observed <= cal.observed_high).all()


def test_small_cells_are_left_out_and_missing_ignored():
    y = np.array([1, 0, 1, 0, np.nan] * 20 + [1, 0])
    s = np.linspace(0, 1, len(y))
    g = np.array(["big"] * 100 + ["tiny"] * 2)
    cal = calibration_by_group(y, s, g, bins=5, min_n=5)
    assert set(cal.group) == {"big"}
    assert cal["n"].sum() == 80
    assert calibration_by_group(np.array([np.nan]), np.array([0.5]), np.array(["a"])).empty


@pytest.mark.parametrize("bins", [2, 4, 10])
def test_bins_are_shared(bins):
    rng = np.random.default_rng(0)
    s = rng.random(3000)
    g = rng.choice(["x", "y", "z"], 3000)
    y = (rng.random(3000) < s).astype(int)
    cal = calibration_by_group(y, s, g, bins=bins, min_n=1)
    assert cal.groupby("group")["bin"].nunique().max() == bins
