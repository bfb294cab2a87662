"""Calibration by group: does a predicted 30% mean 30% for every group?

The score range is cut into the same bins for everyone (quantiles of the whole population's
scores, so every bin holds people), and fairlearn's ``MetricFrame`` with two sensitive features
(group, bin) gives the mean predicted risk and the observed outcome rate in each cell: exactly a
reliability diagram per group. A Wilson interval on each observed rate says how much a cell can
be trusted; cells with fewer than ``min_n`` people are dropped rather than drawn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["calibration_by_group"]


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    p = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def calibration_by_group(y: np.ndarray, score: np.ndarray, groups: pd.Series | np.ndarray, *, bins: int = 5,
                         min_n: int = 20) -> pd.DataFrame:
    """group, bin, n, mean_predicted, observed, observed_low, observed_high (one row per populated cell)."""
    from fairlearn.metrics import MetricFrame, count

    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    g = pd.Series(np.asarray(groups, dtype=object)).astype(str)
    ok = ~np.isnan(y) & ~np.isnan(s)
    y, s, g = y[ok], s[ok], g[ok].reset_index(drop=True)
    if len(y) == 0:
        return pd.DataFrame(columns=["group", "bin", "n", "mean_predicted", "observed", "observed_low", "observed_high"])
    edges = np.unique(np.quantile(s, np.linspace(0, 1, bins + 1)))
    b = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, max(len(edges) - 2, 0))
    mf = MetricFrame(
        metrics={"n": count, "observed": lambda yt, yp: float(np.mean(yt)), "mean_predicted": lambda yt, yp: float(np.mean(yp))},
        y_true=y, y_pred=s, sensitive_features=pd.DataFrame({"group": g, "bin": b + 1}),
    )
    out = mf.by_group.reset_index()
    out = out[out["n"].fillna(0) >= min_n].copy()
    out["n"] = out["n"].astype(int)
    k = np.round(out["observed"].to_numpy(dtype=float) * out["n"].to_numpy())
    lo, hi = _wilson(k, out["n"].to_numpy(dtype=float))
    out["observed_low"], out["observed_high"] = lo, hi
    return out[["group", "bin", "n", "mean_predicted", "observed", "observed_low", "observed_high"]].reset_index(drop=True)
