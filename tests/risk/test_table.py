"""Table mode: a small table with written-down truth, exclusions, errors, and the COMPAS anchors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmlens.risk import TableError, fit_table
from harmlens.risk.table import prepare_inputs

# Everything in the ProPublica two-year file that is recorded after the COMPAS screening (later
# charges, custody, survival columns, the outcome itself), COMPAS's own outputs, identifiers,
# and race (a protected characteristic: never an input).
COMPAS_EXCLUDE = [
    "race", "id", "c_case_number", "r_case_number", "vr_case_number", "is_recid", "is_violent_recid", "violent_recid",
    "r_charge_degree", "r_days_from_arrest", "r_offense_date", "r_charge_desc", "r_jail_in", "r_jail_out",
    "vr_charge_degree", "vr_offense_date", "vr_charge_desc", "decile_score.1", "score_text", "v_decile_score",
    "v_score_text", "priors_count.1", "start", "end", "event", "c_jail_in", "c_jail_out", "in_custody", "out_custody",
    "compas_screening_date", "screening_date", "v_screening_date", "c_offense_date", "c_arrest_date",
    "type_of_assessment", "v_type_of_assessment", "age_cat",
]
PROPUBLICA_FILTER = ("days_b_screening_arrest <= 30 and days_b_screening_arrest >= -30 and is_recid != -1 "
                     "and c_charge_degree != 'O' and score_text != None")


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    priors = rng.poisson(2, n)
    group = rng.choice(["a", "b", "c"], n)
    z = -1 + 0.6 * priors + np.where(group == "b", 0.8, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return pd.DataFrame({"case": [f"C{i}" for i in range(n)], "priors": priors, "group": group, "protected": rng.choice(["x", "y"], n),
                         "leak": y, "noise": rng.normal(size=n), "y": y})


def test_prepare_inputs_one_hot_and_drops_identifiers():
    X, dropped = prepare_inputs(_table().drop(columns=["y"]))
    assert "case" in dropped and "identifier" in dropped["case"]
    assert {"group=b", "group=c"} <= set(X.columns) or {"group=a", "group=c"} <= set(X.columns)
    assert X.notna().all().all()


def test_fit_table_excludes_leaks_and_finds_the_true_factors(tmp_path):
    p = tmp_path / "t.csv"
    _table().to_csv(p, index=False)
    leaky = fit_table(p, target="y", exclude=["protected"], folds=5, n_boot=0)
    auc_leaky = leaky.metrics.query("score == 'boosting' and metric == 'auc'")["value"].iloc[0]
    assert auc_leaky > 0.99  # the outcome copied into an input is found at once
    res = fit_table(p, target="y", exclude=["protected", "leak"], folds=5, n_boot=20, baselines=["noise"], reference_logit=[["group"]])
    assert "protected" not in " ".join(res.inputs) and "leak" not in res.inputs and "noise" not in res.inputs
    m = res.metrics.set_index(["score", "metric"])["value"]
    assert 0.7 < m[("boosting", "auc")] < 0.99
    assert m[("logit", "auc")] > m[("logit(group)", "auc")] + 0.1
    assert m[("noise", "auc")] == pytest.approx(0.5, abs=0.05)
    inf = res.inference.set_index("feature")
    assert inf.loc["priors", "ci_low"] <= np.exp(0.6) <= inf.loc["priors", "ci_high"]
    assert inf.loc["group=c", "ci_low"] <= 1.0 <= inf.loc["group=c", "ci_high"] or inf.loc["group=a", "ci_low"] <= 1.0 <= inf.loc["group=a", "ci_high"]
    assert set(res.differences["other"]) == {"logit", "logit(group)", "noise"}


def test_table_errors(tmp_path):
    p = tmp_path / "t.csv"
    _table(n=200).to_csv(p, index=False)
    with pytest.raises(TableError, match="not in the table"):
        fit_table(p, target="nope")
    with pytest.raises(TableError, match="0/1"):
        fit_table(p, target="priors")
    with pytest.raises(TableError, match="unknown column"):
        fit_table(p, target="y", exclude=["nope"])
    with pytest.raises(TableError, match="no such file"):
        fit_table(tmp_path / "missing.csv", target="y")
    with pytest.raises(TableError, match="--where"):
        fit_table(p, target="y", where="nope > 1")
    r = CliRunner()
    from harmlens.cli import app

    out = r.invoke(app, ["risk", "fit-table", str(p), "--target", "nope"])
    assert out.exit_code != 0 and isinstance(out.exception, TableError)


def test_compas_beats_the_published_anchors(shared_data):
    """Race excluded and every post-screening column excluded: beat decile AUC 0.70 and the 2-feature logit 0.72."""
    path = shared_data / "compas" / "compas-scores-two-years.csv"
    res = fit_table(path, target="two_year_recid", exclude=COMPAS_EXCLUDE, folds=10, where=PROPUBLICA_FILTER,
                    baselines=["decile_score"], reference_logit=[["age", "priors_count"]], n_boot=100)
    assert res.n_rows == 6172
    assert not any(c.startswith("race") for c in res.inputs)
    m = res.metrics.set_index(["score", "metric"])["value"]
    assert m[("decile_score", "auc")] == pytest.approx(0.70, abs=0.015)
    assert m[("logit(age+priors_count)", "auc")] == pytest.approx(0.72, abs=0.015)
    assert m[("boosting", "auc")] > 0.73
    d = res.differences.set_index(["other", "metric"])
    assert d.loc[("decile_score", "auc"), "ci_low"] > 0
    assert d.loc[("logit(age+priors_count)", "auc"), "difference"] > 0


def _r_coded(n=2000, seed=3):
    """A table as R writes it: NA for missing. Missingness of 'income' carries signal (the truth
    below gives missing rows +1.0 on the log-odds), so a missing indicator must help the logit."""
    rng = np.random.default_rng(seed)
    priors = rng.poisson(2, n)
    miss = rng.random(n) < 0.35
    income = rng.normal(30, 5, n)
    region = rng.choice(["01", "02", "03"], n)
    z = -1.2 + 0.5 * np.minimum(priors, 6) + np.where(miss, 1.0, 0.0) + np.where(region == "02", 0.7, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    df = pd.DataFrame({
        "priors": np.where(priors >= 6, "6 or more", priors.astype(str)),
        "income": np.where(miss, "NA", np.round(income, 1).astype(str)),
        "region": region, "year": np.where(np.arange(n) % 4 == 0, 2015, 2014), "y": y,
    })
    return df


def test_r_coded_table_reads_numbers_and_flags_missing(tmp_path):
    p = tmp_path / "r.csv"
    _r_coded().to_csv(p, index=False)
    res = fit_table(p, target="y", exclude=["year"], folds=5, n_boot=0, read_options={"categorical": ["region"]})
    assert {"priors", "income", "income=missing", "region=02"} <= set(res.inputs) or \
        {"priors", "income", "income=missing"} <= set(res.inputs)
    assert not res.dropped
    assert res.reading["topcoded"]["priors"] > 0 and res.reading["markers"]["income"] > 600
    inf = res.inference.set_index("feature")
    assert inf.loc["income=missing", "ci_low"] <= np.exp(1.0) <= inf.loc["income=missing", "ci_high"]
    # without the indicator (missing filled by the median only) the logit loses the signal
    blind = _r_coded().assign(income=lambda d: pd.to_numeric(d.income, errors="coerce").fillna(30.0))
    res2 = fit_table(blind, target="y", exclude=["year"], folds=5, n_boot=0, read_options={"categorical": ["region"]})
    auc = lambda r: r.metrics.query("score == 'logit' and metric == 'auc'")["value"].iloc[0]  # noqa: E731
    assert auc(res) > auc(res2) + 0.01


def test_holdout_and_predictions(tmp_path):
    p = tmp_path / "r.csv"
    df = _r_coded()
    df.to_csv(p, index=False)
    res = fit_table(p, target="y", exclude=["year"], test_where="year == 2015", n_boot=0)
    assert res.mode == "holdout" and res.n_rows == int((df.year == 2015).sum()) and res.n_train == int((df.year == 2014).sum())
    pr = res.predictions
    assert len(pr) == res.n_rows and pr["y"].tolist() == df.y[df.year == 2015].tolist()
    assert pr["p_logit"].between(0, 1).all()
    with pytest.raises(TableError, match="--test-where"):
        fit_table(p, target="y", test_where="__import__('os').system('true')")
    with pytest.raises(TableError, match="without both outcomes"):
        fit_table(p, target="y", test_where="year == 1999")


def test_separation_is_reported_not_printed_as_a_number():
    df = _r_coded(n=1500).drop(columns=["priors"])
    df["rare"] = 0
    pos = df.index[df.y == 1][:12]
    df.loc[pos, "rare"] = 1
    res = fit_table(df, target="y", exclude=["year"], folds=5, n_boot=0)
    assert "rare" in res.separation and "outcome 1" in res.separation["rare"]
    assert "rare" not in set(res.inference.feature)
    assert (res.inference.odds_ratio < 1e6).all()


def test_cli_json_carries_inference_and_brier_has_four_places(tmp_path):
    import json

    p = tmp_path / "r.csv"
    _r_coded(n=800).to_csv(p, index=False)
    out_csv = tmp_path / "pred.csv"
    from harmlens.cli import app

    r = CliRunner()
    out = r.invoke(app, ["risk", "fit-table", str(p), "--target", "y", "--exclude", "year", "--n-boot", "10", "--format", "json",
                         "--test-where", "year == 2015", "--predict-out", str(out_csv), "--categorical", "region"])
    assert out.exit_code == 0, out.output
    js = json.loads(out.output)
    assert {"feature", "odds_ratio", "ci_low", "p_value"} <= set(js["inference"][0])
    assert js["mode"] == "holdout" and js["reading"]["declared"] == {"region": "categorical"}
    assert len(pd.read_csv(out_csv)) == js["n_rows"]
    out = r.invoke(app, ["risk", "fit-table", str(p), "--target", "y", "--exclude", "year", "--n-boot", "10", "--folds", "3"])
    assert out.exit_code == 0, out.output
    brier = [ln for ln in out.output.splitlines() if ln.strip().startswith("brier")][0]
    assert len(brier.split()[1].split(".")[1]) == 4
    out = r.invoke(app, ["risk", "fit-table", str(p), "--target", "y", "--predict-out", str(out_csv)])
    assert out.exit_code != 0 and "--predict-out needs --test-where" in str(out.exception or out.output)


def test_compas_written_by_r_gives_the_same_inputs(shared_data, tmp_path):
    """The COMPAS file with every empty cell written as R's NA yields exactly the inputs of the file as published."""
    from harmlens.risk.table import _where, read_table

    src = shared_data / "compas" / "compas-scores-two-years.csv"
    raw = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[])
    na = tmp_path / "na.csv"
    raw.replace("", "NA").to_csv(na, index=False)
    frames = []
    for p in (src, na):
        df = read_table(p)
        df = df[_where(df, PROPUBLICA_FILTER, "--where").to_numpy()].reset_index(drop=True)
        X, dropped = prepare_inputs(df.drop(columns=COMPAS_EXCLUDE + ["decile_score", "two_year_recid"]))
        frames.append((X, dropped))
    assert len(frames[0][0]) == 6172 and not frames[0][1]
    pd.testing.assert_frame_equal(frames[0][0], frames[1][0])
    assert frames[1][1] == {}


def test_rows_without_an_outcome_are_left_out_and_counted():
    df = _r_coded(n=600)
    df["y"] = df["y"].astype(str)
    df.loc[:9, "y"] = "NA"
    res = fit_table(df, target="y", exclude=["year"], folds=3, n_boot=0)
    assert res.n_rows == 590 and any("10 rows without a value in 'y'" in n for n in res.notes)
