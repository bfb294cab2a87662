"""V100, RFG/RFH and at-large on small worlds whose answers are worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from harmlens.harm import (
    HarmError,
    RFGConfig,
    apply_offence_map,
    at_large,
    rank,
    register_method,
    rfg_scores,
    rfh_scores,
    v100_scores,
)
from harmlens.harm.ranking import _METHODS
from tests.harm.world import World

AS_OF = "2025-01-01"  # 365 days before is 2024-01-02 (2024 is a leap year)


def _scores(con, **kw):
    apply_offence_map(con)
    return v100_scores(con, AS_OF, **kw).set_index("person_id")


def test_v100_sums_harm_of_vawg_allegations(warehouse):
    w = World(warehouse)
    w.offence("r", "2024-03-01", "019/07", "P1", "V1")  # rape 2555
    w.offence("s", "2024-12-31", "008/71", "P1", "V2")  # stalking 10
    w.offence("b", "2024-05-01", "028/01", "P1", "V3")  # burglary, not domestic: not VAWG
    w.offence("a", "2024-05-01", "008/06", "P2", "V3")  # ABH, not domestic: not VAWG
    s = _scores(warehouse)
    assert list(s.index) == ["P1"]
    assert s.loc["P1", "score"] == 2565.0
    assert s.loc["P1", "allegations"] == 2 and s.loc["P1", "distinct_victims"] == 2
    assert s.loc["P1", "weight_table"] == "cchi-subgroup-2026-v1"
    assert s.loc["P1", "last_event_at"] == pd.Timestamp("2024-12-31")
    assert "1 rape (2555); 1 stalking (10)" in s.loc["P1", "top_factors"]


@pytest.mark.parametrize(
    "when,counted",
    [
        ("2024-01-02 00:00", True),  # exactly 365 days before: inside
        ("2024-01-02 23:59", True),
        ("2024-01-01 23:59", False),  # 366 days before: outside
        ("2024-12-31 23:59", True),  # the day before
        ("2025-01-01 00:00", False),  # on the as-of date: not yet "before" it
    ],
)
def test_v100_window_edges(warehouse, when, counted):
    World(warehouse).offence("x", when, "008/71", "P1", "V1")
    s = _scores(warehouse)
    assert ("P1" in s.index) is counted


def test_offence_reported_after_the_date_is_not_known_yet(warehouse):
    w = World(warehouse)
    w.offence("x", "2024-06-01", "019/07", "P1", "V1", reported_at="2025-02-01")
    w.offence("y", "2024-06-01", "008/71", "P1", "V1", reported_at="2024-12-01")
    assert _scores(warehouse).loc["P1", "score"] == 10.0


def test_people_with_no_offences_are_not_scored_but_are_at_large(warehouse):
    w = World(warehouse)
    w.offence("x", "2024-06-01", "008/71", "P1", "V1")
    w.event("i", "intelligence", "2024-06-01")
    w.person("i", "subject", "P9")
    s = _scores(warehouse)
    assert "P9" not in s.index and "V1" not in s.index
    al = at_large(warehouse, AS_OF).set_index("person_id")
    assert bool(al.loc["P9", "at_large"]) and pd.isna(al.loc["P9", "reason"])


def test_charges_and_convictions_counted_once_from_both_sources(warehouse):
    w = World(warehouse)
    # a: outcome charged AND a charge event pointing at it -> 1 charge, 0 convictions
    w.offence("a", "2024-06-01", "008/71", "P1", "V1", outcome="charged")
    w.event("ca", "charge", "2024-07-01", crime_ref="a"); w.person("ca", "subject", "P1")
    # b: conviction event only -> 1 charge and 1 conviction
    w.offence("b", "2024-06-02", "008/10", "P1", "V1")
    w.event("cb", "conviction", "2024-08-01", crime_ref="b"); w.person("cb", "offender", "P1")
    # c: outcome convicted -> 1 charge, 1 conviction
    w.offence("c", "2024-06-03", "008/10", "P1", "V1", outcome="convicted")
    # d: a charge event naming somebody else: not P1's charge
    w.offence("d", "2024-06-04", "008/10", "P1", "V1")
    w.person("d", "suspect", "P2")
    w.event("cd", "charge", "2024-07-01", crime_ref="d"); w.person("cd", "subject", "P2")
    # e: a charge event after the as-of date: not known yet
    w.offence("e", "2024-06-05", "008/10", "P1", "V1")
    w.event("ce", "charge", "2025-03-01", crime_ref="e"); w.person("ce", "subject", "P1")
    # f: a charge event naming no linked person: counts for every suspect of the offence
    w.offence("f", "2024-06-06", "008/10", "P1", "V1")
    w.event("cf", "charge", "2024-07-01", crime_ref="f")
    s = _scores(warehouse)
    assert (s.loc["P1", "allegations"], s.loc["P1", "charges"], s.loc["P1", "convictions"]) == (6, 4, 2)
    assert (s.loc["P2", "allegations"], s.loc["P2", "charges"]) == (1, 1)
    assert s.loc["P1", "distinct_victims"] == 1


def test_duplicate_mentions_and_victims_count_once(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-06-01", "008/71", "P1", "V1")
    w.person("a", "offender", "P1")  # same person mentioned twice in one event
    w.person("a", "victim", "V1")
    w.person("a", "victim", "V2", link=False)  # unlinked victim mention: its own person
    w.person("a", "victim", "P1")  # the suspect never counts as their own victim
    s = _scores(warehouse)
    assert (s.loc["P1", "allegations"], s.loc["P1", "score"], s.loc["P1", "distinct_victims"]) == (1, 10.0, 2)


def test_scoring_needs_current_event_harm_and_links(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-06-01", "008/71", "P1", "V1")
    with pytest.raises(HarmError, match="harmlens harm apply"):
        v100_scores(warehouse, AS_OF)
    # on-the-fly weights need no apply, and name their table
    assert v100_scores(warehouse, AS_OF, weights="severity")["weight_table"].tolist() == ["harmlens-severity-v1"]
    warehouse.execute("DROP TABLE links")
    with pytest.raises(HarmError, match="links"):
        v100_scores(warehouse, AS_OF, weights="cchi")


def test_bad_as_of_is_a_clear_error(warehouse):
    World(warehouse)
    with pytest.raises(HarmError, match="ISO date"):
        v100_scores(warehouse, "01/01/2025", weights="cchi")


# ---------------------------------------------------------------- RFG / RFH

def _rfg_world(con):
    w = World(con)
    # P1: 3 domestic offences on 2 victims; last 10 days before; highest gravity ABH (4); harm 365+10+10
    w.offence("a", "2024-12-22", "008/06", "P1", "V1", domestic=True)
    w.offence("b", "2024-06-01", "008/71", "P1", "V1", domestic=True)
    w.offence("c", "2022-06-01", "008/66", "P1", "V2")  # coercive control is domestic by definition; 2022-06-01 is inside 3 years
    w.offence("old", "2021-12-31", "008/06", "P1", "V3", domestic=True)  # 1097 days before: outside the lookback
    # P2: one domestic stalking 200 days ago, one victim
    w.offence("d", "2024-06-15", "008/71", "P2", "V4", domestic=True)
    # P3: a rape that is not flagged domestic: outside the domestic scope
    w.offence("e", "2024-06-15", "019/07", "P3", "V5")
    apply_offence_map(con)


def test_rfg_points_by_hand(warehouse):
    _rfg_world(warehouse)
    s = rfg_scores(warehouse, AS_OF).set_index("person_id")
    assert sorted(s.index) == ["P1", "P2"]
    # P1: R 10 days -> 5; F 3 -> 3; G max gravity 4 -> 4; V 2 -> 3: total 15, band high
    p1 = s.loc["P1"]
    assert (p1.recency_points, p1.frequency_points, p1.gravity_points, p1.victim_points) == (5, 3, 4, 3)
    assert p1.rfgv_score == 15 and p1.band == "high"
    # P2: R 200 days -> 2; F 1 -> 1; G stalking 2 -> 2; V 1 -> 1: total 6, standard
    p2 = s.loc["P2"]
    assert (p2.recency_points, p2.frequency_points, p2.gravity_points, p2.victim_points, p2.rfgv_score, p2.band) == (2, 1, 2, 1, 6, "standard")


def test_rfh_uses_banded_harm(warehouse):
    _rfg_world(warehouse)
    s = rfh_scores(warehouse, AS_OF).set_index("person_id")
    # P1 harm 365 + 10 + 10 = 385 -> band (365, 1825] -> 4; total 5 + 3 + 4 + 3 = 15
    assert s.loc["P1", "harm_sum"] == 385.0 and s.loc["P1", "harm_points"] == 4 and s.loc["P1", "rfgv_score"] == 15
    # P2 harm 10 -> 1; total 2 + 1 + 1 + 1 = 5
    assert s.loc["P2", "harm_points"] == 1 and s.loc["P2", "rfgv_score"] == 5
    # With the severity table stalking is 35 points -> band (15, 35] -> 2
    sev = rfh_scores(warehouse, AS_OF, weights="severity").set_index("person_id")
    assert sev.loc["P2", "harm_points"] == 2 and sev.loc["P2", "weight_table"] == "harmlens-severity-v1"


def test_rfg_config_from_toml(warehouse, tmp_path):
    _rfg_world(warehouse)
    p = tmp_path / "rfg.toml"
    p.write_text('scope = "vawg"\nlookback_days = 365\nvictim_bands = [[1, 0], [2, 10], ["inf", 20]]\n')
    cfg = RFGConfig.from_file(p)
    s = rfg_scores(warehouse, AS_OF, config=cfg).set_index("person_id")
    assert sorted(s.index) == ["P1", "P2", "P3"]  # vawg scope takes in the rape
    # P1 in 365 days: a and b (one victim) -> V 0; R5 F2 G4 -> 11
    assert s.loc["P1", "rfgv_score"] == 11 and s.loc["P1", "victim_points"] == 0


@pytest.mark.parametrize(
    "body,msg",
    [
        ('scope = "everyone"\n', "scope"),
        ("recency_bands = [[10, 5], [5, 1]]\n", "increase"),
        ("colour = 3\n", "unknown RFG setting"),
        ("lookback_days = [\n", "TOML"),
    ],
)
def test_bad_rfg_config(tmp_path, body, msg):
    p = tmp_path / "rfg.toml"
    p.write_text(body)
    with pytest.raises(HarmError, match=msg):
        RFGConfig.from_file(p)


# ---------------------------------------------------------------- at large and ranking

@pytest.mark.parametrize(
    "start,end,at_large_expected",
    [
        ("2024-12-01", None, False),  # open custody
        ("2024-12-01", "2025-02-01", False),
        ("2024-12-01", "2025-01-01", True),  # released at the as-of moment
        ("2024-06-01", "2024-07-01", True),  # released long ago
        ("2025-01-02", None, True),  # remanded after the date
        ("2025-01-01", None, False),  # remanded at the as-of moment
    ],
)
def test_custody_edges(warehouse, start, end, at_large_expected):
    w = World(warehouse)
    w.event("k", "custody", start, ends_at=end, source="custody")
    w.person("k", "subject", "P1")
    al = at_large(warehouse, AS_OF, ["P1", "P2"]).set_index("person_id")
    assert bool(al.loc["P1", "at_large"]) is at_large_expected
    assert bool(al.loc["P2", "at_large"])  # unknown person: nothing says otherwise


def test_death_wins_and_victim_custody_is_ignored(warehouse):
    w = World(warehouse)
    w.event("k", "custody", "2024-01-01", source="custody"); w.person("k", "subject", "P1")
    w.event("d", "death", "2024-06-01"); w.person("d", "subject", "P1")
    w.event("k2", "custody", "2024-01-01", source="custody"); w.person("k2", "victim", "P2")
    al = at_large(warehouse, AS_OF).set_index("person_id")
    assert al.loc["P1", "reason"] == "dead" and not bool(al.loc["P1", "at_large"])
    assert bool(al.loc["P2", "at_large"])


def test_rank_ties_share_a_rank_and_top_n_keeps_ties(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-06-01", "019/07", "A", "V1")  # 2555
    w.offence("b", "2024-06-01", "008/71", "B", "V1")  # 10, last 2024-06-01
    w.offence("c", "2024-07-01", "008/10", "C", "V1")  # 10, last 2024-07-01 -> listed before B
    w.offence("d", "2024-07-01", "008/10", "D", "V1")  # 10, same date as C -> after C by id
    w.offence("e", "2024-07-01", "020/01", "E", "V1")  # 182.25
    w.offence("f", "2024-07-01", "008/06", "F", "V1", domestic=True)  # 365 but in custody
    w.event("k", "custody", "2024-12-01", source="custody"); w.person("k", "subject", "F")
    apply_offence_map(warehouse)
    res = rank(warehouse, "v100", AS_OF, top=3)
    assert res.priority[["rank", "person_id"]].values.tolist() == [[1, "A"], [2, "E"], [3, "C"], [3, "D"], [3, "B"]]
    assert res.not_at_large["person_id"].tolist() == ["F"] and res.not_at_large["not_at_large_reason"].tolist() == ["custody"]
    assert res.priority["at_large"].all() and res.priority["risk"].isna().all()
    top2 = rank(warehouse, "v100", AS_OF, top=2)
    assert top2.priority["person_id"].tolist() == ["A", "E"]


def test_rank_with_nobody_in_scope(warehouse):
    World(warehouse).offence("a", "2020-06-01", "019/07", "A", "V1")
    apply_offence_map(warehouse)
    res = rank(warehouse, "v100", AS_OF)
    assert len(res.priority) == 0 and res.notes


def test_register_method_lets_another_area_add_one(warehouse):
    World(warehouse).offence("a", "2024-06-01", "019/07", "A", "V1").offence("b", "2024-06-01", "008/71", "B", "V1")
    apply_offence_map(warehouse)

    def inverse(con, as_of, **_):
        base = v100_scores(con, as_of)
        return base.assign(score=-base["score"], risk=0.5, weight_table=base["weight_table"])

    try:
        register_method("test_inverse", inverse, description="test only")
        with pytest.raises(ValueError):
            register_method("test_inverse", lambda con, as_of: None)
        res = rank(warehouse, "test_inverse", AS_OF)
        assert res.priority["person_id"].tolist() == ["B", "A"] and (res.priority["risk"] == 0.5).all()
        with pytest.raises(HarmError, match="does not take"):
            rank(warehouse, "test_inverse", AS_OF, config=RFGConfig())
    finally:
        _METHODS.pop("test_inverse", None)
    with pytest.raises(HarmError, match="unknown ranking method"):
        rank(warehouse, "test_inverse", AS_OF)


def test_empty_links_is_a_clear_error(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-06-01", "008/71", "P1", "V1")
    warehouse.execute("DELETE FROM links")
    apply_offence_map(warehouse)
    with pytest.raises(HarmError, match="links is empty"):
        rank(warehouse, "v100", AS_OF)


def test_rfh_bands_follow_the_unit_of_the_applied_table(warehouse, tmp_path):
    _rfg_world(warehouse)
    p = tmp_path / "w.csv"
    p.write_text("key_type,key,weight,unit\ncategory,stalking,30,points\nsubgroup,Violence with injury,100,points\nsubgroup,Stalking and harassment,30,points\n")
    apply_offence_map(warehouse, p)
    s = rfh_scores(warehouse, AS_OF).set_index("person_id")
    # P2: one stalking, 30 points -> points bands (15, 35] -> 2 (in day bands 30 would also be 2: check P1)
    # P1: 100 + 30 + 30 = 160 points -> points band (100, inf] -> 5 (day bands would give (100, 365] -> 3)
    assert s.loc["P1", "harm_sum"] == 160 and s.loc["P1", "harm_points"] == 5
    assert warehouse.execute("SELECT weight_unit FROM harm_runs ORDER BY applied_at DESC LIMIT 1").fetchall()[0][0] == "points"
