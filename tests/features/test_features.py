"""Features, evidence and labels on a small world whose truth is written down by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from harmlens.errors import HarmlensError, WarehouseError
from harmlens.features import (
    FEATURES,
    build_features,
    build_labels,
    evidence_summary,
    scored_population,
    snapshot_dataset,
    snapshot_dates,
)
from tests.features.world import World, ensure_interface_tables

AS_OF = "2024-01-01"


def make_world() -> tuple[World, dict[str, str]]:
    """The world of the hand-computed truth below (see the comments per event)."""
    w = World(dob={"P1": "1990-01-02", "V1": "1992-05-05", "V2": "2010-01-01", "P4": "1980-01-01", "P5": "1970-07-07"})
    ids: dict[str, str] = {}
    # P1: four VAWG allegations, two victims (V1 partner three times, V2 a child stranger), co-suspect P2 on the rape
    ids["a"] = w.offence("2021-06-01", ["P1"], [("V1", "partner")], "da_assault", outcome="convicted")  # harm 100
    ids["b"] = w.offence("2023-03-01", ["P1"], [("V1", "partner")], "stalking")  # harm 10
    ids["c"] = w.offence("2023-11-15", ["P1", "P2"], [("V2", "stranger")], "rape", outcome="charged")  # harm 2555
    ids["d"] = w.offence("2023-12-20", ["P1"], [("V1", "partner")], "breach")  # harm 5
    w.event("charge", "2023-12-01", ["P1"], crime_ref=ids["c"])  # dated charge of P1 only
    w.dob_noise = "1900-01-01"  # a placeholder DOB on the arrest record
    w.event("arrest", "2023-11-20", ["P1"])
    w.dob_noise = "1990-02-01"  # day and month swapped on the custody record
    w.event("custody", "2023-11-20", ["P1"], ends="2023-11-22")  # two days
    w.dob_noise = None
    w.event("order", "2023-04-01", ["P1"], ends="2025-04-01")  # still in force
    w.dash("V1", "2023-03-02", 16, event_id=ids["b"])  # high
    ids["future"] = w.offence("2024-02-01", ["P1"], [("V3", "stranger")], "rape")  # after AS_OF: labels only
    w.event("conviction", "2024-03-01", ["P1"], crime_ref=ids["b"])  # after AS_OF
    # P2: future sexual assault, convicted
    w.offence("2024-06-01", ["P2"], [("V4", "acquaintance")], "sexual_assault", outcome="convicted")
    # P4: offence before AS_OF but reported after it: unknown on AS_OF
    w.offence("2023-12-01", ["P4"], [("V5", "partner")], "coercive", reported="2024-01-05")
    # P5: old burglary, in custody since October (open)
    w.offence("2020-01-01", ["P5"], [], "burglary")
    w.event("custody", "2023-10-01", ["P5"])
    return w, ids


@pytest.fixture
def world(warehouse):
    w, ids = make_world()
    w.load(warehouse)
    return warehouse, ids


def years(a: str, b: str) -> float:
    return (pd.Timestamp(b) - pd.Timestamp(a)).days / 365.25


def test_columns_are_the_catalogue_and_protected_characteristics_are_absent(world):
    con, _ = world
    f = build_features(con, AS_OF)
    assert list(f.columns) == list(FEATURES)
    assert f.index.name == "person_id"
    assert all(f.dtypes == "float64")
    assert not f.isna().any().any()
    for word in ("ethnic", "race", "gender", "nationality"):
        assert not any(word in c for c in f.columns)
    assert not any(c == "sex" or c.startswith("sex_") or c.endswith("_sex") for c in f.columns)
    for name, text in FEATURES.items():
        assert len(text) > 20, name


def test_population_is_known_suspects_only(world):
    con, _ = world
    # victims V1..V5 are never suspects; P4's offence was reported after AS_OF
    assert list(build_features(con, AS_OF).index) == ["P1", "P2", "P5"]
    assert list(scored_population(con, AS_OF)) == ["P1", "P2", "P5"]
    assert "P4" in build_features(con, "2024-02-01").index
    assert build_features(con, "2019-01-01").empty


def test_p1_hand_computed(world):
    con, _ = world
    f = build_features(con, AS_OF).loc["P1"]
    truth = {
        # windows: 90d from 2023-10-03 (c, d); 365d from 2023-01-01 (b, c, d); 3y from 2021-01-01 (all four)
        "n_vawg_90d": 2, "n_vawg_365d": 3, "n_vawg_3y": 4, "n_vawg_ever": 4,
        "n_sexual_90d": 1, "n_sexual_365d": 1, "n_sexual_ever": 1,
        "n_domestic_90d": 1, "n_domestic_365d": 1, "n_domestic_3y": 2, "n_domestic_ever": 2,
        "n_violent_90d": 1, "n_violent_365d": 1, "n_violent_ever": 2,
        "n_any_90d": 2, "n_any_365d": 3, "n_any_ever": 4,
        "harm_vawg_90d": 2560, "harm_vawg_365d": 2570, "harm_vawg_3y": 2670, "harm_vawg_ever": 2670,
        "harm_any_365d": 2570, "harm_any_ever": 2670,
        "days_since_last_offence": 12, "days_since_last_vawg": 12,
        "harm_vawg_prev_365d": 0, "escalation_vawg_harm": 2570,
        "max_harm_365d": 2555, "max_harm_before_365d": 100, "escalating_severity": 1,
        "distinct_victims_ever": 2, "distinct_victims_3y": 2, "distinct_partner_victims_ever": 1,
        "distinct_child_victims_ever": 1, "max_offences_same_victim": 3, "repeat_victims": 1,
        "dash_high_victims": 1, "max_dash_score": 16,
        "n_breach_365d": 1, "n_breach_ever": 1, "n_orders_ever": 1, "active_orders": 1,
        "days_in_custody_365d": 2, "days_in_custody_ever": 2, "in_custody_now": 0,
        "n_arrests_365d": 1, "n_arrests_ever": 1,
        # a: convicted on the offence row, old enough to trust; c: dated charge event (its own
        # 'charged' outcome is too recent to trust but the crime is counted once anyway)
        "charges_ever": 2, "charges_vawg_ever": 2, "convictions_ever": 1, "convictions_vawg_ever": 1,
        "charge_ratio": 0.5, "n_intel_365d": 0, "times_victim_ever": 0,
        # DOB: 1990-01-02 on most records; the 1900 placeholder is ignored, the swapped one outvoted
        "age": years("1990-01-02", AS_OF), "age_at_first_record": years("1990-01-02", "2021-06-01"),
        "dob_unknown": 0, "years_since_first_record": years("2021-06-01", AS_OF),
        "n_co_suspects": 1, "co_suspects_vawg_allegations": 1, "n_shared_victim_suspects": 0,
    }
    for k, v in truth.items():
        assert f[k] == pytest.approx(v), k


def test_p2_and_p5_hand_computed(world):
    con, _ = world
    f = build_features(con, AS_OF)
    p2 = f.loc["P2"]
    assert p2["n_vawg_ever"] == 1 and p2["harm_vawg_ever"] == 2555
    assert p2["charges_ever"] == 0  # the charge event names P1 only; the offence's own outcome is too recent
    assert p2["dob_unknown"] == 1 and p2["age"] == 0
    assert p2["n_co_suspects"] == 1 and p2["co_suspects_vawg_allegations"] == 4
    p5 = f.loc["P5"]
    assert p5["n_any_ever"] == 1 and p5["n_any_3y"] == 0 and p5["n_vawg_ever"] == 0
    assert p5["days_since_last_offence"] == 1461 and p5["days_since_last_vawg"] == 3650
    assert p5["in_custody_now"] == 1
    assert p5["days_in_custody_365d"] == 92 and p5["days_in_custody_ever"] == 92  # Oct+Nov+Dec 2023


def _p_active(n_any: int, career_days: float, silence_days: float, h: float = 0.1) -> float:
    """p_still_offending_given_allegations by hand: rate (n + 0.5) / (career years + 1), silence s, hazard h."""
    r = (n_any + 0.5) / (career_days / 365 + 1)
    a = np.exp(-(h + r) * silence_days / 365)
    return a / (a + h / (h + r) * (1 - a))


def test_rate_recency_and_desistance_features_hand_computed(world):
    con, _ = world
    f = build_features(con, AS_OF)
    p1 = f.loc["P1"]
    # P1: a 944, b 306, c 47, d 12 days before AS_OF, all VAWG; two days in custody (before d)
    ages = np.array([944, 306, 47, 12])
    p = _p_active(4, 944, 12)
    truth = {
        "vawg_allegations_per_year_at_large_3y": 4 * 365 / (1095 - 2),
        "vawg_share_of_allegations": 1.0,
        "days_at_large_without_allegations": 12,
        "recency_weighted_vawg_allegations_90d": float((0.5 ** (ages / 90)).sum()),
        "recency_weighted_vawg_allegations_365d": float((0.5 ** (ages / 365)).sum()),
        "p_still_offending_given_allegations": p,
        "expected_vawg_allegations_per_year": p * 4.5 / (944 / 365 + 1),
        "expected_allegations_per_year": p * 4.5 / (944 / 365 + 1),
    }
    for k, v in truth.items():
        assert p1[k] == pytest.approx(v), k
    # P5: one burglary 1461 days back, in custody for the last 92 of them (still open: clipped at AS_OF)
    p5 = f.loc["P5"]
    q = _p_active(1, 1461, 1461)
    assert p5["days_at_large_without_allegations"] == pytest.approx(1461 - 92)
    assert p5["vawg_allegations_per_year_at_large_3y"] == 0 and p5["vawg_share_of_allegations"] == 0 and p5["recency_weighted_vawg_allegations_90d"] == 0
    assert p5["p_still_offending_given_allegations"] == pytest.approx(q)
    assert p5["expected_vawg_allegations_per_year"] == pytest.approx(q * 0.5 / (1461 / 365 + 1))
    # a long silence lowers the chance of still offending; a recent offence keeps it near 1
    assert p1["p_still_offending_given_allegations"] > 0.9 > p5["p_still_offending_given_allegations"]


def test_outcome_lag_setting(world):
    from harmlens.features import FeatureSettings

    con, _ = world
    f = build_features(con, AS_OF, settings=FeatureSettings(outcome_lag_days=30))
    assert f.loc["P2", "charges_ever"] == 1  # 'charged' on the rape row now trusted (47 days old)


def test_person_ids_subset(world):
    con, _ = world
    full = build_features(con, AS_OF)
    sub = build_features(con, AS_OF, person_ids=["P5", "P1", "nobody"])
    assert list(sub.index) == ["P1", "P5"]
    pd.testing.assert_frame_equal(sub, full.loc[["P1", "P5"]])


def test_evidence_summary(world):
    con, _ = world
    ev = evidence_summary(con, AS_OF)
    sub = evidence_summary(con, AS_OF, ["P5", "P1", "nobody"])
    pd.testing.assert_frame_equal(sub, ev.loc[["P1", "P5"]])
    assert ev.loc["P1", "allegations"] == 4
    assert ev.loc["P1", "charges"] == 2 and ev.loc["P1", "convictions"] == 1
    assert ev.loc["P1", "distinct_victims"] == 2
    assert ev.loc["P1", "last_event_at"] == pd.Timestamp("2023-12-20")
    assert ev.loc["P5", "allegations"] == 0 and pd.isna(ev.loc["P5", "last_event_at"])
    anyc = evidence_summary(con, AS_OF, category="any")
    assert anyc.loc["P5", "allegations"] == 1
    sexual = evidence_summary(con, AS_OF, category="sexual")
    assert sexual.loc["P1", "allegations"] == 1 and sexual.loc["P1", "charges"] == 1


def test_labels(world):
    con, _ = world
    lab = build_labels(con, AS_OF)
    assert list(lab.index) == ["P1", "P2", "P5"]
    assert lab.loc["P1"].tolist() == [1, 31.0, 2555.0]
    assert lab.loc["P2"].tolist() == [1, 152.0, 365.0]
    assert lab.loc["P5", "label"] == 0 and np.isnan(lab.loc["P5", "days_to_event"]) and lab.loc["P5", "harm_next"] == 0
    charged = build_labels(con, AS_OF, threshold="charged")
    assert charged["label"].to_dict() == {"P1": 0, "P2": 1, "P5": 0}
    convicted = build_labels(con, AS_OF, threshold="convicted")
    assert convicted["label"].to_dict() == {"P1": 0, "P2": 1, "P5": 0}
    dom = build_labels(con, AS_OF, category="domestic")
    assert dom["label"].sum() == 0
    short = build_labels(con, AS_OF, horizon_days=31)
    assert short["label"].to_dict() == {"P1": 0, "P2": 0, "P5": 0}  # 2024-02-01 is exactly 31 days on: excluded
    assert build_labels(con, AS_OF, horizon_days=32)["label"]["P1"] == 1


def test_label_threshold_from_a_dated_conviction(warehouse):
    w = World()
    w.offence("2023-01-01", ["A"], ["V"], "stalking")
    e = w.offence("2023-06-01", ["A", "B"], ["V"], "stalking")
    w.event("conviction", "2025-01-01", ["A"], crime_ref=e)  # court decision after the horizon still counts
    w.load(warehouse)
    lab = build_labels(warehouse, "2023-02-01", threshold="convicted")
    assert lab["label"].to_dict() == {"A": 1}
    lab = build_labels(warehouse, "2023-02-01", threshold="convicted", person_ids=["A"])
    assert lab["label"].to_dict() == {"A": 1}


def test_shared_victims_count_separate_offences(warehouse):
    w = World()
    w.offence("2022-01-01", ["A"], [("V", "partner")], "da_assault")
    w.offence("2022-06-01", ["B"], [("V", "ex_partner")], "stalking")
    w.offence("2022-07-01", ["C", "D"], [("W", "stranger")], "sexual_assault")
    w.load(warehouse)
    f = build_features(warehouse, "2023-01-01")
    assert f["n_shared_victim_suspects"].to_dict() == {"A": 1, "B": 1, "C": 0, "D": 0}
    assert f["n_co_suspects"].to_dict() == {"A": 0, "B": 0, "C": 1, "D": 1}


def test_sentence_release_date_is_read_but_remand_end_is_not(warehouse):
    """A prison sentence's release date is set when it is passed; remand ends on a later decision."""
    w = World()
    for p in ("A", "B", "C", "D"):
        w.offence("2022-01-01", [p], [("V" + p, "partner")], "da_assault")
    w.event("custody", "2023-06-01", ["A"], ends="2024-03-01", custody_type="prison")  # 60 days left on 2024-01-01
    w.event("custody", "2023-06-01", ["B"], ends="2024-03-01", custody_type="remand")  # its end is not known yet
    w.event("custody", "2023-06-01", ["C"], ends="2024-03-01")  # untyped: treated like remand
    w.event("custody", "2022-06-01", ["D"], ends="2040-01-01", custody_type=" Prison ")  # capped at ten years
    w.load(warehouse)
    f = build_features(warehouse, "2024-01-01")
    assert f["days_to_sentence_release"].to_dict() == {"A": 60, "B": 0, "C": 0, "D": 3650}
    assert f["in_custody_now"].to_dict() == {"A": 1, "B": 1, "C": 1, "D": 1}
    # before the sentence started nothing about it is known; after release it is over
    assert build_features(warehouse, "2023-05-01").loc["A", "days_to_sentence_release"] == 0
    assert build_features(warehouse, "2024-03-02").loc["A", "days_to_sentence_release"] == 0


