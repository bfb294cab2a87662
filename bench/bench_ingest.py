"""Ingest throughput: N events + N people (Parquet) into a fresh warehouse, then the same extract
again (the idempotent no-op path). Usage: python bench/bench_ingest.py [N] (default 1,000,000)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine  # noqa: E402

from harmlens.contract import ingest  # noqa: E402
from harmlens.warehouse import connect  # noqa: E402


def make(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    ids = pd.Series(np.arange(n)).astype(str)
    pd.DataFrame({
        "event_id": "e" + ids, "source": "crime", "event_type": "offence", "offence_code": "008/10",
        "occurred_at": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
        "outcome": rng.choice(["nfa", "charged", "unknown"], n), "domestic": rng.random(n) < 0.5,
        "borough": "Camden", "latitude": 51.5 + rng.random(n) * 0.1,
    }).to_parquet(folder / "events.parquet")
    pd.DataFrame({
        "mention_id": "m" + ids, "event_id": "e" + ids, "role": "suspect", "forename": "A", "surname": "B",
        "date_of_birth": "1980-01-01", "sex": "male", "postcode": "NW1 1AA", "self_defined_ethnicity": "W1",
    }).to_parquet(folder / "people.parquet")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"bench_ingest: {n:,} events + {n:,} people; machine: {machine()}")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "x"
        folder.mkdir()
        make(folder, n)
        con = connect(Path(d) / "w.duckdb")
        t = time.perf_counter()
        rep = ingest(con, folder)
        first = time.perf_counter() - t
        t = time.perf_counter()
        again = ingest(con, folder)
        second = time.perf_counter() - t
        loaded = int(rep.to_frame()["loaded"].sum())
        print(f"first load: {first:.1f} s ({2 * n / first:,.0f} rows/s), loaded {loaded:,}")
        print(f"reload (no-op): {second:.1f} s, changed: {again.load_id is not None}")


if __name__ == "__main__":
    main()
