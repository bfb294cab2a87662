"""Linking the warehouse's mentions (contract table ``people``) into persons, with stable ids.

A run:

1. reads and standardises every mention, and collapses mentions identical on every compared
   field and on ``person_ref`` into one **record** (``records.py``; stored in ``link_records``);
   a ``person_ref`` shared by several records links them deterministically, and two different
   refs are never joined;
2. uses the active model saved with the warehouse, or estimates one (EM, on a sample of at most
   ``TRAIN_MENTIONS`` mentions) when there is none or ``retrain`` is asked;
3. scores candidate record pairs (blocking capped on over-full blocks): all of them on the first
   run (or ``full``), otherwise only pairs involving records that did not exist before (new x
   existing, new x new): existing persons are not re-linked;
4. clusters records (strongest evidence first, respecting person_refs, reviewers' decisions and
   mentions of one event in different roles), at the threshold chosen for a stated precision
   (``threshold.py``) when the model is new;
   every mention goes with its record;
5. maps clusters to existing person ids so an id keeps its meaning: a cluster keeps the id most
   of its mentions had; every merge and split is written to ``link_history`` with before,
   after and reason;
6. rewrites ``links`` and refreshes the clerical review queue (pairs near the threshold), and
   stores the term frequencies ``explain-link`` reads (``explain.store_term_frequencies``).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import duckdb
import numpy as np
import pandas as pd

from harmlens.errors import WarehouseError
from harmlens.link.cluster import cluster_indexed
from harmlens.link.engine import DEFAULT_THRESHOLD, REVIEW_BAND, drop_splink_tables, score_pairs
from harmlens.link.explain import store_term_frequencies
from harmlens.link.idmap import assign_person_ids, write_links
from harmlens.link.model import make_linker, make_scoring_linker, model_json, settings_dict, train
from harmlens.link.prepare import Placeholders, prepare
from harmlens.link.threshold import DEFAULT_PRECISION, ThresholdChoice, choose_threshold, given_threshold
from harmlens.link.records import (DEFAULT_BLOCK_CAP, block_new, capped_rules, collapse, incremental_records,
                                   refine_prior_by_mentions, register_mention_tf, split_weak_records)

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
    records: int = 0  # distinct records the mentions collapsed into (identical mentions are one)
    # the model's own estimate of pairwise precision and recall at the threshold (full runs only)
    expected_precision: float | None = None
    expected_recall: float | None = None
    target_precision: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        return (f"run {self.run_id} ({self.mode}, model {self.model_id}, threshold {self.threshold}): "
                f"{self.mentions} mentions ({self.new_mentions} new; {self.records} distinct records) -> {self.persons} persons; "
                f"{self.pairs_scored} pairs scored; {self.merges} merges, {self.splits} splits recorded; "
                f"{self.review_queue} pairs in the review queue; {self.refused_by_constraints} links refused by person_ref/decisions"
                + self.expected_text())

    def expected_text(self) -> str:
        if self.expected_precision is None:
            return ""
        how = f"chosen for expected precision {self.target_precision}" if self.target_precision is not None else "given"
        return (f"\nthreshold {self.threshold:.4f} ({how}): the model expects pairwise precision {self.expected_precision:.4f}"
                f" and recall {self.expected_recall:.4f} (its own estimate from match probabilities, no truth)")


def _active_model(con: duckdb.DuckDBPyConnection) -> tuple[int, dict] | None:
    rows = con.execute("SELECT model_id, model FROM link_models WHERE active ORDER BY model_id DESC LIMIT 1").fetchall()
    return (rows[0][0], json.loads(rows[0][1])) if rows else None


def _pairs_into(con: duckdb.DuckDBPyConnection, physical: str, model_id: int, run_id: int, min_p: float, fresh: bool = False) -> int:
    # into an emptied table a plain INSERT: no look-ups in the primary-key index per row
    con.execute(
        f"""INSERT {'' if fresh else 'OR REPLACE '}INTO link_pairs
            SELECT least(CAST(unique_id_l AS VARCHAR), CAST(unique_id_r AS VARCHAR)), greatest(CAST(unique_id_l AS VARCHAR), CAST(unique_id_r AS VARCHAR)),
                   match_weight, match_probability, ?, ?
            FROM {physical} WHERE match_probability >= ?""",
        [model_id, run_id, min_p],
    )
    return con.execute(f"SELECT count(*) FROM {physical}").fetchall()[0][0]


TRAIN_MENTIONS = 150_000
"""EM trains on at most this many mentions (a seeded sample): pairs blocked for EM grow with the
square of the mentions, and the parameters are proportions that a sample estimates as well.
Training on mentions, not records, keeps the model the one the city figures were tuned with
(on records, EM sees fewer exact agreements and weighs fuzzy ones more: more false merges on the
164k-mention city, 179 persons against 148)."""

MEMORY_LIMIT = "5GB"
"""DuckDB memory limit during a run (it spills to disk beyond it), so a run stays within 8 GB."""


@contextmanager
def _duckdb_settings(con: duckdb.DuckDBPyConnection):
    """Settings for a large run, restored afterwards: a memory cap, and no insertion order to keep
    (the link tables are always read with ORDER BY)."""
    keys = ("memory_limit", "preserve_insertion_order")
    before = {k: con.execute(f"SELECT current_setting('{k}')").fetchall()[0][0] for k in keys}
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        for k, v in before.items():
            con.execute(f"SET {k} = '{v}'" if isinstance(v, str) else f"SET {k} = {v}")


def _rules(settings: dict) -> list[str]:
    return [r["blocking_rule"] if isinstance(r, dict) else str(r) for r in settings["blocking_rules_to_generate_predictions"]]


def _score_all(con: duckdb.DuckDBPyConnection, linker, out: str, min_probability: float, refine: bool,
               threshold: float | None = None, precision: float = DEFAULT_PRECISION) -> tuple[int, ThresholdChoice]:
    """Score every candidate record pair into ``out`` (unique_id_l, unique_id_r, match_weight,
    match_probability) keeping those >= ``min_probability``; with ``refine`` the prior is first
    re-estimated on the mention scale (``records.refine_prior_by_mentions``). Returns the number
    of candidate pairs scored and the threshold: ``threshold`` with the model's expected precision
    and recall at it, or (``threshold`` None) the one chosen for expected ``precision``
    (``threshold.choose_threshold``, over every candidate pair, before any is dropped)."""
    sdf = linker.inference.predict(threshold_match_probability=None, warning_mode="never")
    shift = refine_prior_by_mentions(con, sdf.physical_name, "__hl_rec", linker) if refine else 0.0
    n = con.execute(f"SELECT count(*) FROM {sdf.physical_name}").fetchall()[0][0]
    probs = f"SELECT 1.0 / (1.0 + pow(2.0, -(match_weight + {shift!r}))) AS p FROM {sdf.physical_name}"
    choice = choose_threshold(con, probs, precision) if threshold is None else given_threshold(con, probs, threshold)
    con.execute(
        f"""CREATE OR REPLACE TABLE {out} AS
            SELECT * FROM (SELECT CAST(unique_id_l AS VARCHAR) unique_id_l, CAST(unique_id_r AS VARCHAR) unique_id_r,
                   match_weight + {shift!r} AS match_weight, 1.0 / (1.0 + pow(2.0, -(match_weight + {shift!r}))) AS match_probability
            FROM {sdf.physical_name}) WHERE match_probability >= {float(min_probability)!r}"""
    )
    sdf.drop_table_from_database_and_remove_from_cache()
    return n, choice


def link_warehouse(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold: float | None = None,
    retrain: bool = False,
    full: bool = False,
    placeholder_postcodes: set[str] | None = None,
    seed: int = 42,
    block_cap: int = DEFAULT_BLOCK_CAP,
    precision: float | None = None,
) -> LinkRunSummary:
    """Link every mention in ``people`` into persons and write ``links`` (see module docstring).

    Parameters
    ----------
    con : an open, migrated warehouse connection.
    threshold : match probability at which two mentions are joined (default: the active model's;
        for a model estimated now, the one chosen for ``precision``).
    retrain : re-estimate the model from the current mentions (implies ``full``).
    full : re-score every pair and re-cluster from scratch (ids still map to existing persons).
    placeholder_postcodes : extra postcodes to treat as missing (e.g. custody suites).
    block_cap : largest block a blocking rule compares whole (``records.capped_rules``).
    precision : when a model is estimated and no ``threshold`` is given, the threshold is the
        lowest whose expected pairwise precision (from the model's own match probabilities) is at
        least this (default ``threshold.DEFAULT_PRECISION``); see ``threshold.py``.
    """
    try:
        n_all = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
    except duckdb.CatalogException as exc:
        raise WarehouseError("the warehouse has no people table: run 'harmlens ingest DIR' first") from exc
    if n_all == 0:
        raise WarehouseError("no mentions to link: the people table is empty (run 'harmlens ingest DIR' first)")
    with _duckdb_settings(con):
        try:
            return _link(con, threshold, retrain, full, placeholder_postcodes, seed, block_cap, precision)
        finally:
            drop_splink_tables(con)



def _link(con, threshold, retrain, full, placeholder_postcodes, seed, block_cap, precision=None) -> LinkRunSummary:
    t0 = time.perf_counter()
    secs: dict[str, float] = {}
    con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_mentions AS {_MENTIONS_SQL}")
    n_all = con.execute("SELECT count(*) FROM __hl_mentions").fetchall()[0][0]
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM link_runs").fetchall()[0][0]
    started = _now()
    # mentions not linked before, listed once (later steps of an incremental run ask often, and
    # each asking was an anti-join over every link)
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_new_m AS SELECT unique_id AS mention_id FROM __hl_mentions WHERE unique_id NOT IN (SELECT mention_id FROM links)")
    n_new = con.execute("SELECT count(*) FROM __hl_new_m").fetchall()[0][0]
    n_existing = n_all - n_new
    # mentions that disappeared from people (a newer extract removed them) leave links
    gone = []
    if con.execute("SELECT count(*) FROM links").fetchall()[0][0] > n_existing:
        gone = [r[0] for r in con.execute("SELECT mention_id FROM links WHERE mention_id NOT IN (SELECT unique_id FROM __hl_mentions)").fetchall()]

    active = None if retrain else _active_model(con)
    if active is not None and threshold is None:
        threshold = con.execute("SELECT threshold FROM link_models WHERE model_id = ?", [active[0]]).fetchall()[0][0]
    if precision is not None and not 0.0 < precision < 1.0:
        raise WarehouseError(f"precision must be between 0 and 1, got {precision}")
    # a model estimated now without a given threshold gets one chosen for the stated precision
    # once every pair is scored; until then the default stands in (splitting weak records)
    choose = threshold is None
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not 0.0 < threshold < 1.0:
        raise WarehouseError(f"threshold must be a probability between 0 and 1, got {threshold}")
    review_low = min(REVIEW_BAND[0], threshold)
    has_records = con.execute("SELECT count(*) > 0 FROM link_records").fetchall()[0][0]
    # a warehouse linked before records existed (no link_records) is re-scored once in full
    incremental = n_existing > 0 and not full and active is not None and has_records
    mode = "incremental" if incremental else ("retrain" if retrain or active is None else "full")

    # 1. prepare mentions, collapse identical ones into records, model
    t = time.perf_counter()
    ph = Placeholders().with_values(postcodes=placeholder_postcodes)
    if active is None:
        info = prepare(con, "__hl_mentions", "__hl_prep_m", placeholders=ph, detect=True)
    else:
        model_id, m = active
        ph = Placeholders.from_json(m["harmlens_placeholders"]).with_values(
            dobs=set(m["harmlens_detected"]["dobs"]), postcodes=set(m["harmlens_detected"]["postcodes"]) | set(placeholder_postcodes or ()))
    last_run = con.execute("SELECT max(started_at) FROM link_runs").fetchall()[0][0]
    n_new_dec = con.execute("SELECT count(*) FROM link_decisions WHERE ? IS NULL OR decided_at >= ?", [last_run, last_run]).fetchall()[0][0]
    # mentions a reviewer set apart from another stay records of their own (they may be identical)
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_apart AS SELECT mention_a AS mention_id FROM link_decisions WHERE decision = 'different'
                   UNION SELECT mention_b FROM link_decisions WHERE decision = 'different'""")
    if incremental and not gone and not n_new_dec:
        n_rec = incremental_records(con, ph)
    else:
        if active is not None:
            prepare(con, "__hl_mentions", "__hl_prep_m", placeholders=ph, detect=False)
        # an incremental run keeps last run's records apart as they were (same model, same decisions)
        n_rec = collapse(con, "__hl_prep_m", "__hl_mentions", "__hl_rec", "__hl_mrec", "__hl_apart", "link_records" if incremental else None)
        register_mention_tf(con, None, "__hl_prep_m")
    secs["prepare_s"] = time.perf_counter() - t
    t = time.perf_counter()
    if active is None:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE __hl_train AS SELECT * FROM __hl_prep_m
                        ORDER BY hash(unique_id || '{int(seed)}') LIMIT {TRAIN_MENTIONS}""")
        n_train = min(n_all, TRAIN_MENTIONS)
        trainer = make_linker(con, "__hl_train", settings_dict([], strict=True))
        train(trainer, n_train, seed=seed)
        m = json.loads(model_json(trainer))
        m.update({
            "harmlens_placeholders": ph.to_json(),
            "harmlens_detected": {"dobs": sorted(info.detected_dobs), "postcodes": sorted(info.detected_postcodes)},
            "harmlens_extras": [],
            "harmlens_strict": True,
        })
        model_id = con.execute("SELECT coalesce(max(model_id), 0) + 1 FROM link_models").fetchall()[0][0]
    elif threshold != con.execute("SELECT threshold FROM link_models WHERE model_id = ?", [model_id]).fetchall()[0][0]:
        con.execute("UPDATE link_models SET threshold = ? WHERE model_id = ?", [threshold, model_id])
    settings = {k: v for k, v in m.items() if not k.startswith("harmlens_")}
    # scoring keeps only ids, weight and probability: millions of rows with every comparison's
    # columns cost time to write (explain-link re-scores a pair with the full model when asked)
    settings.update(retain_matching_columns=False, retain_intermediate_calculation_columns=False)
    if active is None:  # the prior is re-estimated below from all records' scores
        settings["probability_two_random_records_match"] = trainer._settings_obj._probability_two_random_records_match
    secs["train_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n_rec = split_weak_records(con, settings, threshold, only_new=incremental, validate=not incremental)
    rules = capped_rules(con, "__hl_rec", _rules(settings), block_cap, keys_out="__hl_rec_keys" if incremental else None)
    secs["records_blocks_s"] = time.perf_counter() - t

    # 2. scoring (record pairs; a record id is a mention id)
    t = time.perf_counter()
    choice: ThresholdChoice | None = None
    if incremental:
        # a record is new unless last run had it (collapsing again after a reviewer's decision can
        # give a record of old mentions a new id: it must be scored too)
        con.execute("""CREATE OR REPLACE TEMP TABLE __hl_rec_new AS SELECT * FROM __hl_rec_keys
                       WHERE unique_id NOT IN (SELECT DISTINCT record_id FROM link_records)""")
        n_scored = block_new(con, rules, "__hl_rec_new", "__hl_rec_keys")  # every candidate pair is scored
        if n_scored:
            # Splink prepares every input row; give it only the records in a candidate pair
            # (term frequencies and the prior come from the whole warehouse, so scores are the same)
            con.execute("""CREATE OR REPLACE TEMP TABLE __hl_rec_pairs AS SELECT * FROM __hl_rec WHERE unique_id IN
                           (SELECT join_key_l FROM __hl_blocked UNION SELECT join_key_r FROM __hl_blocked)""")
            # the active model's settings passed Splink's validation when it was estimated
            linker = make_scoring_linker(con, "__hl_rec_pairs", settings, validate=False)
            register_mention_tf(con, linker, "__hl_prep_m", compute=False)
            linker.table_management.register_blocked_pairs_for_predict(linker._db_api.register("__hl_blocked"))
            score_pairs(con, linker, "__hl_scored", review_low)
            _pairs_into(con, "__hl_scored", model_id, run_id, review_low)
    else:
        linker = make_scoring_linker(con, "__hl_rec", dict(settings, blocking_rules_to_generate_predictions=[{"blocking_rule": r, "sql_dialect": "duckdb"} for r in rules]))
        register_mention_tf(con, linker, "__hl_prep_m", compute=False)
        con.execute("DELETE FROM link_pairs")
        n_scored, choice = _score_all(con, linker, "__hl_scored", review_low, refine=active is None,
                                      threshold=None if choose else threshold, precision=precision or DEFAULT_PRECISION)
        threshold = choice.threshold
        _pairs_into(con, "__hl_scored", model_id, run_id, review_low, fresh=True)
    con.execute("DROP TABLE IF EXISTS __hl_scored")
    if active is None:  # saved after scoring, so it carries the refined prior
        m["probability_two_random_records_match"] = linker._settings_obj._probability_two_random_records_match  # noqa: F821 (set: not incremental)
        con.execute("UPDATE link_models SET active = false")
        con.execute("INSERT INTO link_models VALUES (?, ?, ?, ?, true, ?)", [model_id, _now(), n_all, threshold, json.dumps(m)])
    elif choice is not None and threshold != con.execute("SELECT threshold FROM link_models WHERE model_id = ?", [model_id]).fetchall()[0][0]:
        con.execute("UPDATE link_models SET threshold = ? WHERE model_id = ?", [threshold, model_id])
    if gone:
        con.execute("DELETE FROM link_pairs WHERE mention_a NOT IN (SELECT unique_id FROM __hl_mentions) OR mention_b NOT IN (SELECT unique_id FROM __hl_mentions)")
    secs["score_s"] = time.perf_counter() - t

    # 3. clustering records (integer indexes, numpy; decisions and stored pairs mapped to records)
    t = time.perf_counter()
    # decisions since the last run, or removed mentions, can change existing persons: re-cluster all
    recluster = not incremental or n_new_dec > 0 or bool(gone)
    labels, blocked, rec_ids, n_persons = _cluster(con, threshold, run_id, recluster)
    secs["cluster_s"] = time.perf_counter() - t

    # 4. stable person ids, merges and splits, links, review queue
    t = time.perf_counter()
    con.register("__hl_labels_df", pd.DataFrame({"record_id": rec_ids, "cluster": rec_ids[labels]}))
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_assign AS
                   SELECT x.mention_id, x.record_id, c.cluster, l.person_id AS old_pid FROM __hl_mrec x
                   JOIN __hl_labels_df c USING (record_id) LEFT JOIN links l ON l.mention_id = x.mention_id""")
    con.unregister("__hl_labels_df")
    if not recluster:
        # Started from the existing persons and only added edges that touch new records: a person
        # that gained no new mention is exactly as it was (same members, id and method), so ids,
        # history and links are worked out for the clusters holding a new mention only.
        con.execute("""DELETE FROM __hl_assign WHERE cluster NOT IN (SELECT cluster FROM __hl_assign WHERE old_pid IS NULL)""")
    why_run = {"incremental": "new mentions linked", "full": "full re-link", "retrain": "model re-estimated and full re-link"}[mode]
    if n_new_dec:
        why_run += f"; {n_new_dec} reviewer decision(s) applied"
    ids = assign_person_ids(con, "__hl_assign", run_id, model_id, why_run, blocked, gone)
    con.execute("BEGIN TRANSACTION")
    try:
        if ids.history:
            con.executemany("INSERT INTO link_history VALUES (?, ?, ?, ?, ?, ?, ?)", ids.history)
        n_review = write_links(con, "__hl_assign", run_id, review_low, REVIEW_BAND[1], partial=not recluster)
        _write_records(con)
        secs["write_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # what explain-link needs, so it standardises two mentions instead of all of them
        store_term_frequencies(con, model_id, m, run_id)
        secs["term_freq_s"] = time.perf_counter() - t
        summary = LinkRunSummary(
            run_id, mode, model_id, threshold, n_all, n_new, n_persons, int(n_scored),
            ids.merges, ids.splits, int(n_review), len(blocked), secs, records=n_rec,
            expected_precision=None if choice is None else choice.expected_precision,
            expected_recall=None if choice is None else choice.expected_recall,
            target_precision=None if choice is None else choice.target_precision,
        )
        con.execute("INSERT INTO link_runs VALUES (?, ?, ?, ?, ?, ?, ?)", [run_id, started, _now(), mode, model_id, threshold, json.dumps(summary.as_dict())])
        t = time.perf_counter()
        con.execute("COMMIT")
        secs["commit_s"] = time.perf_counter() - t
    except Exception:
        con.execute("ROLLBACK")
        raise
    for tname in ("__hl_prep_m", "__hl_rec", "__hl_rec_new", "__hl_rec_keys", "__hl_mrec", "__hl_train", "__hl_apart", "__hl_blocked",
                  "__hl_mentions", "__hl_new_m", "__hl_assign", "__hl_ids", "__hl_touch", "__hl_mi", "__hl_edges", "__hl_self", "__hl_rec_self", "__hl_rec_pairs",
                  "__hl_tf_fn", "__hl_tf_sn", "__hl_tf_pc"):
        con.execute(f"DROP TABLE IF EXISTS {tname}")
    secs["total_s"] = time.perf_counter() - t0
    log.info("link run %s: %s", run_id, summary.text())
    return summary


def _write_records(con: duckdb.DuckDBPyConnection) -> None:
    """Bring ``link_records`` to ``__hl_mrec`` touching only rows that changed (a run over a large
    warehouse with a few new mentions would otherwise rewrite a million rows)."""
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_mrec_changed AS SELECT m.mention_id, m.record_id FROM __hl_mrec m
                   LEFT JOIN link_records o USING (mention_id) WHERE o.record_id IS DISTINCT FROM m.record_id""")
    if con.execute("SELECT count(*) FROM link_records").fetchall()[0][0]:
        con.execute("""DELETE FROM link_records WHERE mention_id NOT IN (SELECT mention_id FROM __hl_mrec)
                       OR mention_id IN (SELECT mention_id FROM __hl_mrec_changed)""")
    con.execute("INSERT INTO link_records SELECT mention_id, record_id FROM __hl_mrec_changed")
    con.execute("DROP TABLE __hl_mrec_changed")


def _touched_records(con: duckdb.DuckDBPyConnection, threshold: float, run_id: int) -> None:
    """``__hl_touch(unique_id)``: the records an incremental run can regroup, with every record of
    their persons. Clustering starts from the existing persons and adds only this run's edges, so a
    person that no such edge, new mention, shared person_ref or reviewer decision reaches comes out
    exactly as it went in: clustering it again (most of a million records) changes nothing."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __hl_touch AS
           WITH seed_m AS (SELECT mention_a AS mention_id FROM link_pairs WHERE run_id = $run AND match_probability >= $t
                           UNION SELECT mention_b FROM link_pairs WHERE run_id = $run AND match_probability >= $t
                           UNION SELECT mention_a FROM link_decisions UNION SELECT mention_b FROM link_decisions
                           UNION SELECT mention_id FROM __hl_new_m),
                seed_r AS (SELECT DISTINCT m.record_id FROM __hl_mrec m JOIN seed_m USING (mention_id)),
                -- records sharing a person_ref are joined whatever was scored
                r1 AS (SELECT record_id FROM seed_r
                       UNION SELECT r.unique_id FROM __hl_rec r WHERE r.person_ref IN
                             (SELECT x.person_ref FROM __hl_rec x JOIN seed_r ON seed_r.record_id = x.unique_id WHERE x.person_ref IS NOT NULL)),
                pers AS (SELECT DISTINCT l.person_id FROM r1 JOIN links l ON l.mention_id = r1.record_id)
           SELECT record_id AS unique_id FROM r1
           UNION SELECT x.unique_id FROM __hl_rec x JOIN links l ON l.mention_id = x.unique_id JOIN pers USING (person_id)""",
        {"run": int(run_id), "t": float(threshold)},
    )


def _cluster(con: duckdb.DuckDBPyConnection, threshold: float, run_id: int, recluster: bool):
    """Cluster the records (table ``__hl_rec``): returns (label per record index, refused edges as
    (record a, record b, reason), record ids in index order, number of persons).

    Without ``recluster`` (an incremental run) only the records ``_touched_records`` lists are
    clustered and indexed; every other person is counted as it stands in ``links``."""
    if recluster:
        con.execute("CREATE OR REPLACE TEMP TABLE __hl_ids AS SELECT unique_id, CAST(row_number() OVER (ORDER BY unique_id) - 1 AS BIGINT) AS i FROM __hl_rec")
    else:
        _touched_records(con, threshold, run_id)
        con.execute("CREATE OR REPLACE TEMP TABLE __hl_ids AS SELECT unique_id, CAST(row_number() OVER (ORDER BY unique_id) - 1 AS BIGINT) AS i FROM __hl_touch")
    rec_ids = np.asarray(con.execute("SELECT unique_id FROM __hl_ids ORDER BY i").fetchnumpy()["unique_id"], dtype=object)
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_mi AS SELECT m.mention_id, x.i FROM __hl_mrec m JOIN __hl_ids x ON x.unique_id = m.record_id")
    mi = "SELECT * FROM __hl_mi"
    refs_i = dict(con.execute("SELECT x.i, r.person_ref FROM __hl_rec r JOIN __hl_ids x USING (unique_id) WHERE r.person_ref IS NOT NULL").fetchall())
    dec = con.execute(
        f"""SELECT xa.i, xb.i, d.decision FROM link_decisions d JOIN ({mi}) xa ON xa.mention_id = d.mention_a
            JOIN ({mi}) xb ON xb.mention_id = d.mention_b"""
    ).fetchall()
    must_i = [(a, b) for a, b, d in dec if d == "same"]
    cannot_i = [(a, b) for a, b, d in dec if d == "different"]
    d = con.execute(
        """SELECT x.i, CAST(substr(dob_s, 1, 4) AS INTEGER) y, CAST(substr(dob_s, 6, 2) AS INTEGER) m, CAST(substr(dob_s, 9, 2) AS INTEGER) d
           FROM __hl_rec r JOIN __hl_ids x USING (unique_id) WHERE dob_s IS NOT NULL"""
    ).fetchnumpy()
    dobs_i = dict(zip(d["i"].tolist(), zip(d["y"].tolist(), d["m"].tolist(), d["d"].tolist())))
    # stored pairs are between mentions that were record ids when scored: map them to today's records
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_edges AS
            SELECT xa.i AS a, xb.i AS b, p.match_probability AS p FROM link_pairs p
            JOIN ({mi}) xa ON xa.mention_id = p.mention_a JOIN ({mi}) xb ON xb.mention_id = p.mention_b
            WHERE p.match_probability >= ? AND xa.i <> xb.i {'' if recluster else 'AND p.run_id = ' + str(int(run_id))}""",
        [threshold],
    )
    e = con.execute("SELECT a, b, p FROM __hl_edges").fetchnumpy()
    cannot_i += _one_event_pairs(con, mi, only_touched=not recluster)
    start = None
    if not recluster:
        # each record starts in the person most of its already-linked mentions belong to
        # each record starts in its person: a record's mentions are always in one person, and its
        # id is one of them (a new record has no person yet)
        st = con.execute("SELECT x.i, l.person_id FROM __hl_ids x JOIN links l ON l.mention_id = x.unique_id").fetchnumpy()
        start = np.full(len(rec_ids), None, dtype=object)
        start[np.asarray(st["i"], dtype=np.int64)] = np.asarray(st["person_id"], dtype=object)
    labels, blocked_i = cluster_indexed(
        len(rec_ids), np.asarray(e["a"], dtype=np.int64), np.asarray(e["b"], dtype=np.int64), np.asarray(e["p"], dtype=np.float64),
        threshold=threshold, refs=refs_i, must_link=must_i, cannot_link=cannot_i, start=start, dobs=dobs_i,
    )
    blocked = [(rec_ids[x], rec_ids[y], w) for x, y, w in blocked_i]
    n_persons = int(len(np.unique(labels)))
    if not recluster:
        n_persons += con.execute("""SELECT count(DISTINCT person_id) FROM links WHERE person_id NOT IN
                                    (SELECT l.person_id FROM __hl_touch t JOIN links l ON l.mention_id = t.unique_id)""").fetchall()[0][0]
    return labels, blocked, rec_ids, n_persons


