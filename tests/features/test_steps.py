"""The feature query as named steps: the same table as the single f-string it replaced, and
each step checkable on its own."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from harmlens.engine import as_engine
from harmlens.features import build_features
from harmlens.features.core import features_pipeline, parse_as_of
from tests.features.test_features import make_world
from tests.risk.city import load_city, make_city

# sha256 of build_features (columns, index, dtypes and the float64 bytes) computed with the
# single-query version of the feature SQL before it became named steps: the steps must give
# exactly the same table, bit for bit.
BEFORE = {
    ("city", "2019-06-01"): "42669ebe5ca69a638b2178e078c4f53edd2701254955ec9ee79a147cf99190b6",
    ("city", "2021-01-01"): "2e3466f6597d791c2f9e2717c6832116af6116244a5b56148a8b11ec6afaa897",
    ("city", "2022-12-31"): "839d2aae0d0f5d7422ec544a4e2403004c90d0c91113fa3a1314989fd9b35d00",
    ("city subset", "2021-01-01"): "d983447ebc1b487a4b3707109da5f516d3ffec4ec17d236b324ac5bbe68c0485",
    ("world", "2022-01-01"): "c5fb4e2f7958ddb6c48c1d01def65d0401393d445881e7a04f4b52ef60951927",
    ("world", "2024-01-01"): "dbf75103e336f1134d5b6bfbf0de6818e6f345166c5c6e11cd9650c681893b39",
}
SUBSET = [f"S{k}" for k in range(0, 300, 7)]


def digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([list(map(str, df.columns)), list(map(str, df.index)), [str(t) for t in df.dtypes]]).encode())
    h.update(np.ascontiguousarray(df.to_numpy(dtype="float64")).tobytes())
    return h.hexdigest()


@pytest.fixture
def city(warehouse):
    load_city(warehouse, make_city(n_suspects=300, seed=3))
    return warehouse


@pytest.fixture
def world(warehouse):
    w, _ = make_world()
    w.load(warehouse)
    return warehouse


@pytest.mark.parametrize("at", ["2019-06-01", "2021-01-01", "2022-12-31"])
def test_city_features_are_unchanged(city, at):
    assert digest(build_features(city, at)) == BEFORE[("city", at)]


def test_city_subset_features_are_unchanged(city):
    assert digest(build_features(city, "2021-01-01", SUBSET)) == BEFORE[("city subset", "2021-01-01")]


@pytest.mark.parametrize("at", ["2022-01-01", "2024-01-01"])
def test_world_features_are_unchanged(world, at):
    # the hand-written world has charges, convictions, custody, orders and a DASH assessment
    assert digest(build_features(world, at)) == BEFORE[("world", at)]


def _rows(eng, name: str) -> pd.DataFrame:
    return eng.frame(f"SELECT * FROM {name}")


def test_steps_one_by_one(city):
    eng = as_engine(city)
    at = parse_as_of("2021-01-01")
    p = features_pipeline(city, at)
    counts = eng.run_steps(p, keep=True)
    try:
        assert list(counts) == p.names() and p.output == "features"
        n_events = eng.scalar("SELECT count(*) FROM events WHERE occurred_at < ? AND (reported_at IS NULL OR reported_at < ?)", [at, at])
        assert counts["ev"] == n_events > 0
        # every known mention is linked in this city, so pm is people on known events
        assert counts["pm"] == eng.scalar("SELECT count(*) FROM people p SEMI JOIN ev ON ev.event_id = p.event_id")
        # the scored population: one row per person, and the feature table has exactly those rows
        assert counts["pop"] == eng.scalar("SELECT count(DISTINCT person_id) FROM pop") == counts["features"]
        assert eng.scalar("SELECT count(*) FROM features f ANTI JOIN pop USING (person_id)") == 0
        # offences are (suspect, offence) pairs, each known before the date
        assert counts["off"] == eng.scalar("SELECT count(*) FROM (SELECT DISTINCT person_id, event_id FROM off)")
        assert eng.scalar("SELECT max(occurred_at) FROM off") < at
        # the per-person aggregates have one row per person and never more people than the population
        for step in ("oagg", "vagg", "vrep", "sagg", "eagg", "dob", "co", "ex", "des", "sgc"):
            assert counts[step] == eng.scalar(f"SELECT count(DISTINCT person_id) FROM {step}") <= counts["pop"], step
        assert counts["ex"] == counts["pop"]
        # no DASH assessment in this city
        assert counts["ra_p"] == counts["dash"] == 0
        p_active = _rows(eng, "des")["p_active"]
        assert ((p_active > 0) & (p_active <= 1)).all()
        # run step by step, the last step is the table the whole query gives
        whole = eng.frame(p).sort_values("person_id").reset_index(drop=True)
        stepped = _rows(eng, "features").sort_values("person_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(whole, stepped)
    finally:
        for n in reversed(p.names()):
            eng.drop(n)


def test_world_steps_with_dash_and_ids(world):
    eng = as_engine(world)
    eng.register_frame("_ids", pd.DataFrame({"person_id": ["P1", "P2"]}))
    try:
        p = features_pipeline(world, parse_as_of("2024-01-01"), ids="_ids")
        counts = eng.run_steps(p)
    finally:
        eng.unregister("_ids")
    assert p.output == "features_of_ids" and counts["features_of_ids"] == 2
    assert counts["ra_p"] >= 1  # the world's DASH assessment is read
    assert counts["evid"] >= 2 and counts["evid_cat"] == counts["evid"]  # a charge and a conviction
    assert not eng.tables() & set(p.names())  # run_steps cleans up after itself