def test_recorded_death(warehouse):
    w = World()
    w.offence("2022-01-01", ["A"], [("V", "partner")], "da_assault")
    w.offence("2022-01-01", ["B"], [("W", "partner")], "da_assault")
    w.event("death", "2023-05-01", ["A"])
    w.event("death", "2023-05-01", ["B"], role="witness")  # B witnessed a death, did not die
    w.load(warehouse)
    assert build_features(warehouse, "2023-05-01")["recorded_dead"].to_dict() == {"A": 0, "B": 0}  # not yet known
    assert build_features(warehouse, "2023-06-01")["recorded_dead"].to_dict() == {"A": 1, "B": 0}


def test_snapshots(world):
    con, _ = world
    dates = snapshot_dates("2023-12-01", "2024-02-15")
    assert dates == [datetime(2023, 12, 1), datetime(2024, 1, 1), datetime(2024, 2, 1)]
    X, y, meta = snapshot_dataset(con, "2023-12-01", "2024-02-01", horizon_days=30, allow_censored=True)
    assert list(X.columns) == list(FEATURES)
    assert len(X) == len(y) == len(meta)
    per = meta.groupby("as_of")["person_id"].apply(list).to_dict()
    assert per[pd.Timestamp("2024-01-01")] == ["P1", "P2", "P5"]
    assert per[pd.Timestamp("2024-02-01")] == ["P1", "P2", "P4", "P5"]
    row = meta.index[(meta.person_id == "P1") & (meta.as_of == pd.Timestamp("2023-12-01"))][0]
    assert X.loc[row, "n_vawg_ever"] == 3  # a, b and c
    assert y[row] == 1 and meta.loc[row, "days_to_event"] == 19  # d on 2023-12-20
    assert set(meta.columns) >= {"person_id", "as_of", "days_to_event", "harm_next", "censored"}
    # last event 2024-06-01: a snapshot on 2024-02-01 with a year's horizon is censored
    with pytest.raises(HarmlensError, match="runs past the last recorded event"):
        snapshot_dataset(con, "2023-12-01", "2024-02-01")
    X2, y2, meta2 = snapshot_dataset(con, "2023-01-01", "2023-03-01", horizon_days=365)
    assert not meta2["censored"].any()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: build_features(c, "not a date"), "not a date"),
        (lambda c: build_features(c, 20240101), "as_of must be"),
        (lambda c: build_labels(c, AS_OF, category="burglary"), "unknown category"),
        (lambda c: build_labels(c, AS_OF, threshold="suspected"), "unknown threshold"),
        (lambda c: build_labels(c, AS_OF, horizon_days=0), "positive"),
        (lambda c: snapshot_dataset(c, "2024-01-01", "2023-01-01"), "before start"),
        (lambda c: snapshot_dataset(c, "2023-01-01", "2023-02-01", freq_months=0), "at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(world, call, message):
    con, _ = world
    with pytest.raises(HarmlensError, match=message):
        call(con)


def test_missing_stages_are_named(warehouse):
    ensure_interface_tables(warehouse)
    warehouse.execute(
        "INSERT INTO events (event_id, source, event_type, occurred_at) VALUES ('E1', 'crime', 'offence', '2023-01-01')"
    )
    warehouse.execute("INSERT INTO people (mention_id, event_id, role) VALUES ('M1', 'E1', 'suspect')")
    with pytest.raises(WarehouseError, match="harm apply"):
        build_features(warehouse, AS_OF)
