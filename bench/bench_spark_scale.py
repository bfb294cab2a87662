"""Benchmark: 'harmlens link --engine spark' throughput on local[1] against local[2].

Run: nice .venv/bin/python bench/bench_spark_scale.py [--people 60000] [--masters local[1],local[2]] [--city DIR]

The synthetic city gives about 0.164 mentions per person: the default --people 60000 is ~10k
mentions (a few minutes); --people 6100000 is ~1M mentions and --people 30500000 ~5M (hours on
two cores; generate once with 'harmlens synth', or bench/national_city.py --parts 5, and pass --city). The city is ingested and
exported to a lake once; each master then links its own copy of the lake in a fresh process.
Prints, per master: mentions, candidate record pairs scored, seconds per step, and the
throughput of the Spark part (pairs scored per second, and per core: the per-partition figure
docs/scale.md projects from), with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from _machine import machine  # noqa: E402


def worker(lake: Path, master: str) -> None:
    from harmlens.engine.spark_engine import open_spark_engine
    from harmlens.link.spark_run import link_lake

    t = time.perf_counter()
    eng = open_spark_engine(lake, master=master)
    start_s = time.perf_counter() - t
    s = link_lake(eng)
    print(json.dumps({"mentions": s.mentions, "records": s.records, "pairs": s.pairs_scored, "persons": s.persons,
                      "spark_start_s": start_s, **s.seconds}))


def cores(master: str) -> int:
    inside = master[master.find("[") + 1: master.find("]")] if "[" in master else "1"
    return os.cpu_count() or 1 if inside == "*" else int(inside)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--city", type=Path, default=None, help="an existing 'harmlens synth' output folder")
    ap.add_argument("--masters", default="local[1],local[2]")
    ap.add_argument("--worker", nargs=2, metavar=("LAKE", "MASTER"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(Path(a.worker[0]), a.worker[1])
        return
    from harmlens.contract.load import ingest
    from harmlens.engine.lake import export_lake
    from harmlens.synth import SynthConfig, generate
    from harmlens.warehouse import connect

    print(machine())
    with tempfile.TemporaryDirectory(prefix="hl-spark-scale-") as tmp:
        root = Path(tmp)
        city = a.city
        if city is None:
            city = root / "city"
            t = time.perf_counter()
            generate(SynthConfig(people=a.people, seed=a.seed), city)
            print(f"synth --people {a.people}: {time.perf_counter() - t:.1f} s (not counted)")
        con = connect(root / "wh.duckdb")
        # a city from bench/national_city.py is one extract per part, ingested in turn
        for part in sorted(p for p in city.glob("part-*") if p.is_dir()) or [city]:
            ingest(con, part)
        export_lake(con, root / "lake", ["people"])
        con.close()
        rows = []
        for master in a.masters.split(","):
            lake = root / f"lake-{master.replace('[', '').replace(']', '')}"
            shutil.copytree(root / "lake", lake)
            r = subprocess.run([sys.executable, __file__, "--worker", str(lake), master], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{master} failed:\n{r.stderr[-3000:]}")
            got = json.loads(r.stdout.strip().splitlines()[-1])
            got["master"] = master
            rows.append(got)
            shutil.rmtree(lake, ignore_errors=True)
            print(f"{master}: {got['mentions']} mentions, {got['records']} records, {got['pairs']} candidate pairs -> {got['persons']} persons; "
                  f"spark start {got['spark_start_s']:.1f} s, train (driver) {got['train_s']:.1f} s, score (spark) {got['score_s']:.1f} s, "
                  f"total link {got['total_s']:.1f} s; {got['pairs'] / got['score_s']:,.0f} pairs/s scored, "
                  f"{got['pairs'] / got['score_s'] / cores(master):,.0f} per core; {got['mentions'] / got['total_s']:,.0f} mentions/s end to end", flush=True)
        if len(rows) == 2:
            s = rows[0]["score_s"] / rows[1]["score_s"]
            print(f"speed-up of the spark scoring from {rows[0]['master']} to {rows[1]['master']}: x{s:.2f}")
    print(machine())


if __name__ == "__main__":
    main()
