"""Stop analysis as text (CLI), and as an HTML/PDF report with charts read at a glance."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from harmlens.stops.analyse import StopAnalysis
from harmlens.stops.codes import ALL_GROUPS as GROUPS

_COLOURS = {"Asian": "#1b9e77", "Black": "#d95f02", "Mixed": "#7570b3", "White": "#666666", "Other": "#e7298a",
            "Hispanic": "#66a61e"}
_ANALYSIS_NAMES = {"rates": "rates and ratios", "agreement": "self vs officer agreement", "outcome_test": "outcome test",
                   "arrest_rate": "arrest rate", "veil_of_darkness": "veil of darkness"}


def used_lines(a: StopAnalysis) -> list[str]:
    """'rates and ratios: 9,358 stops used; left out: self-defined ethnicity not stated 1,028, ...' per analysis."""
    out = []
    for k, u in a.used.items():
        left = "; ".join(f"{why} {n:,}" for why, n in u["left_out"].items()) or "none"
        out.append(f"{_ANALYSIS_NAMES.get(k, k)}: {u['used']:,} stops used; left out: {left}")
    return out


def where_from(a: StopAnalysis) -> str:
    parts = []
    if a.forces:
        parts.append("force " + ", ".join(a.forces))
    if a.jurisdictions:
        parts.append("jurisdiction " + ", ".join(a.jurisdictions))
    return "; ".join(parts) or "force not recorded"


def _f(v: Any, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "-"
    return f"{v:,.{nd}f}"


def _areas(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{len(names)} areas ({', '.join(names[:3])}, ...)"


def text_summary(a: StopAnalysis) -> str:
    """A plain-text summary for the terminal."""
    s = a.settings
    basis = "self-defined" if s.ethnicity == "self" else "officer-perceived"
    if a.jurisdictions and not a.forces:
        basis = "race as OPP records it (mostly the officer's record)"
    out = [f"stops analysed: {a.n_stops:,} ({a.filter.describe()}; {a.period[0]} to {a.period[1]}); ethnicity: {basis}"]
    out.append(f"{where_from(a)}; sources: {', '.join(a.sources) or 'not recorded'}")
    if a.jurisdictions:
        out.append("stop types: " + ", ".join(f"{k} {v:,}" for k, v in a.stop_types.items()))
    out.append("")
    out.append("stops by group:")
    for g, r in a.counts.iterrows():
        out.append(f"  {g:<14} {int(r['stops']):>10,}  {r['share']:6.1%}")
    if a.disproportionality is not None:
        ref = s.reference
        out.append("")
        out.append(f"stops per 1,000 residents ({_areas(a.population_areas)}) and ratio to {ref} (95% CI):")
        for g, r in a.disproportionality.iterrows():
            ratio = f"{r['ratio_vs_' + ref.lower()]:.2f}"
            ci = "" if g == ref else f" ({_f(r['ratio_low'])}-{_f(r['ratio_high'])})"
            out.append(f"  {g:<8} {int(r['stops']):>9,} / {int(r['population']):>10,}  rate {r['rate_per_1000']:7.2f}  ratio {ratio}{ci}")
    if a.vs_white_british is not None:
        out.append("")
        out.append("ratio to White British (W1), as the Met's s163 pilot reported (95% CI):")
        for g, r in a.vs_white_british.iterrows():
            if g.startswith("White British"):
                continue
            out.append(f"  {g:<8} {r['ratio_vs_white_british']:.2f} ({_f(r['ratio_low'])}-{_f(r['ratio_high'])})")
    if a.agreement_summary.get("n_both_recorded"):
        sm = a.agreement_summary
        out.append("")
        out.append(f"self-defined vs officer-perceived: {sm['agreement']:.1%} agree (kappa {sm['cohens_kappa']:.2f}) "
                   f"over {sm['n_both_recorded']:,} stops with both recorded")
    if a.vod is not None:
        v = a.vod
        out.append("")
        out.append(f"veil of darkness ({v.minority} vs {v.reference}; window {v.to_dict()['window_clock'][0]}-"
                   f"{v.to_dict()['window_clock'][1]}, {v.n_window:,} stops after dropping twilight):")
        out.append(f"  {v.minority} share: light {v.share_light:.1%}, dark {v.share_dark:.1%}")
        for m in v.models:
            lo, hi = m.ci
            out.append(f"  dark coefficient {m.coef:+.3f} (SE {m.se:.3f}; 95% CI {lo:+.3f} to {hi:+.3f}; n {m.n:,}) - {m.controls}")
    elif a.vod_skipped:
        out.append("")
        out.append(f"veil of darkness: not run ({a.vod_skipped})")
    if a.outcome_test is not None:
        out.append("")
        out.append("outcome test (share of searches that found something):")
        for g, r in a.outcome_test.iterrows():
            d = r.get("diff_vs_" + s.reference.lower())
            extra = "" if d is None or pd.isna(d) else f"  vs {s.reference} {d:+.3f} ({r['diff_low']:+.3f} to {r['diff_high']:+.3f})"
            out.append(f"  {g:<8} {int(r['searches']):>9,} searches  hit rate {r['hit_rate']:.1%}{extra}")
    if a.arrest_rates is not None:
        out.append("")
        out.append("arrest rate among searches (shown apart from finds):")
        for g, r in a.arrest_rates.iterrows():
            out.append(f"  {g:<8} {int(r['searches']):>9,} searches  arrest rate {r['arrest_rate']:.1%} ({r['low']:.1%}-{r['high']:.1%})")
    if a.race_mapping:
        out.append("")
        out.append("OPP race categories -> groups: " + "; ".join(f"{m['published'] or '(blank/NA)'} -> {m['group']} ({m['stops']:,})"
                                                                 for m in a.race_mapping))
    if a.used:
        out.append("")
        out.append("stops used and left out, by analysis:")
        out.extend(f"  {line}" for line in used_lines(a))
    if a.notes:
        out.append("")
        out.extend(f"note: {n}" for n in a.notes)
    warn = (a.rates.warnings if a.rates is not None else []) + \
        ([f"hit rate: {w}" for w in a.hit_rates.warnings] if a.hit_rates is not None else [])
    out.extend(f"warning: {w}" for w in warn)
    out.append("")
    out.append("caveats: see --report or --json; every test here is evidence to examine, not proof of bias.")
    return "\n".join(out)


# -------------------------------------------------------------------------------------- charts


def _rates_chart(d: pd.DataFrame):
    import altair as alt

    df = d.reset_index()
    base = alt.Chart(df).encode(y=alt.Y("group:N", sort=list(GROUPS), title=None))
    bars = base.mark_bar().encode(
        x=alt.X("rate_per_1000:Q", title="stops per 1,000 residents"),
        color=alt.Color("group:N", scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())), legend=None))
    err = base.mark_rule(color="black").encode(x="rate_low:Q", x2="rate_high:Q")
    return (bars + err).properties(width=420, height=150, title="Stop rate by ethnic group (95% CI)")


def _ratio_chart(d: pd.DataFrame, ref: str):
    import altair as alt

    col = "ratio_vs_" + ref.lower()
    df = d.reset_index().rename(columns={col: "ratio"})
    df = df[df["group"] != ref]
    base = alt.Chart(df).encode(y=alt.Y("group:N", sort=list(GROUPS), title=None))
    pts = base.mark_point(filled=True, size=80).encode(
        x=alt.X("ratio:Q", title=f"rate ratio to {ref} (log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("group:N", scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())), legend=None))
    err = base.mark_rule().encode(x="ratio_low:Q", x2="ratio_high:Q")
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#999").encode(x="x:Q")
    return (one + err + pts).properties(width=420, height=120, title=f"Disproportionality: rate relative to {ref} (1 = same rate)")


def _agreement_chart(m: pd.DataFrame):
    import altair as alt

    df = m.reset_index().melt(id_vars="self_defined", var_name="officer_perceived", value_name="stops")
    row_tot = df.groupby("self_defined")["stops"].transform("sum")
    df["share_of_row"] = (df["stops"] / row_tot.where(row_tot > 0)).fillna(0)
    base = alt.Chart(df).encode(x=alt.X("officer_perceived:N", sort=list(m.columns), title="officer-perceived"),
                                y=alt.Y("self_defined:N", sort=list(m.index), title="self-defined"))
    rect = base.mark_rect().encode(color=alt.Color("share_of_row:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]),
                                                   title="share of row"))
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("stops:Q", format=","),
        color=alt.condition(alt.datum.share_of_row > 0.55, alt.value("white"), alt.value("black")))
    return (rect + text).properties(width=360, height=220, title="Self-defined vs officer-perceived ethnicity (stops)")


def _borough_chart(b: pd.DataFrame, minority: str, ref: str):
    import altair as alt

    df = b[~b["too_few"]].reset_index()
    if df.empty:
        return None
    order = df.sort_values("ratio", ascending=False)["borough"].tolist()
    base = alt.Chart(df).encode(y=alt.Y("borough:N", sort=order, title=None))
    pts = base.mark_point(filled=True, color=_COLOURS.get(minority, "#d95f02")).encode(
        x=alt.X("ratio:Q", title=f"{minority} vs {ref} rate ratio (log scale)", scale=alt.Scale(type="log")))
    err = base.mark_rule(color="#555").encode(x="ratio_low:Q", x2="ratio_high:Q")
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#999").encode(x="x:Q")
    return (one + err + pts).properties(width=420, height=max(120, 14 * len(df)),
                                        title=f"By borough: {minority} vs {ref} rate ratio (95% CI)")


def _monthly_chart(b: pd.DataFrame):
    import altair as alt

    groups = [g for g in GROUPS if g in b.columns]
    df = b[groups].reset_index().melt(id_vars="month", var_name="group", value_name="stops")
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("month:N", title="month"), y=alt.Y("stops:Q", title="stops"),
        color=alt.Color("group:N", scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values()))),
    ).properties(width=480, height=180, title="Stops by month and group")


def _vod_chart(v):
    import altair as alt

    df = v.by_minute.copy()
    df = df[df["total"] >= 5]
    df["clock"] = df["bin"].map(lambda m: f"{int(m) // 60:02d}:{int(m) % 60:02d}")
    df["light"] = df["dark"].map({0: "light (before sunset)", 1: "dark (after dusk)"})
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("clock:O", title="clock time (15-minute bins)"),
        y=alt.Y("share:Q", title=f"{v.minority} share of {v.minority} + {v.reference} stops", axis=alt.Axis(format="%")),
        color=alt.Color("light:N", title=None, scale=alt.Scale(domain=["light (before sunset)", "dark (after dusk)"],
                                                               range=["#f0a202", "#1f3b73"])),
    ).properties(width=480, height=200, title="Veil of darkness: same clock time, light vs dark")


def _hit_chart(o: pd.DataFrame):
    import altair as alt

    df = o.reset_index()
    base = alt.Chart(df).encode(y=alt.Y("group:N", sort=list(GROUPS), title=None))
    bars = base.mark_bar().encode(
        x=alt.X("hit_rate:Q", title="share of searches finding something", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())), legend=None))
    err = base.mark_rule(color="black").encode(x="hit_low:Q", x2="hit_high:Q")
    return (bars + err).properties(width=420, height=150, title="Outcome test: hit rate by group (95% CI)")


# -------------------------------------------------------------------------------------- report


def _table(df: pd.DataFrame, index: bool = True, pct: tuple[str, ...] = (), ints: tuple[str, ...] = ()) -> str:
    from harmlens.reports import table_html

    d = df.reset_index() if index else df.copy()
    for c in d.columns:
        if c in pct:
            d[c] = d[c].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
        elif c in ints or pd.api.types.is_integer_dtype(d[c]):
            d[c] = d[c].map(lambda v: "-" if pd.isna(v) else f"{int(v):,}")
    return table_html(d, float_format="{:,.3f}")


def _chart(ch) -> str:
    from harmlens.reports import chart_svg

    return f'<div class="chart">{chart_svg(ch)}</div>'


def _list(items) -> str:
    from harmlens.features.catalogue import plain_text

    return "<ul>" + "".join(f"<li>{html.escape(plain_text(str(i)))}</li>" for i in items) + "</ul>"


def _warn(lines) -> str:
    """Warnings name the measure they are about (stops_per_1000): in plain words for the reader."""
    from harmlens.features.catalogue import plain_text

    return '<div class="warn">' + "<br>".join(html.escape(plain_text(w)) for w in lines) + "</div>"


def vod_words(coef: float, low: float, high: float, minority: str) -> str:
    """What a veil-of-darkness coefficient (log odds that a stopped person is of ``minority``, dark vs
    daylight, same clock time) means, in words a panel can read."""
    import math

    odds = f"the odds that a stopped person was {minority} were {math.exp(coef):.2f} times those in daylight"
    if low <= 0 <= high:
        return (f"In the dark {odds}, but the interval includes 0 (no difference): this test finds no evidence "
                "either way that being seen changes who is stopped.")
    if coef < 0:
        return (f"In the dark, when officers can see less, {odds}: {minority} people were a smaller share of stops "
                "when harder to see, the pattern bias in daylight stops would leave (evidence to examine, not proof).")
    return (f"In the dark {odds}: {minority} people were a larger share of stops when harder to see, the opposite "
            "of the pattern daylight bias would leave.")


def render_stops_report(a: StopAnalysis) -> str:
    """The whole analysis as one HTML page (shared page shell, inline SVG charts)."""
    from harmlens.reports import render_html

    from harmlens.features.catalogue import label

    s = a.settings
    ref = s.reference
    basis = "self-defined" if s.ethnicity == "self" else "officer-perceived"
    e = html.escape
    body: list[str] = []

    # Headline
    head = []
    if a.disproportionality is not None and s.minority in a.disproportionality.index:
        r = a.disproportionality.loc[s.minority]
        head.append(f"{s.minority} people were stopped at {r['ratio_vs_' + ref.lower()]:.2f} times the rate of {ref} people "
                    f"(95% CI {_f(r['ratio_low'])} to {_f(r['ratio_high'])}), using {basis} ethnicity and census populations "
                    f"of {_areas(a.population_areas)}.")
    if a.vod is not None:
        m = a.vod.models[0]
        lo, hi = m.ci
        head.append(f"Veil of darkness: dark coefficient {m.coef:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}) with clock time controlled"
                    + (f"; {a.vod.models[1].coef:+.3f} (SE {a.vod.models[1].se:.3f}) with area fixed effects." if len(a.vod.models) > 1 else ".")
                    + " " + vod_words(m.coef, lo, hi, a.vod.minority))
    head += [n for n in a.notes if "lower bounds" in n]
    if head:
        body.append("<h2>In brief</h2>" + _list(head))

    body.append("<h2>Where and what</h2>")
    body.append(f"<p>{e(where_from(a))}; period {e(a.period[0])} to {e(a.period[1])}; sources: "
                f"{e(', '.join(a.sources) or 'not recorded')}.</p>")
    if a.jurisdictions:
        body.append("<p>Stop types: " + e(", ".join(f"{k} {v:,}" for k, v in a.stop_types.items())) + ".</p>")
    if a.race_mapping:
        body.append("<h3>OPP race categories and the groups used here</h3>"
                    + _table(pd.DataFrame(a.race_mapping), index=False))
    if a.used:
        body.append("<h3>Stops used and left out, by analysis</h3>" + _list(used_lines(a)))

    body.append("<h2>Stops by ethnic group</h2>")
    body.append(f"<p>{a.n_stops:,} stops; {e(basis)} ethnicity. 'Not stated' means the person was asked and did not say; "
                "'Not recorded' means the field is empty. Both are shown, not dropped.</p>")
    body.append(_table(a.counts, pct=("share",)))

    if a.disproportionality is not None:
        body.append("<h2>Rates and disproportionality</h2>")
        body.append(_chart(_rates_chart(a.disproportionality)) + _chart(_ratio_chart(a.disproportionality, ref)))
        body.append(_table(a.disproportionality))
        body.append("<p>Rate CIs: parametric bootstrap (GroupFrame). Ratio CIs: exact conditional method for two Poisson "
                    "counts over fixed census denominators.</p>")
        if a.rates is not None and a.rates.warnings:
            body.append(_warn(a.rates.warnings))
    if a.vs_white_british is not None:
        body.append("<h3>Relative to White British</h3><p>Each group's rate over the White British (W1) rate, the "
                    "comparison the Met's s163 pilot reported.</p>" + _table(a.vs_white_british))
    if a.borough_rates is not None:
        body.append("<h3>By borough</h3>")
        ch = _borough_chart(a.borough_rates, s.minority, ref)
        if ch is not None:
            body.append(_chart(ch))
        body.append(_table(a.borough_rates.head(40)))

    if a.agreement is not None and len(a.agreement):
        sm = a.agreement_summary
        body.append("<h2>Self-defined vs officer-perceived ethnicity</h2>")
        body.append(_chart(_agreement_chart(a.agreement)))
        if sm.get("n_both_recorded"):
            body.append(f"<p>Where both are recorded ({sm['n_both_recorded']:,} stops), the officer's perception matches the "
                        f"person's own group in {sm['agreement']:.1%} (Cohen's kappa {sm['cohens_kappa']:.2f}). {e(sm['note'])}</p>")
        body.append(_table(a.agreement.rename_axis(index="self-defined \\ officer-perceived", columns=None)))

    if a.vod is not None:
        v = a.vod
        d = v.to_dict()
        body.append("<h2>Veil-of-darkness test</h2>")
        body.append(f"<p>{v.minority} vs {v.reference} stops in the inter-twilight window {d['window_clock'][0]}-{d['window_clock'][1]} "
                    f"(earliest to latest civil dusk over the dates analysed, sun times for {v.place[0]:.4f}, {v.place[1]:.4f}), "
                    f"stops between sunset and dusk removed: {v.n_window:,} stops ({v.n_light:,} light, {v.n_dark:,} dark). "
                    f"{v.minority} share {v.share_light:.1%} in light, {v.share_dark:.1%} in dark.</p>")
        body.append(_chart(_vod_chart(v)))
        mt = pd.DataFrame([m.to_dict() for m in v.models]).drop(columns=["name"])
        body.append(_table(mt, index=False))
        body.append("<p>Excluded: " + e(", ".join(f"{label(k)} {n:,}" for k, n in v.excluded.items())) + ".</p>")
        body.append("<h3>What this test can and cannot say</h3>" + _list(v.caveats))
    elif a.vod_skipped:
        body.append(f"<h2>Veil-of-darkness test</h2><p>Not run: {e(a.vod_skipped)}.</p>")

    if a.outcome_test is not None:
        body.append("<h2>Outcome (hit-rate) test</h2>")
        body.append(_chart(_hit_chart(a.outcome_test)))
        body.append(_table(a.outcome_test))
        if a.hit_rates is not None and a.hit_rates.warnings:
            body.append(_warn(a.hit_rates.warnings))
        body.append("<h3>Caveats</h3>" + _list(a.caveats.get("outcome_test", ())))
    if a.arrest_rates is not None:
        body.append("<h2>Arrest rate among searches</h2><p>Shown apart from finds: an arrest can be for something other "
                    "than the object of the search.</p>" + _table(a.arrest_rates, pct=("arrest_rate", "low", "high")))

    body.append("<h2>Breakdowns</h2>")
    if "month" in a.breakdowns and len(a.breakdowns["month"]) > 1:
        body.append(_chart(_monthly_chart(a.breakdowns["month"])))
    share_col = f"{s.minority}_share_of_known"
    for name in ("legislation", "age_range", "sex", "borough", "month"):
        if name in a.breakdowns:
            body.append(f"<h3>By {e(label(name))}</h3>" + _table(a.breakdowns[name].head(40), pct=(share_col,)))

    body.append("<h2>Notes and caveats on rates</h2>" + _list(list(a.notes) + list(a.caveats.get("rates", ()))))
    meta = {"stops": f"{a.n_stops:,}", "period": f"{a.period[0]} to {a.period[1]}", "filter": a.filter.describe(),
            "force / jurisdiction": where_from(a),
            "ethnicity basis": basis, "reference group": ref,
            "population": _areas(a.population_areas) if a.population_areas else "none (counts only)"}
    return render_html("Stops: disproportionality and tests for bias", "\n".join(body),
                       subtitle="Who is stopped, against census populations; veil-of-darkness and outcome tests",
                       meta=meta,
                       notice="Evidence for scrutiny and human review. A disparity is not by itself proof of bias, and no "
                              "test here is.")


def write_stops_report(a: StopAnalysis, out_dir: str | Path, *, pdf: bool = True) -> dict[str, Path]:
    """Write ``stops_report.html`` (and ``.pdf``) into ``out_dir``."""
    from harmlens.reports import write_report

    return write_report(render_stops_report(a), out_dir, "stops_report", pdf=pdf)
