"""Benchmark: table mode on the ProPublica COMPAS two-year file against the published anchors.

Race is excluded as an input, and so is every column recorded after the COMPAS screening (later
charges r_*/vr_*, is_recid, custody dates, the survival columns start/end/event) and COMPAS's own
outputs (decile scores, score text). Rows: ProPublica's standard filters (6,172 people). Anchors:
COMPAS decile score AUC about 0.70; a two-feature logistic regression (age, priors) about 0.72.

    nice .venv/bin/python bench/bench_risk_compas.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _machine import machine  # noqa: E402

from tests.risk.test_table import COMPAS_EXCLUDE, PROPUBLICA_FILTER  # noqa: E402


def main() -> None:
    from harmlens.risk import fit_table

    shared = Path(os.environ.get("HARMLENS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    path = shared / "compas" / "compas-scores-two-years.csv"
    if not path.exists():
        print(f"COMPAS file not found at {path}: set HARMLENS_SHARED_DATA")
        return
    t = time.perf_counter()
    res = fit_table(path, target="two_year_recid", exclude=COMPAS_EXCLUDE, folds=10, where=PROPUBLICA_FILTER,
                    baselines=["decile_score"], reference_logit=[["age", "priors_count"]], n_boot=200)
    s = time.perf_counter() - t
    print(f"machine: {machine()}")
    print(f"{res.n_rows:,} people, {res.positives:,} re-arrested within two years; 10-fold CV, 200 bootstrap resamples; {s:.0f}s")
    m = res.metrics[res.metrics.metric.isin(["auc", "pr_auc", "brier", "ece"])]
    print(m.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    d = res.differences[res.differences.metric == "auc"]
    print(d[["reference", "other", "reference_value", "other_value", "difference", "ci_low", "ci_high"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
