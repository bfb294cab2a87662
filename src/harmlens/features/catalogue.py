"""The feature catalogue: every feature's name and what it means in plain English.

The order here is the column order of :func:`harmlens.features.build_features`. Descriptions are
written for analysts (model cards and per-person explanations quote them), so they say what is
counted, over which window, and on what evidence.
"""

from __future__ import annotations

# Offence categories used for counts and labels: name -> SQL predicate over the offence row.
CATEGORIES: dict[str, str] = {
    "vawg": "vawg",
    "sexual": "sexual",
    "domestic": "domestic",
    "violent": "violent",
    "any": "TRUE",
}

CATEGORY_WORDS: dict[str, str] = {
    "vawg": "VAWG (violence against women and girls)",
    "sexual": "sexual",
    "domestic": "domestic abuse",
    "violent": "violent",
    "any": "recorded",
}

# Look-back windows for counts: suffix -> days (None = ever).
WINDOWS: dict[str, int | None] = {"90d": 90, "365d": 365, "3y": 1095, "ever": None}

WINDOW_WORDS: dict[str, str] = {
    "90d": "in the 90 days before the as-of date",
    "365d": "in the year before the as-of date",
    "3y": "in the 3 years before the as-of date",
    "ever": "ever (all history before the as-of date)",
}

# Days since an event is capped here; people with no such event get the cap.
RECENCY_CAP_DAYS = 3650

# Custody types (event column or extra ``custody_type``, compared lower-case) that are sentences with a
# release date fixed when they are passed: their ``ends_at`` is read before it comes (remand, hospital
# orders and untyped custody end on a later decision, so their end is never read early).
SENTENCE_CUSTODY_TYPES = ("prison", "sentence", "custodial_sentence")

# Yearly chance that an offending career ends (desistance), for p_still_offending_given_allegations:
# careers of about ten years on average (the synthetic city draws them with a mean of 9 + 1 years).
DESISTANCE_HAZARD = 0.1

# Gamma prior of a person's yearly rate of recorded signals (allegations, intelligence reports) for
# the Bayes activity features: shape RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS years of pseudo-exposure. A weak
# prior (mean 0.3 a year, as likely 0.05 as 1): the rate is learnt from the person's own history.
RATE_PRIOR_SHAPE = 0.3
RATE_PRIOR_YEARS = 1.0


