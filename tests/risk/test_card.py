"""The model card in plain words: no raw names, metrics at k only where k is well below n, the harm policy stated."""

from __future__ import annotations

import re

import pandas as pd

from harmlens.features import FEATURES
from harmlens.risk.card import CardInputs, card_html, card_markdown

RAW = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # snake_case identifiers such as n_any_3y, ratio_low


def _inputs(n: int = 673) -> CardInputs:
    wide = pd.DataFrame({
        "metric": ["auc", "precision@100", "harm_share@100", "precision@1000", "recall@1000"],
        "boosting": ["0.800 [0.7, 0.9]", "0.31", "0.5", "1.000", "1.000"],
        "V100": ["0.700 [0.6, 0.8]", "0.25", "0.4", "1.000", "1.000"],
    })
    diffs = pd.DataFrame({"metric": ["auc", "precision@1000"], "reference": ["boosting"] * 2, "other": ["V100"] * 2,
                          "difference": [0.1, 0.0], "ci_low": [0.05, 0.0], "ci_high": [0.15, 0.0]})
    groups = {"ethnicity": pd.DataFrame({"group": ["Black", "White"], "n": [100, 300], "fpr": [0.1, 0.08],
                                          "fnr": [0.3, 0.35], "calibration_ratio": [1.1, 0.95]})}
    return CardInputs(
        version="v1", created_at="2025-01-01", primary="boosting",
        target={"category": "vawg", "horizon_days": 365, "threshold": "allegation"},
        window={"train_start": "2020-01-01", "train_end": "2024-01-01"}, data_hash="abc", n_train_rows=1000,
        n_train_people=400, train_prevalence=0.1, features={f: FEATURES[f] for f in list(FEATURES)[:30]},
        params={"n_boot": 100, "calibration": "isotonic"}, validation_wide=wide, differences=diffs, groups=groups, validation_n=n, validation_positives=60,
    )


def test_metrics_at_k_only_where_k_is_well_below_n():
    md = card_markdown(_inputs(673))
    assert "precision in the top 100" in md and "harm caught in the top 100" in md
    assert "top 1000" not in md.split("## Validation on the holdout date")[1].split("left out:")[0]
    assert "left out: precision in the top 1000, recall in the top 1000" in md
    md_big = card_markdown(_inputs(20000))
    assert "precision in the top 1000" in md_big and "left out" not in md_big


def test_no_raw_names_in_tables_and_the_harm_policy_is_stated():
    md = card_markdown(_inputs())
    raw = sorted(set(RAW.findall(md)))  # neither in tables nor in the text
    assert raw == [], raw
    assert "## Harm policy by outcome" in md and "counts nothing when acquitted" in md
    assert "V100 baseline keeps its published definition" in md
    html = card_html(_inputs())
    assert "ratio_low" not in html and "n_any_3y" not in html and "false positive rate" in html
