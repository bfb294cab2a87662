"""Risk bands cut from validation: each band's observed rate lies in its stated range, merges when it does not."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.risk.bands import assign, band_text, derive_bands


def _calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(0.8, 3.0, n)
    return p, (rng.random(n) < p).astype(int)


def test_calibrated_model_keeps_four_bands_each_in_its_range():
    p, y = _calibrated(20000, 0)
    bands = derive_bands(p, y)
    assert [b["name"] for b in bands] == ["very high", "high", "medium", "low"]
    for b in bands:
        assert b["low"] <= b["observed"] <= b["high"]
    # cuts at the 90th/75th/50th percentile of validation risk
    assert abs(bands[0]["low"] - np.quantile(p, 0.9)) < 1e-12 and abs(bands[2]["low"] - np.quantile(p, 0.5)) < 1e-12
    assert sum(b["people"] for b in bands) == len(p)
    assert bands[0]["observed"] > bands[1]["observed"] > bands[2]["observed"] > bands[3]["observed"]


def test_a_model_that_cannot_tell_people_apart_ends_with_one_band():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.0, 1.0, 5000)
    y = (rng.random(5000) < 0.3).astype(int)  # outcome unrelated to the score
    bands = derive_bands(p, y)
    for b in bands:
        assert b["low"] <= b["observed"] <= b["high"]
    # 30% observed in every band: only a band whose range holds 30% survives
    assert len(bands) <= 2
    assert set(assign([0.99, 0.01], bands)) <= {b["name"] for b in bands}


def test_overconfident_middle_band_is_merged_below():
    # predicted 0.5-0.7 for the "medium" quarter but only 10% offend: medium cannot say 50-70%
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(0.0, 0.2, 500), rng.uniform(0.5, 0.7, 250), rng.uniform(0.7, 0.9, 150), rng.uniform(0.9, 1.0, 100)])
    y = np.concatenate([rng.random(500) < 0.1, rng.random(250) < 0.1, rng.random(150) < 0.8, rng.random(100) < 0.95]).astype(int)
    bands = derive_bands(p, y)
    assert [b["name"] for b in bands] == ["very high", "high", "low"]
    assert bands[-1]["high"] == bands[1]["low"]
    for b in bands:
        assert b["low"] <= b["observed"] <= b["high"]


def test_band_text_says_range_and_what_followed():
    bands = derive_bands(*_calibrated(5000, 3))
    t = band_text(bands[0])
    assert t.startswith("very high: a chance of") and "went on to offend" in t and "of everyone" in t
    assert "below" in band_text(bands[-1])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(50, 800))
def test_every_kept_band_is_borne_out_by_validation(seed, n):
    rng = np.random.default_rng(seed)
    p = rng.beta(rng.uniform(0.3, 3), rng.uniform(0.3, 3), n)
    y = (rng.random(n) < np.clip(p + rng.normal(0, 0.2), 0, 1)).astype(int)
    bands = derive_bands(p, y)
    assert sum(b["people"] for b in bands) == n
    if len(bands) > 1:
        for b in bands:
            assert b["people"] >= 20 and b["low"] <= b["observed"] <= b["high"]
    names = assign(p, bands)
    for b in bands:
        assert ((names == b["name"]) == ((p >= b["low"]) & ((p < b["high"]) | (b["high"] >= 1)))).all()


def test_meanings_of_stored_bands_validated_and_fixed():
    from harmlens.risk.bands import meanings

    fixed = meanings([[0.5, "very high"], [0.25, "high"], [0.1, "medium"], [0.0, "standard"]])
    assert fixed == {"very high": "a chance of 50% or more (fixed thresholds, not validated)",
                     "high": "a chance from 25% to 50% (fixed thresholds, not validated)",
                     "medium": "a chance from 10% to 25% (fixed thresholds, not validated)",
                     "standard": "a chance below 10% (fixed thresholds, not validated)"}
    bands = derive_bands(*_calibrated(5000, 4))
    m = meanings(bands)
    assert list(m) == [b["name"] for b in bands] and all("went on to offend" in t for t in m.values())
    assert meanings(None) == {} and meanings("nonsense") == {}
