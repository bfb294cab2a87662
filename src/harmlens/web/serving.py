"""The serving index: what a profile shows, per person, in a SQLite file with clustered keys.

A profile joins links -> people -> events -> event_harm for one person. The warehouse has no
index on ``links.person_id`` (the link area owns that table and rewrites it), so at a million
persons each profile would scan millions of rows. Even a DuckDB copy sorted by person_id costs
1-3 ms per lookup (DuckDB plans and scans a row group per query: it is built for scans, not for
point reads). So the web app keeps its own SQLite file beside the warehouse
(``harmlens.serve.sqlite`` for ``harmlens.duckdb``), built by DuckDB and read with B-tree point
lookups (tens of microseconds, and SQLite releases the GIL while it reads):

- ``pe``: one row per (person, mention): the event, the role, names as recorded, harm; clustered
  on (person_id, ord) with ``ord`` the timeline order (newest first), so a profile is one range read;
- ``pn``: one row per (person, other person, their role): shared events and this person's roles,
  the 60 strongest links per person in chart order (what the profile shows);
- ``rs``: the latest stored risk score per person (from the risk area's ``risk_scores``).

Timestamps are stored as the ISO text Python's ``isoformat`` gives, booleans as 0/1, so the
profile is the same whether it comes from here or from the warehouse joins (a test checks it).

It records a fingerprint of the warehouse tables it was built from; when they change (new
ingest, new link run, new harm weights, new scores) the index is rebuilt on the next start,
written to a temporary file and renamed so readers never see half an index. The file holds names
as recorded, so it sits beside the warehouse with the same protection, and a rebuild drops
anything deleted from the warehouse (retention applies to it too).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from harmlens.web.perthread import PerThread

log = logging.getLogger(__name__)

VERSION = 3  # bump when the tables below change shape
NETWORK_LIMIT = 60  # linked people kept per person: the chart and table show at most this many
BATCH = 50_000

_PE_COLS = ("mention_id", "role", "forename", "surname", "event_id", "event_type", "source", "offence_code", "offence_description",
            "occurred_at", "ends_at", "outcome", "domestic", "borough", "offence_category", "harm_weight", "vawg")
_PE_BOOL = ("domestic", "vawg")


def index_path(warehouse: Path) -> Path:
    w = Path(warehouse)
    return w.with_name(w.stem + ".serve.sqlite")


def _iso(col: str) -> str:
    """SQL giving exactly what Python's ``datetime.isoformat()`` gives for a TIMESTAMP (micro-seconds only when non-zero)."""
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN epoch_us({col}) % 1000000 = 0 THEN strftime({col}, '%Y-%m-%dT%H:%M:%S')"
            f" ELSE strftime({col}, '%Y-%m-%dT%H:%M:%S.%f') END")


def _fingerprint(con: Any) -> str | None:
    """What the index depends on (warehouse attached as ``wh``); None when it lacks the tables a profile needs."""
    have = _tables(con)
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


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_schema = 'main'").fetchall()}


