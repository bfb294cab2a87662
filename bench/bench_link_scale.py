"""Benchmark: linking speed and memory at scale, first run and incremental.

Run: nice .venv/bin/python bench/bench_link_scale.py [--people 6100000] [--new 10000] [--city DIR]

The synthetic city gives about 0.164 mentions per person, so --people 6100000 gives about
1M mentions (the target: link 1M mentions in <= 5 minutes with <= 8 GB peak memory on 2 cores,
then 10k new mentions against them in <= 30 s). --city reuses a folder written by
'harmlens synth' (generating 6.1M people takes minutes of its own, not counted here), or by
bench/national_city.py (one extract per part, ingested in turn: --parts 10 gives ~10M mentions).
Prints mentions, seconds per step, peak resident memory of this process (DuckDB runs in-process,
so it is included; so is the ingest before the link, about 3.4 GB at 1M mentions) and the machine load; with the city's truth (truth/mentions.parquet) also the
pairwise precision, recall and F1 after each run (not part of the timing).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def machine() -> str:
    la = os.getloadavg()
    return f"{platform.machine()} {os.cpu_count()} cpus, load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}"


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def quality(con, city: Path) -> str:
    from harmlens.link.evaluate import pairwise_scores

    truth = city / "truth" / "mentions.parquet"
    if not truth.exists():
        return "  (no truth/mentions.parquet: quality not measured)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __q AS SELECT l.mention_id AS unique_id, l.person_id AS pred, t.person_id AS truth
                    FROM links l JOIN read_parquet('{truth}') t USING (mention_id)""")
    out = "  " + pairwise_scores(con, "__q").text().replace("\n", "\n  ")
    con.execute("DROP TABLE __q")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=6_100_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--new", type=int, default=10_000, help="mentions held back and linked incrementally")
    ap.add_argument("--city", type=Path, default=None, help="an existing 'harmlens synth' output folder")
    a = ap.parse_args()
    from harmlens.contract.load import ingest
    from harmlens.link.warehouse import link_warehouse
    from harmlens.warehouse import connect

    print(f"== link scale; machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        city = a.city
        if city is None:
            city = Path(tmp) / "city"
            t = time.perf_counter()
            subprocess.run([str(REPO / ".venv/bin/harmlens"), "synth", "--people", str(a.people), "--seed", str(a.seed), "--out", str(city)],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"synth {a.people} people: {time.perf_counter() - t:.0f} s (not part of the target)")
        con = connect(Path(tmp) / "wh.duckdb")
        t = time.perf_counter()
        # a city made by bench/national_city.py comes as one extract per part (force), ingested in turn
        parts = sorted(p for p in city.glob("part-*") if p.is_dir()) or [city]
        for part in parts:
            ingest(con, part)
        n = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
        print(f"ingest: {n} mentions from {len(parts)} extract(s) in {time.perf_counter() - t:.0f} s; "
              f"peak memory {peak_gb():.2f} GB (not part of the target)")
        k = min(a.new, n // 2)
        con.execute(f"CREATE TABLE held_people AS SELECT * FROM people ORDER BY hash(mention_id) LIMIT {k}")
        con.execute("DELETE FROM people WHERE mention_id IN (SELECT mention_id FROM held_people)")
        t = time.perf_counter()
        s = link_warehouse(con)
        print(f"first run: {n - k} mentions linked in {time.perf_counter() - t:.0f} s; peak memory so far {peak_gb():.2f} GB; "
              f"steps {', '.join(f'{x} {v:.0f}' for x, v in s.seconds.items())}")
        print(f"  {s.text()}")
        print(quality(con, city))
        con.execute("INSERT INTO people SELECT * FROM held_people")
        t = time.perf_counter()
        s = link_warehouse(con)
        print(f"incremental run: {k} new mentions against {n - k} in {time.perf_counter() - t:.1f} s; peak memory {peak_gb():.2f} GB; "
              f"steps {', '.join(f'{x} {v:.1f}' for x, v in s.seconds.items())}")
        print(f"  {s.text()}")
        print(quality(con, city))
        con.close()
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
