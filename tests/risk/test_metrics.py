"""Metrics on hand-computed examples, against scikit-learn, and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from harmlens.risk import MetricsError, calibration_table, compare_with_baselines, error_rates_by_group, evaluate_scores


def _v(df, metric):
    return float(df.set_index("metric").loc[metric, "value"])


def test_hand_computed_example():
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.3, 0.1]
    harm = [10.0, 0.0, 30.0, 0.0]
    df = evaluate_scores(y, s, harm_next=harm, ks=(1, 2), n_boot=0)
    # pairs (pos, neg): (0.9>0.8) (0.9>0.1) (0.3<0.8) (0.3>0.1) -> 3/4
    assert _v(df, "auc") == pytest.approx(0.75)
    assert _v(df, "precision@1") == 1.0 and _v(df, "precision@2") == 0.5
    assert _v(df, "recall@2") == 0.5
    assert _v(df, "harm_share@1") == pytest.approx(0.25)
    assert _v(df, "brier") == pytest.approx(np.mean([(0.9 - 1) ** 2, 0.8**2, (0.3 - 1) ** 2, 0.1**2]))
    # AP: precision 1 at recall 0.5, precision 2/3 at recall 1
    assert _v(df, "pr_auc") == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    s = np.round(rng.random(2000) * 0.5 + 0.4 * y, 1)  # heavy ties
    df = evaluate_scores(y, s, n_boot=0)
    assert _v(df, "auc") == pytest.approx(roc_auc_score(y, s))
    assert _v(df, "pr_auc") == pytest.approx(average_precision_score(y, s))


def test_ties_at_the_cut_are_broken_at_random_not_in_favour():
    y = np.array([1] * 10 + [0] * 90)
    s = np.zeros(100)  # a baseline with no information
    df = evaluate_scores(y, s, ks=(10,), n_boot=0)
    assert _v(df, "auc") == 0.5
    assert _v(df, "precision@10") < 1.0


def test_bootstrap_interval_contains_value_and_narrows_with_n():
    rng = np.random.default_rng(1)
    widths = []
    for n in (300, 5000):
        y = (rng.random(n) < 0.3).astype(int)
        s = rng.random(n) + 0.5 * y
        df = evaluate_scores(y, s, n_boot=100).set_index("metric")
        assert df.loc["auc", "ci_low"] <= df.loc["auc", "value"] <= df.loc["auc", "ci_high"]
        widths.append(df.loc["auc", "ci_high"] - df.loc["auc", "ci_low"])
    assert widths[1] < widths[0]


def test_paired_difference_of_identical_scores_is_exactly_zero_and_better_model_wins():
    rng = np.random.default_rng(2)
    n = 3000
    y = (rng.random(n) < 0.1).astype(int)
    good = rng.random(n) * 0.5 + 0.5 * y
    weak = rng.random(n) * 0.9 + 0.1 * y
    out = compare_with_baselines(y, {"model": good, "same": good.copy(), "weak": weak}, n_boot=100)
    d = out["differences"].set_index(["other", "metric"])
    assert d.loc[("same", "precision@100"), "difference"] == 0
    assert d.loc[("same", "precision@100"), "ci_low"] == 0 and d.loc[("same", "precision@100"), "ci_high"] == 0
    assert d.loc[("weak", "precision@100"), "ci_low"] > 0
    assert d.loc[("weak", "precision@100"), "ratio"] > 1
    assert list(out["wide"].columns) == ["metric", "model", "same", "weak"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1, allow_nan=False)), min_size=4, max_size=60))
def test_invariants(rows):
    y = np.array([int(a) for a, _ in rows])
    s = np.array([b for _, b in rows])
    df = evaluate_scores(y, s, ks=(3,), n_boot=5).set_index("metric")
    for m in ("precision@3", "brier", "ece") + (("recall@3",) if y.sum() else ()):
        assert 0 <= df.loc[m, "value"] <= 1
    if y.sum() == 0:
        assert np.isnan(df.loc["recall@3", "value"]) and np.isnan(df.loc["auc", "value"])
    if 0 < y.sum() < len(y):
        auc = df.loc["auc", "value"]
        flipped = _v(evaluate_scores(y, -s, ks=(3,), n_boot=0), "auc")
        assert auc + flipped == pytest.approx(1.0)


def test_calibration_table_and_group_error_rates():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 0])
    p = np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.4, 0.1, 0.6])
    tab = calibration_table(y, p, n_bins=2)
    assert tab["n"].tolist() == [4, 4] and tab["observed"].tolist() == [0.0, 0.75]
    g = ["a", "a", "a", "a", "b", "b", "b", "b"]
    flag = p >= 0.5
    er = error_rates_by_group(y, p, g, flagged=flag).set_index("group")
    assert er.loc["a", "fpr"] == 0 and er.loc["a", "fnr"] == 0
    assert er.loc["b", "fpr"] == pytest.approx(1 / 3) and er.loc["b", "fnr"] == 1.0


def test_bad_inputs():
    with pytest.raises(MetricsError, match="outcomes but"):
        evaluate_scores([0, 1], [0.1])
    with pytest.raises(MetricsError, match="0/1"):
        evaluate_scores([0, 2], [0.1, 0.2])
    with pytest.raises(MetricsError, match="missing"):
        evaluate_scores([0, 1], [0.1, float("nan")])
    with pytest.raises(MetricsError, match="reference"):
        compare_with_baselines([0, 1], {"a": [0.1, 0.2]}, reference="b")
