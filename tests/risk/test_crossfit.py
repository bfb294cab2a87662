"""Cross-fitted boosting: person-grouped folds, calibration on every row's out-of-fold score."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from harmlens.risk import CalibratedBoosting, RiskModelError, expected_calibration_error
from harmlens.risk.estimators import _group_folds


def _people(n_people: int = 1500, rows: int = 8, seed: int = 0):
    """Repeated snapshots of the same people: a per-person propensity drives every row's outcome."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1, 1.2, n_people)
    pid = np.repeat(np.arange(n_people), rows)
    X = pd.DataFrame({"signal": z[pid] + rng.normal(0, 0.5, len(pid)), "noise": rng.normal(0, 1, len(pid))})
    p = 1 / (1 + np.exp(-z[pid]))
    y = (rng.random(len(pid)) < p).astype(int)
    return X, y, pid, p


def test_folds_keep_each_person_together_and_cover_everyone():
    g = np.repeat(np.arange(100), 7)
    folds = _group_folds(len(g), g, 5, 0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(g)))
    for f in folds:
        assert len(set(g[f]) & set(np.setdiff1d(g, g[f]))) == 0
        assert 15 <= len(set(g[f])) <= 25


def test_every_row_calibrates_and_the_result_is_calibrated():
    X, y, pid, _ = _people()
    Xt, yt, _, pt = _people(seed=1)
    m = CalibratedBoosting(backend="lightgbm", calibration="sigmoid", max_iter=100).fit(X, y, groups=pid)
    assert len(m.boosters_) == 5 and m.n_calibration_rows_ == len(y)
    p = m.predict_proba(Xt)[:, 1]
    assert expected_calibration_error(yt, p) < 0.03
    assert np.corrcoef(p, pt)[0, 1] > 0.9
    # one held-out split is still available, and calibrates on a fifth of the people only
    one = CalibratedBoosting(backend="lightgbm", calibration="sigmoid", max_iter=100, n_folds=1).fit(X, y, groups=pid)
    assert len(one.boosters_) == 1 and one.n_calibration_rows_ < 0.3 * len(y)
    with pytest.raises(RiskModelError, match="n_folds"):
        CalibratedBoosting(n_folds=0).fit(X, y)


def test_models_registered_before_cross_fitting_still_score():
    X, y, pid, _ = _people(n_people=300)
    m = CalibratedBoosting(backend="lightgbm", calibration="sigmoid", max_iter=30, n_folds=1).fit(X, y, groups=pid)
    expected = m.predict_proba(X)
    old = m.__dict__.copy()
    old["booster_"] = old.pop("boosters_")[0]
    del old["n_folds"]
    restored = CalibratedBoosting.__new__(CalibratedBoosting)
    restored.__setstate__(pickle.loads(pickle.dumps(old)))
    np.testing.assert_allclose(restored.predict_proba(X), expected)