def _current_fingerprint(path: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute("SELECT fingerprint FROM meta").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None  # unreadable or old shape: rebuild


def build_index(warehouse: Path, *, force: bool = False) -> Path | None:
    """(Re)build the serving index if the warehouse changed; returns its path, or None when there is nothing to index.

    The warehouse must not be open for writing in another process while this runs.
    """
    import duckdb

    path = index_path(warehouse)
    old_duckdb = Path(warehouse).with_name(Path(warehouse).stem + ".serve.duckdb")
    if old_duckdb.exists():
        old_duckdb.unlink()  # the previous (DuckDB) index format: it holds names too, so it must not linger
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        con.execute(f"ATTACH '{_sql_str(str(warehouse))}' AS wh (READ_ONLY)")
        fp = _fingerprint(con)
        if fp is None:
            return None
        if path.exists() and not force and _current_fingerprint(path) == fp:
            return path
        tmp = path.with_name(path.name + ".tmp")
        for f in (tmp, Path(str(tmp) + "-journal")):
            if f.exists():
                f.unlink()
        _write(con, tmp, fp)
    finally:
        con.close()
    os.replace(tmp, path)  # readers see the old index or the new one, never half of one
    log.info("serving index rebuilt at %s", path)
    return path


def _write(con: Any, tmp: Path, fp: str) -> None:
    have = _tables(con)
    has_harm = "event_harm" in have
    harm_cols = "h.offence_category, h.harm_weight, h.vawg" if has_harm else \
        "NULL::VARCHAR AS offence_category, NULL::DOUBLE AS harm_weight, NULL::BOOLEAN AS vawg"
    harm_join = "LEFT JOIN wh.event_harm h ON h.event_id = e.event_id" if has_harm else ""
    # The mentions, in DuckDB (parallel): everything the two SQLite tables are made from.
    con.execute(f"""
        CREATE TEMP TABLE m AS
        SELECT l.person_id, p.mention_id, p.role, p.forename, p.surname, e.event_id, e.event_type, e.source, e.offence_code,
               e.offence_description, e.occurred_at, e.ends_at, e.outcome, e.domestic, e.borough, {harm_cols}
        FROM wh.links l JOIN wh.people p ON p.mention_id = l.mention_id JOIN wh.events e ON e.event_id = p.event_id {harm_join}""")
    out = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        # A throwaway file until it is renamed into place: no journal, no fsync per page.
        out.execute("PRAGMA journal_mode = OFF")
        out.execute("PRAGMA synchronous = OFF")
        out.execute("BEGIN")
        cols = ", ".join(_PE_COLS)
        out.execute(f"CREATE TABLE pe (person_id TEXT NOT NULL, ord INTEGER NOT NULL, {cols}, PRIMARY KEY (person_id, ord)) WITHOUT ROWID")
        sel = ", ".join(_iso(c) if c in ("occurred_at", "ends_at") else c for c in _PE_COLS)
        _copy(con, f"""SELECT person_id, row_number() OVER (PARTITION BY person_id ORDER BY occurred_at DESC, event_id, mention_id) AS ord, {sel}
                       FROM m ORDER BY person_id, ord""", out, "pe", 2 + len(_PE_COLS))
        out.execute("CREATE TABLE pn (person_id TEXT NOT NULL, ord INTEGER NOT NULL, other TEXT NOT NULL, other_role TEXT, events INTEGER,"
                    " my_roles TEXT, PRIMARY KEY (person_id, ord)) WITHOUT ROWID")
        _copy(con, f"""
            SELECT * FROM (
                SELECT a.person_id, row_number() OVER (PARTITION BY a.person_id ORDER BY count(DISTINCT a.event_id) DESC, b.person_id, b.role) AS ord,
                       b.person_id AS other, b.role AS other_role, count(DISTINCT a.event_id) AS events,
                       string_agg(DISTINCT a.role, ',' ORDER BY a.role) AS my_roles
                FROM m a JOIN m b ON b.event_id = a.event_id AND b.person_id <> a.person_id
                GROUP BY a.person_id, b.person_id, b.role)
            WHERE ord <= {NETWORK_LIMIT} ORDER BY person_id, ord""", out, "pn", 6)
        if "risk_scores" in have:
            out.execute("CREATE TABLE rs (person_id TEXT PRIMARY KEY, version TEXT, as_of TEXT, risk REAL, expected_harm REAL,"
                        " top_factors TEXT, scored_at TEXT) WITHOUT ROWID")
            # The latest stored score per person, as the profile shows it.
            _copy(con, f"""
                SELECT person_id, version, {_iso('as_of')}, risk, expected_harm, top_factors, {_iso('scored_at')} FROM wh.risk_scores
                QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY as_of DESC, scored_at DESC) = 1
                ORDER BY person_id""", out, "rs", 7)
        out.execute("CREATE TABLE meta (fingerprint TEXT NOT NULL, built_at TEXT NOT NULL)")
        out.execute("INSERT INTO meta VALUES (?, datetime('now'))", [fp])
        out.execute("COMMIT")
    finally:
        out.close()


def _copy(con: Any, sql: str, out: sqlite3.Connection, table: str, ncols: int) -> None:
    """Stream a DuckDB result into a SQLite table (rows arrive in key order, so inserts append)."""
    cur = con.execute(sql)
    ins = f"INSERT INTO {table} VALUES ({', '.join('?' * ncols)})"
    while True:
        rows = cur.fetchmany(BATCH)
        if not rows:
            break
        out.executemany(ins, rows)


class ServingIndex:
    """Point lookups on the serving index; one read-only SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # immutable: the file is never written after it is renamed into place (a rebuild makes a new file),
        # so readers skip SQLite's locking entirely.
        self._uri = f"file:{self.path}?mode=ro&immutable=1"
        self._cons: PerThread[sqlite3.Connection] = PerThread(
            lambda: sqlite3.connect(self._uri, uri=True, check_same_thread=False), sqlite3.Connection.close)
        self.has_risk = bool(self._con().execute("SELECT count(*) FROM sqlite_master WHERE name = 'rs'").fetchone()[0])

    def _con(self) -> sqlite3.Connection:
        return self._cons.get()

    def close(self) -> None:
        self._cons.close()

    def events(self, person_id: str) -> list[dict[str, Any]]:
        """The person's mentions with their events, newest first (the timeline order)."""
        cur = self._con().execute(f"SELECT {', '.join(_PE_COLS)} FROM pe WHERE person_id = ? ORDER BY ord", [person_id])
        out = []
        for r in cur.fetchall():
            d = dict(zip(_PE_COLS, r))
            for k in _PE_BOOL:
                if d[k] is not None:
                    d[k] = bool(d[k])
            out.append(d)
        return out

    def network(self, person_id: str, limit: int = NETWORK_LIMIT) -> list[dict[str, Any]]:
        cur = self._con().execute("SELECT other, other_role, events, my_roles FROM pn WHERE person_id = ? ORDER BY ord LIMIT ?",
                                  [person_id, min(limit, NETWORK_LIMIT)])
        return [{"other": o, "other_role": r, "events": n, "my_roles": m} for o, r, n, m in cur.fetchall()]

    def risk(self, person_id: str) -> dict[str, Any] | None:
        if not self.has_risk:
            return None
        r = self._con().execute("SELECT version, as_of, risk, expected_harm, top_factors, scored_at FROM rs WHERE person_id = ?",
                                [person_id]).fetchone()
        if r is None:
            return None
        return dict(zip(("version", "as_of", "risk", "expected_harm", "top_factors", "scored_at"), r))

    def latest_borough(self, person_id: str) -> str | None:
        """Borough of the person's most recent event that has one."""
        r = self._con().execute("SELECT borough FROM pe WHERE person_id = ? AND borough IS NOT NULL ORDER BY ord LIMIT 1",
                                [person_id]).fetchone()
        return r[0] if r else None


def _sql_str(s: str) -> str:
    return s.replace("'", "''")
