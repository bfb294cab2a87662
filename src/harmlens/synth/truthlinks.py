"""Link a synthetic city's ingested mentions by the generator's truth, not by the linker.

Benchmarks and tests of later stages (forecast, ranking, audit) use this to measure their stage
alone, without linking errors mixed in; the linker itself is measured against the same truth in
bench/bench_link_city.py.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def link_by_truth(con: duckdb.DuckDBPyConnection, city: str | Path) -> int:
    """Write a ``links`` row (method 'truth') for every mention in ``people`` that has none yet,
    from ``city/truth/mentions.parquet``; returns the number written. Running it again after a
    later extract links only the new mentions."""
    truth = pd.read_parquet(Path(city) / "truth" / "mentions.parquet", columns=["mention_id", "person_id"]).astype(str)
    before = con.execute("SELECT count(*) FROM links").fetchall()[0][0]
    con.register("_hl_truth_links", truth)
    try:
        con.execute("INSERT INTO links (mention_id, person_id, method, linked_at) "
                    "SELECT mention_id, person_id, 'truth', now() FROM _hl_truth_links "
                    "WHERE mention_id IN (SELECT mention_id FROM people) AND mention_id NOT IN (SELECT mention_id FROM links)")
    finally:
        con.unregister("_hl_truth_links")
    return con.execute("SELECT count(*) FROM links").fetchall()[0][0] - before
