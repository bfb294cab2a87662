"""Group metrics in one result object, in the style of fairlearn's ``MetricFrame``.

``GroupFrame`` holds, for one sensitive feature (ethnicity, sex, age band, borough, ...):

- ``overall``: metric -> value over everyone;
- ``by_group``: a DataFrame, one row per group, one column per metric;
- ``ci``: bootstrap (or parametric) confidence intervals, index ``(group, metric)``,
  columns ``low``/``high``;
- ``difference()`` / ``ratio()`` between groups or against a reference group, with CIs
  from the same replicates (``difference_ci()`` / ``ratio_ci()``);
- ``warnings``: plain sentences naming every group or metric that rests on too few cases;
- ``to_frame()`` (long table) and ``to_dict()`` (JSON-safe).

Three ways to build one:

``GroupFrame(metrics, y_true, y_pred, sensitive_features=..., y_score=...)``
    row-level data, like ``MetricFrame``. Confidence intervals come from a bootstrap
    *stratified by group* (each group resampled to its own size), so a small group's interval
    reflects its own size. Built-in metrics (``BUILTIN_METRICS``) are computed for all
    replicates at once from multinomial weights; any plain ``f(y_true, y_pred) -> float``
    also works (slower: one call per replicate).
``GroupFrame.from_rates(numerators, denominators, kind="poisson"|"binomial", per=...)``
    counts per group, e.g. stops per 1,000 residents (Poisson counts over census
    denominators) or searches that found something (binomial); CIs by parametric bootstrap.
``GroupFrame.from_shares(counts)``
    how each column of counts is spread across groups (share of the list, of the population,
    of recorded offending); CIs from multinomial resampling of each column.

Why our own bootstrap rather than ``MetricFrame(n_boot=...)``: fairlearn resamples the whole
table, so a small group's size changes from replicate to replicate (and can be zero); the
stratified bootstrap keeps each group at its observed size, which is the sampling design the
audit reasons about, and the weighted formulation is about two orders of magnitude faster.
The point estimates of the built-in metrics equal fairlearn's (tested against ``MetricFrame``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

__all__ = ["GroupFrame", "Metric", "BUILTIN_METRICS", "GroupFrameError"]

OVERALL = "(overall)"
MISSING_GROUP = "(missing)"


class GroupFrameError(HarmlensError):
    """Bad input to a GroupFrame (unknown metric, misaligned arrays, unknown reference group)."""


# --------------------------------------------------------------------------------------------
# Metrics: each maps (data, W) -> values, where W is a (k, n) matrix of non-negative row weights
# (bootstrap counts; a row of ones is the plain estimate). All return an array of length k.
# --------------------------------------------------------------------------------------------


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True)
class Metric:
    """A metric that can be evaluated under many row weightings at once.

    Parameters
    ----------
    name
        Column name in ``by_group``.
    func
        ``func(data, W) -> array(k)``; ``data`` has ``y_true``, ``y_pred`` and (if given)
        ``y_score`` as float arrays; ``W`` is a ``(k, n)`` weight matrix.
    support
        ``support(data) -> int``: how many cases the estimate rests on (negatives for a
        false positive rate, positives for a false negative rate, ...). Used for warnings.
    support_label
        What ``support`` counts, for the warning text.
    needs_score
        Whether ``y_score`` is required.
    """

    name: str
    func: Callable[[dict[str, np.ndarray], np.ndarray], np.ndarray]
    support: Callable[[dict[str, np.ndarray]], int]
    support_label: str = "people"
    needs_score: bool = False
    description: str = ""


def _n(d: dict[str, np.ndarray]) -> int:
    return int(len(d["y_true"]))


def _auc_weighted(d: dict[str, np.ndarray], W: np.ndarray) -> np.ndarray:
    """Weighted Mann-Whitney AUC for every weight row; ties count one half."""
    s, y = d["y_score"], d["y_true"]
    if len(s) == 0:
        return np.full(W.shape[0], np.nan)
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    Wo = W[:, order]
    pos = (y[order] == 1).astype(float)
    wpos = np.add.reduceat(Wo * pos, starts, axis=1)
    wneg = np.add.reduceat(Wo * (1.0 - pos), starts, axis=1)
    below = np.cumsum(wneg, axis=1) - wneg
    num = (wpos * (below + 0.5 * wneg)).sum(axis=1)
    return _div(num, wpos.sum(axis=1) * wneg.sum(axis=1))


def _builtin() -> dict[str, Metric]:
    def wsum(W: np.ndarray, v: np.ndarray) -> np.ndarray:
        return W @ v

    def count(d, W):
        return W.sum(axis=1)

    def sel(d, W):
        return _div(wsum(W, d["y_pred"]), W.sum(axis=1))

    def base(d, W):
        return _div(wsum(W, d["y_true"]), W.sum(axis=1))

    def fpr(d, W):
        return _div(wsum(W, d["y_pred"] * (1 - d["y_true"])), wsum(W, 1 - d["y_true"]))

    def fnr(d, W):
        return _div(wsum(W, (1 - d["y_pred"]) * d["y_true"]), wsum(W, d["y_true"]))

    def tpr(d, W):
        return _div(wsum(W, d["y_pred"] * d["y_true"]), wsum(W, d["y_true"]))

    def tnr(d, W):
        return _div(wsum(W, (1 - d["y_pred"]) * (1 - d["y_true"])), wsum(W, 1 - d["y_true"]))

    def ppv(d, W):
        return _div(wsum(W, d["y_pred"] * d["y_true"]), wsum(W, d["y_pred"]))

    def npv(d, W):
        return _div(wsum(W, (1 - d["y_pred"]) * (1 - d["y_true"])), wsum(W, 1 - d["y_pred"]))

    def mean_score(d, W):
        return _div(wsum(W, d["y_score"]), W.sum(axis=1))

    def oe(d, W):
        return _div(wsum(W, d["y_true"]), wsum(W, d["y_score"]))

    def cal_diff(d, W):
        return _div(wsum(W, d["y_true"] - d["y_score"]), W.sum(axis=1))

    def brier(d, W):
        return _div(wsum(W, (d["y_score"] - d["y_true"]) ** 2), W.sum(axis=1))

    pos = lambda d: int((d["y_true"] == 1).sum())  # noqa: E731
    neg = lambda d: int((d["y_true"] == 0).sum())  # noqa: E731
    ppos = lambda d: int((d["y_pred"] == 1).sum())  # noqa: E731
    pneg = lambda d: int((d["y_pred"] == 0).sum())  # noqa: E731
    m = [
        Metric("count", count, _n, "people", description="number of people"),
        Metric("selection_rate", sel, _n, "people", description="share predicted positive / listed"),
        Metric("base_rate", base, _n, "people", description="share with the outcome"),
        Metric("false_positive_rate", fpr, neg, "people without the outcome",
               description="listed among those without the outcome"),
        Metric("false_negative_rate", fnr, pos, "people with the outcome",
               description="not listed among those with the outcome"),
        Metric("true_positive_rate", tpr, pos, "people with the outcome", description="recall"),
        Metric("true_negative_rate", tnr, neg, "people without the outcome", description="specificity"),
        Metric("precision", ppv, ppos, "people listed", description="outcome among those listed (PPV)"),
        Metric("npv", npv, pneg, "people not listed", description="no outcome among those not listed"),
        Metric("mean_score", mean_score, _n, "people", needs_score=True, description="mean predicted risk"),
        Metric("calibration_oe", oe, pos, "people with the outcome", needs_score=True,
               description="observed / expected outcomes (1 = calibrated)"),
        Metric("calibration_diff", cal_diff, _n, "people", needs_score=True,
               description="observed minus expected outcome rate"),
        Metric("brier", brier, _n, "people", needs_score=True, description="mean squared error of the risk"),
        Metric("auc", _auc_weighted, lambda d: min(pos(d), neg(d)), "people in the smaller outcome class",
               needs_score=True, description="area under the ROC curve of the score"),
    ]
    return {x.name: x for x in m}


BUILTIN_METRICS: dict[str, Metric] = _builtin()


def _wrap_callable(name: str, f: Callable[..., Any]) -> Metric:
    """A plain ``f(y_true, y_pred) -> float`` evaluated once per weight row (rows repeated)."""

    def func(d, W):
        out = np.empty(W.shape[0])
        idx = np.arange(len(d["y_true"]))
        for i, w in enumerate(W):
            take = np.repeat(idx, w.astype(int))
            try:
                out[i] = float(f(d["y_true"][take], d["y_pred"][take]))
            except (ValueError, ZeroDivisionError):
                out[i] = np.nan
        return out

    return Metric(name, func, _n, "people", description=getattr(f, "__doc__", "") or "")


def _resolve_metrics(metrics: Any) -> list[Metric]:
    if isinstance(metrics, (str, Metric)) or callable(metrics):
        metrics = [metrics]
    items: list[tuple[str | None, Any]]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        items = [(None, m) for m in metrics]
    out: list[Metric] = []
    for name, m in items:
        if isinstance(m, Metric):
            out.append(m if name is None or name == m.name else Metric(name, m.func, m.support, m.support_label,
                                                                       m.needs_score, m.description))
        elif isinstance(m, str):
            if m not in BUILTIN_METRICS:
                raise GroupFrameError(f"unknown metric {m!r}; built-in metrics: {', '.join(BUILTIN_METRICS)}")
            b = BUILTIN_METRICS[m]
            out.append(b if name is None else Metric(name, b.func, b.support, b.support_label, b.needs_score,
                                                     b.description))
        elif callable(m):
            out.append(_wrap_callable(name or getattr(m, "__name__", "metric"), m))
        else:
            raise GroupFrameError(f"metric {m!r} is neither a built-in name, a Metric nor a callable")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise GroupFrameError(f"duplicate metric names: {names}")
    if not out:
        raise GroupFrameError("no metrics given")
    return out


def _as_binary(x: Any, what: str) -> np.ndarray:
    a = pd.Series(x).to_numpy()
    if a.dtype == bool:
        return a.astype(float)
    try:
        f = a.astype(float)
    except (TypeError, ValueError) as exc:
        raise GroupFrameError(f"{what} must be 0/1 or boolean") from exc
    if np.isnan(f).any():
        raise GroupFrameError(f"{what} has missing values; drop or fill them first")
    if not np.isin(f, (0.0, 1.0)).all():
        raise GroupFrameError(f"{what} must be 0/1 or boolean (found other values)")
    return f


def _labels(sensitive_features: Any) -> tuple[np.ndarray, str]:
    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.shape[1] == 1:
            s = sensitive_features.iloc[:, 0]
        else:
            name = " & ".join(map(str, sensitive_features.columns))
            parts = sensitive_features.astype(object).where(sensitive_features.notna(), MISSING_GROUP).astype(str)
            return parts.agg(" & ".join, axis=1).to_numpy(dtype=object), name
    else:
        s = pd.Series(sensitive_features)
    name = str(s.name) if s.name is not None else "group"
    lab = s.astype(object).where(s.notna(), MISSING_GROUP).astype(str)
    return lab.to_numpy(dtype=object), name


MAX_LEVELS = 2000


def _compress(gdata: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], list[slice], list[np.ndarray]]:
    """Distinct (y_true, y_pred, y_score) tuples per group, their share of the group, stacked."""
    parts: list[dict[str, np.ndarray]] = []
    probs: list[np.ndarray] = []
    for gd in gdata:
        cols = {k: v for k, v in gd.items()}
        if "y_score" in cols and len(np.unique(cols["y_score"])) > MAX_LEVELS:
            s = cols["y_score"]
            order = np.argsort(s, kind="mergesort")
            b = np.empty(len(s), dtype=np.int64)
            b[order] = np.arange(len(s)) * MAX_LEVELS // len(s)
            means = np.bincount(b, weights=s) / np.bincount(b)
            cols["y_score"] = means[b]
        df = pd.DataFrame(cols)
        u = df.groupby(list(df.columns), sort=True).size().reset_index(name="_n")
        parts.append({k: u[k].to_numpy(dtype=float) for k in cols})
        probs.append(u["_n"].to_numpy(dtype=float) / u["_n"].sum())
    keys = list(parts[0]) if parts else []
    stacked = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    bounds = np.cumsum([0] + [len(pr) for pr in probs])
    return stacked, [slice(int(bounds[i]), int(bounds[i + 1])) for i in range(len(probs))], probs


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------------


class GroupFrame:
    """Metrics by group with confidence intervals and small-group warnings.

    Parameters
    ----------
    metrics
        Built-in metric names (see ``BUILTIN_METRICS``), ``Metric`` objects, plain callables
        ``f(y_true, y_pred) -> float``, or a dict name -> any of these.
    y_true
        The outcome, 0/1 or boolean.
    y_pred
        The decision (listed / predicted positive), 0/1 or boolean. Defaults to zeros when only
        score metrics are asked for.
    sensitive_features
        One label per row (Series, array) or a DataFrame (columns combined with " & ").
        Missing labels become the group ``(missing)``: kept visible, never dropped.
    y_score
        Predicted probability, needed by ``auc``, ``mean_score``, ``calibration_*``, ``brier``.
    n_boot
        Bootstrap replicates (0 for none: CIs are then NaN).
    ci_level
        Two-sided confidence level of the percentile intervals.
    min_group_size, min_support
        A group smaller than ``min_group_size``, or a metric resting on fewer than
        ``min_support`` cases, is flagged unreliable and named in ``warnings``.
    random_state
        Seed; the same inputs and seed give the same intervals.
    """

    def __init__(
        self,
        metrics: Any = ("selection_rate", "false_positive_rate", "false_negative_rate", "precision"),
        y_true: Any = None,
        y_pred: Any = None,
        *,
        sensitive_features: Any,
        y_score: Any = None,
        n_boot: int = 500,
        ci_level: float = 0.95,
        min_group_size: int = 30,
        min_support: int = 10,
        random_state: int | None = 0,
    ) -> None:
        mets = _resolve_metrics(metrics)
        if y_true is None:
            raise GroupFrameError("y_true is required")
        yt = _as_binary(y_true, "y_true")
        n = len(yt)
        yp = np.zeros(n) if y_pred is None else _as_binary(y_pred, "y_pred")
        labels, name = _labels(sensitive_features)
        data: dict[str, np.ndarray] = {"y_true": yt, "y_pred": yp}
        if y_score is not None:
            ys = pd.to_numeric(pd.Series(y_score), errors="coerce").to_numpy(dtype=float)
            if np.isnan(ys).any():
                raise GroupFrameError("y_score has missing or non-numeric values")
            data["y_score"] = ys
        for m in mets:
            if m.needs_score and "y_score" not in data:
                raise GroupFrameError(f"metric {m.name!r} needs y_score")
        lens = {len(v) for v in data.values()} | {len(labels)}
        if len(lens) != 1:
            raise GroupFrameError(f"inputs have different lengths: {sorted(lens)}")
        if n == 0:
            raise GroupFrameError("no rows to compute group metrics on")
        if not 0 < ci_level < 1:
            raise GroupFrameError("ci_level must be between 0 and 1")

        groups = sorted(pd.unique(labels), key=str)
        order = np.argsort(pd.Categorical(labels, categories=groups).codes, kind="mergesort")
        data = {k: v[order] for k, v in data.items()}
        labels = labels[order]
        bounds = np.searchsorted(pd.Categorical(labels, categories=groups).codes, np.arange(len(groups) + 1))
        slices = [slice(int(bounds[i]), int(bounds[i + 1])) for i in range(len(groups))]

        gdata = [{k: v[sl] for k, v in data.items()} for sl in slices]
        by = np.array([[m.func(gd, np.ones((1, sl.stop - sl.start)))[0] for m in mets]
                       for gd, sl in zip(gdata, slices)])
        overall = np.array([m.func(data, np.ones((1, n)))[0] for m in mets])
        support = np.array([[m.support(gd) for m in mets] for gd in gdata])
        counts = np.array([sl.stop - sl.start for sl in slices])
        overall_support = np.array([m.support(data) for m in mets])

        reps = np.full((n_boot, len(groups), len(mets)), np.nan)
        oreps = np.full((n_boot, len(mets)), np.nan)
        if n_boot > 0:
            rng = np.random.default_rng(random_state)
            # Every metric depends on a row only through (y_true, y_pred, y_score), so resampling
            # a group's rows equals resampling its distinct (y, pred, score) tuples with
            # multinomial counts: the same distribution, at the cost of the distinct tuples, not
            # of the rows. Scores with more than MAX_LEVELS distinct values are grouped into
            # equal-count bins (bin mean kept, so means stay exact; AUC changes only within bins).
            cdata, cslices, probs = _compress(gdata)
            nu = cslices[-1].stop if cslices else 0
            chunk = max(1, min(n_boot, 4_000_000 // max(nu, 1)))
            done = 0
            while done < n_boot:
                k = min(chunk, n_boot - done)
                W = np.empty((k, nu))
                for sl, pr, c in zip(cslices, probs, counts):
                    W[:, sl] = rng.multinomial(int(c), pr, size=k)
                for j, m in enumerate(mets):
                    oreps[done:done + k, j] = m.func(cdata, W)
                    for g, sl in enumerate(cslices):
                        reps[done:done + k, g, j] = m.func({key: v[sl] for key, v in cdata.items()}, W[:, sl])
                done += k

        self._init(
            feature=name, groups=groups, metrics=[m.name for m in mets], by_group=by, overall=overall,
            counts=counts, support=support, reps=reps, overall_reps=oreps, ci_level=ci_level,
            min_group_size=min_group_size, min_support=min_support,
            support_labels={m.name: m.support_label for m in mets}, method=f"stratified bootstrap, {n_boot} replicates",
            overall_support=overall_support,
        )

    # ---------------------------------------------------------------- alternative constructors

    @classmethod
    def _blank(cls) -> "GroupFrame":
        return cls.__new__(cls)

    @classmethod
    def from_rates(
        cls,
        numerators: Mapping[str, Any] | pd.DataFrame | pd.Series,
        denominators: Mapping[str, Any] | pd.DataFrame | pd.Series,
        *,
        kind: str = "poisson",
        per: float = 1.0,
        feature: str = "group",
        n_boot: int = 2000,
        ci_level: float = 0.95,
        min_group_size: int = 30,
        min_support: int = 10,
        random_state: int | None = 0,
    ) -> "GroupFrame":
        """Rates ``per * numerator / denominator`` for each group, with parametric CIs.

        ``numerators``/``denominators`` are Series (one metric, named by the Series name or
        ``rate``) or DataFrames indexed by group, one column per metric. ``kind="poisson"``
        treats the numerator as a Poisson count over a fixed exposure (stops per 1,000
        residents, census denominators); ``kind="binomial"`` treats it as successes out of
        ``denominator`` trials (searches that found something). ``min_group_size`` applies to
        the denominator, ``min_support`` to the numerator.
        """
        if kind not in ("poisson", "binomial"):
            raise GroupFrameError(f"kind must be 'poisson' or 'binomial', not {kind!r}")
        num = _as_frame(numerators, "numerators")
        den = _as_frame(denominators, "denominators")
        if len(den.columns) == 1 and set(num.columns) != set(den.columns):
            den = pd.DataFrame({c: den.iloc[:, 0] for c in num.columns})
        if set(num.columns) != set(den.columns):
            raise GroupFrameError(f"numerators {list(num.columns)} and denominators {list(den.columns)} differ")
        den = den[num.columns]
        groups = sorted(set(num.index.astype(str)) | set(den.index.astype(str)), key=str)
        num.index = num.index.astype(str)
        den.index = den.index.astype(str)
        missing = [g for g in groups if g not in den.index]
        if missing:
            raise GroupFrameError(f"no denominator for group(s): {', '.join(missing)}")
        num = num.reindex(groups).fillna(0).astype(float)
        den = den.reindex(groups).astype(float)
        if (num.to_numpy() < 0).any() or (den.to_numpy() < 0).any():
            raise GroupFrameError("counts and denominators must be non-negative")
        if kind == "binomial" and (num.to_numpy() > den.to_numpy()).any():
            raise GroupFrameError("binomial numerators cannot exceed their denominators")
        a, d = num.to_numpy(), den.to_numpy()
        by = per * _div(a, d)
        overall = per * _div(a.sum(axis=0), d.sum(axis=0))
        rng = np.random.default_rng(random_state)
        if n_boot > 0:
            if kind == "poisson":
                draws = rng.poisson(np.broadcast_to(a, (n_boot,) + a.shape))
            else:
                p = np.nan_to_num(_div(a, d))
                draws = rng.binomial(np.broadcast_to(d.astype(np.int64), (n_boot,) + a.shape), p)
            reps = per * _div(draws, d[None])
            oreps = per * _div(draws.sum(axis=1), d.sum(axis=0)[None])
        else:
            reps = np.full((0,) + a.shape, np.nan)
            oreps = np.full((0, a.shape[1]), np.nan)
        self = cls._blank()
        self._init(
            feature=feature, groups=groups, metrics=[str(c) for c in num.columns], by_group=by, overall=overall,
            counts=d.max(axis=1), support=a, reps=reps, overall_reps=oreps, ci_level=ci_level,
            min_group_size=min_group_size, min_support=min_support,
            support_labels={str(c): "counted events" for c in num.columns},
            method=f"parametric {kind} bootstrap, {n_boot} replicates",
        )
        return self

    @classmethod
    def from_shares(
        cls,
        counts: pd.DataFrame | Mapping[str, Mapping[str, float]],
        *,
        feature: str = "group",
        n_boot: int = 2000,
        ci_level: float = 0.95,
        min_group_size: int = 30,
        min_support: int = 5,
        random_state: int | None = 0,
    ) -> "GroupFrame":
        """How each column of counts is spread across groups (each column sums to 1).

        ``counts`` is indexed by group, one column per base (e.g. ``list``, ``population``,
        ``offending``). CIs come from multinomial resampling of each column at its own total,
        so a census column of millions gets a near-zero interval and a list of 100 a wide one.
        Use ``compare("list", "population")`` for the "78% of the list vs 27% of the base" ratio.
        ``overall`` is each column's total count.
        """
        c = _as_frame(counts, "counts")
        c.index = c.index.astype(str)
        c = c.fillna(0).astype(float)
        if (c.to_numpy() < 0).any():
            raise GroupFrameError("counts must be non-negative")
        groups = sorted(c.index, key=str)
        c = c.reindex(groups)
        a = c.to_numpy()
        tot = a.sum(axis=0)
        by = _div(a, tot[None])
        rng = np.random.default_rng(random_state)
        reps = np.full((max(n_boot, 0),) + a.shape, np.nan)
        for j in range(a.shape[1]):
            if tot[j] > 0 and n_boot > 0:
                p = a[:, j] / tot[j]
                reps[:, :, j] = rng.multinomial(int(round(tot[j])), p, size=n_boot) / round(tot[j])
        self = cls._blank()
        self._init(
            feature=feature, groups=groups, metrics=[str(x) for x in c.columns], by_group=by, overall=tot,
            counts=a.max(axis=1), support=a, reps=reps, overall_reps=np.broadcast_to(tot, (max(n_boot, 0), len(tot))),
            ci_level=ci_level, min_group_size=min_group_size, min_support=min_support,
            support_labels={str(x): "counted" for x in c.columns}, method=f"multinomial bootstrap, {n_boot} replicates",
            small_group_on="support",
        )
        return self

    # ---------------------------------------------------------------- internals

    def _init(
        self, *, feature: str, groups: list[str], metrics: list[str], by_group: np.ndarray, overall: np.ndarray,
        counts: np.ndarray, support: np.ndarray, reps: np.ndarray, overall_reps: np.ndarray, ci_level: float,
        min_group_size: int, min_support: int, support_labels: dict[str, str], method: str,
        small_group_on: str = "count", overall_support: np.ndarray | None = None,
    ) -> None:
        self.feature = feature
        self.metrics = list(metrics)
        self.groups = [str(g) for g in groups]
        self.ci_level = float(ci_level)
        self.method = method
        self.min_group_size = int(min_group_size)
        self.min_support = int(min_support)
        self._by = np.asarray(by_group, dtype=float).reshape(len(groups), len(metrics))
        self._overall = np.asarray(overall, dtype=float)
        self._counts = np.asarray(counts, dtype=float)
        self._support = np.asarray(support, dtype=float).reshape(len(groups), len(metrics))
        self._osupport = (self._support.sum(axis=0) if overall_support is None
                          else np.asarray(overall_support, dtype=float))
        self._reps = np.asarray(reps, dtype=float)
        self._oreps = np.asarray(overall_reps, dtype=float)
        self.n_boot = int(self._reps.shape[0])
        q = (1 - ci_level) / 2
        self._q = (q, 1 - q)
        self._reliable = np.ones_like(self._by, dtype=bool)
        warns: list[str] = []
        small: list[tuple[str, int]] = []
        for g, grp in enumerate(self.groups):
            if small_group_on == "count" and self._counts[g] < self.min_group_size:
                self._reliable[g, :] = False
                small.append((grp, int(self._counts[g])))
                continue
            undefined, thin = [], []
            for j, m in enumerate(self.metrics):
                if np.isnan(self._by[g, j]):
                    self._reliable[g, j] = False
                    undefined.append(f"{m} is undefined (no {support_labels.get(m, 'cases')})")
                elif self._support[g, j] < self.min_support:
                    self._reliable[g, j] = False
                    thin.append(f"{m} rests on {int(self._support[g, j])} {support_labels.get(m, 'cases')}")
            if undefined:
                warns.append(f"{feature} '{grp}': " + "; ".join(undefined))
            if thin:  # one line per group, however many of its figures are thin
                warns.append(f"{feature} '{grp}': " + "; ".join(thin) + f" (< {self.min_support}); treat as unreliable")
        if len(small) == 1:
            warns.insert(0, f"{feature} '{small[0][0]}': only {small[0][1]} people (< {self.min_group_size}); "
                            "too few to say anything about this group")
        elif small:
            listed = ", ".join(f"'{g}' ({n})" for g, n in small[:12]) + (" ..." if len(small) > 12 else "")
            warns.insert(0, f"{feature}: {len(small)} groups have fewer than {self.min_group_size} people, too few "
                            f"to say anything about them: {listed}")
        self.warnings: list[str] = warns

    def _pct(self, arr: np.ndarray, axis: int = 0, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = self._q if level is None else ((1 - level) / 2, 1 - (1 - level) / 2)
        if arr.shape[axis] == 0:
            shape = arr.shape[:axis] + arr.shape[axis + 1:]
            return np.full(shape, np.nan), np.full(shape, np.nan)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo = np.nanquantile(arr, q[0], axis=axis)
                hi = np.nanquantile(arr, q[1], axis=axis)
        return lo, hi

    def _gidx(self, group: str) -> int:
        g = str(group)
        if g not in self.groups:
            raise GroupFrameError(f"unknown group {group!r} of {self.feature}; groups: {', '.join(self.groups)}")
        return self.groups.index(g)

    def _midx(self, metric: str) -> int:
        if metric not in self.metrics:
            raise GroupFrameError(f"unknown metric {metric!r}; metrics: {', '.join(self.metrics)}")
        return self.metrics.index(metric)

    def _mask(self, reliable_only: bool) -> np.ndarray:
        return self._reliable if reliable_only else ~np.isnan(self._by)

    # ---------------------------------------------------------------- public views

    @property
    def overall(self) -> pd.Series:
        """Metric -> value over all rows."""
        return pd.Series(self._overall, index=pd.Index(self.metrics, name="metric"), name="overall")

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group, one column per metric."""
        return pd.DataFrame(self._by, index=pd.Index(self.groups, name=self.feature),
                            columns=pd.Index(self.metrics, name="metric"))

    @property
    def counts(self) -> pd.Series:
        """Rows (people) per group (for ``from_rates``/``from_shares``: the largest denominator/count)."""
        return pd.Series(self._counts, index=pd.Index(self.groups, name=self.feature), name="n")

    @property
    def support(self) -> pd.DataFrame:
        """How many cases each (group, metric) estimate rests on."""
        return pd.DataFrame(self._support, index=pd.Index(self.groups, name=self.feature),
                            columns=pd.Index(self.metrics, name="metric"))

    @property
    def reliable(self) -> pd.DataFrame:
        """False where the group is too small or the metric rests on too few cases."""
        return pd.DataFrame(self._reliable, index=pd.Index(self.groups, name=self.feature),
                            columns=pd.Index(self.metrics, name="metric"))

    @property
    def ci(self) -> pd.DataFrame:
        """Confidence intervals: index (group, metric), columns low/high."""
        lo, hi = self._pct(self._reps)
        idx = pd.MultiIndex.from_product([self.groups, self.metrics], names=[self.feature, "metric"])
        return pd.DataFrame({"low": lo.ravel(), "high": hi.ravel()}, index=idx)

    @property
    def overall_ci(self) -> pd.DataFrame:
        """Confidence intervals of ``overall``: index metric, columns low/high."""
        lo, hi = self._pct(self._oreps)
        return pd.DataFrame({"low": lo, "high": hi}, index=pd.Index(self.metrics, name="metric"))

    def _between(self, how: str, reliable_only: bool) -> tuple[np.ndarray, np.ndarray]:
        mask = self._mask(reliable_only)
        vals = np.where(mask, self._by, np.nan)
        reps = np.where(mask[None], self._reps, np.nan)
        import warnings

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if how == "difference":
                point = np.nanmax(vals, axis=0) - np.nanmin(vals, axis=0)
                rep = np.nanmax(reps, axis=1) - np.nanmin(reps, axis=1) if reps.size else reps[:, 0, :]
            else:
                point = _div(np.nanmin(vals, axis=0), np.nanmax(vals, axis=0))
                rep = _div(np.nanmin(reps, axis=1), np.nanmax(reps, axis=1)) if reps.size else reps[:, 0, :]
        return point, rep

    def _vs_ref(self, how: str, reference: str) -> tuple[np.ndarray, np.ndarray]:
        r = self._gidx(reference)
        with np.errstate(all="ignore"):
            if how == "difference":
                return self._by - self._by[r][None], self._reps - self._reps[:, r:r + 1, :]
            return _div(self._by, self._by[r][None]), _div(self._reps, self._reps[:, r:r + 1, :])

    def difference(self, reference: str | None = None, *, reliable_only: bool = True) -> pd.Series | pd.DataFrame:
        """Between-group difference.

        ``reference=None``: largest minus smallest group value per metric (a Series), over the
        groups flagged reliable unless ``reliable_only=False`` (fairlearn uses every group; a
        group of five people would otherwise decide the answer). With a reference group: each
        group's value minus the reference group's (a DataFrame like ``by_group``).
        """
        if reference is None:
            point, _ = self._between("difference", reliable_only)
            return pd.Series(point, index=pd.Index(self.metrics, name="metric"), name="difference")
        point, _ = self._vs_ref("difference", reference)
        return pd.DataFrame(point, index=pd.Index(self.groups, name=self.feature),
                            columns=pd.Index(self.metrics, name="metric"))

    def ratio(self, reference: str | None = None, *, reliable_only: bool = True) -> pd.Series | pd.DataFrame:
        """Between-group ratio: smallest over largest (Series), or each group over ``reference``
        (DataFrame, e.g. the disproportionality ratio against White)."""
        if reference is None:
            point, _ = self._between("ratio", reliable_only)
            return pd.Series(point, index=pd.Index(self.metrics, name="metric"), name="ratio")
        point, _ = self._vs_ref("ratio", reference)
        return pd.DataFrame(point, index=pd.Index(self.groups, name=self.feature),
                            columns=pd.Index(self.metrics, name="metric"))

    def _ci_frame(self, how: str, reference: str | None, reliable_only: bool, level: float | None = None
                  ) -> pd.DataFrame:
        if reference is None:
            _, rep = self._between(how, reliable_only)
            lo, hi = self._pct(rep, level=level)
            return pd.DataFrame({"low": lo, "high": hi}, index=pd.Index(self.metrics, name="metric"))
        _, rep = self._vs_ref(how, reference)
        lo, hi = self._pct(rep, level=level)
        idx = pd.MultiIndex.from_product([self.groups, self.metrics], names=[self.feature, "metric"])
        return pd.DataFrame({"low": lo.ravel(), "high": hi.ravel()}, index=idx)

    def difference_ci(self, reference: str | None = None, *, reliable_only: bool = True,
                      level: float | None = None) -> pd.DataFrame:
        """Confidence interval of ``difference(reference)`` from the same replicates.

        ``level`` overrides ``ci_level`` (e.g. a Bonferroni level ``1 - 0.05 / m`` for m groups)."""
        return self._ci_frame("difference", reference, reliable_only, level)

    def ratio_ci(self, reference: str | None = None, *, reliable_only: bool = True,
                 level: float | None = None) -> pd.DataFrame:
        """Confidence interval of ``ratio(reference)`` from the same replicates (``level`` as above)."""
        return self._ci_frame("ratio", reference, reliable_only, level)

    def compare(self, metric: str, base: str, how: str = "ratio", *, level: float | None = None) -> pd.DataFrame:
        """Compare two metrics group by group (``metric / base`` or ``metric - base``).

        For ``from_shares``: ``compare("list", "population")`` is each group's share of the
        list over its share of the population. Columns: value, low, high.
        """
        i, j = self._midx(metric), self._midx(base)
        with np.errstate(all="ignore"):
            if how == "ratio":
                v, rep = _div(self._by[:, i], self._by[:, j]), _div(self._reps[:, :, i], self._reps[:, :, j])
            elif how == "difference":
                v, rep = self._by[:, i] - self._by[:, j], self._reps[:, :, i] - self._reps[:, :, j]
            else:
                raise GroupFrameError(f"how must be 'ratio' or 'difference', not {how!r}")
        lo, hi = self._pct(rep, level=level)
        return pd.DataFrame({"value": v, "low": lo, "high": hi}, index=pd.Index(self.groups, name=self.feature))

    def to_frame(self) -> pd.DataFrame:
        """Long table: feature, group, metric, value, low, high, n, support, reliable (overall first)."""
        ci = self.ci
        oci = self.overall_ci
        rows = []
        for j, m in enumerate(self.metrics):
            rows.append({"feature": self.feature, "group": OVERALL, "metric": m, "value": self._overall[j],
                         "low": oci.loc[m, "low"], "high": oci.loc[m, "high"], "n": float(self._counts.sum()),
                         "support": float(self._osupport[j]), "reliable": True})
        for g, grp in enumerate(self.groups):
            for j, m in enumerate(self.metrics):
                rows.append({"feature": self.feature, "group": grp, "metric": m, "value": self._by[g, j],
                             "low": ci.loc[(grp, m), "low"], "high": ci.loc[(grp, m), "high"],
                             "n": self._counts[g], "support": self._support[g, j],
                             "reliable": bool(self._reliable[g, j])})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: NaN becomes None; every number is a plain float/int."""
        ci = self.ci
        oci = self.overall_ci
        return {
            "feature": self.feature,
            "metrics": list(self.metrics),
            "groups": list(self.groups),
            "ci_level": self.ci_level,
            "method": self.method,
            "min_group_size": self.min_group_size,
            "min_support": self.min_support,
            "overall": {m: _jsonable(self._overall[j]) for j, m in enumerate(self.metrics)},
            "overall_ci": {m: [_jsonable(oci.loc[m, "low"]), _jsonable(oci.loc[m, "high"])] for m in self.metrics},
            "by_group": {g: {m: _jsonable(self._by[i, j]) for j, m in enumerate(self.metrics)}
                         for i, g in enumerate(self.groups)},
            "ci": {g: {m: [_jsonable(ci.loc[(g, m), "low"]), _jsonable(ci.loc[(g, m), "high"])] for m in self.metrics}
                   for g in self.groups},
            "counts": {g: _jsonable(self._counts[i]) for i, g in enumerate(self.groups)},
            "support": {g: {m: _jsonable(self._support[i, j]) for j, m in enumerate(self.metrics)}
                        for i, g in enumerate(self.groups)},
            "reliable": {g: {m: bool(self._reliable[i, j]) for j, m in enumerate(self.metrics)}
                         for i, g in enumerate(self.groups)},
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        return (f"GroupFrame(feature={self.feature!r}, groups={len(self.groups)}, metrics={self.metrics}, "
                f"{self.method}, warnings={len(self.warnings)})")


def _as_frame(x: Any, what: str) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return x.copy()
    if isinstance(x, pd.Series):
        return x.to_frame(name=x.name if x.name is not None else "rate")
    if isinstance(x, Mapping):
        vals = list(x.values())
        if vals and all(isinstance(v, Mapping) for v in vals):
            return pd.DataFrame(x)  # {column: {group: value}}
        return pd.Series(x, name="rate", dtype=float).to_frame()
    raise GroupFrameError(f"{what} must be a DataFrame, Series or mapping")
