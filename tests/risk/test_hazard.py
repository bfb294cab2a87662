"""The discrete-time hazard booster (censoring='hazard'): person-period rows and horizon probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmlens.risk.estimators import RiskModelError
from harmlens.risk.hazard import HazardBoosting

H = 365.0
FAST = dict(backend="lightgbm", learning_rate=0.1, max_leaf_nodes=8, min_samples_leaf=50, calibration="sigmoid", n_folds=2)


def _data(n: int, seed: int, censor_share: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    rate = np.exp(-1.0 + 1.0 * X["x"].to_numpy()) / H
    t = rng.exponential(1 / rate)
    follow = np.where(rng.random(n) < censor_share, rng.integers(1, 12, n) * 30.4, H)
    T = np.where(t < follow, t, np.nan)
    return X, (~np.isnan(T)).astype(int), T, follow, 1 - np.exp(-rate * H), np.arange(n) // 3


def test_horizon_probability_is_recovered_under_heavy_censoring():
    X, y, T, follow, truth, groups = _data(30_000, 0, censor_share=0.5)
    m = HazardBoosting(booster=FAST).fit(X, y, days_to_event=T, followup_days=follow, groups=groups)
    Xt, _, _, _, truth_t, _ = _data(5_000, 1, 0.0)
    p = m.predict_proba(Xt)[:, 1]
    assert abs(p.mean() - truth_t.mean()) < 0.02
    assert np.corrcoef(p, truth_t)[0, 1] > 0.95
    # labelling the cut-short rows 0 (what the hazard model avoids) underestimates by far more
    naive = HazardBoosting(booster=FAST).fit(X, y, days_to_event=T, followup_days=np.full(len(y), H), groups=groups)
    assert naive.predict_proba(Xt)[:, 1].mean() < truth_t.mean() - 0.05


def test_period_rows_stop_at_the_offence_and_at_the_end_of_follow_up():
    X = pd.DataFrame({"x": np.arange(4.0)})
    y = np.array([1, 0, 0, 1])
    T = np.array([10.0, np.nan, np.nan, 200.0])
    follow = np.array([H, H, 100.0, H])
    m = HazardBoosting(booster=dict(FAST, calibration="none", min_samples_leaf=1, early_stopping=False, n_folds=1))
    m.fit(X, y, days_to_event=T, followup_days=follow)
    # 1 period (offence in the first), 4, 2 (100 days: one full quarter and a part), 3 (offence in the third)
    assert m.n_period_rows_ == 1 + 4 + 2 + 3
    assert m.predict_proba(X).shape == (4, 2)
    assert list(m.feature_names_in_) == ["x"]


def test_inconsistent_labels_are_a_clear_error():
    X = pd.DataFrame({"x": [0.0, 1.0]})
    with pytest.raises(RiskModelError, match="days_to_event"):
        HazardBoosting(booster=FAST).fit(X, [1, 0], days_to_event=[np.nan, np.nan], followup_days=[H, H])
    with pytest.raises(RiskModelError, match="n_periods"):
        HazardBoosting(n_periods=0, booster=FAST).fit(X, [1, 0], days_to_event=[5.0, np.nan], followup_days=[H, H])
