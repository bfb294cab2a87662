"""Benchmark: link the synthetic city (harmlens synth) and score against its truth.

Run: nice .venv/bin/python bench/bench_link_city.py [--people 200000] [--seed 1] [--incremental 0.1] [--profile clean,messy] [--city DIR]

Every profile of ``harmlens synth --profile`` listed (default: all) gets its own city and figures.
Steps: synth -> ingest -> harmlens link (first run trains the model) and, with --incremental F,
a second run that links the last fraction F of mentions (by mention id) against the rest.
Prints pairwise precision / recall / F1 over all mentions, with false merges (one person's
mentions given to another) and false splits counted separately, and the time of each run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def machine() -> str:
    la = os.getloadavg()
    return f"{platform.machine()} {os.cpu_count()} cpus, load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}"


def score(con, truth: Path) -> str:
    from harmlens.link.evaluate import pairwise_scores

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE a AS SELECT l.mention_id AS unique_id, l.person_id AS pred, t.person_id AS truth
            FROM links l JOIN read_parquet('{truth}') t USING (mention_id)"""
    )
    return pairwise_scores(con, "a").text()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--incremental", type=float, default=0.1, help="fraction of mentions held back for an incremental run (0 = none)")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--city", type=Path, default=None, help="reuse an existing 'harmlens synth' output folder (--people/--seed/--profile ignored)")
    ap.add_argument("--profile", default="clean,messy", help="comma-separated synth profiles to run (default: every profile)")
    ap.add_argument("--precision", type=float, default=None, help="expected precision the threshold is chosen for (default: link's)")
    a = ap.parse_args()
    if a.city is not None:
        run(a, a.city, f"folder {a.city}")
        return
    for prof in [x.strip() for x in a.profile.split(",") if x.strip()]:
        run(a, None, f"{a.people} people, seed {a.seed}, profile {prof}", prof)


def run(a, city: Path | None, what: str, profile: str = "clean") -> None:
    from harmlens.contract.load import ingest
    from harmlens.link.warehouse import link_warehouse
    from harmlens.synth.cli import register  # noqa: F401  (synth present)
    from harmlens.warehouse import connect

    print(f"== synthetic city: {what}; machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        out = city or Path(tmp) / "city"
        if city is None:
            import subprocess

            env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
            subprocess.run([sys.executable, "-m", "harmlens.cli", "synth", "--people", str(a.people), "--seed", str(a.seed),
                            "--profile", profile, "--out", str(out)], check=True, stdout=subprocess.DEVNULL, env=env)
        con = connect(Path(tmp) / "wh.duckdb")
        ingest(con, out)
        n = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
        held = []
        if a.incremental > 0:
            k = int(n * a.incremental)
            con.execute(f"CREATE TABLE held_people AS SELECT * FROM people ORDER BY mention_id DESC LIMIT {k}")
            con.execute("DELETE FROM people WHERE mention_id IN (SELECT mention_id FROM held_people)")
            held = [k]
        t = time.perf_counter()
        s = link_warehouse(con, threshold=a.threshold, precision=a.precision)
        print(f"first run: {time.perf_counter() - t:.1f} s; {s.text()}")
        print(score(con, out / "truth" / "mentions.parquet"))
        if held:
            con.execute("INSERT INTO people SELECT * FROM held_people")
            t = time.perf_counter()
            s = link_warehouse(con)
            print(f"incremental run ({held[0]} new mentions against {n - held[0]}): {time.perf_counter() - t:.1f} s; {s.text()}")
            print(score(con, out / "truth" / "mentions.parquet"))
        con.close()
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
