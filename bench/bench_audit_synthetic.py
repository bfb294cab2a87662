"""Benchmark: does the audit flag the synthetic city's unequal policing, and only when it is on?

For several seeds and policing-recording multipliers for Black offenders (1 = off), builds the
synthetic city (truth links), applies harm weights, makes the V100 list of the top 500 at large
as of 2024-01-01 and runs the audit. Prints, per run, the Black share of the
list over the Black share of residents with its interval (simultaneous over the groups, as the
flag rule uses) and whether it was flagged, and whether the old rule (whole interval above 1.25)
would have flagged it. The summary gives, per multiplier, the share of seeds on which Black was
flagged under each rule, and in the fair city (multiplier 1) the share of seeds with any
composition flag for any group (a false flag).

    nice .venv/bin/python bench/bench_audit_synthetic.py [people] [seeds]
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def run(people: int, seed: int, mult: float, tmp: Path) -> dict:
    from harmlens.audit.core import audit_scored
    from harmlens.audit.groups import population_counts
    from harmlens.audit.warehouse import load_scored
    from harmlens.contract.load import ingest
    from harmlens.harm.offence_map import apply_offence_map
    from harmlens.synth import SynthConfig, generate, link_by_truth
    from harmlens.warehouse import connect

    t0 = time.perf_counter()
    out = tmp / f"c{seed}_{mult}"
    cfg = SynthConfig(people=people, seed=seed, policing_bias=mult != 1.0,
                      policing_group_multipliers={"Black": mult} if mult != 1.0 else {},
                      policing_area_multipliers={}, vawg_offender_share_male=0.3, mean_rate=0.03, history_years=4,
                      stops_per_1000=0.0)
    generate(cfg, out)
    con = connect(out / "wh.duckdb")
    ingest(con, out)
    link_by_truth(con, out)
    apply_offence_map(con)
    sc, _, _ = load_scored(con, as_of="2024-01-01", top=500)
    res = audit_scored(sc, population=population_counts(con), n_boot=300, dimensions=("ethnicity",))
    con.close()
    sh = res.dimensions["ethnicity"].shares
    # the interval the flag rule uses: simultaneous over the stated groups (Bonferroni)
    c = sh.compare("list", "population", level=1 - 0.05 / len(sh.groups)).loc["Black"]
    flagged = any(f["group"] == "Black" for f in res.flagged("ethnicity", "list_vs_population"))
    others = [f["group"] for f in res.flagged("ethnicity", "list_vs_population") if f["group"] != "Black"]
    return {"seed": seed, "multiplier": mult, "scored": len(sc), "ratio": c["value"], "low": c["low"],
            "high": c["high"], "black_flagged": flagged, "old_rule": bool(c["low"] > 1.25),
            "other_flags": ",".join(others), "any_flag": bool(res.flagged("ethnicity", "list_vs_population")),
            "headline": res.headline(), "seconds": time.perf_counter() - t0}


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 120_000
    seeds = range(1, 1 + (int(sys.argv[2]) if len(sys.argv) > 2 else 5))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import machine

    print(f"machine: {machine()}; people={people:,}")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for mult in [float(m) for m in (sys.argv[3].split(",") if len(sys.argv) > 3 else ["1.0", "1.5", "2.0", "3.0"])]:
            for seed in seeds:
                rows.append(run(people, seed, mult, Path(d)))
                r = rows[-1]
                print(f"mult={mult:.1f} seed={seed} scored={r['scored']:5d} Black list/residents "
                      f"{r['ratio']:.2f} [{r['low']:.2f}, {r['high']:.2f}] flagged={r['black_flagged']} "
                      f"(old rule {r['old_rule']}) other flags={r['other_flags'] or '-'} ({r['seconds']:.0f} s): {r['headline']}",
                      flush=True)
    df = pd.DataFrame(rows)
    print(df.groupby("multiplier")[["ratio", "low", "black_flagged", "old_rule", "any_flag"]].mean().round(2).to_string())
    between = df[(df.low > 1) & (df.low < 1.25) & (df.ratio > 1.25)]
    print(f"runs with Black's lower bound between 1 and 1.25 and ratio past 1.25: {len(between)}, "
          f"flagged {int(between.black_flagged.sum())} (old rule {int(between.old_rule.sum())})")


if __name__ == "__main__":
    main()
