"""Bands on a list come from the model's validation: they separate the top 20 unless the validation says not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harmlens.rank import build_offender_list
from harmlens.rank.offenders import FALLBACK_BANDS, RiskRankSettings
from harmlens.risk.bands import CUTS, derive_bands
from harmlens.warehouse import connect
from tests.risk.city import load_city, make_city


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from harmlens.risk import TrainSettings, train

    d = tmp_path_factory.mktemp("bands")
    con = connect(d / "city.duckdb")
    load_city(con, make_city(n_suspects=600, months=72, seed=1))
    res = train(con, TrainSettings(freq_months=6, n_boot=20), models_folder=d / "models")
    yield con, res
    con.close()


def _validation(con, res):
    """Predicted risk (registered model) and outcome on the validation date."""
    from harmlens.features import build_features, build_labels
    from harmlens.risk import load_bundle

    bundle, _ = load_bundle(con, res.version)
    at = res.metrics["validation_as_of"]
    X = build_features(con, at)
    t = bundle.target
    y = build_labels(con, at, t["horizon_days"], t["category"], t["threshold"]).reindex(X.index)["label"].fillna(0).to_numpy(dtype=int)
    return bundle.predict_risk(X), y


def test_bands_are_stored_with_the_model_and_borne_out_by_validation(city):
    con, res = city
    bands = res.metrics["bands"]
    assert len(bands) >= 2, "the synthetic city's history predicts its future: validation separates people"
    for b in bands:
        # the share of the band who went on to offend on the validation date lies inside its stated range
        assert b["low"] <= b["observed"] <= b["high"], b
    from harmlens.risk import load_bundle

    bundle, _ = load_bundle(con, res.version)
    assert bundle.bands == bands


def test_top_20_are_not_all_one_band_and_the_list_stores_its_bands(city):
    con, res = city
    as_of = res.metrics["validation_as_of"]
    out = build_offender_list(con, as_of)
    top = out["entries"].head(20)
    bands = res.metrics["bands"]
    lows = {b["name"]: b["low"] for b in bands}
    # each entry's band is the one its calibrated risk falls in
    for r, name in zip(top["risk"], top["band"]):
        assert r >= lows[name] and all(r < lows[n] for n in lows if lows[n] > lows[name])
    # not all one band, unless the validation says so: a band split inside the top 20's range of risk
    # (at their median) is one the validation date does not bear out
    if top["band"].nunique() < 2:
        p, y = _validation(con, res)
        split = float(np.median(top["risk"]))
        cuts = ((float((p < split).mean()), "upper half of the top 20"),) + CUTS
        names = [b["name"] for b in derive_bands(p, y, cuts=cuts)]
        assert "upper half of the top 20" not in names, (names, top[["risk", "band"]])
    params = json.loads(con.execute("SELECT params FROM priority_lists WHERE list_id = ?", [out["list_id"]]).fetchone()[0])
    assert [b["name"] for b in params["bands"]] == [b["name"] for b in bands]
    # the old fixed thresholds put every one of them in the top band
    old = np.where(top["risk"].to_numpy() >= FALLBACK_BANDS[0][0], "very high", "other")
    assert (old == "very high").mean() > 0.5


def test_settings_bands_override_the_model(city):
    con, res = city
    out = build_offender_list(con, res.metrics["validation_as_of"], settings=RiskRankSettings(bands=((0.0, "all"),), save=False))
    assert set(out["entries"]["band"]) == {"all"}
