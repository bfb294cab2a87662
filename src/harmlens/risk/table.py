"""Table mode: cross-validated risk models on any prepared table (one row per person).

``harmlens risk fit-table FILE --target COL --exclude COL ... --folds 10`` reads a CSV or Parquet
table, turns it into numeric inputs (numbers as they are; text columns with few distinct values
one-hot encoded; identifier-like text dropped and reported), runs stratified k-fold
cross-validation of the penalised logistic regression and of the calibrated boosting model, and
reports each metric with a bootstrap CI, side by side with any baseline score columns and any
reference logistic regression on named columns. The inference table comes from the logistic
regression fitted to all rows.
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


def read_table(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise TableError(f"no such file: {p}")
    try:
        if p.suffix.lower() == ".parquet":
            return pd.read_parquet(p)
        # 'N/A' is a real category in some published tables (COMPAS score text), so only empty is missing
        return pd.read_csv(p, keep_default_na=False, na_values=[""], low_memory=False)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise TableError(f"cannot read {p}: {str(exc).splitlines()[0]}") from exc


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
            elif s.nunique(dropna=True) <= 1:
                dropped[col] = "constant"
            else:
                parts.append(s.astype(float).to_frame())
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


def fit_table(
    path: str | Path | pd.DataFrame,
    *,
    target: str,
    exclude: Sequence[str] = (),
    folds: int = 10,
    where: str | None = None,
    baselines: Sequence[str] = (),
    reference_logit: Sequence[Sequence[str]] = (),
    models: Sequence[str] = ("boosting", "logit"),
    ks: Sequence[int] = (100, 1000),
    n_boot: int = 200,
    seed: int = 0,
    boosting_params: dict | None = None,
) -> TableResult:
    """Cross-validated metrics and the inference table for a prepared table.

    Parameters
    ----------
    path : CSV/Parquet file or a DataFrame.
    target : 0/1 outcome column.
    exclude : columns never used as inputs (protected characteristics, outcome leaks, ...).
    folds : k of stratified k-fold cross-validation; every row is scored by a model not
        trained on it (out-of-fold scores), and the metrics are computed on those.
    where : a pandas query selecting rows first (e.g. the published sample filters).
    baselines : existing score columns evaluated as they are (and never used as inputs).
    reference_logit : column sets, each a plain logistic regression cross-validated on the same
        folds (e.g. the published two-feature model ``age, priors_count``).
    """
    from sklearn.model_selection import StratifiedKFold

    from harmlens.risk.estimators import CalibratedBoosting, RiskFactorLogit
    from harmlens.risk.metrics import compare_with_baselines

    df = path.copy() if isinstance(path, pd.DataFrame) else read_table(path)
    notes: list[str] = []
    if where:
        try:
            df = df.query(where, engine="python")
        except Exception as exc:
            raise TableError(f"--where {where!r} failed: {str(exc).splitlines()[0]}") from exc
        notes.append(f"rows selected by: {where}")
    if df.empty:
        raise TableError("no rows left to fit")
    if folds < 2:
        raise TableError("--folds must be at least 2")
    unknown = [c for c in list(exclude) + list(baselines) + [c for s in reference_logit for c in s] if c not in df.columns]
    if unknown:
        raise TableError(f"unknown column(s): {', '.join(unknown)}")
    y = _target(df, target)
    if min(y.sum(), len(y) - y.sum()) < folds:
        raise TableError(f"too few rows of the rarer class ({min(y.sum(), len(y) - y.sum())}) for {folds} folds")
    drop = set(exclude) | set(baselines) | {target}
    X, dropped = prepare_inputs(df.drop(columns=[c for c in df.columns if c in drop]))
    if X.shape[1] == 0:
        raise TableError("no usable input column left after exclusions")
    X = X.reset_index(drop=True)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(skf.split(np.zeros(len(y)), y))
    scores: dict[str, np.ndarray] = {}

    def oof(make, cols: pd.DataFrame) -> np.ndarray:
        out = np.zeros(len(y))
        for tr, te in splits:
            m = make().fit(cols.iloc[tr], y[tr])
            out[te] = m.predict_proba(cols.iloc[te])[:, 1]
        return out

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
        scores[b] = bs.to_numpy(dtype=float)
    cmp = compare_with_baselines(y, scores, ks=ks, n_boot=n_boot, seed=seed, diff_metrics=["auc", "brier", f"precision@{ks[0]}"] if ks else ["auc"])
    full = RiskFactorLogit().fit(X, y)
    return TableResult(
        n_rows=len(y), positives=int(y.sum()), inputs=list(X.columns), dropped=dropped,
        metrics=cmp["metrics"], differences=cmp["differences"], inference=full.inference_table_, notes=notes,
    )
