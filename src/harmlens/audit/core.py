"""The audit of a priority list, on a plain scored table (no warehouse needed).

The scored table has one row per person in the scored population on the list date:

===================  =========================================================================
column               meaning
===================  =========================================================================
person_id            text id
score                predicted probability of the target (the model's risk)
listed               True when the person is on the priority list
outcome_allegation   0/1: named as suspect of a (VAWG) offence in the horizon after the date
outcome_charge       0/1: ... and charged (optional)
outcome_conviction   0/1: ... and convicted (optional)
ethnicity            five census groups or ``not stated`` (see ``harmlens.groupmetrics.groups``)
age_band, sex        groups
borough              group
offending_base       optional, True if the person is in the recorded offending base (a
                     recorded VAWG allegation in the year before the date)
===================  =========================================================================

``audit_scored`` returns an ``AuditResult``: for every dimension and every label a ``GroupFrame``
of error rates, the composition test (share of the list vs of the scored population vs of the
recorded offending base vs of the residents), flags, and optionally the proxy scan, label bias
and outcome monitoring sections (computed elsewhere and attached).

**Flags.** A disparity is flagged when the group's estimate is reliable (enough people), its
ratio passes a materiality bound (above ``1.25`` or below ``0.8``, the "four-fifths"
convention) and the interval of the ratio excludes parity (1). Size alone is not enough on a
small group, and a difference that is real but small is not a flag on a large one. Requiring the
whole interval beyond 1.25 (an earlier rule) missed a list on which a group was 1.69 times its
resident share with an interval of 1.24 to 2.13; an oversight panel reads that as a disparity.
**Near-misses** are listed apart, never dropped: a ratio whose interval excludes 1 but whose
estimate is within the bounds (real but small), and a ratio past a bound whose interval still
includes 1 (large but uncertain). The interval is simultaneous over the m groups compared in
that dimension and test (Bonferroni, level ``1 - 0.05/m``), so a dimension with many groups
(33 boroughs) does not flag by chance more often than one with few.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harmlens.groupmetrics.groupframe import GroupFrame, _jsonable
from harmlens.groupmetrics.groups import DIMENSIONS, ETHNICITY_ORDER
from harmlens.errors import HarmlensError
from harmlens.grouplabels import find_group

__all__ = ["AuditResult", "DimensionAudit", "audit_scored", "LABELS", "MATERIAL_HIGH", "MATERIAL_LOW",
           "ERROR_METRICS"]

LABELS = ("allegation", "charge", "conviction")
ERROR_METRICS = ["selection_rate", "base_rate", "false_positive_rate", "false_negative_rate", "precision", "auc",
                 "mean_score", "calibration_oe"]
MATERIAL_HIGH = 1.25
MATERIAL_LOW = 0.8
SHARE_LABELS = {
    "list": "share of the list",
    "scored": "share of the scored population",
    "offending": "share of recorded offending (last year)",
    "population": "share of residents (census)",
}


class AuditError(HarmlensError):
    """The scored table lacks what the audit needs."""


@dataclass
class DimensionAudit:
    dimension: str
    reference: str | None
    errors: dict[str, GroupFrame]
    shares: GroupFrame
    share_columns: list[str]
    calibration: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        comp = {}
        for base in self.share_columns:
            if base == "list":
                continue
            c = self.shares.compare("list", base)
            comp[base] = {g: {k: _jsonable(v) for k, v in row.items()} for g, row in c.iterrows()}
        return {
            "dimension": self.dimension,
            "reference": self.reference,
            "errors": {lab: gf.to_dict() for lab, gf in self.errors.items()},
            "shares": self.shares.to_dict(),
            "list_vs": comp,
            "calibration": ([{k: _jsonable(v) for k, v in r.items()} for r in self.calibration.to_dict(orient="records")]
                            if self.calibration is not None else None),
        }


@dataclass
class AuditResult:
    """Everything the audit found about one list."""

    list_id: str
    as_of: str
    horizon_days: int
    list_size: int
    scored_size: int
    primary_label: str
    reference: str
    dimensions: dict[str, DimensionAudit]
    flags: list[dict[str, Any]]
    model: dict[str, Any] = field(default_factory=dict)
    proxy: Any = None
    label_bias: Any = None
    outcomes: Any = None
    acted_on: Any = None  # OutcomeMonitoring of people acted on (casework) vs similar people not acted on
    notes: list[str] = field(default_factory=list)
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    def forest(self, dimension: str) -> pd.DataFrame:
        """Every ratio the flag rule looked at in a dimension, for the forest plot and its table."""
        rows = [{"label": c["label"], "test": c["test"], "group": c["group"], "ratio": c["value"], "low": c["low"],
                 "high": c["high"], "status": {"flag": "flagged", "near_miss": "near-miss"}.get(c["kind"], "within bounds")}
                for c in self.comparisons if c["dimension"] == dimension]
        return pd.DataFrame(rows, columns=["label", "test", "group", "ratio", "low", "high", "status"])

    def headline(self) -> str:
        """One sentence on the flags that never says "nothing" while a listed ratio's interval excludes 1."""
        return headline(self.flags, self.near_misses)

    @property
    def warnings(self) -> list[str]:
        out: list[str] = []
        for d in self.dimensions.values():
            gf = d.errors.get(self.primary_label)
            if gf is not None:
                out.extend(gf.warnings)
            else:
                out.extend(d.shares.warnings)
        return list(dict.fromkeys(out))

    def findings(self) -> list[str]:
        return [f["text"] for f in self.flags]

    def flagged(self, dimension: str | None = None, test: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.flags if (dimension is None or f["dimension"] == dimension)
                and (test is None or f["test"] == test)]

    def subtitle(self) -> str:
        return (f"{self.list_size:,} people listed of {self.scored_size:,} scored, as of {self.as_of}; "
                f"outcomes over the following {self.horizon_days} days")

    def meta(self) -> dict[str, Any]:
        m = {"list": self.list_id, "as of": self.as_of, "label for error rates": self.primary_label,
             "reference group": self.reference, "flag rule":
             f"ratio above {MATERIAL_HIGH} or below {MATERIAL_LOW} and its interval (simultaneous over the groups "
             f"compared, 95% family-wise) excludes 1"}
        if self.model.get("version"):
            m["model"] = self.model["version"]
        return m

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "list_audit",
            "list_id": self.list_id,
            "as_of": self.as_of,
            "horizon_days": self.horizon_days,
            "list_size": self.list_size,
            "scored_size": self.scored_size,
            "primary_label": self.primary_label,
            "reference": self.reference,
            "model": {k: _jsonable(v) for k, v in self.model.items()},
            "flag_rule": {"high": MATERIAL_HIGH, "low": MATERIAL_LOW, "family_wise_level": 1 - FAMILY_ALPHA,
                          "rule": "point estimate beyond a bound and interval excluding 1",
                          "adjustment": "bonferroni over the groups compared per dimension and test"},
            "headline": self.headline(),
            "flags": [{k: _jsonable(v) for k, v in f.items()} for f in self.flags],
            "near_misses": [{k: _jsonable(v) for k, v in f.items()} for f in self.near_misses],
            "comparisons": [{k: _jsonable(v) for k, v in f.items()} for f in self.comparisons],
            "dimensions": {k: d.to_dict() for k, d in self.dimensions.items()},
            "proxy": self.proxy.to_dict() if self.proxy is not None else None,
            "label_bias": self.label_bias.to_dict() if self.label_bias is not None else None,
            "outcomes": self.outcomes.to_dict() if self.outcomes is not None else None,
            "acted_on": self.acted_on.to_dict() if self.acted_on is not None else None,
            "warnings": self.warnings,
            "notes": list(self.notes),
        }


