"""Group labels match whatever their spelling; the reference group is found by meaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmlens.audit.table import audit_table
from harmlens.grouplabels import find_group, group_key, unify_labels


@pytest.mark.parametrize("a, b", [("BLACK", "Black"), ("African-American", "black"), ("African American", "BLACK "),
                                  ("Caucasian", "WHITE"), ("white_british", "White"), ("Hispanic", "LATINO")])
def test_same_group(a, b):
    assert group_key(a) == group_key(b)


def test_different_groups_stay_apart():
    assert group_key("Black") != group_key("White")
    assert group_key("Asian") != group_key("Other")
    # a single letter is a code only where the whole column is codes: "B" in a column of names is its own label
    assert group_key("B") == "b" and group_key("B", short_codes=True) == "black"


def test_unify_keeps_the_tables_most_used_spelling():
    s = pd.Series(["African-American"] * 5 + ["BLACK"] * 2 + ["Caucasian"] * 3 + [None])
    out, merged = unify_labels(s)
    assert out.tolist()[:7] == ["African-American"] * 7 and out.tolist()[7:10] == ["Caucasian"] * 3
    assert pd.isna(out.iloc[10])
    assert merged == {"African-American": ["African-American", "BLACK"]}


def test_find_group():
    assert find_group("White", ["African-American", "Caucasian"]) == "Caucasian"
    assert find_group("black", ["BLACK", "WHITE"]) == "BLACK"
    assert find_group("W", ["B", "W"]) == "W"
    assert find_group("Martian", ["BLACK", "WHITE"]) is None


def _upper_table(seed=0):
    rng = np.random.default_rng(seed)
    # BLACK is the larger group: the old default (largest group) picked it as the reference
    g = np.array(["BLACK"] * 600 + ["WHITE"] * 400 + ["white"] * 50)
    y = (rng.random(len(g)) < 0.3).astype(int)
    flag = np.where(np.char.upper(g) == "BLACK", rng.random(len(g)) < 0.5, rng.random(len(g)) < 0.25)
    return pd.DataFrame({"race": g, "y": y, "flag": flag})


def test_audit_upper_case_labels_reference_white():
    ta = audit_table(_upper_table(), outcome="y", group="race", positive="flag", n_boot=50)
    assert ta.reference == "WHITE"
    assert set(ta.errors.groups) == {"BLACK", "WHITE"}
    assert ta.errors.counts["WHITE"] == 450
    assert any("counted as one group" in n for n in ta.notes)
    ta2 = audit_table(_upper_table(), outcome="y", group="race", positive="flag", n_boot=50, reference="Caucasian")
    assert ta2.reference == "WHITE"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SPELLINGS = ["Black", "BLACK", "black ", "African-American", "African American", "White", "WHITE", "Caucasian",
              "white_british", "Asian", "ASIAN", "Other", "Hispanic", "latino"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(_SPELLINGS), min_size=1, max_size=40))
def test_unify_partitions_by_meaning_and_is_idempotent(labels):
    out, _ = unify_labels(pd.Series(labels))
    # two rows share a shown label exactly when their spellings share a key
    keys = [group_key(x) for x in labels]
    for i in range(len(labels)):
        for j in range(len(labels)):
            assert (out[i] == out[j]) == (keys[i] == keys[j])
    again, merged = unify_labels(out)
    assert again.tolist() == out.tolist() and merged == {}
