"""A discrete-time hazard booster: learns from snapshots whose follow-up was cut short.

Each snapshot row is split into ``n_periods`` equal periods of the horizon. A period is a training
row (the snapshot's features, the period's number and the share of it that was observed) while
the person is still followed and has not yet offended in the horizon; its label is an offence
in that period. So a snapshot taken three months before the data ends still teaches the model
what happened in those three months, with no outcome-based selection of rows (the flaw of binary
inverse-probability-of-censoring weights when the features reveal how recent a snapshot is: it
keeps the recent offenders and drops their peers, see docs/risk.md). The probability of an
offence within the horizon is ``1 - prod_k (1 - hazard_k)`` with every period fully observed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from harmlens.risk.estimators import CalibratedBoosting, RiskModelError

PERIOD, EXPOSURE = "_hazard_period", "_hazard_exposure"


class HazardBoosting(ClassifierMixin, BaseEstimator):
    """``fit(X, y, days_to_event=..., followup_days=..., groups=...)``; ``predict_proba`` over the horizon.

    ``booster`` holds the ``CalibratedBoosting`` settings used on the person-period rows (its
    cross-fitting and calibration are by person, as for snapshots)."""

    def __init__(self, horizon_days: int = 365, n_periods: int = 4, booster: dict[str, Any] | None = None):
        self.horizon_days = horizon_days
        self.n_periods = n_periods
        self.booster = booster

    def _periods(self) -> np.ndarray:
        if int(self.n_periods) < 1:
            raise RiskModelError(f"n_periods must be at least 1 (got {self.n_periods})")
        return np.linspace(0.0, float(self.horizon_days), int(self.n_periods) + 1)

    def fit(self, X: Any, y: Any, days_to_event: Any = None, followup_days: Any = None, groups: Any = None) -> "HazardBoosting":
        Xf = pd.DataFrame(X).reset_index(drop=True)
        yy = np.asarray(y, dtype=int)
        n = len(Xf)
        T = np.full(n, np.nan) if days_to_event is None else np.asarray(days_to_event, dtype=float)
        C = np.full(n, float(self.horizon_days)) if followup_days is None else np.asarray(followup_days, dtype=float)
        if not (len(yy) == len(T) == len(C) == n):
            raise RiskModelError("X, y, days_to_event and followup_days must have the same number of rows")
        if ((yy == 1) != ~np.isnan(T)).any():
            raise RiskModelError("y must be 1 exactly where days_to_event is given")
        edges = self._periods()
        rows, labels, period, exposure = [], [], [], []
        for k in range(len(edges) - 1):
            lo, hi = edges[k], edges[k + 1]
            # followed into the period and no offence before it
            at_risk = (C > lo) & (np.isnan(T) | (T >= lo))
            idx = np.flatnonzero(at_risk)
            rows.append(idx)
            labels.append((~np.isnan(T[idx]) & (T[idx] < hi)).astype(int))
            period.append(np.full(len(idx), k, dtype=float))
            exposure.append((np.minimum(C[idx], hi) - lo) / (hi - lo))
        idx = np.concatenate(rows)
        P = Xf.iloc[idx].reset_index(drop=True)
        P[PERIOD] = np.concatenate(period)
        P[EXPOSURE] = np.concatenate(exposure)
        g = None if groups is None else np.asarray(groups)[idx]
        self.model_ = CalibratedBoosting(**(self.booster or {})).fit(P, np.concatenate(labels), groups=g)
        self.feature_names_in_ = [str(c) for c in Xf.columns]
        self.n_features_in_ = len(self.feature_names_in_)
        M = Xf.to_numpy(dtype=float, na_value=np.nan)
        self.medians_ = np.nan_to_num(np.nanmedian(M, axis=0)) if n else np.zeros(M.shape[1])
        self.classes_ = np.array([0, 1])
        self.n_period_rows_ = int(len(idx))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        Xf = pd.DataFrame(X)[self.feature_names_in_].reset_index(drop=True)
        survive = np.ones(len(Xf))
        for k in range(int(self.n_periods)):
            P = Xf.copy()
            P[PERIOD] = float(k)
            P[EXPOSURE] = 1.0
            survive *= 1.0 - self.model_.predict_proba(P)[:, 1]
        p = np.clip(1.0 - survive, 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