FAMILY_ALPHA = 0.05


def _level_words(level: float, m: int) -> str:
    return f"{100 * level:.1f}% CI" + (f" (simultaneous for {m} groups)" if m > 1 else "")


def classify(value: float, lo: float, hi: float) -> str | None:
    """``"flag"``, ``"near_miss"`` or None for a ratio and its interval (see the module docstring)."""
    if any(np.isnan(v) for v in (value, lo, hi)):
        return None
    if hi <= lo:
        # a bootstrap interval of zero width (e.g. a ratio of 0 from a group with no false positives at all in
        # every resample) measures no uncertainty at all: it is a count too small to resample, not a finding
        return None
    beyond = value > MATERIAL_HIGH or value < MATERIAL_LOW
    excludes_parity = lo > 1 or hi < 1
    if beyond and excludes_parity:
        return "flag"
    if beyond or excludes_parity:
        return "near_miss"
    return None


def headline(flags: list[dict[str, Any]], near: list[dict[str, Any]]) -> str:
    if flags:
        groups = ", ".join(dict.fromkeys(f"{f.get('dimension', '')} {f.get('group', '')}".strip() for f in flags))
        return f"{len(flags)} disparit{'y' if len(flags) == 1 else 'ies'} flagged" + (f" ({groups})" if groups else "")
    sure = [f for f in near if f.get("low", np.nan) > 1 or f.get("high", np.nan) < 1]
    if sure:
        return (f"no disparity past the {MATERIAL_LOW}-{MATERIAL_HIGH} bounds, but {len(sure)} difference"
                f"{'s' if len(sure) != 1 else ''} whose interval excludes parity (listed as near-misses)")
    if near:
        return f"nothing flagged; {len(near)} uncertain difference{'s' if len(near) != 1 else ''} listed as near-misses"
    return "nothing flagged: every ratio's interval includes parity"