def _build() -> dict[str, str]:
    f: dict[str, str] = {}
    for cat in CATEGORIES:
        for win in WINDOWS:
            f[f"n_{cat}_{win}"] = (
                f"Number of {CATEGORY_WORDS[cat]} offences naming the person as suspect or offender (allegations) "
                f"{WINDOW_WORDS[win]}"
            )
    for win in WINDOWS:
        f[f"harm_vawg_{win}"] = (
            f"Total harm (days of custody equivalent) of VAWG allegations naming the person {WINDOW_WORDS[win]}"
        )
    f["harm_any_365d"] = "Total harm (days of custody equivalent) of all allegations naming the person in the year before"
    f["harm_any_ever"] = "Total harm (days of custody equivalent) of all allegations naming the person, ever"
    f["days_since_last_offence"] = (
        f"Days since the person's most recent allegation of any offence (capped at {RECENCY_CAP_DAYS}; "
        "the cap if none)"
    )
    f["days_since_last_vawg"] = (
        f"Days since the person's most recent VAWG allegation (capped at {RECENCY_CAP_DAYS}; the cap if none)"
    )
    f["harm_vawg_prev_365d"] = "Total harm of VAWG allegations between 1 and 2 years before the as-of date"
    f["escalation_vawg_harm"] = (
        "Escalation: harm of VAWG allegations in the last year minus harm in the year before that "
        "(positive means getting worse)"
    )
    f["max_harm_365d"] = "Harm of the most serious allegation in the last year (days of custody equivalent)"
    f["max_harm_before_365d"] = "Harm of the most serious allegation more than a year before the as-of date"
    f["escalating_severity"] = (
        "1 if the most serious allegation in the last year is more serious than anything before it, else 0"
    )
    f["distinct_victims_ever"] = "Number of different victims named in the person's allegations, ever"
    f["distinct_victims_3y"] = "Number of different victims named in the person's allegations in the last 3 years"
    f["distinct_partner_victims_ever"] = (
        "Number of different partner or ex-partner victims named in the person's allegations, ever"
    )
    f["distinct_child_victims_ever"] = "Number of different victims aged under 18 at the time, ever"
    f["max_offences_same_victim"] = "Largest number of allegations against one and the same victim (repeat victimisation)"
    f["repeat_victims"] = "Number of victims the person is alleged to have offended against two or more times"
    f["dash_high_victims"] = (
        "Number of the person's victims assessed as high risk (DASH level high or score 14+) before the as-of date"
    )
    f["max_dash_score"] = "Highest DASH score (0-27) of any of the person's victims before the as-of date (0 if none)"
    f["n_breach_365d"] = "Breaches of a court or police order (restraining, non-molestation...) in the last year"
    f["n_breach_ever"] = "Breaches of a court or police order, ever"
    f["n_orders_ever"] = "Court or police orders (DVPO, restraining order, SPO...) made against the person, ever"
    f["active_orders"] = "Orders against the person still in force on the as-of date"
    f["days_in_custody_365d"] = "Days spent in custody (remand, prison, hospital order) in the year before"
    f["days_in_custody_ever"] = "Days spent in custody before the as-of date, ever"
    f["in_custody_now"] = "1 if the person was in custody on the as-of date, else 0"
    f["days_to_sentence_release"] = (
        f"Days from the as-of date to the release date of the prison sentence the person is serving (0 if none; "
        f"capped at {RECENCY_CAP_DAYS}): a release date is set at sentencing, so it is known on the date"
    )
    f["recorded_dead"] = (
        "1 if the person's death was recorded before the as-of date, else 0 (a model's risk is then 0: "
        "nobody offends after death)"
    )
    f["n_arrests_365d"] = "Arrests of the person in the year before the as-of date"
    f["n_arrests_ever"] = "Arrests of the person, ever"
    f["charges_ever"] = "Crimes the person has been charged with (or convicted of), ever"
    f["charges_vawg_ever"] = "VAWG crimes the person has been charged with (or convicted of), ever"
    f["convictions_ever"] = "Crimes the person has been convicted of, ever"
    f["convictions_vawg_ever"] = "VAWG crimes the person has been convicted of, ever"
    f["charge_ratio"] = "Share of the person's allegations that led to a charge (charges / allegations; 0 if none)"
    f["n_intel_365d"] = "Intelligence reports about the person in the year before the as-of date"
    f["times_victim_ever"] = "Times the person was themself recorded as a victim, ever"
    f["age"] = "Age in years on the as-of date (0 when the date of birth is unknown; see 'date of birth unknown')"
    f["age_at_first_record"] = "Age in years when first recorded as a suspect (0 when unknown; see 'date of birth unknown')"
    f["dob_unknown"] = "1 if no plausible date of birth is recorded for the person, else 0"
    f["years_since_first_record"] = "Years since the person was first recorded as a suspect or offender"
    f["n_co_suspects"] = "Number of different people named as co-suspects with the person on the same offences"
    f["co_suspects_vawg_allegations"] = "Total VAWG allegations against the person's co-suspects, ever"
    f["n_shared_victim_suspects"] = "Number of other suspects alleged to have offended, in separate offences, against the same victims"
    f["vawg_allegations_per_year_at_large_3y"] = (
        "VAWG allegations in the last 3 years per year at large (days in custody removed from the window; "
        "at least 30 days at large)"
    )
    f["vawg_share_of_allegations"] = "Share of the person's allegations that are VAWG (0 if none)"
    f["days_at_large_without_allegations"] = (
        f"Days since the most recent allegation, not counting days in custody (capped at {RECENCY_CAP_DAYS})"
    )
    f["recency_weighted_vawg_allegations_90d"] = "VAWG allegations, each weighted by how recent it is (the weight halves every 90 days)"
    f["recency_weighted_vawg_allegations_365d"] = "VAWG allegations, each weighted by how recent it is (the weight halves every 365 days)"
    f["p_still_offending_given_allegations"] = (
        "Chance the person is still offending, from how long they have been silent relative to their own rate "
        "(allegations per year since the first record, plus half an allegation), if careers end at "
        f"{DESISTANCE_HAZARD:.0%} a year (a long silence for a frequent offender suggests desistance)"
    )
    f["expected_vawg_allegations_per_year"] = (
        "VAWG allegations per year since the first record (plus half an allegation, so a first-time offender is "
        "not zero) times the chance the person is still offending (from the gaps between allegations)"
    )
    f["expected_allegations_per_year"] = (
        "Allegations of any offence per year since the first record (plus half an allegation) times the chance the "
        "person is still offending (from the gaps between allegations)"
    )
    f["p_still_offending_given_allegations_and_intel"] = (
        "Chance the person is still offending, weighing how long they have been silent (no allegation and no "
        "intelligence report, time in custody not counted) against every rate their record allows, from a weak "
        f"prior, if careers end at {DESISTANCE_HAZARD:.0%} a year"
    )
    f["expected_vawg_allegations_per_year_shrunk"] = (
        "Expected VAWG allegations per year: the person's VAWG allegations per year at large since the first "
        "record (shrunk towards a weak prior) times the chance the person is still offending (from allegations and "
        "intelligence)"
    )
    f["expected_allegations_and_intel_per_year"] = (
        "Expected allegations and intelligence reports per year: their number per year at large since the first "
        "record (shrunk towards a weak prior) times the chance the person is still offending (from allegations and "
        "intelligence)"
    )
    return f


