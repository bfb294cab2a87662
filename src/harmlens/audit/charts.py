"""Vega-lite charts (altair) for the audit; rendered offline by ``harmlens.reports.chart_svg``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmlens.groupmetrics.groupframe import GroupFrame

_NICE = {
    "selection_rate": "Selection rate",
    "base_rate": "Outcome rate",
    "false_positive_rate": "False positive rate",
    "false_negative_rate": "False negative rate",
    "precision": "Precision",
    "auc": "AUC",
    "calibration_oe": "Observed / expected",
    "mean_score": "Mean predicted risk",
}


def metric_chart(gf: GroupFrame, metrics: list[str], *, title: str = "") -> Any:
    """Dot-and-interval chart: one panel per metric, one row per group; unreliable groups hollow.

    A reader sees at a glance which groups sit apart and whether their intervals overlap.
    """
    import altair as alt

    f = gf.to_frame()
    f = f[f["metric"].isin(metrics)].copy()
    f["metric_label"] = f["metric"].map(lambda m: _NICE.get(m, m))
    f["estimate"] = f["reliable"].map({True: "reliable", False: "too few cases"})
    f = f.dropna(subset=["value"])
    f["low"] = f["low"].fillna(f["value"])
    f["high"] = f["high"].fillna(f["value"])
    base = alt.Chart(f).encode(y=alt.Y("group:N", title=None, sort=None))
    rules = base.mark_rule(strokeWidth=2, color="#777").encode(x=alt.X("low:Q", title=None), x2="high:Q")
    points = base.mark_point(size=70, filled=True).encode(
        x=alt.X("value:Q", title=None),
        color=alt.Color("estimate:N", scale=alt.Scale(domain=["reliable", "too few cases"], range=["#1f4e79", "#bbbbbb"]),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=["group", "metric", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("low:Q", format=".3f"),
                 alt.Tooltip("high:Q", format=".3f"), "n"],
    )
    order = [_NICE.get(m, m) for m in metrics if m in set(f["metric"])]
    chart = alt.layer(rules, points).properties(width=150, height=max(60, 22 * len(gf.groups) + 10)).facet(
        column=alt.Column("metric_label:N", title=None, sort=order)
    ).resolve_scale(x="independent")
    if title:
        chart = chart.properties(title=title)
    return chart


def shares_chart(gf: GroupFrame, columns: list[str], labels: dict[str, str] | None = None, *, title: str = "") -> Any:
    """Grouped bars: each group's share of the list next to its share of the comparison bases."""
    import altair as alt

    labels = labels or {}
    f = gf.to_frame()
    f = f[(f["group"] != "(overall)") & f["metric"].isin(columns)].copy()
    f["base"] = f["metric"].map(lambda m: labels.get(m, m))
    order = [labels.get(c, c) for c in columns]
    bars = alt.Chart(f).mark_bar().encode(
        x=alt.X("value:Q", title="share", axis=alt.Axis(format="%")),
        y=alt.Y("base:N", title=None, sort=order, axis=None),
        color=alt.Color("base:N", sort=order, legend=alt.Legend(title=None, orient="bottom"),
                        scale=alt.Scale(range=["#c0392b", "#1f4e79", "#7f8c8d", "#16a085"])),
        tooltip=["group", "base", alt.Tooltip("value:Q", format=".1%"), alt.Tooltip("low:Q", format=".1%"),
                 alt.Tooltip("high:Q", format=".1%")],
    )
    err = alt.Chart(f).mark_rule(color="black").encode(x="low:Q", x2="high:Q", y=alt.Y("base:N", sort=order, axis=None))
    chart = alt.layer(bars, err).properties(width=360, height=14 * len(columns)).facet(
        row=alt.Row("group:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left"))
    )
    if title:
        chart = chart.properties(title=title)
    return chart


def label_chart(df: pd.DataFrame, *, value: str, title: str = "") -> Any:
    """Lines: a metric by group as the label moves from allegation to charge to conviction."""
    import altair as alt

    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("label:N", sort=["allegation", "charge", "conviction"], title="label"),
        y=alt.Y(f"{value}:Q", title=_NICE.get(value, value)),
        color=alt.Color("group:N", legend=alt.Legend(title=None, orient="bottom")),
    ).properties(width=320, height=200)
    if title:
        chart = chart.properties(title=title)
    return chart


