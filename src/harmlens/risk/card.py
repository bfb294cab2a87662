"""Model cards (markdown and HTML), written at every training.

A card says what the model is for, on what data it was trained, what it predicts and on what
evidence, how it was validated (temporal holdout, side by side with the V100 and RFH baselines),
how it performs for each group (ethnicity, sex, age band: measured, never used as inputs), and
where it must not be used.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

INTENDED_USE = (
    "Decision support for police analysts and partner agencies reviewing people suspected of violence "
    "against women and girls: to help choose whom to look at first. A score is a statistical estimate from "
    "recorded allegations, not a finding of guilt. Every list must be reviewed by a person who checks the "
    "underlying records before any action."
)

NOT_FOR = [
    "Automatic decisions of any kind (arrest, charge, bail, sentencing, disclosure, eligibility for services).",
    "People outside the scored population (no suspect or offender record before the as-of date).",
    "Forces or periods whose recording practice differs from the training data without re-validation.",
    "Judging an individual's guilt: most VAWG allegations end without a charge, and the label counts allegations unless stated otherwise.",
]

LIMITATIONS = [
    "The label is recorded offending, not offending: it reflects who is reported and recorded, which differs "
    "between groups and areas. Under-reported abuse is invisible to the model.",
    "Monthly snapshots repeat the same people, so the training rows are not independent; standard errors in the "
    "inference table are clustered by person to allow for it.",
    "Calibration was fitted on a held-out part of the training period; it drifts when reporting or recording "
    "changes. Re-run 'harmlens evaluate' on each new period before relying on the probabilities.",
    "Linkage errors (one person split in two, or two merged) change counts and so scores.",
    "Group error rates are measured on the validation date only and small groups have wide uncertainty.",
]


@dataclass
class CardInputs:
    version: str
    created_at: str
    primary: str
    target: Mapping[str, Any]
    window: Mapping[str, Any]
    data_hash: str
    n_train_rows: int
    n_train_people: int
    train_prevalence: float
    features: Mapping[str, str]
    params: Mapping[str, Any]
    validation_wide: pd.DataFrame | None = None
    differences: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    inference: pd.DataFrame | None = None
    groups: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    flag_rule: str = ""
    notes: list[str] = field(default_factory=list)
    validation_n: int = 0
    validation_positives: int = 0
    n_boot: int = 200
    bands: list[dict[str, Any]] = field(default_factory=list)


def _label_words(target: Mapping[str, Any]) -> str:
    thr = {"allegation": "recorded as an allegation (suspect or offender named in a crime report)",
           "charged": "that led to a charge", "convicted": "that led to a conviction"}.get(str(target.get("threshold")), str(target.get("threshold")))
    return (f"1 if the person is named in a {target.get('category')} offence {thr} in the {target.get('horizon_days')} days "
            f"after the as-of date, else 0")


def _md_table(df: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    if df is None or df.empty:
        return "_none_\n"
    from harmlens.features.catalogue import plain_columns

    df = plain_columns(df)
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else floatfmt.format(v))
            else:
                cells.append(str(v).replace("|", "/"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _inference_view(inf: pd.DataFrame | None, n: int = 20) -> pd.DataFrame | None:
    if inf is None:
        return None
    from harmlens.features.catalogue import label

    v = inf.head(n)[["feature", "odds_ratio", "ci_low", "ci_high", "p_value"]].copy()
    v["feature"] = [label(str(f)) for f in v["feature"]]
    v["p_value"] = v["p_value"].map(lambda p: "<0.001" if p < 0.001 else f"{p:.3f}")
    return v


K_FRACTION = 0.2
"""A metric "at k" is shown only where k is at most this share of the people validated: at k near
n every score catches everyone (precision@1000 on 673 people is 1.000 for any ranking)."""


def _k_of(metric: str) -> int | None:
    _, at, k = str(metric).partition("@")
    return int(k) if at and k.isdigit() else None


def metrics_view(df: pd.DataFrame | None, n: int, column: str = "metric") -> pd.DataFrame | None:
    """Metric rows in plain words, without the "at k" rows where k is not well below ``n``."""
    from harmlens.features.catalogue import label

    if df is None or column not in df.columns:
        return df
    keep = [(_k_of(m) is None) or (n > 0 and _k_of(m) <= K_FRACTION * n) for m in df[column]]
    out = df[keep].copy()
    out[column] = [label(str(m)) for m in out[column]]
    return out


def _dropped_k(df: pd.DataFrame | None, n: int, column: str = "metric") -> list[str]:
    if df is None or column not in df.columns:
        return []
    return sorted({str(m) for m in df[column] if _k_of(m) is not None and not (n > 0 and _k_of(m) <= K_FRACTION * n)})


def _param_words(k: str) -> str:
    from harmlens.features.catalogue import label

    return {"n_boot": "bootstrap resamples", "freq_months": "months between snapshots"}.get(k, label(k))


def _features_view(features: Mapping[str, str]) -> pd.DataFrame:
    from harmlens.features.catalogue import label, unit

    return pd.DataFrame({"factor": [label(f) for f in features], "unit": [unit(f) for f in features],
                         "meaning": list(features.values())})


def _sections(ci: CardInputs) -> list[tuple[str, str, pd.DataFrame | None]]:
    """(heading, text, table) in card order; rendered to markdown and HTML alike."""
    from harmlens.features.catalogue import label, plain_text
    w = ci.window
    out: list[tuple[str, str, pd.DataFrame | None]] = []
    out.append(("Intended use", INTENDED_USE + "\n\nNot for:\n" + "\n".join(f"- {x}" for x in NOT_FOR), None))
    out.append(("Target and label", (
        f"Predicts the probability that a person is named in a **{ci.target.get('category')}** offence within "
        f"**{ci.target.get('horizon_days')} days** of the as-of date. Label: {_label_words(ci.target)}. "
        "Scored population: every linked person named as suspect or offender in any event before the as-of date."), None))
    out.append(("Data window", (
        f"Monthly snapshots from {w.get('train_start')} to {w.get('train_end')} (every {w.get('freq_months')} month(s)); "
        f"labels observed up to {w.get('labels_until')}. {ci.n_train_rows:,} person-snapshots of {ci.n_train_people:,} people; "
        f"{ci.train_prevalence:.1%} positive. Training data sha256: `{ci.data_hash}`. "
        f"Validation (temporal holdout): a model trained only on snapshots up to {w.get('validation_train_end')} "
        f"scored everyone on {w.get('validation_as_of')}, with outcomes in the following {ci.target.get('horizon_days')} days "
        f"({ci.validation_n:,} people, {ci.validation_positives:,} with the outcome). The registered model was then "
        f"refitted on snapshots up to {w.get('train_end')}."
        + (" Snapshots less than a horizon before the end of their training data were used with the outcome "
           "counted only up to that end, weighted by the inverse probability of censoring (people with no "
           "outcome yet in a cut-short follow-up: left out of the logit and boosting, censored in the Cox model)."
           if w.get("censoring") == "ipcw" else "")
        + (" Snapshots less than a horizon before the end of their training data were used with the outcome "
           "followed only up to that end: the boosting model is a discrete-time hazard model (quarters of the horizon), "
           "the logit uses the fully followed snapshots and the Cox model takes the shorter follow-up as censored."
           if w.get("censoring") == "hazard" else "")), None))
    out.append(("Models", (
        f"Primary: **{ci.primary}**. RiskFactorLogit: L2-penalised logistic regression with a statsmodels inference "
        "table (odds ratio per one unit of each factor, 95% CI, p-value; standard errors clustered by person). "
        f"CalibratedBoosting: gradient-boosted trees with {ci.params.get('calibration', 'isotonic')} calibration on a held-out fifth of the people. "
        "TimeToOffenceCox: Cox proportional hazards for the time to the next offence, read as the probability "
        "within the horizon. Settings: " + "; ".join(f"{_param_words(k)} {v}" for k, v in ci.params.items()) + "."), None))
    out.append(("Harm policy by outcome", _harm_policy_text(), None))
    if ci.validation_wide is not None:
        dropped = _dropped_k(ci.validation_wide, ci.validation_n)
        out.append(("Validation on the holdout date", (
            f"Each figure with its 95% bootstrap interval ({ci.n_boot} resamples of people), every score on the same people and "
            "date. V100 ranks by summed harm of VAWG allegations in the previous year; RFH by recency, frequency and "
            "harm. The calibration error is the expected calibration error over 10 equal-count bins. Harm caught in the top k is the share of the "
            "next horizon's harm caused by the top k."
            + (f" Measures at k are shown only for k up to {K_FRACTION:.0%} of the {ci.validation_n:,} people validated "
               f"(left out: {', '.join(label(d) for d in dropped)}, where any ranking catches nearly everyone)." if dropped else "")),
            metrics_view(ci.validation_wide, ci.validation_n)))
    if ci.differences is not None and not ci.differences.empty:
        out.append(("Model minus baseline (paired bootstrap)", "Difference of the primary model and each baseline on the same resamples; ratio = model / baseline.",
                    metrics_view(ci.differences, ci.validation_n)))
    if ci.calibration is not None:
        out.append(("Calibration", "Predicted probability against the observed rate, by tenth of predicted risk (holdout date).", ci.calibration))
    if ci.bands:
        out.append(("Risk bands", (
            "Each listed person's calibrated chance is put in a band. The bands are cut at the 50th, 75th and 90th "
            "percentile of predicted risk on the holdout date and kept only where the share who went on to offend "
            "fell inside the band's own range (else merged with a neighbour):\n\n"
            + "\n".join(f"- {band_text(b)}" for b in ci.bands)), None))
    if ci.inference is not None:
        out.append(("Statistically tested risk factors", (
            "From the logistic model fitted to the training snapshots: odds ratio per one unit of the factor "
            "(other factors held fixed), 95% confidence interval and p-value. Associations, not causes."), _inference_view(ci.inference)))
    for attr, tab in ci.groups.items():
        out.append((f"Error rates by {attr}", (
            f"Measured on the holdout date; {attr} is never a model input. Flag rule: {ci.flag_rule}. False positive rate: share of those "
            "with no later offence who were flagged; false negative rate: share of those with a later offence who were not; "
            "observed / predicted: observed rate / mean predicted (1 = calibrated)."), tab))
    out.append(("Features", "Every factor the model reads, in plain words, with its unit.", _features_view(ci.features)))
    out.append(("Known limitations", "\n".join(f"- {plain_text(x)}" for x in LIMITATIONS + list(ci.notes)), None))
    return out


def band_text(b: Mapping[str, Any]) -> str:
    from harmlens.risk.bands import band_text as _bt

    return _bt(dict(b))


def _harm_policy_text() -> str:
    from harmlens.harm.policy import DEFAULT_POLICY

    return DEFAULT_POLICY.describe() + " (The setting a list was built with is stored with the list.)"


def card_markdown(ci: CardInputs) -> str:
    parts = [f"# Model card: harmlens risk model {ci.version}\n", f"Created {ci.created_at} UTC. Decision support for human review only.\n"]
    for head, text, tab in _sections(ci):
        parts.append(f"\n## {head}\n")
        if text:
            parts.append(text + "\n")
        if tab is not None:
            parts.append("\n" + _md_table(tab))
    return "".join(parts)


def _html_text(text: str) -> str:
    out, items = [], []
    for line in text.split("\n"):
        if line.startswith("- "):
            items.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            esc = html.escape(line)
            # **bold** and `code` as written in the markdown text
            import re

            esc = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc)
            esc = re.sub(r"`(.+?)`", r"<code>\1</code>", esc)
            out.append(f"<p>{esc}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "".join(out)


def _calibration_chart(cal: pd.DataFrame) -> str:
    try:
        import altair as alt

        from harmlens.reports import chart_svg
    except ImportError:
        return ""
    line = pd.DataFrame({"mean_predicted": [0.0, float(cal[["mean_predicted", "observed"]].to_numpy().max())]})
    line["observed"] = line["mean_predicted"]
    chart = (
        alt.Chart(line).mark_line(strokeDash=[4, 4], color="grey").encode(x="mean_predicted:Q", y="observed:Q")
        + alt.Chart(cal).mark_line(point=True).encode(
            x=alt.X("mean_predicted:Q", title="mean predicted probability"), y=alt.Y("observed:Q", title="observed rate"))
    ).properties(width=360, height=260, title="Calibration (holdout date)")
    return chart_svg(chart)


def card_html(ci: CardInputs) -> str:
    from harmlens.reports import render_html, table_html

    body = []
    for head, text, tab in _sections(ci):
        body.append(f"<h2>{html.escape(head)}</h2>")
        if text:
            body.append(_html_text(text))
        if head == "Calibration" and tab is not None and not tab.empty:
            body.append(_calibration_chart(tab))
        if tab is not None:
            body.append(table_html(tab))
    meta = {"version": ci.version, "primary model": ci.primary, "target": f"{ci.target.get('category')} / {ci.target.get('threshold')} / {ci.target.get('horizon_days')} days",
            "training window": f"{ci.window.get('train_start')} .. {ci.window.get('train_end')}", "data sha256": ci.data_hash[:16]}
    return render_html(f"Model card: risk model {ci.version}", "".join(body), subtitle="harmlens forecast of VAWG offending", meta=meta)


def write_card(ci: CardInputs, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "model_card.md"
    md.write_text(card_markdown(ci), encoding="utf-8")
    from harmlens.reports import write_report

    paths = write_report(card_html(ci), folder, "model_card", pdf=False)
    return md, paths["html"]
