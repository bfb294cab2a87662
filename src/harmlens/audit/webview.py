"""What the web audit page shows, from a stored audit run: headline, flags and near-misses as
tables, the forest plot of ratios, error rates by group with intervals, and calibration by group.

The page reads the run's stored JSON (``audit_runs.result``), never raw JSON on screen. Older runs
stored before near-misses and comparisons existed still show their flags and tables.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

__all__ = ["audit_page_context"]

_METRICS = [("selection_rate", "selection rate"), ("false_positive_rate", "false positive rate"),
            ("false_negative_rate", "false negative rate"), ("precision", "precision"), ("auc", "AUC"),
            ("calibration_oe", "observed / expected")]
_TESTS = {"list_vs_population": "share of list / residents", "list_vs_scored": "share of list / people scored",
          "list_vs_offending": "share of list / recorded offending", "selection_rate": "selection rate",
          "false_positive_rate": "false positive rate", "false_negative_rate": "false negative rate"}


def _pct(v: Any) -> str:
    return "" if v is None else f"{100 * float(v):.1f}%"


def _row(f: dict[str, Any]) -> dict[str, Any]:
    return {"dimension": str(f.get("dimension", "")).replace("_", " "), "group": f.get("group", ""),
            "test": _TESTS.get(f.get("test", ""), str(f.get("test", "")).replace("_", " ")),
            "ratio": "" if f.get("value") is None else f"{f['value']:.2f}",
            "interval": "" if f.get("low") is None else f"{f['low']:.2f} to {f['high']:.2f}",
            "text": f.get("text", "")}


def _svg(chart: Any) -> str:
    from harmlens.reports import chart_svg

    try:
        return chart_svg(chart)
    except Exception:  # a chart that cannot render must not take the page down; the tables carry the figures
        return ""


def audit_page_context(report: dict[str, Any] | None) -> dict[str, Any]:
    """Template variables for the audit page from the newest ``audit_runs`` row (or None)."""
    from harmlens.audit.charts import calibration_chart, forest_chart
    from harmlens.audit.core import headline

    if not report:
        return {}
    res = report.get("result")
    try:
        d = json.loads(res) if isinstance(res, str) else (res or {})
    except ValueError:
        d = {}
    flags = d.get("flags")
    if flags is None:
        raw = report.get("flags")
        flags = json.loads(raw) if isinstance(raw, str) else (raw or [])
    flags = [f if isinstance(f, dict) else {"text": str(f)} for f in flags]
    near = d.get("near_misses", []) or []
    ctx: dict[str, Any] = {
        "headline": d.get("headline") or headline(flags, near),
        "flag_rows": [_row(f) for f in flags],
        "near_rows": [_row(f) for f in near],
        "notes": d.get("notes", []),
        "warnings": d.get("warnings", []),
        "primary_label": d.get("primary_label", ""),
        "reference": d.get("reference", ""),
        "summary": {k: d.get(k) for k in ("list_id", "as_of", "horizon_days", "list_size", "scored_size") if d.get(k) is not None},
    }
    comps = pd.DataFrame(d.get("comparisons") or [])
    eth = (d.get("dimensions") or {}).get("ethnicity") or {}
    if len(comps) and "dimension" in comps:
        c = comps[comps["dimension"] == "ethnicity"]
        if len(c):
            fr = pd.DataFrame({"label": c.get("label", c["group"] + ": " + c["test"]), "ratio": c["value"], "low": c["low"],
                               "high": c["high"], "status": c["kind"].map({"flag": "flagged", "near_miss": "near-miss"}).fillna("within bounds")})
            ctx["forest_svg"] = _svg(forest_chart(fr))
    gf = (eth.get("errors") or {}).get(d.get("primary_label") or "")
    if gf:
        metrics = [(m, lab) for m, lab in _METRICS if m in gf.get("metrics", [])]
        rows = []
        for g in gf.get("groups", []):
            cells = []
            for m, _ in metrics:
                v = gf["by_group"][g][m]
                lo, hi = gf["ci"][g][m]
                f = (lambda x: "" if x is None else f"{x:.2f}") if m in ("auc", "calibration_oe") else _pct
                cells.append({"value": f(v), "ci": f"{f(lo)} to {f(hi)}" if lo is not None else "",
                              "reliable": gf["reliable"][g][m]})
            rows.append({"group": g, "n": gf["counts"][g], "cells": cells})
        ctx["error_metrics"] = [lab for _, lab in metrics]
        ctx["error_rows"] = rows
    cal = eth.get("calibration")
    if cal:
        ctx["calibration_svg"] = _svg(calibration_chart(pd.DataFrame(cal)))
    return ctx
