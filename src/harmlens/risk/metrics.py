"""Validation metrics with bootstrap confidence intervals, and side-by-side baseline tables.

Every figure is a row ``metric, value, ci_low, ci_high``. Confidence intervals are percentile
bootstrap intervals over people (rows resampled with replacement); comparisons between a model
and a baseline use the *same* resamples (paired bootstrap), so the interval of the difference
accounts for the two scores being computed on the same people.

Top-k metrics break ties in the score at random (seeded): a baseline that gives many people the
same score is not credited with an order it does not have.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError


class MetricsError(HarmlensError):
    """Scores and outcomes cannot be compared (lengths differ, one class only, ...)."""


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC via the rank-sum (Mann-Whitney) formula, ties counted half."""
    from scipy.stats import rankdata

    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _pr_auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    if y.sum() == 0:
        return float("nan")
    return float(average_precision_score(y, s))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10, strategy: str = "quantile") -> float:
    """ECE: the row-weighted mean |observed rate - mean predicted| over bins of the prediction.

    ``strategy="quantile"`` uses equal-count bins (stable when most predictions are small, as
    they are for rare offences); ``"uniform"`` uses equal-width bins on [0, 1].
    """
    tab = calibration_table(y, p, n_bins=n_bins, strategy=strategy)
    if tab.empty:
        return float("nan")
    return float((tab["n"] * (tab["observed"] - tab["mean_predicted"]).abs()).sum() / tab["n"].sum())


