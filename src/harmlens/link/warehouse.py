"""Linking the warehouse's mentions (contract table ``people``) into persons, with stable ids.

A run:

1. reads every mention; a mention whose ``person_ref`` (strong id) is shared is linked
   deterministically, and two different refs are never joined;
2. uses the active model saved with the warehouse, or estimates one (EM) when there is none or
   ``retrain`` is asked;
3. scores candidate pairs: all of them on the first run (or ``full``), otherwise only pairs
   that involve new mentions (new x existing, new x new): existing persons are not re-linked;
4. clusters (strongest evidence first, respecting person_refs and reviewers' decisions);
5. maps clusters to existing person ids so an id keeps its meaning: a cluster keeps the id most
   of its mentions had; every merge and split is written to ``link_history`` with before,
   after and reason;
6. rewrites ``links`` and refreshes the clerical review queue (pairs near the threshold).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import duckdb

from harmlens.errors import WarehouseError
import numpy as np

from harmlens.link.cluster import cluster_indexed
from harmlens.link.engine import DEFAULT_THRESHOLD, REVIEW_BAND, score_pairs
from harmlens.link.model import make_linker, model_json, settings_dict, train
from harmlens.link.prepare import Placeholders, prepare

log = logging.getLogger(__name__)

_MENTIONS_SQL = """SELECT mention_id AS unique_id, forename, surname, date_of_birth, sex, postcode,
       nullif(trim(person_ref), '') AS person_ref FROM people"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class LinkRunSummary:
    run_id: int
    mode: str
    model_id: int
    threshold: float
    mentions: int
    new_mentions: int
    persons: int
    pairs_scored: int
    merges: int
    splits: int
    review_queue: int
    refused_by_constraints: int
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        return (f"run {self.run_id} ({self.mode}, model {self.model_id}, threshold {self.threshold}): "
                f"{self.mentions} mentions ({self.new_mentions} new) -> {self.persons} persons; "
                f"{self.pairs_scored} pairs scored; {self.merges} merges, {self.splits} splits recorded; "
                f"{self.review_queue} pairs in the review queue; {self.refused_by_constraints} links refused by person_ref/decisions")


def new_person_id(seed: str, taken: set[str]) -> str:
    """``P`` + 12 hex digits derived from a member mention id; never reuses an id ever issued."""
    base = "P" + hashlib.sha1(seed.encode()).hexdigest()[:12].upper()
    pid, k = base, 1
    while pid in taken:
        k += 1
        pid = f"{base}-{k}"
    taken.add(pid)
    return pid


def _active_model(con: duckdb.DuckDBPyConnection) -> tuple[int, dict] | None:
    rows = con.execute("SELECT model_id, model FROM link_models WHERE active ORDER BY model_id DESC LIMIT 1").fetchall()
    return (rows[0][0], json.loads(rows[0][1])) if rows else None


def _register_linker_tables(linker, names: list[str]) -> list:
    return [linker._db_api.register(n) for n in names]


def _pairs_into(con: duckdb.DuckDBPyConnection, physical: str, model_id: int, run_id: int, min_p: float) -> int:
    con.execute(
        f"""INSERT OR REPLACE INTO link_pairs
            SELECT least(CAST(unique_id_l AS VARCHAR), CAST(unique_id_r AS VARCHAR)), greatest(CAST(unique_id_l AS VARCHAR), CAST(unique_id_r AS VARCHAR)),
                   match_weight, match_probability, ?, ?
            FROM {physical} WHERE match_probability >= ?""",
        [model_id, run_id, min_p],
    )
    return con.execute(f"SELECT count(*) FROM {physical}").fetchall()[0][0]


