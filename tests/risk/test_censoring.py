"""Inverse probability of censoring weights, and the pipeline's use of the partly observed last horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmlens.risk import TrainSettings
from harmlens.risk.censoring import CensoringError, censoring_survival, ipcw_weights
from harmlens.risk.pipeline import PipelineError, training_rows

H = 365.0


def _cohort(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Rows with a risk score, event times depending on it, and administrative follow-up (snapshot dates)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    rate = np.exp(-1.2 + 0.8 * x) / H  # per day
    t = rng.exponential(1 / rate)
    # follow-up as in monthly snapshots: most rows see the whole horizon, the last year's rows less
    follow = np.where(rng.random(n) < 0.6, H, rng.integers(1, 12, n) * 30.4)
    T = np.where(t < follow, t, np.nan)
    return x, T, follow, float(np.mean(1 - np.exp(-rate * H)))


def test_weighted_labels_recover_the_horizon_probability_where_naive_labels_do_not():
    x, T, follow, truth = _cohort(200_000, 0)
    y, w = ipcw_weights(T, follow, H)
    assert abs(np.average(y, weights=w) - truth) < 0.005
    # the two naive readings of a cut-short follow-up are both biased
    assert np.mean(y) < truth - 0.03  # censored rows labelled 0
    known = (follow >= H) | ~np.isnan(T)
    assert np.mean(y[known]) > truth + 0.03  # censored rows without an outcome dropped, no weights
    # and it holds within strata of the score, so a learner gets calibrated risks
    for lo, hi in ((-9, -1), (-1, 1), (1, 9)):
        s = (x >= lo) & (x < hi)
        rate = np.exp(-1.2 + 0.8 * x[s]) / H
        assert abs(np.average(y[s], weights=w[s]) - np.mean(1 - np.exp(-rate * H))) < 0.01


def test_weights_are_zero_exactly_where_the_label_is_unknown():
    T = np.array([10.0, np.nan, np.nan, 100.0, np.nan])
    follow = np.array([H, H, 50.0, 200.0, 200.0])
    y, w = ipcw_weights(T, follow, H)
    assert y.tolist() == [1, 0, 0, 1, 0]
    assert (w > 0).tolist() == [True, True, False, True, False]
    assert w[w > 0].mean() == pytest.approx(1.0)
    # an outcome after the first censoring (day 50) counts for more than one before it
    assert w[3] > w[0]


def test_censoring_survival_is_kaplan_meier():
    times, G = censoring_survival(np.array([1.0, 2.0, 2.0, 3.0, 4.0]), np.array([False, True, False, True, False]))
    assert times.tolist() == [2.0, 3.0]
    assert G.tolist() == pytest.approx([1 - 1 / 4, (1 - 1 / 4) * (1 - 1 / 2)])


@pytest.mark.parametrize("T, follow, message", [
    ([np.nan], [0.0], "follow-up"),
    ([np.nan], [400.0], "follow-up"),
    ([60.0], [50.0], "outside its follow-up"),
    ([1.0, 2.0], [H], "same length"),
])
def test_bad_input_is_a_clear_error(T, follow, message):
    with pytest.raises(CensoringError, match=message):
        ipcw_weights(np.array(T), np.array(follow), H)


def _meta() -> tuple[pd.Series, pd.DataFrame]:
    as_of = pd.to_datetime(["2022-01-01", "2023-06-01", "2023-06-01", "2023-06-01", "2023-12-01"])
    meta = pd.DataFrame({"person_id": list("abcde"), "as_of": as_of,
                         "days_to_event": [20.0, 30.0, 200.0, np.nan, np.nan],
                         "followup_days": [H, H, H, H, 31.0], "harm_next": 0.0})
    return (meta["days_to_event"].notna()).astype(int).rename("label"), meta


def test_training_rows_never_use_an_outcome_after_the_follow_up_end():
    y, meta = _meta()
    cut = pd.Timestamp("2024-01-01")  # 214 days after 2023-06-01
    pos, yy, m, w = training_rows(y, meta, cut, TrainSettings(censoring="ipcw"))
    assert pos.tolist() == [0, 1, 2, 3, 4]
    # c's outcome (2023-06-01 + 200 days) is before the cut: kept; with a cut 100 days after June it is not known
    assert yy.tolist() == [1, 1, 1, 0, 0]
    assert (w > 0).tolist() == [True, True, True, False, False]
    pos, yy, m, w = training_rows(y, meta, pd.Timestamp("2023-09-09"), TrainSettings(censoring="ipcw"))
    assert pos.tolist() == [0, 1, 2, 3]
    assert yy.tolist() == [1, 1, 0, 0] and np.isnan(m["days_to_event"].iloc[2])
    assert (m["followup_days"].iloc[1:] <= 100).all()
    # drop: only rows whose whole horizon ends by the cut, labels untouched
    pos, yy, m, w = training_rows(y, meta, cut, TrainSettings(censoring="drop"))
    assert pos.tolist() == [0] and w is None
    with pytest.raises(PipelineError, match="unknown censoring"):
        training_rows(y, meta, cut, TrainSettings(censoring="guess"))


def _train(events_after_cut: bool, tmp_path, until: str, censoring: str = "ipcw"):
    from harmlens.risk import train
    from harmlens.warehouse import connect
    from tests.risk.city import load_city, make_city

    con = connect(tmp_path / f"city_{events_after_cut}_{censoring}.duckdb")
    load_city(con, make_city(n_suspects=200, months=72, seed=3))
    known = "occurred_at < ? AND coalesce(reported_at, occurred_at) < ?"
    if not events_after_cut:  # what a warehouse loaded on the cut date would hold
        con.execute(f"DELETE FROM events WHERE NOT ({known})", [until, until])
    # train up to the last event known on the cut (--until may not pass the cut warehouse's last event)
    last = con.execute(f"SELECT max(greatest(occurred_at, coalesce(reported_at, occurred_at))) FROM events WHERE {known}",
                       [until, until]).fetchone()[0]
    res = train(con, TrainSettings(freq_months=3, n_boot=0, censoring=censoring, until=f"{last:%Y-%m-%d}", models=("boosting", "cox")),
                models_folder=tmp_path / f"m_{events_after_cut}_{censoring}")
    rec = con.execute("SELECT data_hash, data_window FROM models").fetchone()
    card = res.card_md.read_text()
    con.close()
    return res, rec, card


@pytest.mark.parametrize("censoring, words", [("ipcw", "inverse probability of censoring"), ("hazard", "discrete-time hazard")])
def test_training_on_the_last_horizon_uses_nothing_after_the_cut(tmp_path, censoring, words):
    until = "2022-07-01"  # the city's events run to the end of 2022
    res, rec, card = _train(True, tmp_path, until, censoring)
    res_cut, rec_cut, _ = _train(False, tmp_path, until, censoring)
    # the same training rows and labels (hash of features, labels, people and dates) whether or not the
    # warehouse holds later events (the holdout's outcomes differ: offences reported after the cut)
    assert rec[0] == rec_cut[0]
    assert res.metrics["train_prevalence"] == res_cut.metrics["train_prevalence"]
    window = __import__("json").loads(rec[1])
    assert window["censoring"] == censoring
    # snapshots run into the last horizon before the cut (drop would stop a horizon earlier)
    assert pd.Timestamp(window["train_end"]) > pd.Timestamp(until) - pd.Timedelta(days=365)
    assert pd.Timestamp(window["validation_train_end"]) > pd.Timestamp(window["validation_as_of"]) - pd.Timedelta(days=365)
    assert words in card
    res_drop, rec_drop, card_drop = _train(True, tmp_path, until, "drop")
    assert res.n_rows > res_drop.n_rows
    assert words not in card_drop


def test_ipcw_with_a_court_threshold_is_refused(tmp_path):
    from harmlens.risk import train
    from harmlens.warehouse import connect
    from tests.risk.city import load_city, make_city

    con = connect(tmp_path / "c.duckdb")
    load_city(con, make_city(n_suspects=50, months=36, seed=1))
    with pytest.raises(PipelineError, match="threshold allegation"):
        train(con, TrainSettings(censoring="ipcw", threshold="charged"))
    con.close()
