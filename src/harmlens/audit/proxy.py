"""Proxy scan: can the model's inputs (and its score) predict a person's ethnicity?

Ethnicity is never a model input, but inputs can carry it (where someone lives and how heavily
that area is policed, the kinds of offence recorded). The scan fits a gradient-boosted proxy
model from the model's inputs to self-defined ethnicity (people with ``not stated`` left out) and
reports, on people it did not see in training:

* one-vs-rest AUC for each group (0.5 = the inputs say nothing about it; 1 = they give it away)
  and their mean (macro AUC);
* which inputs carry it: the drop in macro AUC when one input is shuffled (permutation
  importance), and each input's own best one-vs-rest AUC;
* the AUC of the risk score itself for each group (does the score, alone, signal ethnicity?).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harmlens.groupmetrics.groupframe import _jsonable
from harmlens.groupmetrics.groups import NOT_STATED

__all__ = ["ProxyScan", "proxy_scan"]


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass
class ProxyScan:
    n_people: int
    groups: list[str]
    auc_by_group: dict[str, float]
    macro_auc: float
    importance: pd.DataFrame  # feature, importance (drop in macro AUC), own_auc, own_auc_group
    score_auc_by_group: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def level(self) -> str:
        a = self.macro_auc
        if np.isnan(a):
            return "not measurable"
        if a >= 0.7:
            return "strong"
        if a >= 0.6:
            return "moderate"
        return "weak"

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_people": self.n_people,
            "groups": self.groups,
            "auc_by_group": {k: _jsonable(v) for k, v in self.auc_by_group.items()},
            "macro_auc": _jsonable(self.macro_auc),
            "level": self.level(),
            "importance": [{k: _jsonable(v) for k, v in r.items()} for r in self.importance.to_dict("records")],
            "score_auc_by_group": {k: _jsonable(v) for k, v in self.score_auc_by_group.items()},
            "notes": list(self.notes),
        }


def proxy_scan(
    features: pd.DataFrame,
    ethnicity: pd.Series,
    *,
    score: pd.Series | None = None,
    min_group: int = 30,
    max_people: int = 20_000,
    n_repeats: int = 3,
    top: int = 15,
    random_state: int = 0,
) -> ProxyScan:
    """Fit the proxy model and measure what the inputs reveal (see the module docstring).

    ``features`` and ``ethnicity`` (and ``score``) share an index (person_id). Groups with fewer
    than ``min_group`` people are left out of the proxy target and named in ``notes``.
    """
    from threadpoolctl import threadpool_limits

    # one thread: on a shared machine OpenMP's spinning threads make a small fit hundreds of times slower
    with threadpool_limits(limits=1):
        return _proxy_scan(features, ethnicity, score=score, min_group=min_group, max_people=max_people,
                           n_repeats=n_repeats, top=top, random_state=random_state)


def _proxy_scan(features: pd.DataFrame, ethnicity: pd.Series, *, score: pd.Series | None, min_group: int,
                max_people: int, n_repeats: int, top: int, random_state: int) -> ProxyScan:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    notes: list[str] = []
    eth = ethnicity.reindex(features.index)
    keep = eth.notna() & (eth != NOT_STATED)
    counts = eth[keep].value_counts()
    small = counts[counts < min_group]
    if len(small):
        notes.append("left out of the proxy model (too few people): " + ", ".join(f"{g} ({n})" for g, n in small.items()))
    groups = sorted(counts[counts >= min_group].index)
    keep &= eth.isin(groups)
    X = features.loc[keep].apply(pd.to_numeric, errors="coerce").astype(float)
    y = eth[keep].astype(str)
    if len(groups) < 2 or len(X) < 4 * min_group:
        notes.append("too few people with a stated ethnicity to fit a proxy model")
        return ProxyScan(int(len(X)), groups, {}, float("nan"),
                         pd.DataFrame(columns=["feature", "importance", "own_auc", "own_auc_group"]), {}, notes)
    if len(X) > max_people:
        X = X.sample(max_people, random_state=random_state)
        y = y.loc[X.index]
        notes.append(f"proxy model fitted on a random {max_people:,} of the people")
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=random_state)
    model = HistGradientBoostingClassifier(max_iter=80, learning_rate=0.1, max_leaf_nodes=15,
                                           min_samples_leaf=20, random_state=random_state)
    model.fit(Xtr, ytr)
    classes = list(model.classes_)
    yte_a = yte.to_numpy()

    def macro(P: np.ndarray) -> tuple[float, dict[str, float]]:
        per = {c: _auc((yte_a == c).astype(int), P[:, i]) for i, c in enumerate(classes)}
        vals = [v for v in per.values() if not np.isnan(v)]
        return (float(np.mean(vals)) if vals else float("nan")), per

    base, per = macro(model.predict_proba(Xte))
    rng = np.random.default_rng(random_state)
    Xte_a = Xte.to_numpy(copy=True)
    rows = []
    for j, col in enumerate(X.columns):
        drops = []
        orig = Xte_a[:, j].copy()
        for _ in range(n_repeats):
            Xte_a[:, j] = rng.permutation(orig)
            drops.append(base - macro(model.predict_proba(pd.DataFrame(Xte_a, columns=X.columns)))[0])
        Xte_a[:, j] = orig
        # the input on its own: its best one-vs-rest AUC (either direction) on all people
        v = X[col].fillna(X[col].median() if X[col].notna().any() else 0).to_numpy()
        own = {g: _auc((y.to_numpy() == g).astype(int), v) for g in groups}
        best_g = max(own, key=lambda g: abs(own[g] - 0.5) if not np.isnan(own[g]) else -1)
        rows.append({"feature": col, "importance": float(np.mean(drops)), "own_auc": own[best_g],
                     "own_auc_group": best_g})
    imp = pd.DataFrame(rows).sort_values("importance", ascending=False).head(top).reset_index(drop=True)
    sauc: dict[str, float] = {}
    if score is not None:
        s = pd.to_numeric(score.reindex(y.index), errors="coerce").to_numpy()
        ok = ~np.isnan(s)
        sauc = {g: _auc((y.to_numpy()[ok] == g).astype(int), s[ok]) for g in groups}
    notes.append("AUC measured on 30% of people held out from fitting the proxy model")
    return ProxyScan(int(len(X)), groups, per, base, imp, sauc, notes)
