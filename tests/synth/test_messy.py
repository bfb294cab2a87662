"""The messy profile: the mess it promises is there, and the clean city is untouched by it."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest

from harmlens.synth import SynthConfig, generate
from harmlens.synth.config import SynthError

from .conftest import make_city


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    clean = make_city(root / "clean", people=8000, seed=4)
    messy = make_city(root / "messy", people=8000, seed=4, profile="messy")
    return clean, messy


def _mentions(city) -> pd.DataFrame:
    t = pd.read_parquet(city.path / "truth" / "mentions.parquet")
    return city.table("people").merge(t[["mention_id", "person_id"]], on="mention_id")


def test_victims_and_witnesses_lose_dates_of_birth(pair):
    clean, messy = (_mentions(c) for c in pair)
    for role, lo in (("victim", 0.35), ("witness", 0.45)):
        c = clean.loc[clean.role == role, "date_of_birth"].isna().mean()
        m = messy.loc[messy.role == role, "date_of_birth"].isna().mean()
        assert c < 0.1 and m > lo, (role, c, m)
    # suspects keep their dates as in the clean city
    assert messy.loc[messy.role == "suspect", "date_of_birth"].isna().mean() < 0.1


def test_juniors_and_common_names():
    import numpy as np

    from harmlens.synth.config import MessyConfig
    from harmlens.synth.messy import messy_population
    from harmlens.synth.population import build_population

    pop = build_population(np.random.default_rng(1), 20_000, 1_700_000_000, 6 * 365 * 86_400)
    mp = messy_population(np.random.default_rng(2), pop, MessyConfig())
    start = pop.household_members[0][pop.household]
    son = (np.arange(pop.n) != start) & ~mp.female & ~mp.female[start]
    jr = son & (mp.forename == mp.forename[start]) & (mp.surname == mp.surname[start]) & (mp.dob_days != mp.dob_days[start])
    # sons named after their fathers: same name and address, another date of birth
    assert jr.sum() > 5 * (son & (pop.forename == pop.forename[start])).sum() and jr.sum() >= 200
    assert (mp.postcode[jr] == mp.postcode[start[jr]]).all()
    # a few very common surnames (small name pools): the three commonest cover far more people
    top3 = lambda q: pd.Series(q.surname).value_counts().head(3).sum()  # noqa: E731
    assert top3(mp) > 1.5 * top3(pop)
    # only names change
    assert (mp.dob_days == pop.dob_days).all() and (mp.postcode == pop.postcode).all()


def test_names_transposed_and_params_record_the_profile(pair):
    _, messy = pair
    assert messy.params["config"]["profile"] == "messy"
    assert messy.params["derived"]["noise_applied"]["messy_name_swap"] > 0.005
    assert "profile" not in pair[0].params["config"]


def test_clean_is_byte_identical_whatever_the_messy_settings(tmp_path):
    from harmlens.synth.config import MessyConfig

    generate(SynthConfig(people=600, seed=2), tmp_path / "a")
    generate(SynthConfig(people=600, seed=2, messy=MessyConfig(junior=1.0)), tmp_path / "b")
    for f in ("people.parquet", "events.parquet", "truth/mentions.parquet"):
        assert filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False)


def test_unknown_profile_is_a_one_line_error():
    with pytest.raises(SynthError, match="--profile"):
        SynthConfig(people=200, profile="grimy").validate()