FEATURES: dict[str, str] = _build()
"""Feature name -> plain-English description, in column order."""


# ---------------------------------------------------------------------------------------------
# Plain words: one catalogue of labels, units and one-line meanings for every feature, metric
# and column that a partner or the public reads (web app, reports, model card, transparency
# record). Raw names stay in CSV/JSON for analysts; anything rendered for people goes through
# :func:`label` / :func:`plain_columns`.
# ---------------------------------------------------------------------------------------------

HARM_UNIT = "days of custody equivalent, Cambridge Crime Harm Index"

_CAT_SHORT = {"vawg": "VAWG", "sexual": "sexual", "domestic": "domestic abuse", "violent": "violent", "any": "all"}
_WIN_SHORT = {"90d": "in the last 90 days", "365d": "in the last year", "3y": "in the last 3 years", "ever": "ever"}

# feature -> (short label, unit)
_FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "days_since_last_offence": ("time since last allegation", "days"),
    "days_since_last_vawg": ("time since last VAWG allegation", "days"),
    "harm_any_365d": ("harm of all allegations in the last year", HARM_UNIT),
    "harm_any_ever": ("harm of all allegations ever", HARM_UNIT),
    "harm_vawg_prev_365d": ("VAWG harm in the year before last", HARM_UNIT),
    "escalation_vawg_harm": ("rise in VAWG harm on the year before", HARM_UNIT),
    "max_harm_365d": ("gravest allegation in the last year", HARM_UNIT),
    "max_harm_before_365d": ("gravest earlier allegation", HARM_UNIT),
    "escalating_severity": ("allegations getting more serious", "yes/no"),
    "distinct_victims_ever": ("different victims named", "victims"),
    "distinct_victims_3y": ("different victims named in the last 3 years", "victims"),
    "distinct_partner_victims_ever": ("partner or ex-partner victims", "victims"),
    "distinct_child_victims_ever": ("child victims", "victims"),
    "max_offences_same_victim": ("most allegations against one victim", "allegations"),
    "repeat_victims": ("victims named more than once", "victims"),
    "dash_high_victims": ("victims assessed high risk (DASH)", "victims"),
    "max_dash_score": ("highest DASH score of a victim", "DASH score (0-27)"),
    "n_breach_365d": ("order breaches in the last year", "breaches"),
    "n_breach_ever": ("order breaches ever", "breaches"),
    "n_orders_ever": ("protective orders made", "orders"),
    "active_orders": ("protective orders in force", "orders"),
    "days_in_custody_365d": ("time in custody in the last year", "days"),
    "days_in_custody_ever": ("time in custody ever", "days"),
    "in_custody_now": ("in custody on the date", "yes/no"),
    "days_to_sentence_release": ("time to release from a prison sentence", "days"),
    "recorded_dead": ("recorded as dead", "yes/no"),
    "n_arrests_365d": ("arrests in the last year", "arrests"),
    "n_arrests_ever": ("arrests ever", "arrests"),
    "charges_ever": ("crimes charged ever", "charges"),
    "charges_vawg_ever": ("VAWG crimes charged ever", "charges"),
    "convictions_ever": ("convictions ever", "convictions"),
    "convictions_vawg_ever": ("VAWG convictions ever", "convictions"),
    "charge_ratio": ("share of allegations charged", "share"),
    "n_intel_365d": ("intelligence reports in the last year", "reports"),
    "times_victim_ever": ("times recorded as a victim", "times"),
    "age": ("age", "years"),
    "age_at_first_record": ("age when first recorded as a suspect", "years"),
    "dob_unknown": ("date of birth unknown", "yes/no"),
    "years_since_first_record": ("time since first recorded as a suspect", "years"),
    "n_co_suspects": ("co-suspects", "people"),
    "co_suspects_vawg_allegations": ("co-suspects' VAWG allegations", "allegations"),
    "n_shared_victim_suspects": ("other suspects of the same victims", "people"),
    "vawg_allegations_per_year_at_large_3y": ("VAWG allegations a year while at large (last 3 years)", "allegations a year"),
    "vawg_share_of_allegations": ("share of allegations that are VAWG", "share"),
    "days_at_large_without_allegations": ("time at large since the last allegation", "days"),
    "recency_weighted_vawg_allegations_90d": ("recent VAWG allegations (the latest weigh most)", "allegations"),
    "recency_weighted_vawg_allegations_365d": ("VAWG allegations, the recent weighing most", "allegations"),
    "p_still_offending_given_allegations": ("chance still offending, from the gaps between allegations", "share"),
    "expected_vawg_allegations_per_year": ("expected VAWG allegations a year", "allegations a year"),
    "expected_allegations_per_year": ("expected allegations a year", "allegations a year"),
    "p_still_offending_given_allegations_and_intel": ("chance still offending, from allegations and intelligence", "share"),
    "expected_vawg_allegations_per_year_shrunk": ("expected VAWG allegations a year (steadied)", "allegations a year"),
    "expected_allegations_and_intel_per_year": ("expected allegations and intelligence reports a year", "reports a year"),
}
for _c in CATEGORIES:
    for _w in WINDOWS:
        _FEATURE_WORDS.setdefault(f"n_{_c}_{_w}", (f"{_CAT_SHORT[_c]} allegations {_WIN_SHORT[_w]}", "allegations"))
