"""The extract follows the data contract: enums, codes, ids, references, the cut date."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from harmlens.synth import OFFENCE_CODES
from harmlens.synth.reference import BOROUGH_NAMES, CODES, IC_CODES

EVENT_TYPES = {"offence", "arrest", "charge", "conviction", "custody", "order", "intelligence", "death"}
ROLES = {"suspect", "offender", "victim", "witness", "subject"}
OUTCOMES = {"charged", "convicted", "acquitted", "caution", "nfa", "victim_withdrew", "ongoing", "unknown"}
SEXES = {"male", "female", "other", "unknown"}
RELS = {"partner", "ex_partner", "family", "acquaintance", "stranger", "unknown"}
LEVELS = {"standard", "medium", "high"}


def test_files_named_after_tables(city):
    for name in ("events", "people", "risk_assessments", "stops", "population"):
        assert (city.path / f"{name}.parquet").is_file()
    for name in ("mentions", "persons", "future_events", "future_people", "offences"):
        assert (city.path / "truth" / f"{name}.parquet").is_file()
    assert (city.path / "truth" / "params.json").is_file()


def test_events_enums_and_ids(city):
    ev = city.table("events")
    assert ev["event_id"].is_unique
    assert set(ev["event_type"]) <= EVENT_TYPES
    assert set(ev["outcome"].dropna()) <= OUTCOMES
    assert set(ev["offence_code"].dropna()) <= set(OFFENCE_CODES)
    assert set(ev["borough"].dropna()) <= set(BOROUGH_NAMES)
    assert ev["source"].notna().all() and ev["occurred_at"].notna().all()
    assert ev["domestic"].dtype == bool or set(ev["domestic"].dropna().unique()) <= {True, False}
    lat, lon = ev["latitude"].dropna(), ev["longitude"].dropna()
    assert lat.between(51.25, 51.72).all() and lon.between(-0.55, 0.35).all()
    # all the event types the brief asks for occur
    assert {"offence", "arrest", "charge", "conviction", "custody", "order", "death", "intelligence"} <= set(ev["event_type"])


def test_people_enums_and_references(city):
    ev, pp = city.table("events"), city.table("people")
    assert pp["mention_id"].is_unique
    assert pp["event_id"].isin(ev["event_id"]).all()
    assert set(pp["role"]) <= ROLES
    assert set(pp["sex"].dropna()) <= SEXES
    assert set(pp["relationship_to_suspect"].dropna()) <= RELS
    assert pp.loc[pp["relationship_to_suspect"].notna(), "role"].eq("victim").all()
    assert set(pp["self_defined_ethnicity"].dropna()) <= set(CODES) | {"not_stated"}
    assert set(pp["officer_defined_ethnicity"].dropna()) <= set(IC_CODES)
    pc = pp["postcode"].dropna()
    pc = pc[(pc != "NFA")]
    assert pc.str.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}").all()
    refs = pp["person_ref"].dropna()
    assert refs.str.fullmatch(r"\d{2}/\d{6}[A-Z]").all()


def test_follow_up_events_point_at_offences(city):
    ev = city.table("events")
    fut = city.table("truth/future_events")
    allev = pd.concat([ev, fut])
    offences = set(allev.loc[allev["event_type"] == "offence", "event_id"])
    for et in ("arrest", "charge", "conviction"):
        sub = ev[ev["event_type"] == et]
        assert len(sub) > 0
        assert sub["crime_ref"].isin(offences).all(), et
    # crime_ref on the extract refers to offences already in the extract (they come first)
    assert ev["crime_ref"].dropna().isin(ev["event_id"]).all()
    pp = city.table("people")
    subj = pp[pp["event_id"].isin(ev.loc[ev["event_type"].isin(["arrest", "charge", "custody"]), "event_id"])]
    assert set(subj["role"]) == {"subject"}
    conv = pp[pp["event_id"].isin(ev.loc[ev["event_type"] == "conviction", "event_id"])]
    assert set(conv["role"]) == {"offender"}


def test_breaches_and_orders(city):
    ev = city.table("events")
    orders = ev[ev["event_type"] == "order"].set_index("event_id")
    assert set(orders["order_type"]) <= {"DVPO", "non_molestation_order", "restraining_order", "stalking_protection_order"}
    assert (orders["ends_at"] > orders["occurred_at"]).all()
    br = ev[ev["offence_code"].isin(["195/12", "195/94"])]
    assert len(br) > 0
    assert br["order_ref"].notna().all()
    o = orders.loc[br["order_ref"]]
    assert (br["occurred_at"].to_numpy() >= o["occurred_at"].to_numpy()).all()
    assert (br["occurred_at"].to_numpy() < o["ends_at"].to_numpy()).all()
    expect = np.where(o["order_type"].to_numpy() == "restraining_order", "195/12", "195/94")
    assert (br["offence_code"].to_numpy() == expect).all()


def test_nothing_after_the_cut(city):
    cut = pd.Timestamp(city.config.cut_date)
    ev = city.table("events")
    assert (ev["occurred_at"] <= cut).all()
    assert (ev["reported_at"].dropna() <= cut).all()
    ra = city.table("risk_assessments")
    assert (ra["assessed_at"] <= cut).all()
    st = city.table("stops")
    assert (st["occurred_at"] <= cut).all()
    fut = city.table("truth/future_events")
    known = fut["reported_at"].fillna(fut["occurred_at"])
    assert (known > cut).all() and (known <= cut + pd.Timedelta(days=365)).all()
    # the history spans several years for monthly snapshots
    assert ev["occurred_at"].min() < cut - pd.Timedelta(days=5 * 365)


def test_risk_assessments(city):
    ra, pp = city.table("risk_assessments"), city.table("people")
    assert ra["assessment_id"].is_unique
    assert ra["mention_id"].isin(pp.loc[pp["role"] == "victim", "mention_id"]).all()
    assert ra["score"].between(0, 27).all()
    assert set(ra["level"]) <= LEVELS
    assert (ra.loc[ra["score"] >= 14, "level"] == "high").all()
    assert set(ra["tool"]) == {"DASH"}
    assert (ra["level"] == "high").any() and (ra["level"] == "standard").any()


def test_custody_periods(city):
    ev = city.table("events")
    cu = ev[ev["event_type"] == "custody"]
    assert len(cu) > 0
    ended = cu["ends_at"].notna()
    assert (cu.loc[ended, "ends_at"] >= cu.loc[ended, "occurred_at"]).all()
    assert set(cu["custody_type"]) <= {"remand", "prison"}


def test_dates_are_iso_in_csv(tmp_path):
    from tests.synth.conftest import make_city

    c = make_city(tmp_path / "csv", people=800, seed=3, fmt="csv")
    head = (c.path / "events.csv").read_text().splitlines()
    row = head[1]
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", row)
    assert "true" in (c.path / "events.csv").read_text() or "false" in row
    ppl = pd.read_csv(c.path / "people.csv", dtype=str, keep_default_na=False)
    dob = ppl["date_of_birth"][ppl["date_of_birth"] != ""]
    assert dob.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
