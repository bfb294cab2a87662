"""Victims most at risk: scope, features, rules, children in a household, validation, storage."""

from __future__ import annotations

import pandas as pd
import pytest

from harmlens.errors import HarmlensError
from harmlens.rank import build_victim_list, validate_victims, victim_features, victim_labels
from harmlens.rank.victims import VictimSettings, rules_points
from tests.features.world import World
from tests.rank.helpers import register_model

AS_OF = "2024-01-01"


def make_world() -> World:
    w = World(
        dob={"A": "1985-01-01", "V1": "1990-01-01", "V2": "1995-01-01", "V3": "1980-01-01", "K": "2015-06-01", "V4": "2010-01-01"},
        sex={"V1": "female", "V2": "female", "V3": "male", "A": "male", "K": "female", "V4": "male"},
        household={"A": "H1", "V1": "H1", "K": "H1"},
    )
    # V1: abused by partner A three times in 2023, last in November; DASH high; child K in the household
    e1 = w.offence("2023-02-01", ["A"], [("V1", "partner")], "da_assault")
    w.offence("2023-06-01", ["A"], [("V1", "partner")], "coercive")
    w.offence("2023-11-01", ["A"], [("V1", "partner")], "da_assault")
    w.dash("V1", "2023-02-02", 16, event_id=e1)
    w.event("intelligence", "2023-06-15", ["K"], role="witness")  # K recorded at the address
    # V2: one stalking by B in 2021
    w.offence("2021-05-01", ["B"], [("V2", "stranger")], "stalking")
    # V3: a man assaulted by C (out of scope: not female, not a child)
    w.offence("2023-08-01", ["C"], [("V3", "acquaintance")], "da_assault")
    # V4: a boy (under 18) sexually assaulted by C (in scope as a child)
    w.offence("2023-09-01", ["C"], [("V4", "family")], "sexual_assault")
    # after AS_OF: A abuses V1 again
    w.offence("2024-02-01", ["A"], [("V1", "partner")], "da_assault")
    return w


@pytest.fixture
def con(warehouse):
    make_world().load(warehouse)
    return warehouse


def test_scope_women_and_children(con):
    F = victim_features(con, AS_OF)
    assert list(F.index) == ["V1", "V2", "V4"]
    assert F.loc["V4", "is_child"] == 1 and F.loc["V1", "is_child"] == 0


def test_features_hand_computed(con):
    F = victim_features(con, AS_OF).loc["V1"]
    assert F["victimised_365d"] == 3 and F["victimised_90d"] == 1 and F["victimised_ever"] == 3
    assert F["harm_suffered_365d"] == 210
    assert F["days_since_last_victimisation"] == 61
    assert F["distinct_suspects_ever"] == 1 and F["partner_victimisations"] == 3 and F["max_by_same_suspect"] == 3
    assert F["dash_max_score"] == 16 and F["dash_high"] == 1
    assert F["suspect_max_vawg_365d"] == 3 and F["suspect_max_victims_3y"] == 1


def test_rules_points(con):
    F = victim_features(con, AS_OF)
    P = rules_points(F)
    # V1: prior 3 + recent 1 + DASH high 3 + repeat 1 + partner 1 + high-risk suspect (A: 3 allegations) 3
    assert P.loc["V1"].drop("total").to_dict() == {
        "prior": 3, "recent": 1, "dash": 3, "repeat": 1, "partner": 1, "high_risk_suspect": 3, "child": 0}
    assert P.loc["V1", "total"] == 12
    assert P.loc["V2", "total"] == 0
    assert P.loc["V4", "total"] == 1 + 1 + 3  # prior 1 (2023-09-01), child 1, suspect C has 2 VAWG allegations in the year


def test_list_with_rules_names_suspects_and_children(con):
    res = build_victim_list(con, AS_OF, method="rules")
    e = res["entries"]
    assert res["method"] == "rules"
    assert list(e["person_id"]) == ["V1", "V4", "V2"]
    v1 = e.iloc[0]
    assert v1["linked_high_risk_suspects"] == "A"
    assert "DASH high" in v1["top_factors"] and "suspects involved: A (high-risk)" in v1["top_factors"]
    v2 = e.set_index("person_id").loc["V2"]
    assert v2["linked_high_risk_suspects"] == "" and v2["suspects"] == "B"  # named, not high-risk
    kids = res["children"]
    assert list(kids["person_id"]) == ["K"] and kids.iloc[0]["suspects"] == "A" and kids.iloc[0]["household_id"] == "H1"


