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
    f["age"] = "Age in years on the as-of date (0 when the date of birth is unknown; see dob_unknown)"
    f["age_at_first_record"] = "Age in years when first recorded as a suspect (0 when unknown; see dob_unknown)"
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
        "not zero) times p_still_offending_given_allegations"
    )
    f["expected_allegations_per_year"] = (
        "Allegations of any offence per year since the first record (plus half an allegation) times p_still_offending_given_allegations"
    )
    f["p_still_offending_given_allegations_and_intel"] = (
        "Chance the person is still offending, weighing how long they have been silent (no allegation and no "
        "intelligence report, time in custody not counted) against every rate their record allows, from a weak "
        f"prior, if careers end at {DESISTANCE_HAZARD:.0%} a year"
    )
    f["expected_vawg_allegations_per_year_shrunk"] = (
        "Expected VAWG allegations per year: the person's VAWG allegations per year at large since the first "
        "record (shrunk towards a weak prior) times p_still_offending_given_allegations_and_intel"
    )
    f["expected_allegations_and_intel_per_year"] = (
        "Expected allegations and intelligence reports per year: their number per year at large since the first "
        "record (shrunk towards a weak prior) times p_still_offending_given_allegations_and_intel"
    )
    return f


FEATURES: dict[str, str] = _build()
"""Feature name -> plain-English description, in column order."""
