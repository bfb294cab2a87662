"""Benchmark: seconds per pair of `harmlens explain-link A B` on a large warehouse, before and after
term frequencies were stored at link time.

Run: nice .venv/bin/python bench/bench_link_explain.py [--mentions 200000] [--city DIR] [--db FILE] [--pairs 5]

Builds a warehouse of about --mentions mentions (the synthetic city gives about 0.17 mentions per
person; --city reuses a 'harmlens synth' folder, --db an already ingested warehouse file, which is
then linked in place), links it with --new mentions held back, links those incrementally, and
times explain_link on --pairs scored pairs (spread over the probability range, seeded) both ways:
"recount" (every mention standardised again, as before) and "stored" (the two mentions only,
frequencies read from link_tf). Checks that both give the same explanation, prints what storing the
frequencies costs each link run, and times one `harmlens explain-link` command (process start and
imports included).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from _machine import machine  # noqa: E402

MENTIONS_PER_PERSON = 0.17


def _build(a, tmp: Path) -> Path:
    from harmlens.contract.load import ingest
    from harmlens.warehouse import connect

    if a.db is not None:
        return a.db
    city = a.city
    if city is None:
        city = tmp / "city"
        people = int(a.mentions / MENTIONS_PER_PERSON)
        t = time.perf_counter()
        subprocess.run([str(REPO / ".venv/bin/harmlens"), "synth", "--people", str(people), "--seed", str(a.seed), "--out", str(city)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"synth {people} people: {time.perf_counter() - t:.0f} s")
    db = tmp / "wh.duckdb"
    con = connect(db)
    t = time.perf_counter()
    ingest(con, city)
    print(f"ingest: {con.execute('SELECT count(*) FROM people').fetchall()[0][0]} mentions in {time.perf_counter() - t:.0f} s")
    con.close()
    return db


def _link(con, new: int) -> None:
    from harmlens.link.warehouse import link_warehouse

    held = 0
    if not con.execute("SELECT count(*) FROM links").fetchall()[0][0]:
        held = min(new, con.execute("SELECT count(*) FROM people").fetchall()[0][0] // 2)
        con.execute(f"CREATE OR REPLACE TEMP TABLE held AS SELECT * FROM people ORDER BY hash(mention_id) LIMIT {held}")
        con.execute("DELETE FROM people WHERE mention_id IN (SELECT mention_id FROM held)")
    runs = [("first" if held else "again", None)] + ([("incremental", "INSERT INTO people SELECT * FROM held")] if held else [])
    for name, before in runs:
        if before:
            con.execute(before)
        t = time.perf_counter()
        s = link_warehouse(con)
        print(f"link ({name}, {s.mode}): {s.mentions} mentions ({s.new_mentions} new) in {time.perf_counter() - t:.1f} s, "
              f"of which storing term frequencies {s.seconds.get('term_freq_s', float('nan')):.2f} s")
    n = {r[0]: r[1] for r in con.execute("SELECT column_name, count(*) FROM link_tf GROUP BY 1").fetchall()}
    print(f"  link_tf: {n.get('fn', 0)} forenames, {n.get('sn', 0)} surnames, {n.get('pc', 0)} postcodes")


def _pairs(con, k: int, seed: int) -> list[tuple[str, str]]:
    """One scored pair from each of k equal-count probability bands (seeded)."""
    rows = con.execute(
        f"""SELECT mention_a, mention_b FROM (
                SELECT mention_a, mention_b, ntile({int(k)}) OVER (ORDER BY match_probability, mention_a, mention_b) AS band FROM link_pairs)
            QUALIFY row_number() OVER (PARTITION BY band ORDER BY hash(mention_a || mention_b || '{int(seed)}')) = 1
            ORDER BY band""").fetchall()
    return [tuple(r) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mentions", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--new", type=int, default=10_000, help="mentions held back and linked incrementally")
    ap.add_argument("--city", type=Path, default=None, help="an existing 'harmlens synth' output folder")
    ap.add_argument("--db", type=Path, default=None, help="an existing ingested warehouse (linked in place)")
    ap.add_argument("--pairs", type=int, default=5)
    a = ap.parse_args()
    from harmlens.link.explain import explain_link
    from harmlens.warehouse import connect

    print(f"== explain-link; machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = _build(a, Path(tmp))
        con = connect(db)
        _link(con, a.new)
        n = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
        pairs = _pairs(con, a.pairs, a.seed)
        secs: dict[str, list[float]] = {"recount": [], "stored": []}
        for x, y in pairs:
            got = {}
            for how in ("recount", "stored"):
                t = time.perf_counter()
                e = explain_link(con, x, y, frequencies=how)
                secs[how].append(time.perf_counter() - t)
                got[how] = dataclasses.asdict(e)
            same = got["recount"] == got["stored"]
            print(f"  pair p={e.match_probability:.4f} weight {e.match_weight:+.2f}: recount {secs['recount'][-1]:.2f} s, "
                  f"stored {secs['stored'][-1]:.3f} s, same explanation: {same}")
            if not same:
                raise SystemExit("stored and recounted explanations differ")
        con.close()
        rc, st = statistics.median(secs["recount"]), statistics.median(secs["stored"])
        print(f"explain-link at {n} mentions, median seconds per pair over {len(pairs)} pairs: "
              f"before (recount) {rc:.2f} s, after (stored) {st:.3f} s ({rc / st:.0f}x)")
        x, y = pairs[0]
        t = time.perf_counter()
        subprocess.run([str(REPO / ".venv/bin/harmlens"), "explain-link", x, y, "--db", str(db), "--hide-values"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"one 'harmlens explain-link A B --hide-values' command, process start included: {time.perf_counter() - t:.2f} s")
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
