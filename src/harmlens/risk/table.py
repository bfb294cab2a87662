"""Table mode: cross-validated risk models on any prepared table (one row per person).

``harmlens risk fit-table FILE --target COL --exclude COL ... --folds 10`` reads a CSV or Parquet
table through :mod:`harmlens.tableio` (missing markers such as R's ``NA``, declared types,
top-coded counts), turns it into numeric inputs (numbers as they are, with a ``<col>=missing``
indicator where a column has missing values; text columns with few distinct values one-hot
encoded; identifier-like text dropped and reported), runs stratified k-fold
cross-validation of the penalised logistic regression and of the calibrated boosting model, and
reports each metric with a bootstrap CI, side by side with any baseline score columns and any
reference logistic regression on named columns. With ``test_where`` the models train on the rows
the expression does not select and are scored on the rows it selects (a published holdout).
The inference table comes from the logistic regression fitted to all (training) rows; inputs that
separate the outcome (every row with the input set has the same outcome) are reported and left
out of it, since their coefficient would run off to infinity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError


class TableError(HarmlensError):
    """The prepared table cannot be used as asked (missing column, bad target, ...)."""


@dataclass
class TableResult:
    """What ``fit_table`` found: inputs used and dropped, metrics, inference table."""

    n_rows: int
    positives: int
    inputs: list[str]
    dropped: dict[str, str]
    metrics: pd.DataFrame
    differences: pd.DataFrame
    inference: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    separation: dict[str, str] = field(default_factory=dict)
    reading: dict = field(default_factory=dict)
    mode: str = "cv"
    n_train: int | None = None
    predictions: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """Everything the table output shows, as plain JSON-able values."""
        def rec(df: pd.DataFrame | None) -> list[dict]:
            if df is None:
                return []
            return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                    for r in df.to_dict(orient="records")]
        return {
            "n_rows": self.n_rows, "positives": self.positives, "mode": self.mode, "n_train": self.n_train,
            "inputs": self.inputs, "dropped": self.dropped, "notes": self.notes, "separation": self.separation,
            "reading": self.reading, "metrics": rec(self.metrics), "differences": rec(self.differences),
            "inference": rec(self.inference),
            "inference_rows": self.inference.attrs.get("n_rows") if self.inference is not None else None,
        }


def read_table(path: str | Path, **kwargs) -> pd.DataFrame:
    """The table through :func:`harmlens.tableio.read_table` (missing markers, types, top-coding)."""
    from harmlens.tableio import read_table as _read

    return _read(path, **kwargs)


def prepare_inputs(df: pd.DataFrame, *, max_levels: int = 30, min_count: int = 20) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric model inputs from a table: numbers kept, low-cardinality text one-hot encoded.

    Text columns with more than ``max_levels`` distinct values are grouped: levels seen at least
    ``min_count`` times get a column, the rest fall into ``<col>=other``; a text column whose
    values are nearly all distinct (an identifier, a case number, a timestamp) is dropped.
    Returns the inputs and ``{dropped column: reason}``.
    """
    parts: list[pd.DataFrame] = []
    dropped: dict[str, str] = {}
    n = len(df)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            parts.append(s.astype(float).rename(col).to_frame())
            continue
        if pd.api.types.is_numeric_dtype(s):
            if s.notna().sum() == 0:
                dropped[col] = "always missing"
            elif s.nunique(dropna=True) <= 1 and not s.isna().any():
                dropped[col] = "constant"
            else:
                part = {col: s.astype(float)} if s.nunique(dropna=True) > 1 else {}
                # whether a value is missing often carries signal of its own (not asked, not
                # applicable); median filling alone would hide it from the logistic regression
                if s.isna().any():
                    part[f"{col}=missing"] = s.isna().astype(float)
                parts.append(pd.DataFrame(part, index=df.index))
            continue
        s = s.astype("string")
        nun = s.nunique(dropna=True)
        if nun <= 1:
            dropped[col] = "constant"
            continue
        if nun > 0.5 * n:
            dropped[col] = f"identifier-like text ({nun} distinct values in {n} rows)"
            continue
        counts = s.value_counts(dropna=True)
        levels = counts.index.tolist() if nun <= max_levels else counts[counts >= min_count].index.tolist()
        if not levels:
            dropped[col] = f"text with no level seen {min_count} times"
            continue
        # the most common level is the reference (no column), so the design has no redundancy
        ref = levels[0]
        enc = {f"{col}={lv}": (s == lv).fillna(False).astype(float) for lv in levels[1:]}
        rest = ~s.isin(levels) & s.notna()
        if rest.any():
            enc[f"{col}=other"] = rest.astype(float)
        if s.isna().any():
            enc[f"{col}=missing"] = s.isna().astype(float)
        if enc:
            frame = pd.DataFrame(enc, index=df.index)
            frame.attrs["reference"] = ref
            parts.append(frame)
        else:
            dropped[col] = "a single level after grouping"
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)
    return X, dropped


