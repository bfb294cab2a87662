"""Label bias: how the list and its error rates change with what counts as "the outcome".

An allegation is what someone reported; a charge is what the CPS thought it could prove; a
conviction is what a court found. A group that is policed more heavily collects more
allegations for the same behaviour, so a model trained on allegations learns the policing as
well as the offending. For each label this section shows:

* the outcome rate by group (how much the label itself differs between groups);
* the error rates of the actual list measured against that label;
* the list a model trained on that label would have produced (same size, same inputs): its
  composition by group and its overlap with the actual list. Scores come from ``score_<label>``
  columns when the scored table has them (e.g. a model per label from the risk registry);
  otherwise from a transparent logistic regression on the model's inputs, cross-fitted in two
  halves so nobody is scored by a model that saw their own outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harmlens.groupmetrics.groupframe import _jsonable

__all__ = ["LabelBias", "label_bias"]


@dataclass
class LabelBias:
    dimension: str
    labels: list[str]
    list_size: int
    outcome_rate: pd.DataFrame  # group x label
    fpr: pd.DataFrame  # group x label, error rates of the actual list
    fnr: pd.DataFrame
    list_share: pd.DataFrame  # group x ("actual", label...)
    overlap: dict[str, float]  # label -> Jaccard overlap with the actual list
    source: dict[str, str]  # label -> where the per-label scores came from
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def fr(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
            return {str(g): {str(c): _jsonable(v) for c, v in row.items()} for g, row in df.iterrows()}

        return {"dimension": self.dimension, "labels": self.labels, "list_size": self.list_size,
                "outcome_rate": fr(self.outcome_rate), "false_positive_rate": fr(self.fpr),
                "false_negative_rate": fr(self.fnr), "list_share": fr(self.list_share),
                "overlap_with_actual_list": {k: _jsonable(v) for k, v in self.overlap.items()},
                "score_source": dict(self.source), "notes": list(self.notes)}

    def long(self) -> pd.DataFrame:
        """One row per (label, group): outcome rate, FPR, FNR, share of that label's list."""
        rows = []
        for lab in self.labels:
            for g in self.outcome_rate.index:
                rows.append({"label": lab, "group": g, "base_rate": self.outcome_rate.loc[g, lab],
                             "false_positive_rate": self.fpr.loc[g, lab], "false_negative_rate": self.fnr.loc[g, lab],
                             "list_share": self.list_share.loc[g, lab] if lab in self.list_share.columns else np.nan})
        return pd.DataFrame(rows)


def _crossfit_scores(X: pd.DataFrame, y: np.ndarray, random_state: int) -> np.ndarray | None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if y.sum() < 4 or (1 - y).sum() < 4:
        return None
    Xn = np.log1p(X.clip(lower=0).fillna(0).to_numpy(dtype=float))
    out = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=random_state)
    for tr, te in folds.split(Xn, y):
        m = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
        m.fit(Xn[tr], y[tr])
        out[te] = m.predict_proba(Xn[te])[:, 1]
    return out


def _top_k(score: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    order = np.lexsort((tiebreak, -score))
    sel = np.zeros(len(score), dtype=bool)
    sel[order[:k]] = True
    return sel


def label_bias(
    scored: pd.DataFrame,
    *,
    features: pd.DataFrame | None = None,
    dimension: str = "ethnicity",
    labels: tuple[str, ...] = ("allegation", "charge", "conviction"),
    random_state: int = 0,
) -> LabelBias | None:
    """Compare labels (see the module docstring). None when fewer than two labels are present."""
    labs = [lab for lab in labels if f"outcome_{lab}" in scored.columns]
    if len(labs) < 2 or dimension not in scored.columns:
        return None
    notes: list[str] = []
    g = scored[dimension].astype(str)
    listed = scored["listed"].astype(bool).to_numpy()
    k = int(listed.sum())
    groups = sorted(g.unique())
    rate = pd.DataFrame(index=groups, columns=labs, dtype=float)
    fpr = rate.copy()
    fnr = rate.copy()
    share = pd.DataFrame(index=groups, dtype=float)
    share["actual"] = pd.Series(listed, index=scored.index).groupby(g).sum().reindex(groups).fillna(0) / max(k, 1)
    overlap: dict[str, float] = {}
    source: dict[str, str] = {}
    pid = scored["person_id"].astype(str).to_numpy()
    tiebreak = pd.Series(pid).rank(method="first").to_numpy()
    for lab in labs:
        y = pd.to_numeric(scored[f"outcome_{lab}"], errors="coerce")
        ok = y.notna()
        yv = y[ok].to_numpy()
        gv = g[ok]
        lv = listed[ok.to_numpy()]
        frame = pd.DataFrame({"g": gv.to_numpy(), "y": yv, "l": lv})
        for grp, d in frame.groupby("g"):
            rate.loc[grp, lab] = d["y"].mean()
            neg, pos = d[d["y"] == 0], d[d["y"] == 1]
            fpr.loc[grp, lab] = neg["l"].mean() if len(neg) else np.nan
            fnr.loc[grp, lab] = 1 - pos["l"].mean() if len(pos) else np.nan
        s = None
        if f"score_{lab}" in scored.columns:
            s = pd.to_numeric(scored[f"score_{lab}"], errors="coerce").fillna(-np.inf).to_numpy()
            source[lab] = f"score_{lab} column"
        elif features is not None and ok.all():
            X = features.reindex(scored["person_id"].astype(str))
            s = _crossfit_scores(X, yv.astype(int), random_state)
            source[lab] = "cross-fitted logistic regression on the model inputs"
        if s is None:
            source.setdefault(lab, "not available")
            continue
        sel = _top_k(s, k, tiebreak)
        share[lab] = pd.Series(sel, index=scored.index).groupby(g).sum().reindex(groups) / max(k, 1)
        inter = int((sel & listed).sum())
        union = int((sel | listed).sum())
        overlap[lab] = inter / union if union else float("nan")
    if not overlap:
        notes.append("no per-label scores and no model inputs: the lists by label could not be rebuilt")
    notes.append("error rates are those of the actual list measured against each label")
    return LabelBias(dimension, labs, k, rate, fpr, fnr, share.fillna(0.0), overlap, source, notes)
