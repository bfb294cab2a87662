"""Audit any scored table: ``harmlens audit --scores FILE --outcome COL --group COL --positive EXPR``.

The table can come from anywhere (another tool's scores, a spreadsheet of past referrals). The
audit asks, for each group: how often is a person flagged, how often wrongly (false positive
rate among people without the outcome), how often missed (false negative rate among people with
it), how often right when flagged (precision), and, with ``--score``, how well the score ranks
(AUC) and whether it is calibrated. It also runs the "78 vs 27" composition test: each group's
share of those flagged against its share of the table and of the recorded outcomes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmlens.groupmetrics.expr import evaluate
from harmlens.groupmetrics.groupframe import GroupFrame
from harmlens.errors import HarmlensError

log = logging.getLogger(__name__)

__all__ = ["AuditInputError", "TableAudit", "audit_table", "read_table", "ERROR_METRICS", "SCORE_METRICS"]

ERROR_METRICS = ["selection_rate", "base_rate", "false_positive_rate", "false_negative_rate", "precision"]
SCORE_METRICS = ["auc"]
CALIBRATION_METRICS = ["mean_score", "calibration_oe"]

_TRUE = {"1", "1.0", "true", "t", "yes", "y"}
_FALSE = {"0", "0.0", "false", "f", "no", "n"}


class AuditInputError(HarmlensError):
    """The table or options given to the audit cannot be used (missing column, bad outcome values)."""


def read_table(path: str | Path, *, na: tuple[str, ...] | list[str] = (), keep: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet table through :func:`harmlens.tableio.read_table`: the usual missing
    markers (empty, NA, N/A, NULL, NaN, .) and ``na`` are missing, ``keep`` values stay values."""
    from harmlens.tableio import TableReadError
    from harmlens.tableio import read_table as _read

    p = Path(path)
    if not p.exists():
        raise AuditInputError(f"no such file: {p}")
    suffix = p.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt", ".gz", ".tsv"):
        raise AuditInputError(f"{p}: unsupported file type {suffix!r} (use .csv or .parquet)")
    try:
        return _read(p, na=na, keep=keep)
    except TableReadError as exc:
        raise AuditInputError(str(exc)) from None


def _binary(s: pd.Series, col: str) -> pd.Series:
    """0/1, booleans or true/false words -> float 0/1; missing stays NaN; anything else is an error."""
    if s.dtype == bool:
        return s.astype(float)
    low = s.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=s.index)
    out[low.isin(_TRUE).fillna(False).astype(bool)] = 1.0
    out[low.isin(_FALSE).fillna(False).astype(bool)] = 0.0
    bad = s.notna() & out.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(s[bad])[:3])
        raise AuditInputError(f"outcome column {col!r} must be 0/1 or true/false; found {examples}")
    return out


