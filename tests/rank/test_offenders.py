"""The ``risk`` ranking method: expected harm, at large, bands, factors, evidence, churn, storage."""

from __future__ import annotations

import pandas as pd
import pytest

from harmlens.errors import HarmlensError
from harmlens.rank import build_offender_list, list_changes, list_entries, stored_lists
from harmlens.rank.offenders import RiskRankSettings, expected_harm_if_offending, short_label
from tests.features.world import World, _insert
from tests.rank.helpers import CountModel, register_model, sigmoid

AS_OF = "2024-01-01"


def make_world() -> World:
    w = World(dob={"A": "1985-01-01", "B": "1990-01-01", "C": "1980-01-01", "D": "1975-01-01"})
    # A: three VAWG allegations in 2023 (harm 100 + 100 + 2555), one charged by a dated charge event
    w.offence("2023-02-01", ["A"], [("V1", "partner")], "da_assault")
    e = w.offence("2023-05-01", ["A"], [("V1", "partner")], "da_assault")
    w.event("charge", "2023-06-01", ["A"], crime_ref=e)
    w.offence("2023-09-01", ["A"], [("V2", "stranger")], "rape")
    # B: one stalking allegation (harm 10)
    w.offence("2023-06-01", ["B"], [("V3", "ex_partner")], "stalking")
    # C: two allegations but in custody from December 2023 to February 2024
    w.offence("2023-03-01", ["C"], [("V4", "partner")], "da_assault")
    w.offence("2023-04-01", ["C"], [("V4", "partner")], "coercive")
    w.event("custody", "2023-12-01", ["C"], ends="2024-02-01")
    # D: an old burglary only
    w.offence("2019-01-01", ["D"], [], "burglary")
    # after AS_OF: B stalks twice more, A is quiet
    w.offence("2024-01-10", ["B"], [("V3", "ex_partner")], "stalking")
    w.offence("2024-02-10", ["B"], [("V5", "partner")], "rape")
    return w


@pytest.fixture
def con(warehouse, tmp_path):
    make_world().load(warehouse)
    register_model(warehouse, tmp_path / "models")
    return warehouse


def test_expected_harm_is_risk_times_blended_severity(con):
    res = build_offender_list(con, AS_OF)
    s = res["scores"].set_index("person_id")
    pa, pb, pc, pd_ = sigmoid(1.0), sigmoid(-1.0), sigmoid(0.0), sigmoid(-2.0)
    # harm if offending: (own VAWG harm ever + 2 x 100) / (years since first record + 2)
    def yrs(first):
        return (pd.Timestamp(AS_OF) - pd.Timestamp(first)).days / 365.25

    assert s.loc["A", "risk"] == pytest.approx(pa)
    assert s.loc["A", "expected_harm"] == pytest.approx(pa * (2755 + 200) / (yrs("2023-02-01") + 2))
    assert s.loc["B", "expected_harm"] == pytest.approx(pb * (10 + 200) / (yrs("2023-06-01") + 2))
    assert s.loc["C", "expected_harm"] == pytest.approx(pc * (110 + 200) / (yrs("2023-03-01") + 2))
    assert s.loc["D", "expected_harm"] == pytest.approx(pd_ * 200 / (yrs("2019-01-01") + 2))
    assert (s["score"] == s["expected_harm"]).all()
    assert list(res["scores"]["person_id"]) == ["A", "C", "B", "D"]  # by expected harm, all scored


def test_people_at_large_only_and_ranks(con):
    res = build_offender_list(con, AS_OF)
    e = res["entries"]
    assert list(e["person_id"]) == ["A", "B", "D"]  # C is in custody on the date
    assert list(e["rank"]) == [1, 2, 3]
    s = res["scores"].set_index("person_id")
    assert s.loc["C", "at_large"] == False and s.loc["C", "not_at_large_reason"] == "custody"  # noqa: E712


def test_bands_evidence_factors_and_model_version(con):
    e = build_offender_list(con, AS_OF)["entries"].set_index("person_id")
    assert e.loc["A", "band"] == "very high" and e.loc["B", "band"] == "high" and e.loc["D", "band"] == "medium"
    assert e.loc["A", "allegations"] == 3 and e.loc["A", "charges"] == 1 and e.loc["A", "convictions"] == 0
    assert e.loc["A", "distinct_victims"] == 2
    assert e.loc["A", "last_event_at"] == pd.Timestamp("2023-09-01")
    assert e.loc["A", "model_version"] == "v1"
    assert "VAWG allegations in the last year: 3" in e.loc["A", "top_factors"]


def test_custom_bands(con):
    st = RiskRankSettings(bands=((0.7, "red"), (0.0, "amber")), save=False)
    e = build_offender_list(con, AS_OF, settings=st)["entries"].set_index("person_id")
    assert e["band"].to_dict() == {"A": "red", "B": "amber", "D": "amber"}


