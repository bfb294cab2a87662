"""A transparent stand-in for a registered forecast model, so rank tests can hand-compute ranks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmlens.features import FEATURES


class CountModel:
    """P(offend) = sigmoid(intercept + slope * n_vawg_365d): the risk area's estimator interface."""

    def __init__(self, intercept: float = -2.0, slope: float = 1.0):
        self.intercept = intercept
        self.slope = slope
        self.feature_names_in_ = np.array(list(FEATURES))
        self.medians_ = np.zeros(len(FEATURES))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        z = self.intercept + self.slope * np.asarray(X["n_vawg_365d"], dtype=float)
        p = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1 - p, p])


def sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


def register_model(con, folder: Path, model=None, severity: float = 100.0, version_status: str = "candidate") -> str:
    """Register ``model`` (default CountModel) in the warehouse registry as the next version."""
    from harmlens.risk import registry

    model = model or CountModel()
    bundle = registry.RiskBundle(
        models={"count": model}, primary="count", features=list(FEATURES),
        target={"category": "vawg", "horizon_days": 365, "threshold": "allegation"},
        window={"train_start": "2020-01-01", "train_end": "2022-12-01"},
        severity_edges=[0.0], severity_means=[severity],
    )
    version = registry.next_version(con)
    artifact, sha = registry.save_bundle(bundle, folder / version)
    registry.register(con, version=version, bundle=bundle, artifact=artifact, artifact_sha256=sha, data_hash_="test",
                      params={}, metrics={}, card_md=None, card_html=None)
    return version
