"""Estimators: known coefficients recovered, calibration on known probabilities, conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from harmlens.risk import CalibratedBoosting, RiskFactorLogit, RiskModelError, TimeToOffenceCox, expected_calibration_error


def _logistic_data(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "priors": rng.poisson(2.0, n).astype(float),   # true log-odds +0.5 per prior
        "noise": rng.normal(0, 1, n),                  # no effect
        "age": rng.uniform(18, 60, n),                 # true log-odds -0.04 per year
    })
    z = -0.5 + 0.5 * X["priors"] - 0.04 * (X["age"] - 35)
    p = 1 / (1 + np.exp(-z))
    y = (rng.random(n) < p).astype(int)
    return X, y, p.to_numpy()


def test_logit_recovers_known_coefficients_with_honest_intervals():
    X, y, _ = _logistic_data()
    m = RiskFactorLogit(C=1e4).fit(X, y)
    t = m.inference_table_.set_index("feature")
    # the 95% CI of each odds ratio covers the true one
    assert t.loc["priors", "ci_low"] <= np.exp(0.5) <= t.loc["priors", "ci_high"]
    assert t.loc["age", "ci_low"] <= np.exp(-0.04) <= t.loc["age", "ci_high"]
    assert t.loc["noise", "ci_low"] <= 1.0 <= t.loc["noise", "ci_high"]
    assert t.loc["priors", "p_value"] < 1e-10 and t.loc["noise", "p_value"] > 0.01
    # the predictive (penalised) coefficients are per raw unit too
    assert m.coef_[m.kept_features_.index("priors")] == pytest.approx(0.5, abs=0.08)


def test_logit_drops_constant_and_collinear_columns_and_clusters_by_person():
    X, y, _ = _logistic_data(n=2000)
    X["const"] = 3.0
    X["priors_twice"] = 2 * X["priors"]
    groups = np.arange(len(y)) // 4
    m = RiskFactorLogit().fit(X, y, groups=groups)
    assert set(m.dropped_features_) == {"const", "priors_twice"}
    assert m.inference_table_.attrs["clustered"] and m.inference_table_.attrs["n_clusters"] == 500
    p = m.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1)


def test_sklearn_conventions():
    for est in (RiskFactorLogit(C=2.0), CalibratedBoosting(max_iter=20), TimeToOffenceCox(horizon_days=100)):
        c = clone(est)
        assert c.get_params() == est.get_params()
    X, y, _ = _logistic_data(n=600)
    m = RiskFactorLogit(inference=False)
    assert m.fit(X, y) is m and m.inference_table_ is None
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RiskFactorLogit().predict_proba(X)  # not fitted


def test_boosting_is_calibrated_on_known_probabilities():
    X, y, p_true = _logistic_data(n=12000, seed=1)
    Xt, yt, pt = _logistic_data(n=12000, seed=2)
    for backend in ("hgb", "lightgbm"):
        m = CalibratedBoosting(backend=backend, max_iter=100).fit(X, y)
        p = m.predict_proba(Xt)[:, 1]
        assert expected_calibration_error(yt, p) < 0.03
        assert np.corrcoef(p, pt)[0, 1] > 0.9


def test_one_class_and_bad_inputs_are_clear_errors():
    X, y, _ = _logistic_data(n=100)
    with pytest.raises(RiskModelError, match="one class"):
        RiskFactorLogit().fit(X, np.zeros(100))
    with pytest.raises(RiskModelError, match="0/1"):
        CalibratedBoosting().fit(X, np.arange(100) % 3)
    with pytest.raises(RiskModelError, match="rows"):
        RiskFactorLogit().fit(X.iloc[:50], y)
    m = RiskFactorLogit(inference=False).fit(X, y)
    with pytest.raises(RiskModelError, match="lacks columns"):
        m.predict_proba(X.drop(columns=["age"]))


def test_cox_orders_people_by_hazard_and_gives_horizon_probabilities():
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.poisson(1.5, n).astype(float)
    hazard = 0.002 * np.exp(0.6 * x)          # per day
    t = rng.exponential(1 / hazard)
    event = (t < 365).astype(int)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=n)})
    m = TimeToOffenceCox(horizon_days=365, penalizer=0.001).fit(X, event, durations=np.minimum(t, 365))
    hr = m.summary_table().set_index("feature").loc["x"]
    assert hr["ci_low"] <= np.exp(0.6) <= hr["ci_high"]
    p = m.predict_proba(pd.DataFrame({"x": [0.0, 3.0], "noise": [0.0, 0.0]}))[:, 1]
    true = 1 - np.exp(-0.002 * np.exp(0.6 * np.array([0.0, 3.0])) * 365)
    assert p[0] < p[1]
    assert p == pytest.approx(true, abs=0.06)
