"""Make a city bigger than one synthetic run can hold: N cities (seeds 1..N) as one extract.

Run: nice .venv/bin/python bench/national_city.py --parts 10 --people 6100000 --out DIR [--jobs 2]

Each part is a separate 'harmlens synth' run (about 1M mentions at 6.1M people), written as its
own extract folder DIR/part-A, DIR/part-B, ... with ids prefixed by the part ("A-M000000001"), so
ten parts are ten forces' extracts for one warehouse: about 10M mentions for
bench_link_scale.py --city DIR, which ingests the parts one after another (as a national
warehouse would receive them; one 10M-row file would not fit: ingest validates a file in memory)
and links them all at once. DIR/truth/mentions.parquet holds every part's truth.
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
    jobs = {
        "events.parquet": "SELECT * REPLACE ({p} || event_id AS event_id, {p} || crime_ref AS crime_ref) FROM {src}",
        "people.parquet": ("SELECT * REPLACE ({p} || mention_id AS mention_id, {p} || event_id AS event_id, "
                           "{p} || person_ref AS person_ref, {p} || household_id AS household_id) FROM {src}"),
    }
    for d in parts:
        dest = a.out / f"part-{d.name}"
        dest.mkdir(exist_ok=True)
        for rel, select in jobs.items():
            con.execute(f"COPY ({select.format(p=repr(d.name + '-'), src=f'read_parquet({str(d / rel)!r})')}) "
                        f"TO '{dest / rel}' (FORMAT parquet)")
    truth = " UNION ALL ".join(
        f"SELECT * REPLACE ('{d.name}-' || mention_id AS mention_id, '{d.name}-' || person_id AS person_id) "
        f"FROM read_parquet('{d / 'truth/mentions.parquet'}')" for d in parts)
    con.execute(f"COPY ({truth}) TO '{a.out / 'truth/mentions.parquet'}' (FORMAT parquet)")
    n = con.execute(f"SELECT count(*) FROM read_parquet('{a.out / 'part-*/people.parquet'}')").fetchall()[0][0]
    print(f"{len(parts)} parts in {a.out}: {n:,} mentions")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
