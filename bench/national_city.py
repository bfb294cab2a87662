"""Make a city bigger than one synthetic run can hold: N cities (seeds 1..N) as one extract.

Run: nice .venv/bin/python bench/national_city.py --parts 10 --people 6100000 --out DIR [--jobs 2]

Each part is a separate 'harmlens synth' run (about 1M mentions at 6.1M people); the parts are
joined into one extract whose ids are prefixed with the part ("A-M000000001"), so ten parts are
ten forces' records in one warehouse: about 10M mentions for bench_link_scale.py --city DIR.
Names and postcodes come from the same pools in every part, so same-name people at the same
postcode are ten times as common as in one city: harder for linkage than a real national file,
never easier. Only what linkage reads is joined (events, people, truth/mentions).
"""

from __future__ import annotations

import argparse
import shutil
import string
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", type=int, default=10)
    ap.add_argument("--people", type=int, default=6_100_000, help="people per part")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    if not 1 <= a.parts <= 26:
        sys.exit("--parts must be 1-26 (one letter per part)")
    work = a.out / "_parts"
    work.mkdir(parents=True, exist_ok=True)

    def make(i: int) -> Path:
        d = work / string.ascii_uppercase[i]
        if not (d / "people.parquet").exists():
            subprocess.run([str(REPO / ".venv/bin/harmlens"), "synth", "--people", str(a.people), "--seed", str(i + 1),
                            "--out", str(d)], check=True, stdout=subprocess.DEVNULL)
        return d

    with ThreadPoolExecutor(a.jobs) as pool:
        parts = list(pool.map(make, range(a.parts)))
    import duckdb

    con = duckdb.connect()
    (a.out / "truth").mkdir(exist_ok=True)

    def union(rel: str, select: str) -> str:
        return " UNION ALL ".join(
            select.format(p=f"'{d.name}-'", src=f"read_parquet('{d / rel}')") for d in parts)

    jobs = {
        "events.parquet": "SELECT * REPLACE ({p} || event_id AS event_id, {p} || crime_ref AS crime_ref) FROM {src}",
        "people.parquet": ("SELECT * REPLACE ({p} || mention_id AS mention_id, {p} || event_id AS event_id, "
                           "{p} || person_ref AS person_ref, {p} || household_id AS household_id) FROM {src}"),
        "truth/mentions.parquet": "SELECT * REPLACE ({p} || mention_id AS mention_id, {p} || person_id AS person_id) FROM {src}",
    }
    for rel, select in jobs.items():
        con.execute(f"COPY ({union(rel, select)}) TO '{a.out / rel}' (FORMAT parquet)")
        n = con.execute(f"SELECT count(*) FROM read_parquet('{a.out / rel}')").fetchall()[0][0]
        print(f"{rel}: {n:,} rows from {len(parts)} parts")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
