"""Benchmark: calibration of the threshold test on data drawn from its own generative process.

Run: nice .venv/bin/python bench/bench_stops_threshold.py [--datasets 12] [--draws 250] [--first-seed 100]

For each dataset (seeds first-seed, first-seed+1, ...): two groups x 6 locations x 3,000 stops,
cell parameters drawn from the model's priors with group thresholds fixed (signal 1.8 for white,
1.0 for black), stops drawn one by one (the test file's independent simulator), then
``fit_threshold`` with NUTS (2 chains x draws after as many warm-up). Prints, per dataset, the true
and estimated gap in threshold probability (black minus white) with its 95% interval, whether the
intervals cover the truth, divergences and the fit time; then the coverage over datasets (a 95%
interval should cover about 95% of the time) and the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(Path(__file__).resolve().parent)]

from _machine import machine  # noqa: E402

from harmlens.stops.threshold import fit_threshold, prepare  # noqa: E402
from tests.stops.test_threshold import _simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=12)
    ap.add_argument("--draws", type=int, default=250)
    ap.add_argument("--first-seed", type=int, default=100)
    a = ap.parse_args()
    cover_gap, cover_g, errs, secs = [], [], [], []
    print("seed  true_gap  est_gap  95% interval        gap_covered  groups_covered  divergences  fit_s")
    for seed in range(a.first_seed, a.first_seed + a.datasets):
        df, true_p = _simulate({"white": 1.8, "black": 1.0}, n_loc=6, stops=3000, seed=seed)
        t0 = time.perf_counter()
        res = fit_threshold(prepare(df), reference="white", draws=a.draws, tune=a.draws, chains=2, seed=1)
        secs.append(time.perf_counter() - t0)
        g = res.groups.set_index("group")
        gap = true_p["black"] - true_p["white"]
        b = g.loc["black"]
        cg = bool(b["diff_lo"] <= gap <= b["diff_hi"])
        cgs = all(g.loc[k, "threshold_lo"] <= true_p[k] <= g.loc[k, "threshold_hi"] for k in true_p)
        cover_gap.append(cg)
        cover_g.append(cgs)
        errs.append(abs(b["diff_vs_reference"] - gap))
        print(f"{seed:4d}  {gap:+.3f}    {b['diff_vs_reference']:+.3f}   {b['diff_lo']:+.3f} to {b['diff_hi']:+.3f}    "
              f"{cg!s:11}  {cgs!s:14}  {res.diagnostics['divergences']:11d}  {secs[-1]:.1f}", flush=True)
    print(f"gap interval covered the truth in {sum(cover_gap)} of {len(cover_gap)} datasets; both group intervals in "
          f"{sum(cover_g)} of {len(cover_g)}; largest |estimated - true gap| {max(errs):.3f}; "
          f"median fit {np.median(secs):.1f} s")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