for _w in WINDOWS:
    _FEATURE_WORDS.setdefault(f"harm_vawg_{_w}", (f"harm of VAWG allegations {_WIN_SHORT[_w]}", HARM_UNIT))

# metric -> (label, unit, meaning); "@k" metrics are matched by prefix
METRICS: dict[str, tuple[str, str, str]] = {
    "auc": ("ranking accuracy (AUC)", "0.5 = chance, 1 = perfect",
            "the chance that a person who went on to offend is ranked above one who did not"),
    "pr_auc": ("precision-recall area", "0-1", "how well the highest scores pick out the people who went on to offend"),
    "brier": ("Brier score", "lower is better", "mean squared gap between the predicted chance and what happened"),
    "ece": ("calibration error", "percentage points", "average gap between predicted and observed rates over ten bins"),
    "precision": ("precision in the top {k}", "share", "of the top {k} people, the share who went on to offend"),
    "recall": ("recall in the top {k}", "share", "of everyone who went on to offend, the share in the top {k}"),
    "harm_share": ("harm caught in the top {k}", "share", "the share of the next year's harm caused by the top {k} people"),
}

# column -> (label, unit, meaning)
COLUMNS: dict[str, tuple[str, str, str]] = {
    "rank": ("rank", "", "position on the list (1 = first to review)"),
    "person_id": ("person reference", "", "the linked person's reference (no names are shown)"),
    "score": ("score", "", "the number the list is ordered by"),
    "risk": ("chance of a VAWG allegation within a year", "%", "calibrated probability from the forecast model"),
    "expected_harm": ("expected harm in the next year", HARM_UNIT, "chance of offending times the harm expected if they do"),
    "band": ("risk band", "", "band of the calibrated chance (thresholds in docs/rank.md)"),
    "top_factors": ("why (main factors)", "", "the factors that raised this person's risk most"),
    "allegations": ("VAWG allegations in the last 3 years", "allegations", "offences naming the person as suspect; not findings of guilt"),
    "charges": ("of which charged", "allegations", "allegations that reached a charge (awaiting trial, convicted or acquitted)"),
    "convictions": ("of which convicted", "allegations", "allegations that ended in a conviction"),
    "ev_charged": ("charged, awaiting trial", "allegations", ""),
    "ev_acquitted": ("acquitted", "allegations", ""),
    "ev_nfa": ("no further action", "allegations", ""),
    "ev_withdrawn": ("victim withdrew", "allegations", ""),
    "ev_ongoing": ("ongoing", "allegations", "under investigation or no outcome recorded"),
    "ev_cautioned": ("cautioned", "allegations", ""),
    "distinct_victims": ("different victims", "victims", ""),
    "last_event_at": ("last allegation", "date", ""),
    "linked_suspects": ("linked suspects", "", ""),
    "linked_high_risk_suspects": ("linked high-risk suspects", "", ""),
    "model_version": ("model version", "", ""),
    "change": ("change", "", "new, left, up, down or unchanged since the previous list"),
    "previous_rank": ("previous rank", "", ""),
    "new_rank": ("new rank", "", ""),
    "reason": ("why", "", ""),
    "stops": ("stops", "stops", ""),
    "population": ("residents", "people", "census population"),
    "rate_per_1000": ("stops per 1,000 residents", "per 1,000", ""),
    "stops_per_1000": ("stops per 1,000 residents", "per 1,000", ""),
    "rate_low": ("rate, 95% interval from", "per 1,000", ""),
    "rate_high": ("rate, 95% interval to", "per 1,000", ""),
    "ratio": ("ratio", "", "1 = the same as the comparison"),
    "ratio_vs_white": ("rate relative to White", "times", "1 = the same rate as White residents"),
    "ratio_low": ("ratio, 95% interval from", "times", ""),
    "ratio_high": ("ratio, 95% interval to", "times", ""),
    "ci_low": ("95% interval from", "", ""),
    "ci_high": ("95% interval to", "", ""),
    "too_few": ("too few to judge", "yes/no", "fewer than 10 events: treat as unreliable"),
    "odds_ratio": ("odds ratio", "times", "change in the odds per one unit of the factor"),
    "p_value": ("p-value", "", "chance of a link this strong if there were none"),
    "fpr": ("false positive rate", "share", "of those who did not go on to offend, the share listed"),
    "fnr": ("false negative rate", "share", "of those who went on to offend, the share not listed"),
    "calibration_ratio": ("observed / predicted", "times", "1 = calibrated"),
    "mean_predicted": ("mean predicted chance", "share", ""),
    "observed": ("observed rate", "share", ""),
    "n": ("people", "people", ""),
    "feature": ("factor", "", ""),
    "meaning": ("meaning", "", ""),
    "metric": ("measure", "", ""),
    "group": ("group", "", ""),
    "borough": ("borough", "", ""),
    "reference": ("model", "", ""),
    "other": ("compared with", "", ""),
    "reference_value": ("model's value", "", ""),
    "other_value": ("comparison's value", "", ""),
    "difference": ("difference", "", ""),
    # audit dimensions, measures and outcome monitoring
    "age_band": ("age band", "", "age at the list date, in bands"),
    "ethnicity": ("ethnicity", "", "self-defined, in the five 2021 Census groups plus not stated"),
    "sex": ("sex", "", ""),
    "selection_rate": ("share listed", "share", ""),
    "false_positive_rate": ("false positive rate", "share", "of those who did not go on to offend, the share listed"),
    "false_negative_rate": ("false negative rate", "share", "of those who went on to offend, the share not listed"),
    "calibration_oe": ("observed / predicted", "times", "1 = calibrated"),
    "base_rate": ("outcome rate", "share", ""),
    "list_share": ("share of the list", "share", ""),
    "offences": ("offences", "offences", "offences naming the person after the list date"),
    "vawg_offences": ("VAWG offences", "offences", "of which VAWG"),
    "arrests": ("arrests", "arrests", ""),
    "victims_revictimised": ("victims victimised again", "victims", "victims of their earlier offences recorded as victims again"),
    "contraband_found": ("contraband found", "yes/no", ""),
    "outside_window": ("outside the time window", "stops", ""),
    "age_range": ("age range", "", ""),
}

