"""The rows about a few listed people, copied from an engine into a driver DuckDB warehouse.

A priority list scores everyone on the engine (Spark on a lake), then explains only the people
it lists: their evidence (rank/evidence.py), near-match warnings (rank/linkwarn.py). That SQL is
DuckDB's and small, so it runs on the driver, over a copy of just the rows it can read: the
listed people and their near matches, every event naming them, the other people of those
events, the charge and conviction events pointing at them, and their harm rows. A few thousand
rows for a top-N list, however large the lake.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from harmlens.engine import Engine
from harmlens.sqlident import quote_ident


def _subset_sql(eng: Engine, ids: str) -> dict[str, str]:
    """Per warehouse table, a SELECT of the rows the listed people's explanations read (the
    listed ids registered as ``ids``)."""
    from harmlens.harm.baselines import crime_ref_expr

    pairs = eng.has_table("link_pairs")
    listed_mentions = f"SELECT l.mention_id FROM links l JOIN {ids} i ON i.person_id = l.person_id"
    near = (f"""SELECT lp.* FROM link_pairs lp
                WHERE lp.mention_a IN ({listed_mentions}) OR lp.mention_b IN ({listed_mentions})""") if pairs else None
    persons = f"SELECT person_id FROM {ids}"
    if near:
        persons += (f" UNION SELECT l.person_id FROM links l WHERE l.mention_id IN (SELECT mention_a FROM ({near}) n)"
                    f" OR l.mention_id IN (SELECT mention_b FROM ({near}) n)")
    mentions = f"SELECT mention_id FROM links WHERE person_id IN ({persons})"
    named = f"SELECT DISTINCT event_id FROM people WHERE mention_id IN ({mentions})"
    ref = crime_ref_expr(eng, "o")
    events = f"SELECT event_id FROM ({named}) n UNION SELECT o.event_id FROM events o WHERE {ref} IN ({named})"
    out = {
        "events": f"SELECT * FROM events WHERE event_id IN ({events})",
        "people": f"SELECT * FROM people WHERE event_id IN ({events})",
        "links": f"SELECT * FROM links WHERE mention_id IN (SELECT mention_id FROM people WHERE event_id IN ({events}))",
    }
    if eng.has_table("event_harm"):
        out["event_harm"] = f"SELECT * FROM event_harm WHERE event_id IN ({events})"
    for small in ("harm_runs", "offence_map"):
        if eng.has_table(small):
            out[small] = f"SELECT * FROM {small}"
    if near:
        out["link_pairs"] = near
    return out


@contextmanager
def listed_on_driver(eng: Engine, person_ids: Iterable[object]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse holding the engine's rows about ``person_ids`` (see the module doc)."""
    from harmlens.warehouse import connect

    ids = pd.DataFrame({"person_id": pd.Series(list(dict.fromkeys(str(p) for p in person_ids)), dtype="string")})
    name = f"_listed_{uuid.uuid4().hex[:10]}"
    eng.register_frame(name, ids)
    con = connect(":memory:")
    try:
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        for table, sql in _subset_sql(eng, name).items():
            df = eng.frame(sql)
            tmp = f"_copy_{table}"
            con.register(tmp, df)
            try:
                if table in have:
                    mine = [d[0] for d in con.execute(f"SELECT * FROM {quote_ident(table)} LIMIT 0").description]
                    cols = ", ".join(quote_ident(c) for c in mine if c in df.columns)
                    con.execute(f"INSERT INTO {quote_ident(table)} ({cols}) SELECT {cols} FROM {tmp}")
                else:
                    con.execute(f"CREATE TABLE {quote_ident(table)} AS SELECT * FROM {tmp}")
            finally:
                con.unregister(tmp)
    finally:
        eng.unregister(name)
    try:
        yield con
    finally:
        con.close()
