"""The serving index: a per-person copy of what a profile shows, sorted and indexed by person_id.

A profile joins links -> people -> events -> event_harm for one person. The warehouse has no
index on ``links.person_id`` (the link area owns that table and rewrites it), so at a million
persons each profile would scan millions of rows (hundreds of milliseconds). Instead the web
app keeps its own DuckDB file beside the warehouse (``harmlens.serve.duckdb`` for
``harmlens.duckdb``) with two denormalised tables and ART indexes:

- ``pe``: one row per (person, mention): the event, the role, names as recorded, harm;
- ``pn``: one row per (person, other person, shared event): the link chart;
- ``rs``: the latest stored risk score per person (from the risk area's ``risk_scores``).

It records a fingerprint of the warehouse tables it was built from; when they change
(new ingest, new link run, new harm weights) the index is rebuilt on the next start. The file
holds names as recorded, so it sits beside the warehouse with the same protection, and a
rebuild drops anything deleted from the warehouse (retention applies to it too).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 2  # bump when the tables below change shape


def index_path(warehouse: Path) -> Path:
    w = Path(warehouse)
    return w.with_name(w.stem + ".serve.duckdb")


def _fingerprint(con: Any) -> str | None:
    """What the index depends on (warehouse attached as ``wh``); None when it lacks the tables a profile needs."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_schema = 'main'").fetchall()}
    if not {"links", "people", "events"} <= have:
        return None
    parts: dict[str, Any] = {"v": VERSION}
    parts["links"] = con.execute("SELECT count(*), max(linked_at)::VARCHAR, sum(hash(mention_id || chr(31) || person_id))::VARCHAR FROM wh.links").fetchone()
    parts["people"] = con.execute("SELECT count(*), max(load_id) FROM wh.people").fetchone()
    parts["events"] = con.execute("SELECT count(*), max(load_id) FROM wh.events").fetchone()
    if "risk_scores" in have:
        parts["risk"] = con.execute("SELECT count(*), max(scored_at)::VARCHAR, sum(risk) FROM wh.risk_scores").fetchone()
    if "event_harm" in have:
        parts["harm"] = con.execute("SELECT count(*), max(applied_at)::VARCHAR, sum(harm_weight) FROM wh.event_harm").fetchone()
    return json.dumps(parts, default=str)


def build_index(warehouse: Path, *, force: bool = False) -> Path | None:
    """(Re)build the serving index if the warehouse changed; returns its path, or None when there is nothing to index.

    The warehouse must not be open for writing in another process while this runs.
    """
    import duckdb

    path = index_path(warehouse)
    tmp = path.with_name(path.name + ".tmp")
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        con.execute(f"ATTACH '{_sql_str(str(warehouse))}' AS wh (READ_ONLY)")
        fp = _fingerprint(con)
        if fp is None:
            return None
        if path.exists() and not force:
            try:
                old = duckdb.connect(str(path), read_only=True)
                try:
                    cur = old.execute("SELECT fingerprint FROM meta").fetchone()[0]
                finally:
                    old.close()
                if cur == fp:
                    return path
            except duckdb.Error:
                pass  # unreadable or old shape: rebuild
        has_harm = bool(con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'wh' AND table_name = 'event_harm'").fetchone()[0])
        harm_cols = "h.offence_category, h.harm_weight, h.vawg" if has_harm else \
            "NULL::VARCHAR AS offence_category, NULL::DOUBLE AS harm_weight, NULL::BOOLEAN AS vawg"
        harm_join = "LEFT JOIN wh.event_harm h ON h.event_id = e.event_id" if has_harm else ""
        for f in (tmp, Path(str(tmp) + ".wal")):
            if f.exists():
                f.unlink()
        con.execute(f"ATTACH '{_sql_str(str(tmp))}' AS ix")
        con.execute(f"""
            CREATE TABLE ix.pe AS
            SELECT l.person_id, p.mention_id, p.role, p.forename, p.surname, e.event_id, e.event_type, e.source, e.offence_code,
                   e.offence_description, e.occurred_at, e.ends_at, e.outcome, e.domestic, e.borough, {harm_cols}
            FROM wh.links l JOIN wh.people p ON p.mention_id = l.mention_id JOIN wh.events e ON e.event_id = p.event_id {harm_join}
            ORDER BY l.person_id, e.occurred_at""")
        con.execute("""
            CREATE TABLE ix.pn AS
            SELECT a.person_id, b.person_id AS other, b.role AS other_role, a.role AS my_role, a.event_id
            FROM ix.pe a JOIN ix.pe b ON b.event_id = a.event_id AND b.person_id <> a.person_id
            ORDER BY a.person_id""")
        has_scores = bool(con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'wh' AND table_name = 'risk_scores'").fetchone()[0])
        if has_scores:
            # The latest stored score per person, as the profile shows it.
            con.execute("""
                CREATE TABLE ix.rs AS
                SELECT person_id, version, as_of, risk, expected_harm, top_factors, scored_at FROM wh.risk_scores
                QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY as_of DESC, scored_at DESC) = 1
                ORDER BY person_id""")
            con.execute("CREATE INDEX rs_person ON ix.rs (person_id)")
        con.execute("CREATE INDEX pe_person ON ix.pe (person_id)")
        con.execute("CREATE INDEX pn_person ON ix.pn (person_id)")
        con.execute("CREATE TABLE ix.meta AS SELECT ? AS fingerprint, now() AS built_at", [fp])
        con.execute("DETACH ix")
    finally:
        con.close()
    os.replace(tmp, path)  # readers see the old index or the new one, never half of one
    log.info("serving index rebuilt at %s", path)
    return path


def _sql_str(s: str) -> str:
    return s.replace("'", "''")
