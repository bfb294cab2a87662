"""The truth folder: covers every mention, persons, params, and exact forecast probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_truth_covers_every_mention(city):
    tm = city.table("truth/mentions")
    assert tm["mention_id"].is_unique
    pp = city.table("people")
    fp = city.table("truth/future_people")
    assert set(pp["mention_id"]) | set(fp["mention_id"]) == set(tm["mention_id"])
    assert tm.loc[tm["mention_id"].isin(pp["mention_id"]), "in_extract"].all()
    persons = city.table("truth/persons")
    assert len(persons) == city.config.people
    assert tm["person_id"].isin(persons["person_id"]).all()


def test_persons_columns_and_ranges(city):
    p = city.table("truth/persons")
    for col in ("person_id", "sex", "date_of_birth", "self_defined_ethnicity", "borough", "propensity",
                "p_vawg_365", "p_vawg_recorded_365", "expected_harm_365"):
        assert col in p.columns
    assert p["p_vawg_365"].between(0, 1).all()
    assert (p["p_vawg_recorded_365"] <= p["p_vawg_365"] + 1e-12).all()
    assert (p["expected_harm_365"] >= 0).all()
    assert (p.loc[~p["vawg_offender"], "p_vawg_365"] == 0).all()


def test_params_record_everything(city):
    prm = city.params
    cfg = prm["config"]
    assert cfg["seed"] == 11 and cfg["cut_date"] == "2025-01-01"
    for key in ("stop_disparity", "darkness_effect", "policing_bias", "policing_group_multipliers", "noise", "excitation"):
        assert key in cfg
    d = prm["derived"]
    assert d["policing_intensity_by_group"]["Black"] == 1.3
    assert d["stop_multiplier_by_group"]["Black"] == 1.5
    assert len(d["policing_intensity_by_area"]) == 33


def test_strong_id_is_one_person(city):
    pp = city.table("people").merge(city.table("truth/mentions"), on="mention_id")
    refs = pp.dropna(subset=["person_ref"])
    assert len(refs) > 0
    assert refs.groupby("person_ref")["person_id"].nunique().max() == 1
    assert refs.groupby("person_id")["person_ref"].nunique().max() == 1
    assert set(refs["role"]) <= {"suspect", "subject", "offender"}
    # only some mentions carry it
    assert 0.1 < pp["person_ref"].notna().mean() < 0.8


def test_no_offence_in_custody_or_after_death(city):
    off = city.table("truth/offences")
    ev = pd.concat([city.table("events"), city.table("truth/future_events")])
    ppl = pd.concat([city.table("people"), city.table("truth/future_people")]).merge(city.table("truth/mentions"), on="mention_id")
    cu = ev[ev["event_type"] == "custody"].merge(ppl[ppl["role"] == "subject"][["event_id", "person_id"]], on="event_id")
    j = off.merge(cu[["person_id", "occurred_at", "ends_at"]].rename(columns={"occurred_at": "cs", "ends_at": "ce"}), on="person_id")
    j = j[j["ce"].notna()]
    inside = (j["occurred_at"] > j["cs"]) & (j["occurred_at"] < j["ce"])
    assert not inside.any()
    deaths = ev[ev["event_type"] == "death"].merge(ppl[["event_id", "person_id"]], on="event_id")
    k = off.merge(deaths[["person_id", "occurred_at"]].rename(columns={"occurred_at": "died"}), on="person_id")
    assert not (k["occurred_at"] > k["died"]).any()


def test_truth_probability_is_calibrated_on_the_city(city):
    p = city.table("truth/persons")
    off = city.table("truth/offences")
    fut = off[off["after_cut"] & off["vawg"]]
    for col, rows in (("p_vawg_365", fut), ("p_vawg_recorded_365", fut[fut["recorded"]])):
        y = p["person_id"].isin(rows["person_id"])
        exp, var = p[col].sum(), (p[col] * (1 - p[col])).sum()
        assert abs(y.sum() - exp) < 4 * np.sqrt(var) + 1, (col, y.sum(), exp)


def test_history_predicts_the_future(city):
    """Prior recorded VAWG offences predict the next year's: the process is persistent."""
    from sklearn.metrics import roc_auc_score

    p = city.table("truth/persons")
    off = city.table("truth/offences")
    offenders = p[p["vawg_offender"]]
    past = off[~off["after_cut"] & off["vawg"] & off["recorded"]].groupby("person_id").size()
    fut = off[off["after_cut"] & off["vawg"] & off["recorded"]]
    y = offenders["person_id"].isin(fut["person_id"])
    x = offenders["person_id"].map(past).fillna(0)
    assert roc_auc_score(y, x) > 0.7
    oracle = roc_auc_score(y, offenders["p_vawg_recorded_365"])
    assert oracle > roc_auc_score(y, x) and oracle > 0.85
