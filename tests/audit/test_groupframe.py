"""GroupFrame: point estimates equal fairlearn/sklearn, intervals behave, warnings name small groups."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.audit import GroupFrame, GroupFrameError
from harmlens.errors import HarmlensError


def _toy():
    # Written-down truth. Group A: 4 people; group B: 6 people.
    # A: y=[1,1,0,0] pred=[1,0,1,0] -> FPR 1/2, FNR 1/2, selection 2/4, precision 1/2
    # B: y=[1,0,0,0,0,1] pred=[1,1,1,0,0,1] -> FPR 2/4, FNR 0/2, selection 4/6, precision 2/4
    y = [1, 1, 0, 0, 1, 0, 0, 0, 0, 1]
    p = [1, 0, 1, 0, 1, 1, 1, 0, 0, 1]
    g = ["A"] * 4 + ["B"] * 6
    return y, p, g


def test_written_down_truth():
    y, p, g = _toy()
    gf = GroupFrame(["selection_rate", "false_positive_rate", "false_negative_rate", "precision"], y, p,
                    sensitive_features=pd.Series(g, name="grp"), n_boot=50, min_group_size=1, min_support=1)
    bg = gf.by_group
    assert bg.index.name == "grp"
    assert bg.loc["A"].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert bg.loc["B"].tolist() == pytest.approx([4 / 6, 0.5, 0.0, 0.5])
    assert gf.overall["selection_rate"] == pytest.approx(0.6)
    assert gf.overall["false_positive_rate"] == pytest.approx(3 / 6)
    assert gf.difference()["selection_rate"] == pytest.approx(4 / 6 - 0.5)
    assert gf.ratio()["selection_rate"] == pytest.approx(0.5 / (4 / 6))
    assert gf.ratio(reference="A").loc["B", "selection_rate"] == pytest.approx(4 / 3)
    assert gf.difference(reference="A").loc["B", "false_negative_rate"] == pytest.approx(-0.5)
    assert gf.counts.to_dict() == {"A": 4, "B": 6}
    assert gf.support.loc["B", "false_negative_rate"] == 2


def test_matches_fairlearn_and_sklearn():
    from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import precision_score, roc_auc_score

    rng = np.random.default_rng(3)
    n = 900
    g = rng.choice(["x", "y", "z"], size=n, p=[0.5, 0.3, 0.2])
    s = rng.random(n).round(2)  # ties on purpose
    y = (rng.random(n) < s).astype(int)
    p = (s > 0.6).astype(int)
    gf = GroupFrame(["selection_rate", "false_positive_rate", "false_negative_rate", "precision", "auc"],
                    y, p, sensitive_features=g, y_score=s, n_boot=20)
    mf = MetricFrame(metrics={"selection_rate": selection_rate, "false_positive_rate": false_positive_rate,
                              "false_negative_rate": false_negative_rate, "precision": precision_score},
                     y_true=y, y_pred=p, sensitive_features=g)
    pd.testing.assert_frame_equal(gf.by_group[mf.by_group.columns].astype(float), mf.by_group.astype(float),
                                  check_names=False)
    for grp in ["x", "y", "z"]:
        m = g == grp
        assert gf.by_group.loc[grp, "auc"] == pytest.approx(roc_auc_score(y[m], s[m]))
    assert gf.overall["auc"] == pytest.approx(roc_auc_score(y, s))
    assert gf.difference()["false_positive_rate"] == pytest.approx(mf.difference()["false_positive_rate"])
    assert gf.ratio()["selection_rate"] == pytest.approx(mf.ratio()["selection_rate"])


def test_intervals_cover_and_narrow_with_size():
    rng = np.random.default_rng(0)
    g = np.array(["big"] * 4000 + ["small"] * 100)
    y = (rng.random(4100) < 0.3).astype(int)
    p = (rng.random(4100) < 0.4).astype(int)
    gf = GroupFrame(["selection_rate"], y, p, sensitive_features=g, n_boot=300, random_state=1)
    ci = gf.ci
    for grp in ["big", "small"]:
        lo, hi = ci.loc[(grp, "selection_rate")]
        assert lo <= gf.by_group.loc[grp, "selection_rate"] <= hi
    w_big = np.diff(ci.loc[("big", "selection_rate")].to_numpy())[0]
    w_small = np.diff(ci.loc[("small", "selection_rate")].to_numpy())[0]
    # binomial: width scales with 1/sqrt(n): sqrt(40) ~ 6.3 times wider for the small group
    assert 4 < w_small / w_big < 9
    # the same seed gives the same intervals; another seed different ones
    again = GroupFrame(["selection_rate"], y, p, sensitive_features=g, n_boot=300, random_state=1)
    pd.testing.assert_frame_equal(gf.ci, again.ci)
    other = GroupFrame(["selection_rate"], y, p, sensitive_features=g, n_boot=300, random_state=2)
    assert not gf.ci.equals(other.ci)


def test_small_groups_and_undefined_metrics_are_warned():
    y = [0] * 40 + [1, 0, 0]
    p = [0] * 40 + [1, 1, 0]
    g = ["big"] * 40 + ["tiny"] * 3
    gf = GroupFrame(["selection_rate", "false_negative_rate"], y, p, sensitive_features=pd.Series(g, name="borough"),
                    n_boot=10)
    text = " | ".join(gf.warnings)
    assert "borough 'tiny': only 3 people (< 30)" in text
    assert "borough 'big': false_negative_rate is undefined" in text
    assert not gf.reliable.loc["tiny"].any()
    assert np.isnan(gf.by_group.loc["big", "false_negative_rate"])
    # by default the unreliable group does not decide the between-group difference
    assert gf.difference()["selection_rate"] != gf.difference(reliable_only=False)["selection_rate"]


def test_missing_labels_stay_visible():
    gf = GroupFrame(["selection_rate"], [0, 1, 1], [0, 1, 0], sensitive_features=["a", None, "a"], n_boot=0)
    assert "(missing)" in gf.groups
    assert np.isnan(gf.ci["low"]).all()


def test_to_dict_is_json_safe_and_to_frame_long():
    y, p, g = _toy()
    gf = GroupFrame(["false_negative_rate", "precision"], y, p, sensitive_features=g, n_boot=30)
    d = gf.to_dict()
    text = json.dumps(d, allow_nan=False)  # NaN would fail here
    assert json.loads(text)["by_group"]["B"]["false_negative_rate"] == 0.0
    f = gf.to_frame()
    assert list(f.columns) == ["feature", "group", "metric", "value", "low", "high", "n", "support", "reliable"]
    assert len(f) == 2 * (1 + 2)
    assert f.iloc[0]["group"] == "(overall)"


def test_custom_callable_metric():
    def mean_pred(y_true, y_pred):
        return float(np.mean(y_pred))

    y, p, g = _toy()
    gf = GroupFrame({"mp": mean_pred, "sr": "selection_rate"}, y, p, sensitive_features=g, n_boot=40, random_state=5)
    pd.testing.assert_series_equal(gf.by_group["mp"], gf.by_group["sr"], check_names=False)
    # both evaluated on the same replicate weights, so the intervals agree too
    np.testing.assert_allclose(gf.ci.xs("mp", level="metric").to_numpy(), gf.ci.xs("sr", level="metric").to_numpy())


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"metrics": ["nope"]}, "unknown metric"),
        ({"metrics": ["auc"]}, "needs y_score"),
        ({"y_pred": [0, 1]}, "different lengths"),
        ({"y_true": [0, 2, 1]}, "0/1"),
    ],
)
def test_bad_input_is_a_harmlens_error(kwargs, msg):
    args = {"metrics": ["selection_rate"], "y_true": [0, 1, 1], "y_pred": [0, 1, 0]}
    args.update(kwargs)
    with pytest.raises(HarmlensError, match=msg):
        GroupFrame(args.pop("metrics"), args.pop("y_true"), args.pop("y_pred"), sensitive_features=["a", "b", "a"],
                   n_boot=5)
    gf = GroupFrame(["selection_rate"], [0, 1], [0, 1], sensitive_features=["a", "b"], n_boot=5)
    with pytest.raises(GroupFrameError, match="unknown group 'c'"):
        gf.ratio(reference="c")


def test_from_rates_poisson_disproportionality():
    # 80 stops per 20,000 Black residents = 4.0 per 1,000; 100 per 100,000 White = 1.0 per 1,000
    r = GroupFrame.from_rates(pd.Series({"White": 100, "Black": 80, "Asian": 3}, name="stops"),
                              pd.Series({"White": 100_000, "Black": 20_000, "Asian": 5_000}), per=1000,
                              feature="ethnicity")
    assert r.by_group["stops"].to_dict() == pytest.approx({"Asian": 0.6, "Black": 4.0, "White": 1.0})
    assert r.ratio(reference="White").loc["Black", "stops"] == pytest.approx(4.0)
    lo, hi = r.ratio_ci(reference="White").loc[("Black", "stops")]
    assert lo < 4.0 < hi and lo > 2.5 and hi < 6.5
    assert r.overall["stops"] == pytest.approx(183 / 125_000 * 1000)
    assert any("'Asian': stops rests on 3" in w for w in r.warnings)
    with pytest.raises(GroupFrameError, match="no denominator"):
        GroupFrame.from_rates(pd.Series({"X": 1}), pd.Series({"Y": 10}))


def test_from_shares_the_78_vs_27_test():
    s = GroupFrame.from_shares(pd.DataFrame({"list": {"Black": 78, "White": 22},
                                             "base": {"Black": 2700, "White": 7300}}))
    assert s.by_group.loc["Black", "list"] == pytest.approx(0.78)
    c = s.compare("list", "base")
    assert c.loc["Black", "value"] == pytest.approx(0.78 / 0.27)
    assert c.loc["Black", "low"] > 1.0  # clearly over-represented even with 100 on the list
    assert s.overall.to_dict() == {"list": 100.0, "base": 10000.0}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("abc")), min_size=1, max_size=80),
       st.integers(0, 2**16))
def test_invariants(rows, seed):
    y, p, g = map(list, zip(*rows))
    gf = GroupFrame(["selection_rate", "false_positive_rate", "base_rate"], y, p, sensitive_features=g, n_boot=25,
                    random_state=seed, min_group_size=1, min_support=1)
    bg = gf.by_group.to_numpy()
    ok = ~np.isnan(bg)
    assert ((bg[ok] >= 0) & (bg[ok] <= 1)).all()
    # overall selection rate is the count-weighted mean of the groups'
    assert gf.overall["selection_rate"] == pytest.approx(
        float((gf.by_group["selection_rate"] * gf.counts).sum() / gf.counts.sum()))
    ci = gf.ci.dropna()
    assert (ci["low"] <= ci["high"] + 1e-12).all()
    for grp in gf.groups:
        assert gf.ratio(reference=grp).loc[grp].dropna().eq(1.0).all()
        assert gf.difference(reference=grp).loc[grp].dropna().eq(0.0).all()
    json.dumps(gf.to_dict(), allow_nan=False)