def forest_chart(rows: pd.DataFrame, *, title: str = "", high: float = 1.25, low: float = 0.8) -> Any:
    """Forest plot of ratios with their intervals, the way fairlearn users read disparities.

    ``rows``: label (what is compared, e.g. "Black: share of list / residents"), ratio, low, high,
    and ``status`` (flagged / near-miss / within bounds). Log scale, so 0.5 and 2 sit equally far
    from parity; a solid line at 1 and dashed lines at the flag bounds.
    """
    import altair as alt

    f = rows.dropna(subset=["ratio", "low", "high"]).copy()
    f = f[(f["ratio"] > 0) & (f["low"] > 0)]
    f["low_c"] = f["low"].clip(lower=0.05)
    f["high_c"] = f["high"].clip(upper=20)
    order = list(dict.fromkeys(f["label"]))
    lo = float(min(f["low_c"].min(), low * 0.9)) if len(f) else low * 0.9
    hi = float(max(f["high_c"].max(), high * 1.1)) if len(f) else high * 1.1
    x = alt.X("ratio:Q", title="ratio (log scale; 1 = parity)", scale=alt.Scale(type="log", domain=[lo, hi], nice=False))
    base = alt.Chart(f).encode(y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=360)))
    rules = base.mark_rule(strokeWidth=2, color="#777").encode(x=alt.X("low_c:Q", scale=alt.Scale(type="log", domain=[lo, hi], nice=False)),
                                                                 x2="high_c:Q")
    points = base.mark_point(size=80, filled=True).encode(
        x=x,
        color=alt.Color("status:N", scale=alt.Scale(domain=["flagged", "near-miss", "within bounds"],
                                                    range=["#c0392b", "#e67e22", "#1f4e79"]),
                        legend=alt.Legend(title=None, orient="bottom", labelLimit=200)),
        tooltip=["label", alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("low:Q", format=".2f"),
                 alt.Tooltip("high:Q", format=".2f"), "status"],
    )
    refs = pd.DataFrame({"x": [1.0, low, high], "kind": ["parity", "bound", "bound"]})
    parity = alt.Chart(refs[refs.kind == "parity"]).mark_rule(color="black").encode(x="x:Q")
    bounds = alt.Chart(refs[refs.kind == "bound"]).mark_rule(color="#999", strokeDash=[4, 3]).encode(x="x:Q")
    chart = alt.layer(bounds, parity, rules, points).properties(width=340, height=max(60, 20 * len(order) + 10))
    if title:
        chart = chart.properties(title=title)
    return chart


def calibration_chart(cal: pd.DataFrame, *, title: str = "") -> Any:
    """Reliability diagram by group: observed outcome rate against mean predicted risk, per score bin."""
    import altair as alt

    f = cal.copy()
    top = float(max(f["mean_predicted"].max(), f["observed_high"].max(), 0.05)) if len(f) else 1.0
    dom = [0, min(1.0, top * 1.05)]
    diag = alt.Chart(pd.DataFrame({"x": dom, "y": dom})).mark_line(color="#999", strokeDash=[4, 3]).encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=dom)), y=alt.Y("y:Q", scale=alt.Scale(domain=dom)))
    base = alt.Chart(f).encode(
        x=alt.X("mean_predicted:Q", title="mean predicted risk", scale=alt.Scale(domain=dom), axis=alt.Axis(format="%")),
        color=alt.Color("group:N", legend=alt.Legend(title=None, orient="bottom", labelLimit=200)))
    lines = base.mark_line(point=True).encode(
        y=alt.Y("observed:Q", title="observed outcome rate", scale=alt.Scale(domain=dom), axis=alt.Axis(format="%")),
        tooltip=["group", "bin", "n", alt.Tooltip("mean_predicted:Q", format=".1%"), alt.Tooltip("observed:Q", format=".1%")])
    bars = base.mark_rule(opacity=0.5).encode(y="observed_low:Q", y2="observed_high:Q")
    chart = alt.layer(diag, bars, lines).properties(width=300, height=260)
    if title:
        chart = chart.properties(title=title)
    return chart
