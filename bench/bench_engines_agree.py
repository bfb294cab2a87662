"""Benchmark: the DuckDB and Spark engines give the same answers on one synthetic city.

Run: nice .venv/bin/python bench/bench_engines_agree.py [--people 100000] [--master local[2]] [--top 100]

Generates a city ('harmlens synth'), ingests it into a DuckDB warehouse and exports it to a Parquet
lake ('harmlens lake export'); then, through the command line, on each engine: link, harm apply,
and rank with v100, rfg and rfh. Prints the pairwise F1 between the two engines' person clusters
(target >= 0.999), whether each method's top N is the same people in the same order (target: yes),
and the seconds of each step on each engine, with the machine's load.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from _machine import machine  # noqa: E402

HARMLENS = [sys.executable, "-m", "harmlens.cli"]


def run(args: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run([*HARMLENS, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: harmlens {' '.join(args)}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def pairs(links: pd.DataFrame) -> set[tuple[str, str]]:
    g: dict[str, list[str]] = defaultdict(list)
    for m, p in zip(links["mention_id"], links["person_id"]):
        g[p].append(m)
    return {(a, b) for ms in g.values() for a in ms for b in ms if a < b}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--top", type=int, default=100)
    ap.add_argument("--as-of", default="2024-12-01")
    a = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="hl-agree-") as tmp:
        root = Path(tmp)
        db, lake = root / "wh.duckdb", root / "lake"
        t = {"synth": run(["synth", "--people", str(a.people), "--seed", str(a.seed), "--out", str(root / "city")])}
        t["ingest"] = run(["ingest", str(root / "city"), "--db", str(db)])
        t["lake export"] = run(["lake", "export", str(lake), "--db", str(db)])
        engines = {"duckdb": ["--db", str(db)], "spark": ["--engine", "spark", "--spark-master", a.master, "--db", str(lake)]}
        tops: dict[str, dict[str, list[str]]] = {}
        for name, opt in engines.items():
            t[f"{name} link"] = run(["link", *opt])
            t[f"{name} harm apply"] = run(["harm", "apply", *opt])
            tops[name] = {}
            for method in ("v100", "rfg", "rfh"):
                out = root / f"{name}-{method}.csv"
                t[f"{name} rank {method}"] = run(["rank", "--as-of", a.as_of, "--method", method, "--top", str(a.top),
                                                  "--format", "csv", "--out", str(out), *opt])
                df = pd.read_csv(out, dtype=str)
                tops[name][method] = df.loc[df["rank"].notna(), "person_id"].tolist()[: a.top]
        import duckdb

        duck = duckdb.connect(str(db), read_only=True).execute("SELECT mention_id, person_id FROM links").df()
        spark = duckdb.connect().execute(f"SELECT mention_id, person_id FROM read_parquet('{lake}/links/*.parquet')").df()
        pa, pb = pairs(duck), pairs(spark)
        f1 = 1.0 if not pa and not pb else 2 * len(pa & pb) / (len(pa) + len(pb))
        print(f"city: --people {a.people} --seed {a.seed}: {len(duck)} mentions; persons duckdb {duck['person_id'].nunique()}, "
              f"spark {spark['person_id'].nunique()}")
        print(f"person clusters: pairwise F1 between the engines {f1:.6f} ({len(pa)} vs {len(pb)} linked pairs, {len(pa & pb)} shared)")
        for method in ("v100", "rfg", "rfh"):
            same = tops["duckdb"][method] == tops["spark"][method]
            print(f"rank {method}: top {len(tops['duckdb'][method])} same people in the same order: {'yes' if same else 'NO'}")
        buf = io.StringIO()
        for k, v in t.items():
            buf.write(f"  {k:<22} {v:8.1f} s\n")
        print("seconds (each a separate 'harmlens' process; spark ones include starting Spark):\n" + buf.getvalue().rstrip())
        print(machine())


if __name__ == "__main__":
    main()
