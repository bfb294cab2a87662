"""Benchmark: ``analyse_stops`` on 10 million stops (target: under 2 minutes on 2 cores).

Run: nice .venv/bin/python bench/bench_stops_analyse.py [--stops 10000000] [--keep DB]

Stops are generated here with numpy (two years of London stops: 19 self-defined codes plus
'not stated', IC codes, boroughs, locations, searches and finds, and a veil-of-darkness effect
of daylight odds 1.2 for Black vs White) and written straight into a warehouse ``stops`` table.
The timed part is the whole analysis: counts, rates and ratios with census denominators,
agreement matrix, five breakdowns, the veil-of-darkness test with and without 5 km location
cells, and the outcome test. Prints the figures and the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

CODES = ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "M1", "M2", "M3", "M4", "W1", "W2", "W3", "W4", "W5", "O1", "O9"]
# Rough London 2021 shares by code, then a stop multiplier for Black codes.
SHARES = np.array([6.6, 3.3, 3.7, 1.7, 4.6, 3.9, 7.9, 2.1, 1.5, 0.9, 1.2, 1.7, 36.8, 1.8, 0.1, 0.5, 14.7, 1.6, 4.8])
IC_OF = {"A": "IC4", "B": "IC3", "M": "IC3", "W": "IC1", "O": "IC6"}
BOROUGHS = ["Barnet", "Brent", "Camden", "Croydon", "Ealing", "Hackney", "Lambeth", "Newham", "Southwark", "Westminster"]
POP = {"White": 4_731_172, "Black": 1_188_370, "Asian": 1_817_640, "Mixed": 505_775, "Other": 556_768}


def generate(con, n: int, seed: int = 0, chunk: int = 1_000_000) -> None:
    from harmlens.stops.vod import sun_minutes

    rng = np.random.default_rng(seed)
    start = date(2023, 1, 1)
    days = 730
    sun = sun_minutes([start + timedelta(days=d) for d in range(days)], 51.5074, -0.1278).set_index("date")
    sunset = sun["sunset_minute"].to_numpy()
    base_p = SHARES / SHARES.sum()
    black = np.array([c.startswith("B") for c in CODES])
    white = np.array([c.startswith("W") for c in CODES])
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        day = rng.integers(0, days, m)
        minute = rng.integers(0, 1440, m)
        light = minute <= sunset[day]
        # Group draw: Black codes 3x in the dark, 3.6x (odds x1.2 vs White) in daylight.
        p_dark = base_p * np.where(black, 3.0, 1.0)
        p_light = base_p * np.where(black, 3.6, 1.0)
        u = rng.random(m)
        cd = np.cumsum(p_dark / p_dark.sum())
        cl = np.cumsum(p_light / p_light.sum())
        code = np.where(light, np.searchsorted(cl, u), np.searchsorted(cd, u)).clip(0, len(CODES) - 1)
        self_eth = np.array(CODES, dtype=object)[code]
        self_eth[rng.random(m) < 0.1] = "not_stated"
        officer = np.array([IC_OF[c[0]] for c in CODES], dtype=object)[code]
        officer[rng.random(m) < 0.08] = "IC9"
        ts = (np.datetime64(start.isoformat(), "s") + (day.astype("int64") * 86400 + minute.astype("int64") * 60 + rng.integers(0, 60, m))
              .astype("timedelta64[s]"))
        b = rng.integers(0, len(BOROUGHS), m)
        searched = rng.random(m) < 0.1
        found = searched & (rng.random(m) < np.where(black[code], 0.22, 0.27))
        tbl = pa.table({
            "stop_id": pa.array(np.char.add("b", np.arange(lo, lo + m).astype(str))),
            "occurred_at": pa.array(ts),
            "legislation": pa.array(np.where(rng.random(m) < 0.9, "s163 Road Traffic Act 1988", "s1 PACE").astype(object)),
            "self_defined_ethnicity": pa.array(self_eth),
            "officer_defined_ethnicity": pa.array(officer),
            "sex": pa.array(np.where(rng.random(m) < 0.8, "male", "female").astype(object)),
            "age_range": pa.array(np.array(["10-17", "18-24", "25-34", "over 34"], dtype=object)[rng.integers(0, 4, m)]),
            "borough": pa.array(np.array(BOROUGHS, dtype=object)[b]),
            "latitude": pa.array(51.35 + rng.random(m) * 0.3),
            "longitude": pa.array(-0.45 + rng.random(m) * 0.6),
            "reason": pa.array(np.full(m, "Routine check", dtype=object)),
            "outcome": pa.array(np.where(found, "Arrest", "A no further action disposal").astype(object)),
            "searched": pa.array(searched),
            "found": pa.array(found),
        })
        con.register("_chunk", tbl)
        con.execute("INSERT INTO stops BY NAME SELECT *, NULL::JSON AS extra, 0 AS load_id FROM _chunk")
        con.unregister("_chunk")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stops", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="Keep the generated warehouse at this path.")
    args = ap.parse_args()

    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.warehouse import connect

    tmp = Path(tempfile.mkdtemp(prefix="bench_stops_"))
    db = args.keep or tmp / "wh.duckdb"
    con = connect(db)
    t0 = time.perf_counter()
    generate(con, args.stops)
    t_gen = time.perf_counter() - t0
    pop = pd.DataFrame({"area": "London", "ethnicity_group": list(POP), "population": list(POP.values())})
    t0 = time.perf_counter()
    a = analyse_stops(con, StopFilter(), AnalyseSettings(cell_km=5.0), pop)
    t_an = time.perf_counter() - t0
    d = a.disproportionality
    v = a.vod
    print(f"machine: {machine()}")
    print(f"stops: {a.n_stops:,}  (generated and written in {t_gen:.1f} s)")
    print(f"analyse_stops (everything, incl. veil of darkness with 5 km cells): {t_an:.1f} s  (target < 120 s)")
    print(f"Black vs White rate ratio: {d.loc['Black', 'ratio_vs_white']:.3f} ({d.loc['Black', 'ratio_low']:.3f}-{d.loc['Black', 'ratio_high']:.3f})")
    for m in v.models:
        print(f"veil of darkness [{m.controls}]: dark coef {m.coef:+.4f} (SE {m.se:.4f}), n {m.n:,}; generated truth -log(1.2) = {-np.log(1.2):+.4f}")
    print(f"agreement self vs officer: {a.agreement_summary['agreement']:.3f}")
    con.close()
    if args.keep is None:
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    print(f"RESULT stops={a.n_stops} analyse_seconds={t_an:.1f} {'PASS' if t_an < 120 else 'FAIL'}")


if __name__ == "__main__":
    main()
