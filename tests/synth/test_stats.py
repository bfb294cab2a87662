"""Statistics of the city sit in their documented ranges (see docs/synth.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmlens.synth import reference as ref

VAWG = set(ref.VAWG_CODES)


def test_census_mix_near_targets(city):
    p = city.table("truth/persons")
    target = (ref.GROUP_SHARES * ref.BOROUGH_POP[:, None]).sum(axis=0) / ref.BOROUGH_POP.sum()
    got = p["ethnicity_group"].value_counts(normalize=True).reindex(ref.GROUPS).fillna(0).to_numpy()
    assert np.abs(got - target).max() < 0.03, (got, target)
    # borough sizes follow the census populations
    b = p["borough"].value_counts(normalize=True).reindex(ref.BOROUGH_NAMES).fillna(0).to_numpy()
    assert np.abs(b - ref.BOROUGH_POP / ref.BOROUGH_POP.sum()).max() < 0.01
    assert 0.47 < (p["sex"] == "female").mean() < 0.55
    age = (pd.Timestamp("2025-01-01") - pd.to_datetime(p["date_of_birth"])).dt.days / 365.25
    assert 0.17 < (age < 18).mean() < 0.28
    # all 19 codes occur, and the population table matches the residents
    assert set(p["self_defined_ethnicity"]) == set(ref.CODES)
    pop = city.table("population")
    assert pop["population"].sum() == len(p)
    assert len(pop) == 33 * 5


def test_harm_is_concentrated(city):
    ev, pp, tm = city.table("events"), city.table("people"), city.table("truth/mentions")
    off = ev[(ev["event_type"] == "offence") & ev["offence_code"].isin(VAWG)]
    s = pp[pp["role"] == "suspect"].merge(tm, on="mention_id").merge(off[["event_id", "offence_code"]], on="event_id")
    harm = dict(zip(ref.OFFENCE_CODES, ref.HARM_DAYS))
    per = s.assign(h=s["offence_code"].map(harm)).groupby("person_id")["h"].sum().sort_values(ascending=False)
    top5 = per.iloc[: max(1, len(per) // 20)].sum() / per.sum()
    top20 = per.iloc[: max(1, len(per) // 5)].sum() / per.sum()
    assert top5 > 0.4, top5
    assert top20 > 0.65, top20
    # most of those with a recorded VAWG offence have more than one (persistence)
    counts = s.groupby("person_id").size()
    assert (counts > 1).mean() > 0.4


def test_attrition(city):
    ev = city.table("events")
    off = ev[(ev["event_type"] == "offence") & ev["offence_code"].isin(VAWG)]
    share = off["outcome"].isin(["nfa", "victim_withdrew"]).mean()
    assert 0.6 < share < 0.85, share
    assert (off["outcome"] == "convicted").mean() < 0.2
    # rape is charged least often
    rape = off[off["offence_code"] == "019/07"]
    if len(rape) >= 20:
        assert rape["outcome"].isin(["charged", "convicted", "acquitted"]).mean() < 0.25


def test_victims_children_and_households(city):
    ev, pp, tm = city.table("events"), city.table("people"), city.table("truth/mentions")
    persons = city.table("truth/persons").set_index("person_id")
    v = pp[pp["role"] == "victim"].merge(tm, on="mention_id")
    assert set(v["relationship_to_suspect"]) >= {"partner", "ex_partner", "family", "acquaintance", "stranger"}
    # repeat victims
    assert (v.groupby("person_id").size() > 1).mean() > 0.2
    # mostly women and girls (family victims include sons and fathers; female offenders abuse men)
    assert (persons.loc[v["person_id"], "sex"] == "female").mean() > 0.7
    # children: victims or witnesses under 18 at the time, sharing a recorded household with the suspect
    m = pp.merge(tm, on="mention_id").merge(ev[["event_id", "occurred_at"]], on="event_id")
    dob = pd.to_datetime(persons.loc[m["person_id"], "date_of_birth"].to_numpy())
    m["age"] = (m["occurred_at"].to_numpy() - dob).days / 365.25
    kids = m[(m["age"] < 18) & m["role"].isin(["victim", "witness"])]
    assert len(kids) > 0
    sus = m[m["role"] == "suspect"][["event_id", "household_id"]].dropna()
    shared = kids.dropna(subset=["household_id"]).merge(sus, on=["event_id", "household_id"])
    assert len(shared) > 0


def test_noise_rates_near_parameters(city):
    nz = city.config.noise
    pp = city.table("people").merge(city.table("truth/mentions"), on="mention_id")
    persons = city.table("truth/persons").set_index("person_id")
    n = len(pp)
    tol = lambda p: 4 * np.sqrt(p * (1 - p) / n) + 0.002  # noqa: E731
    true_dob = pd.to_datetime(persons.loc[pp["person_id"], "date_of_birth"].to_numpy())
    dob = pd.to_datetime(pp["date_of_birth"])
    assert abs(dob.isna().mean() - nz.dob_missing) < tol(nz.dob_missing)
    assert abs((dob == pd.Timestamp("1900-01-01")).mean() - nz.dob_placeholder) < tol(nz.dob_placeholder)
    swapped = (dob.dt.day == true_dob.month) & (dob.dt.month == true_dob.day) & (true_dob.day != true_dob.month)
    eligible = (true_dob.day <= 12) & (true_dob.day != true_dob.month)
    assert abs(swapped.sum() / eligible.sum() - nz.dob_swap) < tol(nz.dob_swap) * 3
    assert abs((pp["surname"] == "UNKNOWN").mean() - nz.surname_unknown) < tol(nz.surname_unknown)
    assert abs((pp["postcode"] == "NFA").mean() - nz.postcode_nfa) < tol(nz.postcode_nfa)
    assert abs(pp["postcode"].isna().mean() - nz.postcode_missing) < tol(nz.postcode_missing) + 0.01
    assert abs((pp["sex"] == "unknown").mean() - nz.sex_unknown) < tol(nz.sex_unknown)
    assert abs((pp["self_defined_ethnicity"] == "not_stated").mean() - nz.ethnicity_not_stated) < tol(nz.ethnicity_not_stated)
    # names: most mentions carry the person's recorded forename exactly, some do not
    agree = (dob == true_dob).mean()
    assert 0.85 < agree < 0.97
    # custody suite postcodes are shared by many detainees
    suite = pp["postcode"].fillna("").str.endswith(" 0PS")
    assert pp.loc[suite, "person_id"].nunique() > 20
    applied = city.params["derived"]["noise_applied"]
    assert abs(applied["nickname"] - nz.nickname * 0.5) < 0.03  # about half the forenames have a nickname


def test_policing_bias_moves_recording(tmp_path):
    from tests.synth.conftest import make_city

    on = make_city(tmp_path / "on", people=20_000, seed=4, stops_per_1000=1.0)
    off = make_city(tmp_path / "off", people=20_000, seed=4, stops_per_1000=1.0, policing_bias=False)

    from harmlens.synth.config import HIGH_INTENSITY_BOROUGHS

    def recorded_share(c):
        o = c.table("truth/offences").merge(
            c.table("truth/persons")[["person_id", "policing_intensity", "ethnicity_group", "borough"]], on="person_id")
        hi = o["ethnicity_group"].isin(["Black", "Mixed"]) | o["borough"].isin(HIGH_INTENSITY_BOROUGHS)
        return o.loc[hi, "recorded"].mean(), o.loc[~hi, "recorded"].mean(), o["policing_intensity"]

    hi_on, lo_on, inten_on = recorded_share(on)
    hi_off, lo_off, inten_off = recorded_share(off)
    assert (inten_off.dropna() == 1).all()
    assert (inten_on.dropna() > 1).any()
    assert hi_on > lo_on + 0.04
    assert abs(hi_off - lo_off) < 0.04
