"""The rows about a few listed people, copied from an engine into a driver DuckDB warehouse.

A priority list scores everyone on the engine (Spark on a lake), then explains only the people
it lists: their evidence (harm/evidence.py), near-match warnings (harm/linkwarn.py). That SQL is
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


def _near_pairs_sql(eng: Engine, ids: str) -> str | None:
    """Scored pairs touching a listed person's mentions (what near-match warnings read)."""
    if not eng.has_table("link_pairs"):
        return None
    listed_mentions = f"SELECT l.mention_id FROM links l JOIN {ids} i ON i.person_id = l.person_id"
    return f"""SELECT lp.* FROM link_pairs lp
               WHERE lp.mention_a IN ({listed_mentions}) OR lp.mention_b IN ({listed_mentions})"""


def _events_sql(eng: Engine, ids: str, near: str | None) -> str:
    """Ids of every event naming a listed person or a near match, and of the charge and
    conviction events pointing at those events."""
    from harmlens.harm.baselines import crime_ref_expr

    persons = f"SELECT person_id FROM {ids}"
    if near:
        persons += (f" UNION SELECT l.person_id FROM links l WHERE l.mention_id IN (SELECT mention_a FROM {near})"
                    f" OR l.mention_id IN (SELECT mention_b FROM {near})")
    mentions = f"SELECT mention_id FROM links WHERE person_id IN ({persons})"
    named = f"SELECT DISTINCT event_id FROM people WHERE mention_id IN ({mentions})"
    ref = crime_ref_expr(eng, "o")
    return f"SELECT event_id FROM ({named}) n UNION SELECT o.event_id FROM events o WHERE {ref} IN ({named})"


def _table_sql(eng: Engine, events: str, near: str | None) -> dict[str, str]:
    """Per warehouse table, a SELECT of the rows the explanations read (``events``: a table of event ids)."""
    out = {
        "events": f"SELECT * FROM events WHERE event_id IN (SELECT event_id FROM {events})",
        "people": f"SELECT * FROM people WHERE event_id IN (SELECT event_id FROM {events})",
        "links": f"""SELECT * FROM links WHERE mention_id IN
                     (SELECT mention_id FROM people WHERE event_id IN (SELECT event_id FROM {events}))""",
    }
    if eng.has_table("event_harm"):
        out["event_harm"] = f"SELECT * FROM event_harm WHERE event_id IN (SELECT event_id FROM {events})"
    for small in ("harm_runs", "offence_map"):
        if eng.has_table(small):
            out[small] = f"SELECT * FROM {small}"
    if near:
        out["link_pairs"] = f"SELECT * FROM {near}"
    return out


@contextmanager
def listed_on_driver(eng: Engine, person_ids: Iterable[object]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse holding the engine's rows about ``person_ids`` (see the module doc)."""
    from harmlens.warehouse import connect

    ids = pd.DataFrame({"person_id": pd.Series(list(dict.fromkeys(str(p) for p in person_ids)), dtype="string")})
    name = f"_listed_{uuid.uuid4().hex[:10]}"
    eng.register_frame(name, ids)
    made: list[str] = []
    con = connect(":memory:")
    try:
        # the pairs and event ids are computed once on the engine and read by several copies
        near_sql = _near_pairs_sql(eng, name)
        near = None
        if near_sql:
            near = eng.run(near_sql, into=f"{name}_pairs", temporary=True)
            made.append(near)
        events = eng.run(_events_sql(eng, name, near), into=f"{name}_events", temporary=True)
        made.append(events)
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        for table, sql in _table_sql(eng, events, near).items():
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
    except BaseException:
        con.close()
        raise
    finally:
        for t in reversed(made):
            eng.drop(t)
        eng.unregister(name)
    try:
        yield con
    finally:
        con.close()