def calibration_table(y: Any, p: Any, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Bins of predicted probability: bin, n, mean_predicted, observed (rate of the outcome)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "n", "mean_predicted", "observed"])
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        bins = np.empty(len(p), dtype=int)
        bins[order] = np.minimum((np.arange(len(p)) * n_bins) // len(p), n_bins - 1)
    elif strategy == "uniform":
        bins = np.minimum((np.clip(p, 0, 1) * n_bins).astype(int), n_bins - 1)
    else:
        raise MetricsError(f"unknown binning strategy {strategy!r}: use quantile or uniform")
    df = pd.DataFrame({"bin": bins, "y": y, "p": p})
    g = df.groupby("bin", sort=True)
    return pd.DataFrame({"n": g.size(), "mean_predicted": g["p"].mean(), "observed": g["y"].mean()}).reset_index()


def _top_k_mask(s: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    k = min(k, len(s))
    order = np.lexsort((tiebreak, -s))
    mask = np.zeros(len(s), dtype=bool)
    mask[order[:k]] = True
    return mask


def _point_metrics(y: np.ndarray, s: np.ndarray, harm: np.ndarray | None, ks: Sequence[int], tiebreak: np.ndarray, probabilistic: bool) -> dict[str, float]:
    """All metrics from one sort (score descending, ties in random order): fast enough to bootstrap."""
    n = len(y)
    order = np.lexsort((tiebreak, -s))
    ys, ss = y[order], s[order]
    pos = float(ys.sum())
    neg = n - pos
    # ROC and precision-recall at each distinct score (tied scores move together, as in scikit-learn)
    last = np.r_[np.flatnonzero(np.diff(ss)), n - 1]
    tps = np.cumsum(ys)[last]
    fps = (last + 1) - tps
    out: dict[str, float] = {}
    if pos and neg:
        tpr = np.r_[0.0, tps / pos]
        fpr = np.r_[0.0, fps / neg]
        out["auc"] = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    else:
        out["auc"] = float("nan")
    if pos:
        recall = tps / pos
        precision = tps / (last + 1)
        out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    else:
        out["pr_auc"] = float("nan")
    if probabilistic:
        out["brier"] = float(np.mean((s - y) ** 2))
        # equal-count bins over the ascending order
        asc_p, asc_y = ss[::-1], ys[::-1]
        bins = np.minimum((np.arange(n) * 10) // n, 9)
        cnt = np.bincount(bins, minlength=10)
        ok = cnt > 0
        mp = np.bincount(bins, weights=asc_p, minlength=10)[ok] / cnt[ok]
        ob = np.bincount(bins, weights=asc_y, minlength=10)[ok] / cnt[ok]
        out["ece"] = float(np.sum(cnt[ok] * np.abs(ob - mp)) / n)
    cum = np.cumsum(ys)
    hcum = np.cumsum(harm[order]) if harm is not None else None
    for k in ks:
        kk = min(k, n)
        hits = float(cum[kk - 1]) if kk else 0.0
        out[f"precision@{k}"] = hits / kk if kk else float("nan")
        out[f"recall@{k}"] = hits / pos if pos else float("nan")
        if hcum is not None:
            total = hcum[-1]
            out[f"harm_share@{k}"] = float(hcum[kk - 1] / total) if total > 0 and kk else float("nan")
    return out


def _prepare(y_true: Any, scores: Any, harm_next: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if len(y) != len(s):
        raise MetricsError(f"{len(y)} outcomes but {len(s)} scores")
    if len(y) == 0:
        raise MetricsError("no rows to evaluate")
    if np.isnan(y).any() or not set(np.unique(y).tolist()) <= {0.0, 1.0}:
        raise MetricsError("outcomes must be 0/1 with no missing values")
    if np.isnan(s).any():
        raise MetricsError("scores contain missing values")
    h = None
    if harm_next is not None:
        h = np.nan_to_num(np.asarray(harm_next, dtype=float).ravel())
        if len(h) != len(y):
            raise MetricsError(f"{len(y)} outcomes but {len(h)} harm values")
    return y, s, h


def _is_probability(s: np.ndarray) -> bool:
    return bool(np.all((s >= 0) & (s <= 1)))


def _ci(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    ok = samples[~np.isnan(samples)]
    if len(ok) == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    return float(np.quantile(ok, a)), float(np.quantile(ok, 1 - a))


def evaluate_scores(
    y_true: Any,
    scores: Any,
    *,
    harm_next: Any = None,
    ks: Sequence[int] = (100, 1000),
    n_boot: int = 200,
    seed: int = 0,
    probabilistic: bool | None = None,
) -> pd.DataFrame:
    """AUC, PR-AUC, Brier, ECE, precision@k, recall@k and harm share of top k, with bootstrap CIs.

    Parameters
    ----------
    y_true : 0/1 outcomes within the horizon.
    scores : risk scores (probabilities for Brier/ECE; any monotone score for the rest).
    harm_next : harm in the horizon per person, for the share of harm captured by the top k.
    ks : list sizes for the top-k metrics.
    n_boot : bootstrap resamples (0 for no intervals).
    probabilistic : report Brier and ECE; default when every score is in [0, 1].

    Returns
    -------
    DataFrame with columns metric, value, ci_low, ci_high.
    """
    y, s, h = _prepare(y_true, scores, harm_next)
    if probabilistic is None:
        probabilistic = _is_probability(s)
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(len(y))
    point = _point_metrics(y, s, h, ks, tiebreak, probabilistic)
    boots = {m: np.full(n_boot, np.nan) for m in point}
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        vals = _point_metrics(y[idx], s[idx], None if h is None else h[idx], ks, tiebreak[idx], probabilistic)
        for m, v in vals.items():
            boots[m][b] = v
    rows = []
    for m, v in point.items():
        lo, hi = _ci(boots[m]) if n_boot else (float("nan"), float("nan"))
        rows.append({"metric": m, "value": v, "ci_low": lo, "ci_high": hi})
    out = pd.DataFrame(rows)
    out.attrs.update(n=int(len(y)), positives=int(y.sum()), n_boot=n_boot, seed=seed)
    return out


def compare_with_baselines(
    y_true: Any,
    scores: Mapping[str, Any],
    *,
    reference: str | None = None,
    harm_next: Any = None,
    ks: Sequence[int] = (100, 1000),
    n_boot: int = 200,
    seed: int = 0,
    diff_metrics: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Side-by-side metrics of several scores on the same people, and paired differences.

    Parameters
    ----------
    scores : name -> scores (the model and each baseline, aligned with ``y_true``).
    reference : the model the others are compared with (default: the first name).
    diff_metrics : metrics whose paired difference (reference - other) is reported; default
        precision@<first k>, auc and harm_share@<first k> when harm is given.

    Returns
    -------
    ``{"metrics": long table name/metric/value/ci_low/ci_high,
       "wide": metric x name table of "value [low, high]",
       "differences": reference vs each other: metric, reference, other, difference, ci_low,
       ci_high, ratio (reference / other)}``
    """
    if not scores:
        raise MetricsError("no scores to compare")
    names = list(scores)
    reference = reference or names[0]
    if reference not in scores:
        raise MetricsError(f"reference {reference!r} is not among the scores {names}")
    prepared = {}
    y = h = None
    for name in names:
        y, s, h = _prepare(y_true, scores[name], harm_next)
        prepared[name] = s
    assert y is not None
    k0 = ks[0] if ks else 100
    if diff_metrics is None:
        diff_metrics = [f"precision@{k0}", "auc"] + ([f"harm_share@{k0}"] if h is not None else [])
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(len(y))
    prob = {n: _is_probability(s) for n, s in prepared.items()}
    point = {n: _point_metrics(y, s, h, ks, tiebreak, prob[n]) for n, s in prepared.items()}
    boots = {n: {m: np.full(n_boot, np.nan) for m in point[n]} for n in names}
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        for n, s in prepared.items():
            vals = _point_metrics(y[idx], s[idx], None if h is None else h[idx], ks, tiebreak[idx], prob[n])
            for m, v in vals.items():
                boots[n][m][b] = v
    long_rows = []
    for n in names:
        for m, v in point[n].items():
            lo, hi = _ci(boots[n][m]) if n_boot else (float("nan"), float("nan"))
            long_rows.append({"score": n, "metric": m, "value": v, "ci_low": lo, "ci_high": hi})
    long = pd.DataFrame(long_rows)
    wide = long.assign(cell=[f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if not np.isnan(lo) else f"{v:.3f}" for v, lo, hi in zip(long.value, long.ci_low, long.ci_high)])
    wide = wide.pivot(index="metric", columns="score", values="cell").reindex(columns=names)
    wide = wide.reindex([m for m in point[reference]] + [m for m in wide.index if m not in point[reference]])
    diffs = []
    for other in names:
        if other == reference:
            continue
        for m in diff_metrics:
            if m not in point[reference] or m not in point[other]:
                continue
            d = point[reference][m] - point[other][m]
            lo, hi = _ci(boots[reference][m] - boots[other][m]) if n_boot else (float("nan"), float("nan"))
            ratio = point[reference][m] / point[other][m] if point[other][m] else float("inf")
            diffs.append({"metric": m, "reference": reference, "other": other, "reference_value": point[reference][m],
                          "other_value": point[other][m], "difference": d, "ci_low": lo, "ci_high": hi, "ratio": ratio})
    out = {"metrics": long, "wide": wide.reset_index(), "differences": pd.DataFrame(diffs)}
    for t in out.values():
        t.attrs.update(n=int(len(y)), positives=int(y.sum()), n_boot=n_boot, seed=seed)
    return out


def error_rates_by_group(y_true: Any, scores: Any, groups: Any, *, flagged: Any, min_group: int = 1) -> pd.DataFrame:
    """Error rates per group for a flag (e.g. the top k): who is wrongly flagged and who is missed.

    Returns group, n, prevalence, mean_predicted, flagged_rate, fpr (flagged among those with no
    offence), fnr (not flagged among those with an offence), ppv, auc, calibration ratio
    (observed / mean predicted).
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    f = np.asarray(flagged, dtype=bool)
    g = pd.Series(np.asarray(groups, dtype=object)).fillna("unknown").astype(str).to_numpy()
    if not (len(y) == len(s) == len(f) == len(g)):
        raise MetricsError("outcomes, scores, flags and groups must have the same length")
    rows = []
    for grp in sorted(set(g.tolist())):
        m = g == grp
        n = int(m.sum())
        if n < min_group:
            continue
        yy, ss, ff = y[m], s[m], f[m]
        neg, pos = (yy == 0), (yy == 1)
        rows.append({
            "group": grp, "n": n, "prevalence": float(yy.mean()), "mean_predicted": float(ss.mean()),
            "flagged_rate": float(ff.mean()),
            "fpr": float(ff[neg].mean()) if neg.any() else float("nan"),
            "fnr": float((~ff[pos]).mean()) if pos.any() else float("nan"),
            "ppv": float(yy[ff].mean()) if ff.any() else float("nan"),
            "auc": _auc(yy, ss),
            "calibration_ratio": float(yy.mean() / ss.mean()) if ss.mean() > 0 else float("nan"),
        })
    return pd.DataFrame(rows)
