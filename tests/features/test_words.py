"""The plain-words catalogue: every feature, metric and column has a label; chances are rounded honestly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harmlens.features import FEATURES
from harmlens.features.catalogue import harm_text, label, meaning, plain_columns, probability_text, unit, words


def test_every_feature_has_a_label_a_unit_and_a_meaning():
    for f in FEATURES:
        lab, u, m = words(f)
        assert lab and "_" not in lab and u and m == FEATURES[f], f
        assert "_" not in m.replace("as-of", ""), (f, m)  # meanings cite no raw names


def test_metrics_and_columns_in_words():
    assert label("precision@100") == "precision in the top 100" and "top 100" in meaning("precision@100")
    assert label("harm_share@20") == "harm caught in the top 20"
    assert label("auc") == "ranking accuracy (AUC)" and unit("auc").startswith("0.5 = chance")
    assert label("Black_per_1000") == "Black: per 1,000 residents" and label("White_stops") == "White: stops"
    assert label("ratio_low") == "ratio, 95% interval from" and label("n_any_3y") == "all allegations in the last 3 years"
    assert label("expected_harm") == "expected harm in the next year" and "custody" in unit("expected_harm")
    import pandas as pd

    df = plain_columns(pd.DataFrame(columns=["rate_per_1000", "ratio_vs_white", "Mixed_population"]))
    assert list(df.columns) == ["stops per 1,000 residents", "rate relative to White", "Mixed: residents"]


def test_probabilities_rounded_to_what_validation_supports():
    assert probability_text(0.99) == "over 95%" and probability_text(0.004) == "under 1%"
    assert probability_text(0.62) == "60%" and probability_text(0.63) == "65%" and probability_text(0.067) == "7%"
    assert probability_text(None) == "" and harm_text(412.5) == "412 days of custody equivalent"


@given(st.floats(0, 1))
def test_a_chance_is_never_shown_with_false_precision(p):
    t = probability_text(p)
    assert "." not in t and t.endswith("%")
    if 0.1 <= p <= 0.95:
        assert int(t[:-1]) % 5 == 0 and abs(int(t[:-1]) - 100 * p) <= 2.5 + 1e-9