def _target(df: pd.DataFrame, target: str) -> np.ndarray:
    if target not in df.columns:
        raise TableError(f"target column {target!r} is not in the table (columns: {', '.join(map(str, df.columns[:12]))}...)")
    t = df[target]
    if t.isna().any():
        raise TableError(f"target column {target!r} has {int(t.isna().sum())} missing values")
    vals = set(pd.unique(t).tolist())
    if not vals <= {0, 1, True, False}:
        raise TableError(f"target column {target!r} must be 0/1, found {sorted(map(str, vals))[:5]}")
    if len(vals) < 2:
        raise TableError(f"target column {target!r} has a single value: nothing to predict")
    return t.astype(int).to_numpy()


def separated_inputs(X: pd.DataFrame, y: np.ndarray) -> dict[str, str]:
    """Inputs that separate the outcome: a 0/1 input whose rows at one value all share one outcome.

    Maximum likelihood has no finite estimate for such an input (the coefficient grows without
    bound and statsmodels prints a huge odds ratio with a p-value of ~0), so it is reported in
    words instead of as a number.
    """
    out: dict[str, str] = {}
    for col in X.columns:
        v = X[col].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        vals = np.unique(v[ok])
        if len(vals) != 2:
            continue
        for val in vals:
            rows = ok & (v == val)
            ys = np.unique(y[rows])
            if len(ys) == 1:
                out[col] = f"all {int(rows.sum()):,} rows with {col} = {val:g} have outcome {int(ys[0])}"
                break
    return out


def _where(df: pd.DataFrame, expr: str, flag: str) -> pd.Series:
    # the strict grammar of the audit's --positive: comparisons, and/or/not, no calls or attributes
    from harmlens.groupmetrics.expr import ExpressionError, evaluate

    try:
        return evaluate(expr, df)
    except ExpressionError as exc:
        raise TableError(f"{flag}: {exc}") from None


