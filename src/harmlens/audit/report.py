"""HTML / PDF / JSON output for audits, through the shared report helpers."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from harmlens.groupmetrics.groupframe import GroupFrame

FORMATS = ("html", "pdf", "json")


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def pct(v: Any) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * float(v):.1f}%"


def num(v: Any, digits: int = 2) -> str:
    return "" if v is None or pd.isna(v) else f"{float(v):.{digits}f}"


def warnings_html(warns: list[str]) -> str:
    if not warns:
        return "<p>No group was too small for the figures shown.</p>"
    from harmlens.features.catalogue import plain_text

    items = "".join(f"<li>{esc(plain_text(w))}</li>" for w in warns)
    return f'<div class="warn"><strong>Too few cases to say anything reliable:</strong><ul>{items}</ul></div>'


def findings_html(findings: list[str], empty: str) -> str:
    if not findings:
        return f"<p>{esc(empty)}</p>"
    from harmlens.features.catalogue import plain_text

    return "<ul>" + "".join(f"<li>{esc(plain_text(f))}</li>" for f in findings) + "</ul>"


def group_table_html(gf: GroupFrame, metrics: list[str], *, percent: set[str] | None = None) -> str:
    """Group x metric table with the CI under each value; unreliable cells marked with a dagger."""
    from harmlens.audit.charts import _NICE

    percent = percent if percent is not None else {m for m in metrics if m not in ("auc", "calibration_oe")}
    ci = gf.ci
    oci = gf.overall_ci
    fmt = lambda m, v: pct(v) if m in percent else num(v, 3)  # noqa: E731
    head = "".join(f"<th>{esc(_NICE.get(m, m))}</th>" for m in metrics)
    from harmlens.features.catalogue import label

    rows = [f"<tr><th>{esc(label(gf.feature))}</th><th>people</th>{head}</tr>"]
    cells = "".join(
        f"<td><strong>{fmt(m, gf.overall[m])}</strong><br><small>{fmt(m, oci.loc[m, 'low'])} to "
        f"{fmt(m, oci.loc[m, 'high'])}</small></td>" for m in metrics)
    rows.append(f"<tr><td>all</td><td>{int(gf.counts.sum()):,}</td>{cells}</tr>")
    for g in gf.groups:
        tds = []
        for m in metrics:
            v = gf.by_group.loc[g, m]
            mark = "" if gf.reliable.loc[g, m] else " &dagger;"
            tds.append(f"<td>{fmt(m, v)}{mark}<br><small>{fmt(m, ci.loc[(g, m), 'low'])} to "
                       f"{fmt(m, ci.loc[(g, m), 'high'])}</small></td>")
        rows.append(f"<tr><td>{esc(g)}</td><td>{int(gf.counts[g]):,}</td>{''.join(tds)}</tr>")
    note = (f"<p><small>95% intervals ({esc(gf.method)}) under each value. &dagger; too few cases "
            f"(group under {gf.min_group_size} or under {gf.min_support} cases behind the figure).</small></p>")
    return f'<table class="data">{"".join(rows)}</table>{note}'


def shares_table_html(gf: GroupFrame, columns: list[str], labels: dict[str, str], compare: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{esc(labels.get(c, c))}</th>" for c in columns)
    head += "".join(f"<th>{esc(labels.get(a, a))} / {esc(labels.get(b, b))}</th>" for a, b in compare)
    ci = gf.ci
    comps = {(a, b): gf.compare(a, b) for a, b in compare}
    from harmlens.features.catalogue import label

    rows = [f"<tr><th>{esc(label(gf.feature))}</th>{head}</tr>"]
    for g in gf.groups:
        tds = [f"<td>{pct(gf.by_group.loc[g, c])}<br><small>{pct(ci.loc[(g, c), 'low'])} to "
               f"{pct(ci.loc[(g, c), 'high'])}</small></td>" for c in columns]
        for key, cdf in comps.items():
            v = cdf.loc[g]
            tds.append(f"<td><strong>{num(v['value'])}</strong><br><small>{num(v['low'])} to {num(v['high'])}</small></td>")
        rows.append(f"<tr><td>{esc(g)}</td>{''.join(tds)}</tr>")
    return f'<table class="data">{"".join(rows)}</table>'


def chart_html(chart: Any) -> str:
    from harmlens.reports import chart_svg

    return f'<div class="chart">{chart_svg(chart)}</div>'


def table_forest_html(ta: Any) -> list[str]:
    """Forest plot of each group's ratio to the reference group, and calibration by group when the score is a probability."""
    from harmlens.audit.charts import _NICE, calibration_chart, forest_chart
    from harmlens.audit.core import classify

    gf = ta.errors
    if ta.reference not in gf.groups:
        return []
    r, ci = gf.ratio(reference=ta.reference), gf.ratio_ci(reference=ta.reference)
    rows = []
    for m in ["selection_rate", "false_positive_rate", "false_negative_rate", "precision"]:
        if m not in gf.metrics:
            continue
        for g in gf.groups:
            if g == ta.reference or not gf.reliable.loc[g, m]:
                continue
            v, lo, hi = r.loc[g, m], ci.loc[(g, m), "low"], ci.loc[(g, m), "high"]
            kind = classify(v, lo, hi)
            rows.append({"label": f"{g}: {_NICE.get(m, m).lower()}", "ratio": v, "low": lo, "high": hi,
                         "status": {"flag": "flagged", "near_miss": "near-miss"}.get(kind or "", "within bounds")})
    parts = []
    if rows and len(gf.groups) <= 12:
        parts += ['<div style="break-inside: avoid"><h2>Ratios to the reference group</h2>',
                  f"<p>Each group's rate over {esc(ta.reference)}'s, with its 95% interval (log scale; dashed lines at "
                  "0.8 and 1.25).</p>", chart_html(forest_chart(pd.DataFrame(rows))) + "</div>"]
    if ta.calibration is not None and len(ta.calibration) and len(gf.groups) <= 12:
        parts += ['<div style="break-inside: avoid"><h2>Calibration by group</h2>',
                  "<p>Observed outcome rate against mean predicted score in five bins shared by everyone; the dashed "
                  "diagonal is perfect calibration.</p>", chart_html(calibration_chart(ta.calibration)) + "</div>"]
    return parts


