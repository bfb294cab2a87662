"""Stops: the injected disparity and darkness effect show up as documented; the sun is right."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from harmlens.synth.reference import CODE_GROUP
from harmlens.synth.stops import london_local_to_utc, sun_elevation
from tests.synth.conftest import make_city


def _ratio(c) -> float:
    """Home Office style: stops per resident of Black people / the same for White, not_stated excluded."""
    st = c.table("stops")
    st = st[st["self_defined_ethnicity"] != "not_stated"]
    grp = st["self_defined_ethnicity"].map(CODE_GROUP)
    pop = c.table("population").groupby("ethnicity_group")["population"].sum()
    return (grp.eq("Black").sum() / pop["Black"]) / (grp.eq("White").sum() / pop["White"])


def _odds_ratio(c) -> float:
    """Odds of a minority driver in daylight / in the dark (truth flags)."""
    t = c.table("stops").merge(c.table("truth/stops"), on="stop_id")
    minority = t["ethnicity_group"] != "White"
    d, n = t["daylight"], ~t["daylight"]
    return (minority[d].mean() / (1 - minority[d].mean())) / (minority[n].mean() / (1 - minority[n].mean()))


@pytest.fixture(scope="module")
def stop_cities(tmp_path_factory):
    root = tmp_path_factory.mktemp("stops")
    kw = dict(people=8000, seed=21, stops_per_1000=400.0)
    return {
        "none": make_city(root / "none", stop_disparity=1.0, darkness_effect=1.0, **kw),
        "disp": make_city(root / "disp", stop_disparity=2.0, darkness_effect=1.0, **kw),
        "dark": make_city(root / "dark", stop_disparity=1.0, darkness_effect=2.0, **kw),
    }


def test_stop_table_contract(city):
    st = city.table("stops")
    assert st["stop_id"].is_unique
    assert set(st["legislation"]) == {"s163 Road Traffic Act 1988"}
    assert st["latitude"].between(51.25, 51.72).all() and st["longitude"].between(-0.6, 0.35).all()
    assert (st["self_defined_ethnicity"] == "not_stated").any()
    assert (~st["found"] | st["searched"]).all()
    # officer-defined IC code mostly agrees with the self-defined one
    from harmlens.synth.reference import IC_MAIN

    s = st[st["self_defined_ethnicity"] != "not_stated"]
    agree = (s["officer_defined_ethnicity"] == s["self_defined_ethnicity"].map(IC_MAIN)).mean()
    assert 0.8 < agree < 0.95


def test_disparity_parameter_moves_the_ratio(stop_cities):
    assert abs(_ratio(stop_cities["none"]) - 1.0) < 0.15
    assert abs(_ratio(stop_cities["disp"]) - 2.0) < 0.3


def test_darkness_parameter_moves_the_odds(stop_cities):
    assert abs(np.log(_odds_ratio(stop_cities["none"]))) < np.log(1.2)
    assert abs(np.log(_odds_ratio(stop_cities["dark"]) / 2.0)) < np.log(1.25)


def test_same_clock_time_has_daylight_and_dark_stops(city):
    t = city.table("stops").merge(city.table("truth/stops"), on="stop_id")
    evening = t[t["occurred_at"].dt.hour.isin([17, 18, 19])]
    assert evening["daylight"].any() and (~evening["daylight"]).any()
    assert t["occurred_at"].dt.month.nunique() == 12


@pytest.mark.parametrize("when", ["2024-06-21T12:00:00", "2024-12-21T12:00:00", "2024-03-20T06:30:00", "2024-09-01T19:45:00"])
def test_sun_elevation_matches_astral(when):
    from astral import Observer
    from astral.sun import elevation

    utc = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    s = int(utc.timestamp())
    ours = float(sun_elevation(np.array([s]))[0])
    theirs = elevation(Observer(latitude=51.5, longitude=-0.12), utc, with_refraction=False)
    assert abs(ours - theirs) < 0.5


def test_local_time_conversion_handles_bst():
    local = np.array(["2024-07-01T12:00:00", "2024-01-01T12:00:00"], dtype="datetime64[s]").astype(np.int64)
    utc = london_local_to_utc(local)
    assert list(local - utc) == [3600, 0]
