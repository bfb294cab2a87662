"""Benchmark: GroupFrame (stratified bootstrap) against fairlearn's MetricFrame bootstrap.

Prints the machine, then seconds per call for several table sizes. Run alone:
    nice .venv/bin/python bench/bench_audit_groupframe.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from harmlens.audit import GroupFrame


def table(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.choice(["Asian", "Black", "Mixed", "White", "Other", "not stated"], size=n,
                   p=[0.2, 0.13, 0.05, 0.5, 0.07, 0.05])
    s = rng.random(n)
    y = (rng.random(n) < s * 0.6).astype(int)
    p = (s > 0.7).astype(int)
    return y, p, s, g


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python={platform.python_version()} load={os.getloadavg()[0]:.1f}")
    metrics = ["selection_rate", "false_positive_rate", "false_negative_rate", "precision", "auc", "calibration_oe"]
    for n in (10_000, 100_000, 1_000_000):
        y, p, s, g = table(n)
        t = time.perf_counter()
        GroupFrame(metrics, y, p, sensitive_features=g, y_score=s, n_boot=500)
        print(f"GroupFrame n={n:>9,} metrics=6 groups=6 n_boot=500: {time.perf_counter() - t:7.2f} s")
    from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate

    n = 10_000
    y, p, s, g = table(n)
    t = time.perf_counter()
    MetricFrame(metrics={"sr": selection_rate, "fpr": false_positive_rate, "fnr": false_negative_rate},
                y_true=y, y_pred=p, sensitive_features=g, n_boot=100, ci_quantiles=[0.025, 0.975], random_state=0)
    fl = time.perf_counter() - t
    t = time.perf_counter()
    GroupFrame(["selection_rate", "false_positive_rate", "false_negative_rate"], y, p, sensitive_features=g, n_boot=100)
    gfs = time.perf_counter() - t
    print(f"n={n:,} 3 metrics n_boot=100: fairlearn MetricFrame {fl:.2f} s, GroupFrame {gfs:.2f} s "
          f"({fl / gfs:.0f}x)")


if __name__ == "__main__":
    main()