def link_warehouse(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold: float | None = None,
    retrain: bool = False,
    full: bool = False,
    placeholder_postcodes: set[str] | None = None,
    seed: int = 42,
) -> LinkRunSummary:
    """Link every mention in ``people`` into persons and write ``links`` (see module docstring).

    Parameters
    ----------
    con : an open, migrated warehouse connection.
    threshold : match probability at which two mentions are joined (default: the active model's,
        else ``DEFAULT_THRESHOLD``).
    retrain : re-estimate the model from the current mentions (implies ``full``).
    full : re-score every pair and re-cluster from scratch (ids still map to existing persons).
    placeholder_postcodes : extra postcodes to treat as missing (e.g. custody suites).
    """
    t0 = time.perf_counter()
    secs: dict[str, float] = {}
    try:
        n_all = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
    except duckdb.CatalogException as exc:
        raise WarehouseError("the warehouse has no people table: run 'harmlens ingest DIR' first") from exc
    if n_all == 0:
        raise WarehouseError("no mentions to link: the people table is empty (run 'harmlens ingest DIR' first)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_mentions AS {_MENTIONS_SQL}")
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM link_runs").fetchall()[0][0]
    started = _now()
    # mentions that disappeared from people (a newer extract removed them) leave links
    gone = [r[0] for r in con.execute("SELECT mention_id FROM links WHERE mention_id NOT IN (SELECT unique_id FROM __hl_mentions)").fetchall()]

    active = None if retrain else _active_model(con)
    if active is not None and threshold is None:
        threshold = con.execute("SELECT threshold FROM link_models WHERE model_id = ?", [active[0]]).fetchall()[0][0]
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not 0.0 < threshold < 1.0:
        raise WarehouseError(f"threshold must be a probability between 0 and 1, got {threshold}")
    review_low = min(REVIEW_BAND[0], threshold)
    existing = dict(con.execute("SELECT mention_id, person_id FROM links").fetchall())
    for g in gone:
        existing.pop(g, None)
    new_ids = con.execute("SELECT unique_id FROM __hl_mentions WHERE unique_id NOT IN (SELECT mention_id FROM links)").fetchall()
    new_ids = [r[0] for r in new_ids]
    incremental = bool(existing) and not full and active is not None
    mode = "incremental" if incremental else ("retrain" if retrain or active is None else "full")

    # 1. prepare + model
    t = time.perf_counter()
    ph = Placeholders().with_values(postcodes=placeholder_postcodes)
    if active is None:
        info = prepare(con, "__hl_mentions", "__hl_prep", placeholders=ph, detect=True)
        linker = make_linker(con, "__hl_prep", settings_dict([], strict=True))
        train(linker, n_all, seed=seed)
        trained_meta = {
            "harmlens_placeholders": ph.to_json(),
            "harmlens_detected": {"dobs": sorted(info.detected_dobs), "postcodes": sorted(info.detected_postcodes)},
            "harmlens_extras": [],
            "harmlens_strict": True,
        }
        model_id = con.execute("SELECT coalesce(max(model_id), 0) + 1 FROM link_models").fetchall()[0][0]
    else:
        trained_meta = None
        model_id, m = active
        ph2 = Placeholders.from_json(m["harmlens_placeholders"]).with_values(
            dobs=set(m["harmlens_detected"]["dobs"]), postcodes=set(m["harmlens_detected"]["postcodes"]) | set(placeholder_postcodes or ()))
        prepare(con, "__hl_mentions", "__hl_prep", placeholders=ph2, detect=False)
        linker = make_linker(con, "__hl_prep", {k: v for k, v in m.items() if not k.startswith("harmlens_")})
        if threshold != con.execute("SELECT threshold FROM link_models WHERE model_id = ?", [model_id]).fetchall()[0][0]:
            con.execute("UPDATE link_models SET threshold = ? WHERE model_id = ?", [threshold, model_id])
    secs["prepare_train_s"] = time.perf_counter() - t

    # 2. scoring
    t = time.perf_counter()
    if incremental:
        if new_ids:
            for col in ("fn", "sn", "pc"):
                linker.table_management.compute_tf_table(col)
            con.execute("CREATE OR REPLACE TEMP TABLE __hl_prep_new AS SELECT * FROM __hl_prep WHERE unique_id NOT IN (SELECT mention_id FROM links)")
            con.execute("CREATE OR REPLACE TEMP TABLE __hl_prep_old AS SELECT * FROM __hl_prep WHERE unique_id IN (SELECT mention_id FROM links)")
            sd_new, sd_old = _register_linker_tables(linker, ["__hl_prep_new", "__hl_prep_old"])
            between = linker.inference.predict_between(sd_old, sd_new, warning_mode="never")
            within = linker.inference.predict_within(sd_new, warning_mode="never")
            n_scored = _pairs_into(con, between.physical_name, model_id, run_id, review_low)
            n_scored += _pairs_into(con, within.physical_name, model_id, run_id, review_low)
            for s in (between, within):
                s.drop_table_from_database_and_remove_from_cache()
        else:
            n_scored = 0
    else:
        con.execute("DELETE FROM link_pairs")
        n_scored = score_pairs(con, linker, "__hl_scored", review_low, refine_n=n_all if trained_meta else None)
        _pairs_into(con, "__hl_scored", model_id, run_id, review_low)
        con.execute("DROP TABLE __hl_scored")
    if trained_meta is not None:  # saved after scoring, so it carries the refined prior
        m = json.loads(model_json(linker))
        m.update(trained_meta)
        con.execute("UPDATE link_models SET active = false")
        con.execute("INSERT INTO link_models VALUES (?, ?, ?, ?, true, ?)", [model_id, _now(), n_all, threshold, json.dumps(m)])
    if gone:
        con.execute("DELETE FROM link_pairs WHERE mention_a NOT IN (SELECT unique_id FROM __hl_mentions) OR mention_b NOT IN (SELECT unique_id FROM __hl_mentions)")
    secs["score_s"] = time.perf_counter() - t

    # 3. clustering (on integer indexes: millions of pairs stay in numpy, not Python tuples)
    t = time.perf_counter()
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_ids AS SELECT unique_id, CAST(row_number() OVER (ORDER BY unique_id) - 1 AS BIGINT) AS i FROM __hl_mentions")
    names = [r[0] for r in con.execute("SELECT unique_id FROM __hl_ids ORDER BY i").fetchall()]
    ids = names
    refs = dict(con.execute("SELECT unique_id, person_ref FROM __hl_mentions WHERE person_ref IS NOT NULL").fetchall())
    refs_i = dict(con.execute("SELECT x.i, m.person_ref FROM __hl_mentions m JOIN __hl_ids x USING (unique_id) WHERE m.person_ref IS NOT NULL").fetchall())
    decisions = con.execute("SELECT mention_a, mention_b, decision, decided_at FROM link_decisions").fetchall()
    dec_i = con.execute(
        """SELECT xa.i, xb.i, d.decision FROM link_decisions d JOIN __hl_ids xa ON xa.unique_id = d.mention_a
           JOIN __hl_ids xb ON xb.unique_id = d.mention_b"""
    ).fetchall()
    must = [(a, b) for a, b, d, _ in decisions if d == "same"]
    must_i = [(a, b) for a, b, d in dec_i if d == "same"]
    cannot_i = [(a, b) for a, b, d in dec_i if d == "different"]
    dobs_i = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        """SELECT x.i, CAST(substr(dob_s, 1, 4) AS INTEGER), CAST(substr(dob_s, 6, 2) AS INTEGER), CAST(substr(dob_s, 9, 2) AS INTEGER)
           FROM __hl_prep p JOIN __hl_ids x USING (unique_id) WHERE dob_s IS NOT NULL""").fetchall()}
    last_run = con.execute("SELECT max(started_at) FROM link_runs").fetchall()[0][0]
    new_decisions = [x for x in decisions if last_run is None or x[3] >= last_run]
    # decisions since the last run, or removed mentions, can change existing persons: re-cluster all
    recluster = not incremental or bool(new_decisions) or bool(gone)
    edge_sql = """SELECT xa.i AS a, xb.i AS b, p.match_probability AS p FROM link_pairs p
                  JOIN __hl_ids xa ON xa.unique_id = p.mention_a JOIN __hl_ids xb ON xb.unique_id = p.mention_b
                  WHERE p.match_probability >= ?"""
    if recluster:
        e = con.execute(edge_sql, [threshold]).fetchnumpy()
        start_arr = None
    else:
        e = con.execute(edge_sql + " AND p.run_id = ?", [threshold, run_id]).fetchnumpy()
        start_arr = np.array([r[0] for r in con.execute(
            "SELECT l.person_id FROM __hl_ids x LEFT JOIN links l ON l.mention_id = x.unique_id ORDER BY x.i").fetchall()], dtype=object)
    labels, blocked_i = cluster_indexed(
        len(names), np.asarray(e["a"]), np.asarray(e["b"]), np.asarray(e["p"], dtype=np.float64), threshold=threshold,
        refs=refs_i, must_link=must_i, cannot_link=cannot_i, start=start_arr, dobs=dobs_i,
    )
    rep = {names[i]: names[labels[i]] for i in range(len(names))}
    blocked = [(names[x], names[y], w) for x, y, w in blocked_i]
    secs["cluster_s"] = time.perf_counter() - t

    # 4. stable person ids
    t = time.perf_counter()
    members: dict[str, list[str]] = defaultdict(list)
    for mid, r in rep.items():
        members[r].append(mid)
    taken = {r[0] for r in con.execute("SELECT DISTINCT person_id FROM links").fetchall()}
    for (b, a) in con.execute("SELECT before, after FROM link_history").fetchall():
        taken.update(json.loads(b))
        taken.update(json.loads(a))
    cands = []
    for r, ms in members.items():
        cnt = Counter(existing[x] for x in ms if x in existing)
        for pid, c in cnt.items():
            cands.append((-c, pid, r))
    cands.sort()
    cl_pid: dict[str, str] = {}
    used: set[str] = set()
    for _negc, pid, r in cands:
        if r in cl_pid or pid in used:
            continue
        cl_pid[r] = pid
        used.add(pid)
    for r in sorted(members):
        if r not in cl_pid:
            cl_pid[r] = new_person_id(min(members[r]), taken)
    edge_p = {}
    # reasons: the strongest stored pair joining the parts
    changed_at = _now()
    history = []
    old_members: dict[str, list[str]] = defaultdict(list)
    for mid, pid in existing.items():
        old_members[pid].append(mid)
    why_run = {"incremental": "new mentions linked", "full": "full re-link", "retrain": "model re-estimated and full re-link"}[mode]
    if new_decisions:
        why_run += f"; {len(new_decisions)} reviewer decision(s) applied"
    for r, ms in members.items():
        olds = sorted({existing[x] for x in ms if x in existing})
        if len(olds) > 1:
            parts = {p: [x for x in ms if existing.get(x) == p] for p in olds}
            best = con.execute(
                """SELECT mention_a, mention_b, match_probability FROM link_pairs
                   WHERE mention_a IN (SELECT unnest(?)) AND mention_b IN (SELECT unnest(?)) ORDER BY match_probability DESC LIMIT 1""",
                [ms, ms],
            ).fetchall()
            reason = why_run
            if best:
                a, b, p = best[0]
                if existing.get(a) != existing.get(b):
                    reason += f"; strongest joining pair {a} ~ {b} with match probability {p:.4f} (model {model_id})"
            shared = {refs[x] for x in ms if x in refs}
            if len(shared) == 1 and any(refs.get(x) for p in olds for x in parts[p]):
                reason += "; shared person_ref"
            history.append((run_id, changed_at, "merge", json.dumps(olds), json.dumps([cl_pid[r]]), json.dumps(sorted(ms)), reason))
    for pid, ms in old_members.items():
        now_pids = sorted({cl_pid[rep[x]] for x in ms if x in rep})
        if len(now_pids) > 1:
            reason = why_run + "; these mentions are no longer joined by a pair at or above the threshold"
            bl = [f"{a} ~ {b}: {w}" for a, b, w in blocked if a in ms and b in ms]
            if bl:
                reason += "; refused: " + "; ".join(bl[:5])
            history.append((run_id, changed_at, "split", json.dumps([pid]), json.dumps(now_pids), json.dumps(sorted(ms)), reason))
    for g in gone:
        history.append((run_id, changed_at, "removed", json.dumps([g]), json.dumps([]), json.dumps([g]), "mention no longer in people"))
    if history:
        con.executemany("INSERT INTO link_history VALUES (?, ?, ?, ?, ?, ?, ?)", history)
    del edge_p

    # 5. links
    import pandas as pd

    must_set = {x for pair in must for x in pair}
    ref_count = Counter(refs.values())
    size = {r: len(ms) for r, ms in members.items()}
    rows = []
    for mid, r in rep.items():
        if size[r] == 1:
            method = "singleton"
        elif mid in refs and ref_count[refs[mid]] > 1:
            method = "person_ref"
        elif mid in must_set:
            method = "review"
        else:
            method = "probabilistic"
        rows.append((mid, cl_pid[r], method))
    df = pd.DataFrame(rows, columns=["mention_id", "person_id", "method"])
    con.register("__hl_links_df", df)
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE __hl_links_new AS
               SELECT d.mention_id, d.person_id, d.method,
                      CASE WHEN l.person_id = d.person_id THEN l.linked_at ELSE CAST(? AS TIMESTAMP) END AS linked_at,
                      l.mention_id IS NULL OR l.person_id <> d.person_id OR l.method IS DISTINCT FROM d.method AS changed
               FROM __hl_links_df d LEFT JOIN links l USING (mention_id)""",
            [now],
        )
        # rewrite only what changed: an incremental run over a large warehouse touches few rows
        con.execute("""DELETE FROM links WHERE mention_id NOT IN (SELECT mention_id FROM __hl_links_new)
                       OR mention_id IN (SELECT mention_id FROM __hl_links_new WHERE changed)""")
        con.execute("INSERT INTO links SELECT mention_id, person_id, method, linked_at FROM __hl_links_new WHERE changed")
        # 6. review queue: undecided pairs near the threshold that are kept apart (below the threshold,
        # or refused by a constraint); pairs inside one person are in its view and link-history
        con.execute("DELETE FROM link_review")
        con.execute(
            """INSERT INTO link_review
               SELECT p.mention_a, p.mention_b, p.match_probability, la.person_id = lb.person_id, ?, ?
               FROM link_pairs p JOIN links la ON la.mention_id = p.mention_a JOIN links lb ON lb.mention_id = p.mention_b
               WHERE p.match_probability >= ? AND p.match_probability < ? AND la.person_id <> lb.person_id
                 AND NOT EXISTS (SELECT 1 FROM link_decisions d WHERE d.mention_a = p.mention_a AND d.mention_b = p.mention_b)""",
            [now, run_id, review_low, REVIEW_BAND[1]],
        )
        n_review = con.execute("SELECT count(*) FROM link_review").fetchall()[0][0]
        secs["write_s"] = time.perf_counter() - t
        secs["total_s"] = time.perf_counter() - t0
        summary = LinkRunSummary(
            run_id, mode, model_id, threshold, len(ids), len(new_ids), len(members), int(n_scored),
            sum(1 for h in history if h[2] == "merge"), sum(1 for h in history if h[2] == "split"), int(n_review), len(blocked), secs,
        )
        con.execute("INSERT INTO link_runs VALUES (?, ?, ?, ?, ?, ?, ?)", [run_id, started, _now(), mode, model_id, threshold, json.dumps(summary.as_dict())])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("__hl_links_df")
    for tname in ("__hl_prep", "__hl_prep_new", "__hl_prep_old", "__hl_mentions", "__hl_links_new", "__hl_ids"):
        con.execute(f"DROP TABLE IF EXISTS {tname}")
    log.info("link run %s: %s", run_id, summary.text())
    return summary


def decide(con: duckdb.DuckDBPyConnection, a: str, b: str, decision: str, by: str, note: str | None = None) -> None:
    """Record a reviewer's decision on a pair; the next ``link`` run respects it."""
    if decision not in ("same", "different"):
        raise WarehouseError("decision must be 'same' or 'different'")
    if a == b:
        raise WarehouseError("a decision needs two different mentions")
    found = {r[0] for r in con.execute("SELECT mention_id FROM people WHERE mention_id IN (?, ?)", [a, b]).fetchall()}
    missing = [x for x in (a, b) if x not in found]
    if missing:
        raise WarehouseError(f"no such mention: {', '.join(missing)}")
    x, y = sorted((a, b))
    con.execute("INSERT OR REPLACE INTO link_decisions VALUES (?, ?, ?, ?, ?, ?)", [x, y, decision, by, _now(), note])
    con.execute("DELETE FROM link_review WHERE mention_a = ? AND mention_b = ?", [x, y])
