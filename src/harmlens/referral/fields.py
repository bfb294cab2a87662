"""What each partner agency receives: the documented, tested field list per partner type.

Data minimisation (UK GDPR art. 5(1)(c), DPA 2018 part 3 for law enforcement sharing): a pack
holds only the fields its partner needs for the stated purpose. Names and dates of birth are
never in any pack: partners match on their own records through the referral's secure channel.

| field | probation | children's social care | IDVA | health |
|---|---|---|---|---|
| person_id, as_of, reason, model_card | yes | yes | yes | yes |
| suspect_allegations (VAWG, 3 years) | yes | yes | | |
| suspect_charges, suspect_convictions | yes | | | |
| suspect_categories | yes | | | |
| suspect_last_offence | yes | yes | | |
| distinct_victims | yes | | | |
| harm_sum_365d (V100 harm, CCHI days) | yes | | | |
| custody_status | yes | | | |
| domestic_incidents (3 years) | | yes | | |
| victim_relationships | | yes | | |
| postcode_district | | yes | | |
| active_orders | yes | yes | yes | |
| victim_offences, victim_last_offence | | | yes | yes |
| victim_suspects | | | yes | |
| latest_dash_level | | | yes | yes |
| latest_dash_date | | | yes | |
"""

from __future__ import annotations

COMMON = ("person_id", "as_of", "reason", "model_card")

PARTNER_FIELDS: dict[str, tuple[str, ...]] = {
    "probation": COMMON + (
        "suspect_allegations", "suspect_charges", "suspect_convictions", "suspect_categories",
        "suspect_last_offence", "distinct_victims", "harm_sum_365d", "custody_status", "active_orders",
    ),
    "children_social_care": COMMON + (
        "suspect_allegations", "suspect_last_offence", "domestic_incidents", "victim_relationships",
        "postcode_district", "active_orders",
    ),
    "idva": COMMON + (
        "victim_offences", "victim_last_offence", "victim_suspects", "latest_dash_level", "latest_dash_date", "active_orders",
    ),
    "health": COMMON + ("victim_offences", "victim_last_offence", "latest_dash_level"),
}

PARTNER_LABELS = {
    "probation": "Probation Service",
    "children_social_care": "Children's social care",
    "idva": "Independent Domestic Violence Adviser (IDVA) service",
    "health": "Health (safeguarding lead)",
}

FIELD_LABELS: dict[str, str] = {
    "person_id": "Person reference",
    "as_of": "Information as of",
    "reason": "Reason for referral",
    "model_card": "Model card",
    "suspect_allegations": "VAWG allegations in the last 3 years, with what became of each (not findings of guilt)",
    "suspect_charges": "Of which charged (awaiting trial, convicted or acquitted)",
    "suspect_convictions": "Of which convicted",
    "suspect_categories": "Offence categories alleged",
    "suspect_last_offence": "Most recent allegation as suspect",
    "distinct_victims": "Distinct victims named",
    "harm_sum_365d": "Harm of VAWG allegations in the last 365 days (CCHI days)",
    "custody_status": "Custody status",
    "domestic_incidents": "Domestic abuse offences recorded (3 years, any role)",
    "victim_relationships": "Relationship of victims to the person",
    "postcode_district": "Postcode district (outward code only)",
    "active_orders": "Protective orders in force",
    "victim_offences": "Offences recorded with this person as victim (3 years)",
    "victim_last_offence": "Most recent offence against this person",
    "victim_suspects": "Distinct suspects named",
    "latest_dash_level": "Latest DASH risk level",
    "latest_dash_date": "Date of latest DASH assessment",
}

ALL_FIELDS = tuple(FIELD_LABELS)


# Values that mean "nothing recorded" in a pack's facts.
EMPTY_VALUES = (None, "", 0, 0.0, "none", "none recorded", "no assessment", "not recorded")
# Context every probation pack carries (custody is always known): not, on its own, a reason to refer.
CONTEXT_FIELDS = COMMON + ("custody_status",)


def has_content(partner: str, facts: dict) -> bool:
    """True when at least one field this partner receives holds something (beyond the common context)."""
    return any(facts.get(f) not in EMPTY_VALUES for f in PARTNER_FIELDS[partner] if f not in CONTEXT_FIELDS)


def partners_with_content(facts: dict) -> list[str]:
    return [p for p in PARTNER_FIELDS if has_content(p, facts)]


def nothing_needed_message(person_id: str, partner: str, facts: dict) -> str | None:
    """None when the pack holds something ``partner`` needs, else a one-line refusal naming who would need it."""
    if has_content(partner, facts):
        return None
    others = [PARTNER_LABELS[p] for p in partners_with_content(facts) if p != partner]
    who = ("the information points to: " + ", ".join(others)) if others else "no partner would need a pack about this person now"
    return (f"nothing to refer: every field a pack for {PARTNER_LABELS[partner]} would hold about {person_id} is empty or zero; "
            f"{who}")
