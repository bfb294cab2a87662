"""Ethnicity spellings as published -> contract codes and groups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmlens.stops.codes import (
    CODES_2021,
    group_of_code,
    officer_defined,
    population_group,
    self_defined_code,
)

# The 16+1 labels exactly as the police.uk CSV archive publishes them (2016-06 Met file).
OLD_16_1 = {
    "White - White British (W1)": "W1",
    "White - White Irish (W2)": "W2",
    "White - Any other White ethnic background (W9)": "W5",
    "Mixed - White and Black Caribbean (M1)": "M1",
    "Mixed - White and Black African (M2)": "M2",
    "Mixed - White and Asian (M3)": "M3",
    "Mixed - Any other Mixed ethnic background (M9)": "M4",
    "Asian or Asian British - Indian (A1)": "A1",
    "Asian or Asian British - Pakistani (A2)": "A2",
    "Asian or Asian British - Bangladeshi (A3)": "A3",
    "Asian or Asian British - Any other Asian ethnic background (A9)": "A5",
    "Black or Black British - Caribbean (B1)": "B1",
    "Black or Black British - African (B2)": "B2",
    "Black or Black British - Any other Black ethnic background (B9)": "B3",
    "Chinese or other ethnic group - Chinese (O1)": "A4",
    "Chinese or other ethnic group - Any other ethnic group (O9)": "O9",
    "Not Stated (NS)": "not_stated",
}
# The police.uk API (2011 Census style) labels.
API_18_1 = {
    "White - English/Welsh/Scottish/Northern Irish/British": "W1",
    "White - Irish": "W2",
    "White - Gypsy or Irish Traveller": "W3",
    "White - Roma": "W4",
    "White - Any other White background": "W5",
    "Mixed/Multiple ethnic groups - White and Black Caribbean": "M1",
    "Mixed/Multiple ethnic groups - White and Black African": "M2",
    "Mixed/Multiple ethnic groups - White and Asian": "M3",
    "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": "M4",
    "Asian/Asian British - Indian": "A1",
    "Asian/Asian British - Pakistani": "A2",
    "Asian/Asian British - Bangladeshi": "A3",
    "Asian/Asian British - Chinese": "A4",
    "Asian/Asian British - Any other Asian background": "A5",
    "Black/African/Caribbean/Black British - Caribbean": "B1",
    "Black/African/Caribbean/Black British - African": "B2",
    "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": "B3",
    "Other ethnic group - Arab": "O1",
    "Other ethnic group - Any other ethnic group": "O9",
    "Other ethnic group - Not stated": "not_stated",
}
# 2021 Census TS021 labels.
TS021 = {
    "Asian, Asian British or Asian Welsh: Bangladeshi": "A3",
    "Asian, Asian British or Asian Welsh: Chinese": "A4",
    "Black, Black British, Black Welsh, Caribbean or African: African": "B2",
    "Black, Black British, Black Welsh, Caribbean or African: Other Black": "B3",
    "Mixed or Multiple ethnic groups: White and Black Caribbean": "M1",
    "Mixed or Multiple ethnic groups: Other Mixed or Multiple ethnic groups": "M4",
    "White: English, Welsh, Scottish, Northern Irish or British": "W1",
    "White: Irish": "W2",
    "White: Roma": "W4",
    "White: Other White": "W5",
    "Other ethnic group: Arab": "O1",
    "Other ethnic group: Any other ethnic group": "O9",
}


@pytest.mark.parametrize("label,code", list(OLD_16_1.items()) + list(API_18_1.items()) + list(TS021.items()))
def test_published_labels_map_to_2021_codes(label, code):
    assert self_defined_code(label) == code


def test_contract_codes_pass_through_and_16_1_bare_codes_map():
    for c in CODES_2021:
        assert self_defined_code(c) == c
        assert self_defined_code(c.lower()) == c
    # O1 bare is the 2021 code (Arab); only the 16+1 label form means Chinese.
    assert self_defined_code("O1") == "O1"
    assert self_defined_code("W9") == "W5" and self_defined_code("B9") == "B3" and self_defined_code("NS") == "not_stated"


def test_not_stated_is_a_value_and_empty_is_not():
    assert self_defined_code("not_stated") == "not_stated"
    assert self_defined_code("Not stated") == "not_stated"
    assert self_defined_code("") is None
    assert self_defined_code(None) is None
    assert group_of_code("not_stated") == "Not stated"
    assert group_of_code(None) == "Not recorded"


def test_label_code_disagreement_and_unknown_values_raise():
    with pytest.raises(ValueError, match="disagree"):
        self_defined_code("Black or Black British - African (W1)")
    for bad in ("Martian", "White", "Q7", "Black - Purple"):
        with pytest.raises(ValueError):
            self_defined_code(bad)


def test_officer_defined_codes_and_groups():
    assert officer_defined("IC1") == ("IC1", "White")
    assert officer_defined("IC2") == ("IC2", "White")
    assert officer_defined("IC3") == ("IC3", "Black")
    assert officer_defined("IC4") == ("IC4", "Asian")
    assert officer_defined("IC5") == ("IC5", "Other")
    assert officer_defined("IC6") == ("IC6", "Other")
    assert officer_defined("IC9") == ("IC9", None)
    for g in ("White", "Black", "Asian", "Other", "Mixed"):
        assert officer_defined(g) == (None, g)
        assert officer_defined(g.upper()) == (None, g)
    assert officer_defined("") == (None, None)
    with pytest.raises(ValueError):
        officer_defined("IC7")


def test_population_labels_to_groups():
    assert population_group("Black") == "Black"
    assert population_group("B2") == "Black"
    assert population_group("Asian/Asian British: Chinese") == "Asian"
    assert population_group("Black, Black British, Black Welsh, Caribbean or African: African") == "Black"
    assert population_group("Total: All usual residents") is None
    assert population_group("Does not apply") is None
    with pytest.raises(ValueError):
        population_group("Martian")


@given(st.text(max_size=60))
def test_any_text_maps_to_a_contract_value_or_raises(text):
    try:
        code = self_defined_code(text)
    except ValueError:
        return
    assert code is None or code == "not_stated" or code in CODES_2021


def test_group_label_reads_groups_as_the_one_label_module_does():
    """stops reads a group through harmlens.grouplabels: every long spelling there names the same stops group."""
    from harmlens.grouplabels import SYNONYMS
    from harmlens.stops.codes import ALL_GROUPS, group_label

    by_key = {g.lower(): g for g in ALL_GROUPS}
    for key, spellings in SYNONYMS.items():
        for sp in spellings:
            if len(sp) > 2:  # single-letter codes are groups only where a whole column uses them
                assert group_label(sp.upper()) == by_key.get(key), sp
    # the spellings the stops area matched before it used the one module (written-down truth)
    old = {"african-american": "Black", "african american": "Black", "black or african american": "Black",
           "black british": "Black", "caucasian": "White", "white british": "White", "latino": "Hispanic",
           "latina": "Hispanic", "latinx": "Hispanic", "hispanic or latino": "Hispanic", "asian/pacific islander": "Asian",
           "asian or pacific islander": "Asian", "mixed race": "Mixed", "multiracial": "Mixed"}
    assert {k: group_label(k) for k in old} == old
    assert group_label("W") is None and group_label("not stated") is None and group_label("Purple") is None