def _one_event_pairs(con: duckdb.DuckDBPyConnection, mi: str, only_touched: bool = False) -> list[tuple[int, int]]:
    """Records of two mentions recorded in one event in different roles (a suspect and a witness):
    two people, never one. A son who shares his father's name and address and whose witness
    statement has no date of birth is otherwise merged into the father; a person entered twice
    in one event usually keeps the same role, so that duplicate is still linked.

    ``only_touched`` (an incremental run that starts from the existing persons): only records of
    persons an edge of this run (``__hl_edges``) touches, since only their groups can be joined;
    the self-join over every mention of a large warehouse is most of the constraint's cost."""
    src = mi
    if only_touched:
        src = f"""SELECT m.mention_id, m.i FROM ({mi}) m WHERE m.i IN (
                    WITH tr AS (SELECT a AS i FROM __hl_edges UNION SELECT b FROM __hl_edges),
                         tp AS (SELECT DISTINCT l.person_id FROM tr JOIN __hl_ids x ON x.i = tr.i JOIN links l ON l.mention_id = x.unique_id)
                    SELECT i FROM tr UNION SELECT x.i FROM __hl_ids x JOIN links l ON l.mention_id = x.unique_id JOIN tp USING (person_id))"""
    rows = con.execute(
        f"""WITH m AS (SELECT p.mention_id, p.event_id, p.role, s.i FROM people p JOIN ({src}) s ON s.mention_id = p.mention_id
                       WHERE p.event_id IS NOT NULL)
            SELECT DISTINCT least(a.i, b.i), greatest(a.i, b.i) FROM m a
            JOIN m b ON a.event_id = b.event_id AND a.mention_id < b.mention_id AND a.role <> b.role
            WHERE a.i <> b.i"""
    ).fetchall()
    return [(int(x), int(y)) for x, y in rows]


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
