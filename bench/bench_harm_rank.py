"""Benchmark: harm apply and the V100 / RFG / RFH rankings on a generated warehouse.

Run: nice .venv/bin/python bench/bench_harm_rank.py [--offences 500000] [--persons 50000]

The warehouse is generated here (random offences over the shared code list, one suspect and one
victim each, links written directly), so the benchmark needs no other stage. Prints the figures
and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmlens.harm import apply_offence_map, rank
from harmlens.harm.offence_map import _read_data
from harmlens.warehouse import connect


def build(con, n_off: int, n_persons: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    codes = _read_data("offence_codes.csv")
    codes = codes[codes["source"] == "shared"]
    pick = rng.integers(0, len(codes), n_off)
    start = np.datetime64("2019-01-01T00:00")
    minutes = rng.integers(0, 6 * 365 * 24 * 60, n_off)
    ev = pd.DataFrame({
        "event_id": [f"E{i}" for i in range(n_off)],
        "source": "crime",
        "event_type": "offence",
        "offence_code": codes["code"].to_numpy()[pick],
        "offence_description": codes["description"].to_numpy()[pick],
        "occurred_at": start + minutes.astype("timedelta64[m]"),
        "outcome": rng.choice(["unknown", "nfa", "charged", "convicted"], n_off, p=[0.6, 0.25, 0.1, 0.05]),
        "domestic": rng.random(n_off) < 0.35,
    })
    # a few offences with no code and a description only, and some unknown codes
    ev.loc[ev.sample(frac=0.02, random_state=1).index, "offence_code"] = None
    ev.loc[ev.sample(frac=0.002, random_state=2).index, "offence_code"] = "ZZ9"
    # suspects: heavy-tailed (a few prolific), victims uniform
    sus = (rng.pareto(1.5, n_off) * 50).astype(int) % n_persons
    vic = rng.integers(0, n_persons, n_off)
    ppl = pd.DataFrame({
        "mention_id": [f"M{i}" for i in range(2 * n_off)],
        "event_id": np.concatenate([ev["event_id"], ev["event_id"]]),
        "role": ["suspect"] * n_off + ["victim"] * n_off,
        "sex": ["male"] * n_off + list(rng.choice(["female", "male"], n_off, p=[0.8, 0.2])),
    })
    links = pd.DataFrame({
        "mention_id": ppl["mention_id"],
        "person_id": [f"P{i}" for i in np.concatenate([sus, vic])],
        "method": "exact",
        "linked_at": pd.Timestamp("2025-01-01"),
    })
    # custody for 2% of persons around the cut date
    cust_p = rng.choice(n_persons, n_persons // 50, replace=False)
    cust = pd.DataFrame({
        "event_id": [f"K{i}" for i in range(len(cust_p))], "source": "custody", "event_type": "custody",
        "occurred_at": pd.Timestamp("2024-10-01"), "ends_at": pd.Timestamp("2025-06-01"),
    })
    cust_m = pd.DataFrame({"mention_id": [f"KM{i}" for i in range(len(cust_p))], "event_id": cust["event_id"], "role": "subject"})
    cust_l = pd.DataFrame({"mention_id": cust_m["mention_id"], "person_id": [f"P{p}" for p in cust_p], "method": "exact",
                           "linked_at": pd.Timestamp("2025-01-01")})
    con.execute("CREATE TABLE IF NOT EXISTS links (mention_id VARCHAR PRIMARY KEY, person_id VARCHAR, method VARCHAR, linked_at TIMESTAMP)")
    for name, df in (("ev", ev), ("cu", cust)):
        con.register(name, df)
        cols = ", ".join(df.columns)
        con.execute(f"INSERT INTO events ({cols}) SELECT {cols} FROM {name}")
        con.unregister(name)
    for df in (ppl, cust_m):
        con.register("pp", df)
        cols = ", ".join(df.columns)
        con.execute(f"INSERT INTO people ({cols}) SELECT {cols} FROM pp")
        con.unregister("pp")
    for df in (links, cust_l):
        con.register("ll", df)
        con.execute("INSERT INTO links SELECT * FROM ll")
        con.unregister("ll")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--offences", type=int, default=500_000)
    ap.add_argument("--persons", type=int, default=50_000)
    a = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} python={platform.python_version()}")
    with tempfile.TemporaryDirectory() as d:
        con = connect(Path(d) / "bench.duckdb")
        t = time.perf_counter()
        build(con, a.offences, a.persons)
        print(f"build: {a.offences:,} offences, {a.persons:,} persons in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        res = apply_offence_map(con)
        dt = time.perf_counter() - t
        print(f"harm apply (cchi): {res.events:,} offence events in {dt:.1f} s ({res.events / dt:,.0f} events/s); "
              f"unmapped {res.unmapped:,}, unweighted {res.unweighted:,}")
        for method in ("v100", "rfg", "rfh"):
            t = time.perf_counter()
            r = rank(con, method, "2025-01-01", top=100)
            print(f"rank {method}: {r.scored:,} people scored, top 100 + {len(r.not_at_large)} not at large in {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        r = rank(con, "rfh", "2025-01-01", top=100, weights="severity")
        print(f"rank rfh --weights severity (on the fly, no apply): {time.perf_counter() - t:.2f} s")
        con.close()


if __name__ == "__main__":
    main()