def table_audit_body(ta: Any) -> str:
    """The page body for a ``TableAudit``."""
    from harmlens.audit.charts import metric_chart, shares_chart

    metrics = [m for m in ["selection_rate", "false_positive_rate", "false_negative_rate", "precision", "auc",
                           "calibration_oe"] if m in ta.errors.metrics]
    share_labels = {"flagged": "share of those flagged", "all_rows": "share of the table",
                    "with_outcome": f"share of outcomes ({ta.outcome})"}
    parts = [
        "<h2>What this shows</h2>",
        f"<p>{ta.n_used:,} rows of <code>{esc(ta.source)}</code>; flagged means <code>{esc(ta.positive)}</code>; "
        f"the outcome is <code>{esc(ta.outcome)}</code>; groups are <code>{esc(ta.group)}</code>. "
        "A false positive is a person flagged who did not go on to the outcome; a false negative a person "
        "not flagged who did.</p>",
        "<h2>Differences that the data can support</h2>",
        findings_html(ta.findings(), "No group differs from the reference group beyond its 95% interval."),
        warnings_html(ta.warnings),
        "<h2>Error rates by group</h2>",
        chart_html(metric_chart(ta.errors, metrics)),
        group_table_html(ta.errors, metrics),
        *table_forest_html(ta),
        "<h2>Who is flagged, against who is in the table and who had the outcome</h2>",
        "<p>A group whose share of those flagged is far above its share of the table and of the outcomes "
        "is flagged more than its outcomes explain (the Gangs Matrix test: 78% of the list against 27% of "
        "the offending).</p>",
        chart_html(shares_chart(ta.shares, ["flagged", "all_rows", "with_outcome"], share_labels)),
        shares_table_html(ta.shares, ["flagged", "all_rows", "with_outcome"], share_labels,
                          [("flagged", "all_rows"), ("flagged", "with_outcome")]),
        "<h2>Notes</h2>",
        "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in ta.notes) + "</ul>",
    ]
    return "\n".join(parts)


def write_outputs(result: Any, body_html: str | None, out_dir: str | Path, stem: str, *, title: str,
                  formats: tuple[str, ...] = FORMATS, subtitle: str | None = None,
                  meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``stem.json`` (from ``result.to_dict()``) and ``stem.html``/``stem.pdf`` as asked."""
    from harmlens.reports import render_html, write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if "json" in formats:
        p = out / f"{stem}.json"
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False), encoding="utf-8")
        tmp.replace(p)
        paths["json"] = p
    if "html" in formats or "pdf" in formats:
        page = render_html(title, body_html or "", subtitle=subtitle, meta=meta)
        written = write_report(page, out, stem, pdf="pdf" in formats)
        if "html" not in formats:
            written["html"].unlink()
            written.pop("html")
        paths.update(written)
    return paths