def test_high_risk_suspects_from_the_offender_model(con, tmp_path):
    register_model(con, tmp_path / "models")  # risk(A) = sigmoid(-2 + 3) = 0.73; C = sigmoid(0) = 0.5
    res = build_victim_list(con, AS_OF, method="rules")
    assert "offender-model risk" in res["high_risk_rule"]
    e = res["entries"].set_index("person_id")
    assert e.loc["V4", "linked_high_risk_suspects"] == "C"
    assert "(highest risk 73%)" in res["children"].iloc[0]["why"]


def test_labels(con):
    lab = victim_labels(con, AS_OF, 365, person_ids=["V1", "V2"])
    assert lab["label"].to_dict() == {"V1": 1, "V2": 0}
    assert lab.loc["V1", "days_to_event"] == 31


def test_model_needs_enough_outcomes(con):
    with pytest.raises(HarmlensError, match="cannot train"):
        build_victim_list(con, AS_OF, method="model")
    assert build_victim_list(con, AS_OF)["method"] == "rules"  # auto falls back
    with pytest.raises(HarmlensError, match="unknown victims method"):
        build_victim_list(con, AS_OF, method="magic")


def test_lists_are_stored_and_compared(con):
    build_victim_list(con, "2023-08-15", method="rules")  # before V4 was a victim
    res = build_victim_list(con, AS_OF, method="rules")
    ch = res["changes"].set_index("person_id")
    assert ch.loc["V4", "change"] == "new"


def repeat_world(n: int = 40) -> World:
    """Half the victims are abused every month by the same partner; half once, long ago."""
    w = World(sex={f"R{i}": "female" for i in range(n)} | {f"O{i}": "female" for i in range(n)})
    months = pd.date_range("2022-01-01", "2024-06-01", freq="MS")
    for i in range(n):
        for k, m in enumerate(months):
            if (k + i) % 2 == 0:
                w.offence(str(m + pd.Timedelta(days=i % 20)), [f"S{i}"], [(f"R{i}", "partner")], "da_assault")
        w.offence(str(pd.Timestamp("2022-01-05") + pd.Timedelta(days=7 * i)), [f"T{i}"], [(f"O{i}", "stranger")], "stalking")
    return w


def test_validation_ranks_the_repeat_victims_first(warehouse):
    repeat_world().load(warehouse)
    st = VictimSettings(horizon_days=90, train_months=3, min_positives=5, save=False)
    v = validate_victims(warehouse, "2024-03-01", settings=st, ks=(10, 40), n_boot=20)
    m = v["metrics"].set_index(["score", "metric"])["value"]
    assert v["positives"] == 40 and v["n"] == 80
    assert m[("rules", "precision@40")] == 1.0
    assert m[("model", "auc")] > 0.95
    assert set(v["metrics"]["score"]) == {"model", "rules", "recency"}
    res = build_victim_list(warehouse, "2024-03-01", settings=st)
    assert res["method"] == "model"
    assert set(res["entries"]["person_id"].head(40)) == {f"R{i}" for i in range(40)}


def test_validation_refuses_an_unobserved_horizon(con):
    with pytest.raises(HarmlensError, match="not all recorded"):
        validate_victims(con, "2024-01-15")


def test_blank_and_crowded_households_are_ignored(con):
    # every mention without a household gets an empty string (as ingest stores a missing extra value)
    con.execute("""UPDATE people SET extra = '{"household_id": ""}' WHERE extra IS NULL""")
    res = build_victim_list(con, AS_OF, method="rules", settings=VictimSettings(save=False))
    assert list(res["children"]["person_id"]) == ["K"]  # not every child with a blank household
    # H1 shared by 13 people: a placeholder or institution, not a home
    rows = [{"mention_id": f"Z{i}", "event_id": "E1", "role": "witness", "extra": '{"household_id": "H1"}'} for i in range(12)]
    from tests.features.world import _insert

    _insert(con, "people", rows)
    _insert(con, "links", [{"mention_id": f"Z{i}", "person_id": f"Q{i}"} for i in range(12)])
    res = build_victim_list(con, AS_OF, method="rules", settings=VictimSettings(save=False))
    assert res["children"].empty


def test_auto_prefers_rules_unless_the_model_validated_better():
    from harmlens.rank.victims import choose_method

    def val(model_auc, rules_auc):
        rows = [("rules", "auc", rules_auc)] + ([("model", "auc", model_auc)] if model_auc is not None else [])
        return {"metrics": pd.DataFrame(rows, columns=["score", "metric", "value"])}

    assert choose_method(val(0.9, 0.8))[0] == "model"
    assert choose_method(val(0.8, 0.8))[0] == "rules"
    assert choose_method(val(None, 0.8))[0] == "rules"
    assert choose_method(None) == (None, "")