_GROUP_SUFFIX = {
    "_per_1000": "per 1,000 residents", "_stops": "stops", "_population": "residents", "_ratio": "ratio",
    "_share": "share", "_n": "people",
}


def _metric(name: str) -> tuple[str, str, str] | None:
    base, _, k = name.partition("@")
    if base in METRICS:
        lab, unit, mean = METRICS[base]
        return lab.format(k=k), unit, mean.format(k=k)
    return None


def words(name: str) -> tuple[str, str, str]:
    """(label, unit, one-line meaning) of a feature, metric or column; a readable fallback otherwise."""
    if name in _FEATURE_WORDS:
        lab, unit = _FEATURE_WORDS[name]
        return lab, unit, FEATURES.get(name, "")
    if name in COLUMNS:
        return COLUMNS[name]
    m = _metric(name)
    if m is not None:
        return m
    for suf, word in _GROUP_SUFFIX.items():  # per-group columns of the audit and stops tables: Black_per_1000
        if name.endswith(suf) and len(name) > len(suf):
            return f"{name[: -len(suf)].replace('_', ' ')}: {word}", "", ""
    return name.replace("_", " "), "", ""


def label(name: str) -> str:
    return words(name)[0]


def unit(name: str) -> str:
    return words(name)[1]


def meaning(name: str) -> str:
    return words(name)[2]


