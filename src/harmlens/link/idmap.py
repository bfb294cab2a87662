"""Stable person ids after clustering, the merges and splits that change them, and ``links``.

Works on a table ``assign(mention_id, record_id, cluster, old_pid)``: every current mention, the
cluster it is in now (a cluster key is its smallest mention id) and the person it was linked to
before (NULL when new). Everything is set-based SQL; Python only walks the per-cluster candidate
list (one row per existing person), so a run over a million mentions stays in seconds.

- Each cluster keeps the person id most of its mentions already had; each old id goes to at most
  one cluster (ties: the lower id, then the lower cluster key). Other clusters get a new id that
  was never issued before.
- A cluster holding mentions of several old persons is a **merge**, an old person whose mentions
  are now in several clusters a **split**; both go to ``link_history`` with before, after, the
  mentions and the reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import pandas as pd


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_person_id(seed: str, taken: set[str]) -> str:
    """``P`` + 12 hex digits derived from a member mention id; never reuses an id ever issued."""
    base = "P" + hashlib.sha1(seed.encode()).hexdigest()[:12].upper()
    pid, k = base, 1
    while pid in taken:
        k += 1
        pid = f"{base}-{k}"
    taken.add(pid)
    return pid


@dataclass
class IdAssignment:
    persons: int
    merges: int
    splits: int
    history: list[tuple] = field(default_factory=list)


def assign_person_ids(con: duckdb.DuckDBPyConnection, assign: str, run_id: int, model_id: int, why_run: str,
                      blocked: list[tuple[str, str, str]], gone: list[str]) -> IdAssignment:
    """Write table ``__hl_pid(cluster, person_id)`` and return the history rows to record."""
    cands = con.execute(
        f"SELECT cluster, old_pid, count(*) c FROM {assign} WHERE old_pid IS NOT NULL GROUP BY ALL ORDER BY c DESC, old_pid, cluster"
    ).fetchall()
    cl_pid: dict[str, str] = {}
    used: set[str] = set()
    for cl, pid, _c in cands:
        if cl in cl_pid or pid in used:
            continue
        cl_pid[cl] = pid
        used.add(pid)
    clusters = [r[0] for r in con.execute(f"SELECT DISTINCT cluster FROM {assign} ORDER BY cluster").fetchall()]
    if len(cl_pid) < len(clusters):
        taken = {r[0] for r in con.execute("SELECT DISTINCT person_id FROM links").fetchall()}
        for b, a in con.execute("SELECT before, after FROM link_history").fetchall():
            taken.update(json.loads(b))
            taken.update(json.loads(a))
        for cl in clusters:
            if cl not in cl_pid:
                cl_pid[cl] = new_person_id(cl, taken)
    con.register("__hl_pid_df", pd.DataFrame({"cluster": list(cl_pid), "person_id": list(cl_pid.values())}))
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_pid AS SELECT * FROM __hl_pid_df")
    con.unregister("__hl_pid_df")

    changed_at = _now()
    history: list[tuple] = []
    merges = con.execute(
        f"""WITH mc AS (SELECT cluster FROM {assign} GROUP BY cluster HAVING count(DISTINCT old_pid) > 1),
                 best AS (SELECT ca.cluster, arg_max([p.mention_a, p.mention_b, CAST(p.match_probability AS VARCHAR)], p.match_probability) AS top
                          FROM link_pairs p JOIN {assign} ca ON ca.mention_id = p.mention_a JOIN {assign} cb ON cb.mention_id = p.mention_b
                          WHERE ca.cluster = cb.cluster AND ca.old_pid <> cb.old_pid AND ca.cluster IN (SELECT cluster FROM mc)
                          GROUP BY ca.cluster),
                 refs AS (SELECT a.cluster, count(DISTINCT m.person_ref) n_refs FROM {assign} a JOIN __hl_mentions m ON m.unique_id = a.mention_id
                          WHERE a.cluster IN (SELECT cluster FROM mc) GROUP BY a.cluster)
            SELECT a.cluster, list(DISTINCT a.old_pid ORDER BY a.old_pid) FILTER (WHERE a.old_pid IS NOT NULL),
                   list(a.mention_id ORDER BY a.mention_id), any_value(b.top), any_value(r.n_refs), any_value(p.person_id)
            FROM {assign} a JOIN mc USING (cluster) JOIN __hl_pid p USING (cluster)
            LEFT JOIN best b USING (cluster) LEFT JOIN refs r USING (cluster)
            GROUP BY a.cluster ORDER BY a.cluster"""
    ).fetchall()
    for _cl, olds, ms, top, n_refs, pid in merges:
        reason = why_run
        if top:
            reason += f"; strongest joining pair {top[0]} ~ {top[1]} with match probability {float(top[2]):.4f} (model {model_id})"
        if n_refs == 1:
            reason += "; shared person_ref"
        history.append((run_id, changed_at, "merge", json.dumps(olds), json.dumps([pid]), json.dumps(ms), reason))
    splits = con.execute(
        f"""SELECT a.old_pid, list(DISTINCT p.person_id ORDER BY p.person_id), list(a.mention_id ORDER BY a.mention_id)
            FROM {assign} a JOIN __hl_pid p USING (cluster) WHERE a.old_pid IS NOT NULL
            GROUP BY a.old_pid HAVING count(DISTINCT p.person_id) > 1 ORDER BY a.old_pid"""
    ).fetchall()
    for pid, now_pids, ms in splits:
        reason = why_run + "; these mentions are no longer joined by a pair at or above the threshold"
        mset = set(ms)
        bl = [f"{a} ~ {b}: {w}" for a, b, w in blocked if a in mset and b in mset]
        if bl:
            reason += "; refused: " + "; ".join(bl[:5])
        history.append((run_id, changed_at, "split", json.dumps([pid]), json.dumps(now_pids), json.dumps(ms), reason))
    for g in gone:
        history.append((run_id, changed_at, "removed", json.dumps([g]), json.dumps([]), json.dumps([g]), "mention no longer in people"))
    return IdAssignment(len(clusters), len(merges), len(splits), history)


def write_links(con: duckdb.DuckDBPyConnection, assign: str, run_id: int, review_low: float, review_high: float,
                partial: bool = False) -> int:
    """Rewrite the changed rows of ``links`` and refill ``link_review``; returns the queue length.

    ``partial``: ``assign`` holds only the clusters that may have changed (the others keep their
    rows); otherwise it holds every current mention and links of mentions not in it are dropped.

    Method per mention: ``singleton`` (the person has one mention), ``person_ref`` (its strong id
    is shared), ``review`` (a reviewer joined it), ``identical`` (every mention of the person is
    identical on the compared fields), else ``probabilistic``.
    """
    now = _now()
    # partial: count only the person_refs of the mentions at hand, not every ref in the warehouse
    refs_at_hand = (f"AND person_ref IN (SELECT m.person_ref FROM {assign} a JOIN __hl_mentions m ON m.unique_id = a.mention_id)"
                    if partial else "")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_links_new AS
            WITH cs AS (SELECT cluster, count(*) n_m, count(DISTINCT record_id) n_rec FROM {assign} GROUP BY cluster),
                 rc AS (SELECT person_ref, count(*) n FROM __hl_mentions WHERE person_ref IS NOT NULL {refs_at_hand} GROUP BY person_ref),
                 rv AS (SELECT mention_a AS mention_id FROM link_decisions WHERE decision = 'same'
                        UNION SELECT mention_b FROM link_decisions WHERE decision = 'same'),
                 d AS (SELECT a.mention_id, p.person_id,
                              CASE WHEN cs.n_m = 1 THEN 'singleton'
                                   WHEN coalesce(rc.n, 0) > 1 THEN 'person_ref'
                                   WHEN rv.mention_id IS NOT NULL THEN 'review'
                                   WHEN cs.n_rec = 1 THEN 'identical'
                                   ELSE 'probabilistic' END AS method
                       FROM {assign} a JOIN __hl_pid p USING (cluster) JOIN cs USING (cluster)
                       JOIN __hl_mentions m ON m.unique_id = a.mention_id
                       LEFT JOIN rc ON rc.person_ref = m.person_ref LEFT JOIN rv ON rv.mention_id = a.mention_id)
            SELECT d.mention_id, d.person_id, d.method,
                   CASE WHEN l.person_id = d.person_id THEN l.linked_at ELSE CAST(? AS TIMESTAMP) END AS linked_at,
                   l.mention_id IS NULL OR l.person_id <> d.person_id OR l.method IS DISTINCT FROM d.method AS changed
            FROM d LEFT JOIN links l USING (mention_id)""",
        [now],
    )
    # rewrite only what changed: an incremental run over a large warehouse touches few rows
    if partial:
        con.execute("DELETE FROM links WHERE mention_id IN (SELECT mention_id FROM __hl_links_new WHERE changed)")
    elif con.execute("SELECT count(*) FROM links").fetchall()[0][0]:
        con.execute("""DELETE FROM links WHERE mention_id NOT IN (SELECT mention_id FROM __hl_links_new)
                       OR mention_id IN (SELECT mention_id FROM __hl_links_new WHERE changed)""")
    con.execute("INSERT INTO links SELECT mention_id, person_id, method, linked_at FROM __hl_links_new WHERE changed")
    # review queue: undecided pairs near the threshold that are kept apart (below the threshold, or
    # refused by a constraint); pairs inside one person are in its view and link-history
    # Only the difference is written: rewriting a queue of 700k rows (primary-key index) costs half
    # a minute at commit; a pair already queued keeps its queued_at.
    # ``partial``: a pair can enter or leave the queue only if one of its mentions is in a cluster
    # of this run (persons elsewhere, their pairs and the decisions are as they were; a pair scored
    # this run holds a new mention), so only those pairs are looked at
    def touched(t: str) -> str:
        return f"({t}.mention_a IN (SELECT mention_id FROM {assign}) OR {t}.mention_b IN (SELECT mention_id FROM {assign}))" if partial else "true"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_review_new AS
           SELECT p.mention_a, p.mention_b, p.match_probability
           FROM (SELECT * FROM link_pairs p WHERE p.match_probability >= ? AND p.match_probability < ? AND {touched('p')}) p
           JOIN links la ON la.mention_id = p.mention_a JOIN links lb ON lb.mention_id = p.mention_b
           WHERE la.person_id <> lb.person_id
             AND NOT EXISTS (SELECT 1 FROM link_decisions d WHERE d.mention_a = p.mention_a AND d.mention_b = p.mention_b)""",
        [review_low, review_high],
    )
    con.execute(
        f"""DELETE FROM link_review r WHERE {touched('r')} AND NOT EXISTS (SELECT 1 FROM __hl_review_new n WHERE n.mention_a = r.mention_a
           AND n.mention_b = r.mention_b AND n.match_probability = r.match_probability)"""
    )
    con.execute(
        """INSERT INTO link_review SELECT n.mention_a, n.mention_b, n.match_probability, false, ?, ? FROM __hl_review_new n
           WHERE NOT EXISTS (SELECT 1 FROM link_review r WHERE r.mention_a = n.mention_a AND r.mention_b = n.mention_b)""",
        [now, run_id],
    )
    con.execute("DROP TABLE IF EXISTS __hl_links_new; DROP TABLE IF EXISTS __hl_pid; DROP TABLE IF EXISTS __hl_review_new")
    return con.execute("SELECT count(*) FROM link_review").fetchall()[0][0]
