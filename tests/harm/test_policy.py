"""Harm policy by outcome: what counts, said in words, and its effect on expected harm."""

from __future__ import annotations

import pandas as pd
import pytest

from harmlens.errors import HarmlensError
from harmlens.harm.policy import ALL_COUNT, DEFAULT_POLICY, OutcomePolicy, discounted_harm
from tests.features.world import World

AS_OF = "2024-01-01"


def _world(con):
    w = World(dob={"A": "1985-01-01", "B": "1985-01-01"})
    w.offence("2023-01-01", ["A"], ["V1"], "rape", outcome="acquitted")  # 2555
    w.offence("2023-02-01", ["A"], ["V1"], "da_assault", outcome="nfa")  # 100
    w.offence("2016-02-01", ["A"], ["V1"], "stalking", outcome="acquitted")  # 10, long ago: still in 'ever'
    w.offence("2023-03-01", ["B"], ["V2"], "da_assault", outcome="victim_withdrew")  # 100
    w.load(con)


def test_default_discounts_acquittals_only(warehouse):
    _world(warehouse)
    d = discounted_harm(warehouse, AS_OF)
    assert d.to_dict() == {"A": 2565.0, "B": 0.0}
    assert discounted_harm(warehouse, AS_OF, ALL_COUNT).empty
    half = OutcomePolicy(name="half NFA", weights={"nfa": 0.5, "acquitted": 0.0})
    assert discounted_harm(warehouse, AS_OF, half).to_dict() == {"A": 2615.0, "B": 0.0}


def test_policy_in_words_and_checked():
    text = DEFAULT_POLICY.describe()
    assert "counts nothing when acquitted" in text and "V100 baseline keeps its published definition" in text
    assert "no further action" in text and "shown as such" in text
    with pytest.raises(HarmlensError, match="unknown outcome"):
        OutcomePolicy(weights={"quashed": 0.0})
    with pytest.raises(HarmlensError, match="between 0 and 1"):
        OutcomePolicy(weights={"nfa": 2.0})


def test_expected_harm_follows_the_policy(warehouse, tmp_path):
    from harmlens.rank import build_offender_list
    from harmlens.rank.offenders import RiskRankSettings
    from tests.rank.helpers import register_model

    _world(warehouse)
    register_model(warehouse, tmp_path / "models")
    yrs = (pd.Timestamp(AS_OF) - pd.Timestamp("2016-02-01")).days / 365.25

    s = build_offender_list(warehouse, AS_OF, settings=RiskRankSettings(save=False))["scores"].set_index("person_id")
    risk = s.loc["A", "risk"]
    # acquittals count nothing: only the NFA'd assault (100) is A's own harm
    assert s.loc["A", "expected_harm"] == pytest.approx(risk * (100 + 2 * 100) / (yrs + 2))
    every = build_offender_list(warehouse, AS_OF, settings=RiskRankSettings(save=False, outcome_policy=ALL_COUNT))["scores"]
    every = every.set_index("person_id")
    assert every.loc["A", "expected_harm"] == pytest.approx(risk * (2665 + 2 * 100) / (yrs + 2))
    assert every.loc["B", "expected_harm"] == pytest.approx(s.loc["B", "expected_harm"])  # withdrawn counts under both