def _flag(dimension: str, group: str, test: str, value: float, lo: float, hi: float, text: str,
          level: float) -> dict[str, Any] | None:
    if any(np.isnan(v) for v in (value, lo, hi)):
        return None
    kind = classify(value, lo, hi) or "none"
    if kind == "near_miss":
        why = ("interval excludes 1 but the ratio is within the bounds" if (lo > 1 or hi < 1)
               else "ratio past a bound but the interval includes 1")
        text = f"{text} [near-miss: {why}]"
    return {"dimension": dimension, "group": group, "test": test, "value": float(value), "low": float(lo),
            "high": float(hi), "ci_level": float(level), "direction": "over" if value > 1 else "under",
            "kind": kind, "text": text}


def _keep(f: dict[str, Any], flags: list, near: list, comparisons: list) -> None:
    comparisons.append(f)
    if f["kind"] == "flag":
        flags.append(f)
    elif f["kind"] == "near_miss":
        near.append(f)


def _order(groups: list[str], dimension: str) -> list[str]:
    if dimension == "ethnicity":
        return sorted(groups, key=lambda g: (ETHNICITY_ORDER.index(g) if g in ETHNICITY_ORDER else 99, g))
    return sorted(groups)


def audit_scored(
    scored: pd.DataFrame,
    *,
    population: pd.DataFrame | None = None,
    list_id: str = "list",
    as_of: str = "",
    horizon_days: int = 365,
    primary_label: str | None = None,
    reference: str | None = "White",
    dimensions: tuple[str, ...] = DIMENSIONS,
    n_boot: int = 300,
    min_group_size: int = 30,
    min_support: int = 10,
    random_state: int = 0,
) -> AuditResult:
    """Audit a scored table (see the module docstring for its columns).

    ``population`` is residents by ``area, group, population`` (five ethnic groups), used for the
    ethnicity share of residents (summed over areas) and, where areas are boroughs of the table,
    for the borough share of residents.
    """
    need = {"person_id", "score", "listed"}
    missing = need - set(scored.columns)
    if missing:
        raise AuditError(f"the scored table lacks {', '.join(sorted(missing))}")
    labels = [lab for lab in LABELS if f"outcome_{lab}" in scored.columns]
    primary = primary_label or (labels[0] if labels else None)
    if primary is not None and primary not in labels:
        raise AuditError(f"no outcome_{primary} column for the primary label")
    dims = [d for d in dimensions if d in scored.columns]
    if not dims:
        raise AuditError(f"the scored table has none of the group columns {', '.join(dimensions)}")
    if len(scored) == 0:
        raise AuditError("the scored table is empty")
    listed = scored["listed"].astype(bool).to_numpy()
    score = pd.to_numeric(scored["score"], errors="coerce")
    if score.isna().any():
        raise AuditError(f"{int(score.isna().sum())} scored rows have no numeric score")
    notes: list[str] = []
    if not labels:
        notes.append("no outcomes yet (the follow-up window has not started): error rates, calibration and "
                     "AUC cannot be measured; composition and proxies can")
    metrics = list(ERROR_METRICS)
    if not score.between(0, 1).all():
        metrics = [m for m in metrics if m not in ("mean_score", "calibration_oe")]
        notes.append("the score is not a probability: calibration not measured (AUC only)")
    out: dict[str, DimensionAudit] = {}
    flags: list[dict[str, Any]] = []
    near: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []
    for k, dim in enumerate(dims):
        g = scored[dim].astype(object).where(scored[dim].notna(), "unknown").astype(str).rename(dim)
        errs: dict[str, GroupFrame] = {}
        for lab in labels:
            y = pd.to_numeric(scored[f"outcome_{lab}"], errors="coerce")
            ok = y.notna().to_numpy()
            errs[lab] = GroupFrame(metrics, y[ok].to_numpy(), listed[ok], sensitive_features=g[ok],
                                   y_score=score[ok].to_numpy(), n_boot=n_boot, min_group_size=min_group_size,
                                   min_support=min_support, random_state=random_state + 17 * k)
        cols = {"list": pd.Series(listed, index=scored.index).groupby(g).sum(), "scored": g.value_counts()}
        if "offending_base" in scored.columns:
            cols["offending"] = scored["offending_base"].astype(bool).groupby(g).sum()
        if population is not None and len(population):
            if dim == "ethnicity":
                cols["population"] = population.groupby("group")["population"].sum()
            elif dim == "borough":
                pb = population.groupby("area")["population"].sum()
                if set(pb.index) & set(g.unique()):
                    cols["population"] = pb[pb.index.isin(g.unique())]
        counts = pd.DataFrame(cols).fillna(0)
        if "population" in counts.columns and dim == "ethnicity":
            # residents have no 'not stated' count (Home Office method): compare the stated groups only
            stated = counts.index.isin(population["group"].unique())
            if (~stated).any():
                dropped = counts.loc[~stated, ["list", "scored"]].sum()
                notes.append(f"ethnicity composition compares stated groups only: {int(dropped['list'])} listed and "
                             f"{int(dropped['scored'])} scored people with ethnicity not stated are left out of it")
            counts = counts[stated]
        counts = counts.reindex(_order(list(counts.index), dim))
        shares = GroupFrame.from_shares(counts, feature=dim, n_boot=max(n_boot, 4000), random_state=random_state + k,
                                        min_support=5)
        sizes = g.value_counts()
        ref = find_group(reference, sizes.index) if (dim == "ethnicity" and reference is not None) else None
        if ref is None and dim != "ethnicity":
            ref = str(sizes.idxmax())
        cal = None
        if primary and "calibration_oe" in metrics:
            from harmlens.audit.calibration import calibration_by_group

            cal = calibration_by_group(pd.to_numeric(scored[f"outcome_{primary}"], errors="coerce").to_numpy(),
                                       score.to_numpy(), g, min_n=min_support)
        out[dim] = DimensionAudit(dim, ref, errs, shares, list(counts.columns), cal)

        # --- flags: composition (list vs each base) and error rates vs the reference group.
        # Each (dimension, test) is a family of m comparisons, one per eligible group: its flags
        # use a Bonferroni-adjusted interval (level 1 - 0.05/m), so 33 boroughs do not produce
        # chance flags that 5 ethnic groups would not.
        for base in [c for c in counts.columns if c != "list"]:
            elig = [grp for grp in counts.index
                    if counts.loc[grp, base] >= 5 and counts.loc[grp, "scored"] >= min_group_size]
            if not elig:
                continue
            level = 1 - FAMILY_ALPHA / len(elig)
            comp = shares.compare("list", base, level=level)
            for grp in elig:
                row = comp.loc[grp]
                f = _flag(dim, str(grp), f"list_vs_{base}", row["value"], row["low"], row["high"],
                          f"{dim} {grp}: {100 * shares.by_group.loc[grp, 'list']:.1f}% of the list vs "
                          f"{100 * shares.by_group.loc[grp, base]:.1f}% {SHARE_LABELS[base].replace('share of ', 'of ')}"
                          f" ({row['value']:.2f} times, {_level_words(level, len(elig))} {row['low']:.2f} to "
                          f"{row['high']:.2f})", level)
                if f:
                    f["label"] = f"{grp}: share of list / {SHARE_LABELS[base].replace('share of ', '')}"
                    _keep(f, flags, near, comparisons)
        gf = errs.get(primary) if primary else None
        if ref is not None and gf is not None:
            r = gf.ratio(reference=ref)
            for m in ["selection_rate", "false_positive_rate", "false_negative_rate"]:
                if not gf.reliable.loc[ref, m]:
                    continue
                elig = [grp for grp in gf.groups if grp != ref and gf.reliable.loc[grp, m]]
                if not elig:
                    continue
                level = 1 - FAMILY_ALPHA / len(elig)
                ci = gf.ratio_ci(reference=ref, level=level)
                for grp in elig:
                    lo, hi = ci.loc[(grp, m), "low"], ci.loc[(grp, m), "high"]
                    f = _flag(dim, grp, m, r.loc[grp, m], lo, hi,
                              f"{dim} {grp}: {m.replace('_', ' ')} {100 * gf.by_group.loc[grp, m]:.1f}% vs "
                              f"{100 * gf.by_group.loc[ref, m]:.1f}% for {ref} ({r.loc[grp, m]:.2f} times, "
                              f"{_level_words(level, len(elig))} {lo:.2f} to {hi:.2f}; label: {primary})", level)
                    if f:
                        f["label"] = f"{grp}: {m.replace('_', ' ')} / {ref}'s"
                        _keep(f, flags, near, comparisons)
    if "offending_base" not in scored.columns:
        notes.append("no recorded-offending base given: list compared with the scored population only")
    if population is None or not len(population):
        notes.append("no population table: list not compared with residents")
    return AuditResult(list_id=list_id, as_of=as_of, horizon_days=horizon_days, list_size=int(listed.sum()),
                       scored_size=int(len(scored)), primary_label=primary or "", reference=reference or "",
                       dimensions=out, flags=flags, notes=notes, near_misses=near, comparisons=comparisons)