@dataclass
class TableAudit:
    """The result of ``audit_table``: group metrics, composition shares and what was assumed."""

    source: str
    outcome: str
    group: str
    positive: str
    score: str | None
    reference: str
    n_rows: int
    n_used: int
    errors: GroupFrame
    shares: GroupFrame
    notes: list[str] = field(default_factory=list)
    calibration: pd.DataFrame | None = None

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys(self.errors.warnings + self.shares.warnings))

    def findings(self) -> list[str]:
        """Plain sentences comparing every reliable group with the reference group."""
        return describe_disparities(self.errors, self.reference,
                                    ["false_positive_rate", "false_negative_rate", "selection_rate", "precision"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "table_audit",
            "source": self.source,
            "outcome": self.outcome,
            "group": self.group,
            "positive": self.positive,
            "score": self.score,
            "reference": self.reference,
            "n_rows": self.n_rows,
            "n_used": self.n_used,
            "errors": self.errors.to_dict(),
            "shares": self.shares.to_dict(),
            "composition": _frame_records(self.shares.compare("flagged", "all_rows"), "group"),
            "composition_vs_outcome": _frame_records(self.shares.compare("flagged", "with_outcome"), "group"),
            "ratio_to_reference": _ratio_records(self.errors, self.reference),
            "findings": self.findings(),
            "warnings": self.warnings,
            "notes": list(self.notes),
            "calibration": _frame_records(self.calibration.set_index("group"), "group")
            if self.calibration is not None else None,
        }


def _frame_records(df: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    from harmlens.groupmetrics.groupframe import _jsonable

    out = []
    for idx, row in df.iterrows():
        rec = {index_name: str(idx)}
        rec.update({k: _jsonable(v) for k, v in row.items()})
        out.append(rec)
    return out


def _ratio_records(gf: GroupFrame, reference: str) -> list[dict[str, Any]]:
    from harmlens.groupmetrics.groupframe import _jsonable

    r = gf.ratio(reference=reference)
    ci = gf.ratio_ci(reference=reference)
    out = []
    for g in gf.groups:
        for m in gf.metrics:
            out.append({"group": g, "metric": m, "ratio": _jsonable(r.loc[g, m]),
                        "low": _jsonable(ci.loc[(g, m), "low"]), "high": _jsonable(ci.loc[(g, m), "high"]),
                        "reliable": bool(gf.reliable.loc[g, m])})
    return out


_LABELS = {
    "false_positive_rate": "false positive rate",
    "false_negative_rate": "false negative rate",
    "selection_rate": "selection rate",
    "precision": "precision",
    "base_rate": "outcome rate",
    "auc": "AUC",
    "calibration_oe": "observed/expected",
}


def describe_disparities(gf: GroupFrame, reference: str, metrics: list[str], *, pct: bool = True) -> list[str]:
    """One sentence per (reliable group, metric) whose CI of the ratio to the reference excludes 1."""
    if reference not in gf.groups:
        return []
    r = gf.ratio(reference=reference)
    ci = gf.ratio_ci(reference=reference)
    vci = gf.ci
    out = []
    for m in metrics:
        if m not in gf.metrics or not gf.reliable.loc[reference, m]:
            continue
        for g in gf.groups:
            if g == reference or not gf.reliable.loc[g, m]:
                continue
            lo, hi = ci.loc[(g, m), "low"], ci.loc[(g, m), "high"]
            if np.isnan(lo) or (lo <= 1 <= hi):
                continue
            fmt = (lambda v: f"{100 * v:.1f}%") if pct and m != "auc" else (lambda v: f"{v:.3f}")
            v, vr = gf.by_group.loc[g, m], gf.by_group.loc[reference, m]
            glo, ghi = vci.loc[(g, m), "low"], vci.loc[(g, m), "high"]
            out.append(
                f"{gf.feature} {g}: {_LABELS.get(m, m)} {fmt(v)} (95% CI {fmt(glo)} to {fmt(ghi)}) vs {fmt(vr)} "
                f"for {reference}: {r.loc[g, m]:.2f} times (CI {lo:.2f} to {hi:.2f})"
            )
    return out


def audit_table(
    df: pd.DataFrame,
    *,
    outcome: str,
    group: str,
    positive: str,
    score: str | None = None,
    reference: str | None = None,
    source: str = "table",
    n_boot: int = 500,
    min_group_size: int = 30,
    min_support: int = 10,
    random_state: int = 0,
) -> TableAudit:
    """Audit a scored table.

    Parameters
    ----------
    df
        One row per person (or case).
    outcome
        Column holding what actually happened (0/1, true/false). Rows with it missing are left
        out and counted in ``notes``.
    group
        Column of group labels (ethnicity, sex, ...). Missing labels form the group ``(missing)``.
    positive
        Expression (see ``harmlens.groupmetrics.expr``) selecting the rows the tool flagged.
    score
        Optional numeric score column: AUC by group; calibration too when it lies in [0, 1].
    reference
        Group the others are compared with, matched whatever its spelling (default: White where the
        labels are ethnic groups, else the largest group).
    """
    for col, what in [(outcome, "--outcome"), (group, "--group")] + ([(score, "--score")] if score else []):
        if col not in df.columns:
            raise AuditInputError(f"{what} column {col!r} not in the table; columns: {', '.join(map(str, df.columns[:30]))}")
    notes: list[str] = []
    y = _binary(df[outcome], outcome)
    keep = y.notna()
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} rows without an outcome in {outcome!r} were left out")
    flagged = evaluate(positive, df)
    d = df.loc[keep]
    y, flagged = y[keep], flagged[keep]
    if len(d) == 0:
        raise AuditInputError("no rows with an outcome to audit")
    metrics = list(ERROR_METRICS)
    y_score = None
    if score:
        s = pd.to_numeric(d[score], errors="coerce")
        if s.isna().any():
            raise AuditInputError(f"--score column {score!r} has {int(s.isna().sum())} missing or non-numeric values")
        y_score = s.to_numpy(dtype=float)
        metrics += SCORE_METRICS
        if s.between(0, 1).all():
            metrics += CALIBRATION_METRICS
        else:
            notes.append(f"{score!r} is not a probability (values outside 0-1): calibration not computed, AUC only")
    from harmlens.grouplabels import find_group, group_key, unify_labels

    groups, merged = unify_labels(d[group])
    groups = groups.rename(group)
    for shown, spellings in merged.items():
        notes.append(f"group labels {', '.join(repr(s) for s in spellings)} counted as one group, shown as {shown!r}")
    errors = GroupFrame(metrics, y.to_numpy(), flagged.to_numpy(), sensitive_features=groups, y_score=y_score,
                        n_boot=n_boot, min_group_size=min_group_size, min_support=min_support,
                        random_state=random_state)
    if reference is None:
        # ethnicity-like labels compare with White (the convention of the published audits this
        # is read beside), whatever the spelling; other columns with their largest group
        keys = {group_key(g): g for g in errors.groups}
        ethnic = {"black", "white", "asian", "hispanic"} & set(keys)
        reference = keys["white"] if "white" in keys and len(ethnic) >= 2 else str(errors.counts.idxmax())
    else:
        found = find_group(reference, errors.groups)
        if found is None:
            raise AuditInputError(f"--reference {reference!r} is not a group of {group!r}: {', '.join(errors.groups)}")
        reference = found
    labels = groups.astype(object).where(groups.notna(), "(missing)").astype(str)
    counts = pd.DataFrame({
        "flagged": flagged.groupby(labels).sum(),
        "all_rows": labels.value_counts(),
        "with_outcome": y.groupby(labels).sum(),
    }).fillna(0)
    shares = GroupFrame.from_shares(counts, feature=group, n_boot=max(n_boot, 200), random_state=random_state)
    notes.append(f"flagged means: {positive}")
    notes.append(f"ratios compare each group with {reference!r}")
    cal = None
    if y_score is not None and "calibration_oe" in errors.metrics:
        from harmlens.audit.calibration import calibration_by_group

        cal = calibration_by_group(y.to_numpy(), y_score, labels.to_numpy(), min_n=min_support)
    return TableAudit(source=source, outcome=outcome, group=group, positive=positive, score=score,
                      reference=str(reference), n_rows=int(len(df)), n_used=int(len(d)), errors=errors,
                      shares=shares, notes=notes, calibration=cal)