def fit_table(
    path: str | Path | pd.DataFrame,
    *,
    target: str,
    exclude: Sequence[str] = (),
    folds: int = 10,
    where: str | None = None,
    test_where: str | None = None,
    baselines: Sequence[str] = (),
    reference_logit: Sequence[Sequence[str]] = (),
    models: Sequence[str] = ("boosting", "logit"),
    ks: Sequence[int] = (100, 1000),
    n_boot: int = 200,
    seed: int = 0,
    boosting_params: dict | None = None,
    read_options: dict | None = None,
) -> TableResult:
    """Cross-validated (or held-out) metrics and the inference table for a prepared table.

    Parameters
    ----------
    path : CSV/Parquet file or a DataFrame (both read through :func:`harmlens.tableio.read_table`).
    target : 0/1 outcome column.
    exclude : columns never used as inputs (protected characteristics, outcome leaks, ...).
    folds : k of stratified k-fold cross-validation; every row is scored by a model not
        trained on it (out-of-fold scores), and the metrics are computed on those.
    where : rows to use at all, in the strict expression grammar of :mod:`harmlens.groupmetrics.expr`
        (e.g. the published sample filters).
    test_where : rows held out (same grammar): models train on the other rows and the metrics are
        computed on these; ``folds`` is then not used.
    baselines : existing score columns evaluated as they are (and never used as inputs).
    reference_logit : column sets, each a plain logistic regression cross-validated on the same
        folds (e.g. the published two-feature model ``age, priors_count``).
    read_options : keyword arguments for the reader (``na``, ``keep``, ``types``, ``categorical``,
        ``ordinal``).
    """
    from sklearn.model_selection import StratifiedKFold

    from harmlens.risk.estimators import CalibratedBoosting, RiskFactorLogit
    from harmlens.risk.metrics import compare_with_baselines
    from harmlens.tableio import TableReadError

    try:
        df = read_table(path, **(read_options or {}))
    except TableReadError as exc:
        raise TableError(str(exc)) from None
    reading = df.attrs.get("tableio", {})
    notes: list[str] = []
    if where:
        df = df[_where(df, where, "--where").to_numpy()]
        notes.append(f"rows selected by: {where}")
    if df.empty:
        raise TableError("no rows left to fit")
    if folds < 2:
        raise TableError("--folds must be at least 2")
    unknown = [c for c in list(exclude) + list(baselines) + [c for s in reference_logit for c in s] if c not in df.columns]
    if unknown:
        raise TableError(f"unknown column(s): {', '.join(unknown)}")
    if target in df.columns and df[target].isna().any():
        # an outcome that was not recorded cannot train or score a model: leave the row out, say so
        notes.append(f"{int(df[target].isna().sum()):,} rows without a value in {target!r} left out")
        df = df[df[target].notna()]
    df = df.reset_index(drop=True)
    y = _target(df, target)
    drop = set(exclude) | set(baselines) | {target}
    X, dropped = prepare_inputs(df.drop(columns=[c for c in df.columns if c in drop]))
    if X.shape[1] == 0:
        raise TableError("no usable input column left after exclusions")
    X = X.reset_index(drop=True)
    if test_where:
        test = _where(df, test_where, "--test-where").to_numpy()
        tr_idx, te_idx = np.flatnonzero(~test), np.flatnonzero(test)
        for name, idx in (("held-out", te_idx), ("training", tr_idx)):
            if len(idx) == 0 or len(np.unique(y[idx])) < 2:
                raise TableError(f"--test-where {test_where!r} leaves the {name} rows ({len(idx)}) without both outcomes")
        splits = [(tr_idx, te_idx)]
        eval_idx = te_idx
        notes.append(f"trained on {len(tr_idx):,} rows, metrics on the {len(te_idx):,} held-out rows where: {test_where}")
    else:
        if min(y.sum(), len(y) - y.sum()) < folds:
            raise TableError(f"too few rows of the rarer class ({min(y.sum(), len(y) - y.sum())}) for {folds} folds")
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = list(skf.split(np.zeros(len(y)), y))
        eval_idx = np.arange(len(y))
    scores: dict[str, np.ndarray] = {}

    def oof(make, cols: pd.DataFrame) -> np.ndarray:
        out = np.full(len(y), np.nan)
        for tr, te in splits:
            m = make().fit(cols.iloc[tr], y[tr])
            out[te] = m.predict_proba(cols.iloc[te])[:, 1]
        return out[eval_idx]

    for name in models:
        if name == "logit":
            scores["logit"] = oof(lambda: RiskFactorLogit(inference=False), X)
        elif name == "boosting":
            params = dict(learning_rate=0.05, max_iter=200, max_leaf_nodes=8, min_samples_leaf=40, calibration="sigmoid", random_state=seed)
            params.update(boosting_params or {})
            scores["boosting"] = oof(lambda: CalibratedBoosting(**params), X)
        else:
            raise TableError(f"unknown model {name!r}: use logit or boosting")
    for cols in reference_logit:
        R, _ = prepare_inputs(df[list(cols)])
        scores[f"logit({'+'.join(cols)})"] = oof(lambda: RiskFactorLogit(inference=False), R.reset_index(drop=True))
    for b in baselines:
        bs = pd.to_numeric(df[b], errors="coerce")
        if bs.isna().any():
            raise TableError(f"baseline column {b!r} has {int(bs.isna().sum())} non-numeric or missing values")
        scores[b] = bs.to_numpy(dtype=float)[eval_idx]
    ye = y[eval_idx]
    ks = [k for k in ks if k < len(ye)]
    cmp = compare_with_baselines(ye, scores, ks=ks, n_boot=n_boot, seed=seed,
                                 diff_metrics=["auc", "brier", f"precision@{ks[0]}"] if ks else ["auc", "brier"])
    fit_idx = splits[0][0] if test_where else np.arange(len(y))
    sep = separated_inputs(X.iloc[fit_idx], y[fit_idx])
    Xi = X.iloc[fit_idx].drop(columns=list(sep))
    full = RiskFactorLogit().fit(Xi, y[fit_idx])
    inference = full.inference_table_
    # a combination of inputs can still separate the outcome (quasi-complete separation): the
    # estimate then diverges, which shows as a coefficient many standard deviations wide
    diverged = inference[~np.isfinite(inference.std_err) | (inference.coef_per_sd.abs() > 15)]
    for f in diverged.feature:
        sep[f] = "estimate diverges (quasi-complete separation with other inputs)"
    if len(diverged):
        keep = inference.attrs
        inference = inference[~inference.feature.isin(diverged.feature)].reset_index(drop=True)
        inference.attrs.update(keep)
    predictions = None
    if test_where:
        predictions = pd.DataFrame({"row": eval_idx + 1, target: ye, **{f"p_{k}": v for k, v in scores.items() if k in models}})
    return TableResult(
        n_rows=len(ye), positives=int(ye.sum()), inputs=list(X.columns), dropped=dropped,
        metrics=cmp["metrics"], differences=cmp["differences"], inference=inference, notes=notes,
        separation=sep, reading=reading, mode="holdout" if test_where else "cv",
        n_train=int(len(fit_idx)) if test_where else None, predictions=predictions,
    )
