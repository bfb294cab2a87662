"""Per-person explanations: the factors that raised or lowered one person's risk most.

For the logistic model a factor's contribution is its coefficient times the person's distance
from the typical (training-mean) value, in log-odds. For any other model (boosting, Cox) it is
an ablation: the change in predicted probability when that one factor is set to its typical
(training-median) value, everything else kept. Both are turned into sentences an analyst can read:
what the factor is, the person's value, the typical value, and which way it moved the risk.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from harmlens.risk.estimators import RiskFactorLogit


def _descriptions() -> Mapping[str, str]:
    try:
        from harmlens.features import FEATURES
    except ImportError:
        return {}
    return FEATURES


def _fmt(v: float) -> str:
    if pd.isna(v):
        return "missing"
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}"


def contributions(model: Any, X: pd.DataFrame, *, chunk: int = 2000) -> pd.DataFrame:
    """Per-row, per-feature contributions; logit in log-odds, others in probability points."""
    if isinstance(model, RiskFactorLogit):
        return model.contributions(X)
    names = list(model.feature_names_in_)
    ref = np.asarray(model.medians_, dtype=float)
    M = X[names].to_numpy(dtype=float, na_value=np.nan)
    out = np.zeros((len(X), len(names)))
    for start in range(0, len(X), chunk):
        Mc = M[start : start + chunk]
        base = model.predict_proba(pd.DataFrame(Mc, columns=names))[:, 1]
        # every one-factor-set-to-typical copy in a single predict call (fast for boosted trees)
        varying = [j for j in range(len(names)) if not np.all(Mc[:, j] == ref[j])]
        if not varying:
            continue
        blocks = []
        for j in varying:
            B = Mc.copy()
            B[:, j] = ref[j]
            blocks.append(B)
        P = model.predict_proba(pd.DataFrame(np.vstack(blocks), columns=names))[:, 1].reshape(len(varying), len(Mc))
        for i, j in enumerate(varying):
            out[start : start + len(Mc), j] = base - P[i]
    return pd.DataFrame(out, columns=names, index=X.index)


def explain(model: Any, X_row: Any, *, top: int = 5, descriptions: Mapping[str, str] | None = None) -> list[tuple[str, float, str]]:
    """The factors that moved one person's risk most: ``[(feature, contribution, words), ...]``.

    ``X_row`` is a one-row DataFrame (or a Series) of the model's features. Factors are ordered by
    the size of their contribution; at most ``top`` are returned, raising and lowering mixed.
    """
    if isinstance(X_row, pd.Series):
        X_row = X_row.to_frame().T
    X_row = X_row.iloc[:1]
    desc = dict(_descriptions()) if descriptions is None else dict(descriptions)
    c = contributions(model, X_row).iloc[0]
    names = list(c.index)
    if isinstance(model, RiskFactorLogit):
        typical = dict(zip(model.kept_features_, model.mean_))
        unit = "log-odds"
    else:
        typical = dict(zip(model.feature_names_in_, model.medians_))
        unit = "probability points"
    order = np.argsort(-np.abs(c.to_numpy()), kind="stable")
    out: list[tuple[str, float, str]] = []
    for j in order[:top]:
        name = names[j]
        val = float(c.iloc[j])
        if val == 0:
            continue
        what = desc.get(name, name.replace("_", " "))
        direction = "raised" if val > 0 else "lowered"
        amount = f"{abs(val) * 100:.1f} percentage points" if unit == "probability points" else f"{abs(val):.2f} on the log-odds scale"
        words = f"{what}: {_fmt(float(X_row[name].iloc[0]))} (typical {_fmt(typical.get(name, float('nan')))}) {direction} the risk by {amount}"
        out.append((name, val, words))
    return out


def top_factors_text(model: Any, X: pd.DataFrame, *, top: int = 3) -> list[str]:
    """A short 'why' per row for lists: the top factors raising the risk, with the person's values."""
    c = contributions(model, X)
    names = np.asarray(c.columns)
    M = c.to_numpy()
    texts = []
    for i in range(len(X)):
        order = np.argsort(-M[i], kind="stable")[:top]
        parts = [f"{names[j]}={_fmt(float(X.iloc[i][names[j]]))}" for j in order if M[i, j] > 0]
        texts.append("; ".join(parts) if parts else "no factor above typical")
    return texts
