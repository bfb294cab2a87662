"""The Bayes activity features (allegations and intelligence as signs): hand-checked against direct integration, and their direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from harmlens.features import build_features
from harmlens.features.catalogue import DESISTANCE_HAZARD, RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS
from tests.features.world import World

AS_OF = "2024-01-01"


def _posterior(n: int, years_at_large: float, silence_at_large: float) -> float:
    """P(still active) by direct numerical integration over the career end and the rate."""
    h, a, b = DESISTANCE_HAZARD, RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS
    k = n - 1 + a
    active = np.exp(-h * years_at_large) * (b + years_at_large) ** -k
    ended, _ = integrate.quad(lambda u: h * np.exp(-h * u) * (b + u) ** -k, years_at_large - silence_at_large, years_at_large)
    return active / (active + ended)


def _years(a: str, b: str) -> float:
    return (pd.Timestamp(b) - pd.Timestamp(a)).total_seconds() / 86400 / 365.25


@pytest.fixture
def world(warehouse):
    w = World()
    # A: ten allegations over two years, then a year of silence
    for d in pd.date_range("2021-01-01", "2022-12-01", periods=10):
        w.offence(str(d.date()), ["A"], [("VA", "partner")], "da_assault")
    # B: one allegation, the same year of silence
    w.offence("2022-12-01", ["B"], [("VB", "partner")], "da_assault")
    # C: as A, and an intelligence report ten days ago
    for d in pd.date_range("2021-01-01", "2022-12-01", periods=10):
        w.offence(str(d.date()), ["C"], [("VC", "partner")], "da_assault")
    w.event("intelligence", "2023-12-22", ["C"])
    # D: as A, but in custody for the last eleven months of the silence (still open on AS_OF)
    for d in pd.date_range("2021-01-01", "2022-12-01", periods=10):
        w.offence(str(d.date()), ["D"], [("VD", "partner")], "da_assault")
    w.event("custody", "2023-02-01", ["D"])
    w.load(warehouse)
    return warehouse


def test_matches_direct_integration(world):
    f = build_features(world, AS_OF)
    last = str(pd.date_range("2021-01-01", "2022-12-01", periods=10)[-1])
    t = _years("2021-01-01", AS_OF)
    s = _years(last, AS_OF)
    pa = _posterior(10, t, s)
    assert f.loc["A", "p_still_offending_given_allegations_and_intel"] == pytest.approx(pa, rel=1e-3)
    a, b = RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS
    assert f.loc["A", "expected_vawg_allegations_per_year_shrunk"] == pytest.approx(pa * (a + 10) / (b + t), rel=1e-3)
    assert f.loc["A", "expected_allegations_and_intel_per_year"] == pytest.approx(pa * (a + 10) / (b + t), rel=1e-3)
    pb = _posterior(1, s, s)
    assert f.loc["B", "p_still_offending_given_allegations_and_intel"] == pytest.approx(pb, rel=1e-3)
    # D: custody is not silence
    cust = _years("2023-02-01", AS_OF)
    assert f.loc["D", "p_still_offending_given_allegations_and_intel"] == pytest.approx(_posterior(10, t - cust, s - cust), rel=1e-3)


def test_directions(world):
    p = build_features(world, AS_OF)["p_still_offending_given_allegations_and_intel"]
    # a frequent offender's year of silence says more than a one-off's
    assert p["A"] < p["B"] - 0.2, (p["A"], p["B"])
    # an intelligence report is a sign of activity; time in custody is not silence
    assert p["C"] > 0.95 and p["D"] > p["A"]