_RAW = None


def plain_text(text: str) -> str:
    """Free text (notes, warnings, findings) with every snake_case name in it replaced by its label.

    Notes and warnings are written by the analysis code and may name a column or measure
    (``stops_per_1000``, ``age_band``); anything a partner or the public reads goes through here.
    """
    import re

    global _RAW
    if _RAW is None:
        _RAW = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+(?:@\d+)?\b")
    return _RAW.sub(lambda m: label(m.group(0)), "" if text is None else str(text))


def plain_columns(df):  # noqa: ANN001 - a pandas DataFrame; pandas is not imported at module load
    """The frame with every column renamed to its plain label (for anything people read)."""
    return df.rename(columns={c: label(str(c)) for c in df.columns})


def probability_text(p: float | None) -> str:
    """A calibrated probability rounded to what validation supports.

    Calibration on the holdout is good to a few percentage points at best (the card's calibration
    error), so a chance is shown to the nearest 5 points from 10%, to the nearest point below, and
    never as "99.0%": above 95% reads "over 95%", below 1% "under 1%".
    """
    import math

    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    p = float(p)
    if p > 0.95:
        return "over 95%"
    if p < 0.01:
        return "under 1%"
    if p >= 0.1:
        return f"{5 * round(p * 20):.0f}%"
    return f"{round(p * 100):.0f}%"


def harm_text(v: float | None) -> str:
    """Expected harm with its unit."""
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):,.0f} days of custody equivalent"
