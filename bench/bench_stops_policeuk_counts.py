"""Benchmark: a police.uk force-month with empty Legislation fields; every stop counted.

Run: .venv/bin/python bench/bench_stops_policeuk_counts.py [--data ../shared/data]

For each Met month in ``../shared/data/stops/met_police_uk_api`` that has records with no
legislation (2024-10: 3, 2025-01: 2, 2025-04: 2), and for the June 2016 CSV:

1. ``harmlens stops import`` (``--force metropolitan``) then ``analyse_stops`` against the 2011
   Census Metropolitan population: stops loaded, stops with legislation not recorded, the
   Black/White stop-rate ratio;
2. a plain pandas count over every row of the file as published (group from the label's first
   words, no harmlens code), with the same census counts read directly from the CSV.

The two ratios must agree to 2 decimals; the bench exits 1 if they do not. It also prints the
ratio the old importer gave (stops without legislation dropped) to show the bias it caused.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402


def _group(label: str) -> str | None:
    t = (label or "").strip().lower()
    if t.startswith("black"):
        return "Black"
    if t.startswith("white"):
        return "White"
    return None


def pandas_ratio(rows: pd.DataFrame, pop_black: int, pop_white: int) -> tuple[float, int, int]:
    g = rows["eth"].map(_group)
    b, w = int((g == "Black").sum()), int((g == "White").sum())
    return (b / pop_black) / (w / pop_white), b, w


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    args = ap.parse_args()
    stops = args.data / "stops"
    census = pd.read_csv(args.data / "census" / "force_area_ethnic_groups_census2011.csv")
    met = census[census.iloc[:, 0] == "Metropolitan"].iloc[0]
    pop_black = int(met["Ethnic Group: Black; measures: Value"])
    pop_white = int(met["Ethnic Group: White; measures: Value"])

    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.stops.importer import import_stops
    from harmlens.stops.population import read_population
    from harmlens.warehouse import connect

    pop = read_population(args.data / "census" / "force_area_ethnic_groups_census2011.csv")
    files = [stops / "met_police_uk_api" / f"{m}.json" for m in ("2024-10", "2025-01", "2025-04")]
    files.append(stops / "2016-06-metropolitan-stop-and-search.csv")
    print(f"machine: {machine()}")
    print(f"population (2011 Census, Metropolitan): Black {pop_black:,}, White {pop_white:,}")
    print(f"{'file':<44} {'rows':>6} {'loaded':>6} {'no leg.':>7} {'harmlens':>9} {'pandas':>9} {'old (dropped)':>13} {'s':>5}")
    ok = True
    for f in files:
        if f.suffix == ".json":
            recs = json.loads(f.read_text())
            raw = pd.DataFrame({"eth": [r.get("self_defined_ethnicity") or "" for r in recs],
                                "leg": [r.get("legislation") or "" for r in recs]})
        else:
            d = pd.read_csv(f, dtype=str, keep_default_na=False)
            raw = pd.DataFrame({"eth": d["Self-defined ethnicity"], "leg": d["Legislation"]})
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            con = connect(Path(tmp) / "wh.duckdb")
            rep = import_stops(con, [f], force="metropolitan")
            a = analyse_stops(con, StopFilter(force="metropolitan"), AnalyseSettings(areas=("Metropolitan",), vod=False, n_boot=200), pop)
            no_leg = con.execute("SELECT count(*) FROM stops WHERE legislation IS NULL").fetchone()[0]
            con.close()
        secs = time.perf_counter() - t0
        ours = float(a.disproportionality.loc["Black", "ratio_vs_white"])
        theirs, _, _ = pandas_ratio(raw, pop_black, pop_white)
        old, _, _ = pandas_ratio(raw[raw["leg"].str.strip() != ""], pop_black, pop_white)
        fs = rep.files[0]
        good = fs.loaded == len(raw) and round(ours, 2) == round(theirs, 2) and a.n_stops == len(raw)
        ok &= good
        print(f"{f.name:<44} {len(raw):>6,} {fs.loaded:>6,} {no_leg:>7,} {ours:>9.4f} {theirs:>9.4f} {old:>13.4f} {secs:>5.1f}"
              + ("" if good else "  MISMATCH"))
    print("every stop counted and ratios equal to 2 decimals:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