def test_list_is_stored_with_expiry_and_refreshing_replaces_it(con):
    build_offender_list(con, AS_OF)
    build_offender_list(con, AS_OF)
    lists = stored_lists(con, "offenders")
    assert len(lists) == 1
    row = lists.iloc[0]
    assert row["list_id"] == "offenders:risk:2024-01-01" and row["model_version"] == "v1" and row["n_entries"] == 3
    assert (row["expires_at"] - row["refreshed_at"]).days == 90
    assert list(list_entries(con, row["list_id"])["person_id"]) == ["A", "B", "D"]


def test_churn_against_the_previous_list(con):
    build_offender_list(con, AS_OF)
    res = build_offender_list(con, "2024-03-01")
    # on 2024-03-01: B has 3 VAWG allegations in the year incl. a rape (risk sigmoid(1), harm up), C is out of custody
    ch = res["changes"].set_index("person_id")
    assert ch.loc["C", "change"] == "new"
    assert ch.loc["B", "change"] == "up" and ch.loc["B", "previous_rank"] == 2
    assert "+2 allegations" in ch.loc["B", "reason"]
    assert "since 2024-01-01" in ch.loc["B", "reason"]
    assert ch.loc["A", "change"] == "down"
    assert "no new evidence" in ch.loc["A", "reason"]
    stored = list_changes(con, "offenders:risk:2024-03-01").set_index("person_id")
    assert stored["change"].to_dict() == ch["change"].to_dict()


def test_left_the_list_because_of_custody(con):
    con.execute("DELETE FROM events WHERE event_type = 'custody'")
    build_offender_list(con, "2023-11-15")
    # A goes to prison on 2023-12-01, open-ended
    _insert(con, "events", [{"event_id": "CUST_A", "source": "custody", "event_type": "custody",
                             "occurred_at": pd.Timestamp("2023-12-01"), "outcome": "unknown"}])
    _insert(con, "people", [{"mention_id": "MCA", "event_id": "CUST_A", "role": "subject"}])
    _insert(con, "links", [{"mention_id": "MCA", "person_id": "A"}])
    res = build_offender_list(con, AS_OF)
    ch = res["changes"].set_index("person_id")
    assert ch.loc["A", "change"] == "left"
    assert "in custody" in ch.loc["A", "reason"]


def test_registered_as_default_rank_method(con):
    from harmlens.harm.ranking import default_method, rank

    assert default_method() == "risk"
    res = rank(con, "risk", AS_OF, top=2)
    assert list(res.priority["person_id"]) == ["A", "B"]
    assert list(res.not_at_large["person_id"]) == ["C"]
    assert res.priority["risk"].iloc[0] == pytest.approx(sigmoid(1.0))
    assert "(model v1)" in res.priority["top_factors"].iloc[0]


def test_no_model_is_a_clear_error(warehouse):
    make_world().load(warehouse)
    with pytest.raises(HarmlensError, match="run 'harmlens train' first, or rank with --method v100"):
        build_offender_list(warehouse, AS_OF)


def test_short_labels_cover_every_feature():
    """Every feature has a plain label and a unit in the catalogue: no raw name reaches a reader."""
    from harmlens.features import FEATURES
    from harmlens.features.catalogue import unit

    for f in FEATURES:
        words = short_label(f)
        assert "_" not in words and unit(f), f
    assert short_label("n_vawg_365d") == "VAWG allegations in the last year"


def test_custody_is_worded_as_what_it_is(warehouse):
    """Someone at large with time in custody reads "released ... ago after ...", never "days in custody: 1,457.7"."""
    from harmlens.harm.custody import custody_words
    from harmlens.rank.offenders import value_text

    w = make_world()
    w.event("custody", "2019-10-01", ["A"], ends="2023-10-01", custody_type="prison")
    w.event("custody", "2022-01-01", ["B"], ends="2022-01-15", custody_type="remand")
    w.load(warehouse)
    got = custody_words(warehouse, AS_OF, ["A", "B", "C", "D"])
    assert got["A"] == "released 3 months ago after 4 years in prison (sentence)"
    assert got["B"] == "released 2 years ago after 2 weeks on remand"
    assert got["C"] == "in custody since 2023-12-01 (custody)"
    assert got["D"] == "no time in custody recorded"
    assert value_text("days_since_last_vawg", 922.1) == "2.5 years" and value_text("charge_ratio", 0.25) == "25%"
    assert value_text("max_harm_365d", 2555) == "2,555 days of custody equivalent"


def test_severity_without_history_is_the_models():
    from types import SimpleNamespace

    import numpy as np

    b = SimpleNamespace(target={"category": "sexual"}, severity_edges=[0.0, 0.5], severity_means=[10.0, 1000.0])
    X = pd.DataFrame({"years_since_first_record": [5.0, 0.0], "harm_vawg_ever": [50.0, 0.0]})
    out = expected_harm_if_offending(b, X, np.array([0.2, 0.9]), 2.0)
    assert out.tolist() == [10.0, 1000.0]
