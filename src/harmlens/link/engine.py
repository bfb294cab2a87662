"""Deduplicating one table of mentions end to end: prepare, train or load a model, score, cluster."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from harmlens.link.cluster import cluster
from harmlens.link.model import make_linker, model_json, refine_prior, settings_dict, train
from harmlens.link.prepare import Placeholders, PreparedInfo, prepare
from harmlens.sqlident import quote_ident

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.95
"""Match probability at or above which a pair joins two mentions into one person (documented in docs/link.md)."""

REVIEW_BAND = (0.5, 0.99)
"""Pairs with a probability in this band, either side of the threshold, go to the clerical review queue."""


@dataclass
class DedupeResult:
    rep: dict[str, str]
    pairs_table: str
    model: dict[str, Any]
    info: PreparedInfo
    timings: dict[str, float] = field(default_factory=dict)
    n_candidates: int = 0
    blocked: list[tuple[str, str, str]] = field(default_factory=list)


def score_pairs(con: duckdb.DuckDBPyConnection, linker, out: str, min_probability: float | None, *,
                refine_n: int | None = None, refine_total: float | None = None, keep: tuple[str, ...] = ()) -> int:
    """Score candidate pairs into table ``out`` (unique_id_l, unique_id_r, match_weight, match_probability).

    With ``refine_n`` (the number of records), every candidate is scored once, the prior is
    re-estimated from those scores (``model.refine_prior``) and the weights shifted accordingly
    before the ``min_probability`` filter. ``keep``: more columns of Splink's output to keep (those
    that exist, e.g. comparison levels). Returns the number of candidate pairs scored.
    """
    sdf = linker.inference.predict(threshold_match_probability=None if refine_n else min_probability, warning_mode="never")
    shift = 0.0
    if refine_n:
        _, shift = refine_prior(con, sdf.physical_name, linker, refine_n, total_pairs=refine_total)
    n = con.execute(f"SELECT count(*) FROM {sdf.physical_name}").fetchall()[0][0]
    have = {r[0] for r in con.execute(f"DESCRIBE {sdf.physical_name}").fetchall()}
    kept = "".join(f", {quote_ident(c)}" for c in keep if c in have)
    where = "" if min_probability is None else f"WHERE match_probability >= {float(min_probability)!r}"
    con.execute(
        f"""CREATE OR REPLACE TABLE {out} AS
            SELECT * FROM (SELECT CAST(unique_id_l AS VARCHAR) unique_id_l, CAST(unique_id_r AS VARCHAR) unique_id_r,
                   match_weight + {shift!r} AS match_weight, 1.0 / (1.0 + pow(2.0, -(match_weight + {shift!r}))) AS match_probability{kept}
            FROM {sdf.physical_name}) {where}"""
    )
    sdf.drop_table_from_database_and_remove_from_cache()
    return n


def dob_map(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, tuple[int, int, int]]:
    """unique_id -> (year, month, day) for records with a usable date of birth."""
    rows = con.execute(
        f"SELECT unique_id, CAST(substr(dob_s, 1, 4) AS INTEGER), CAST(substr(dob_s, 6, 2) AS INTEGER), CAST(substr(dob_s, 9, 2) AS INTEGER) FROM {table} WHERE dob_s IS NOT NULL"
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def distinctive_extras(con: duckdb.DuckDBPyConnection, table: str, extras: list[str], min_ratio: float = 0.2) -> list[str]:
    """Extras with many distinct values per row (identifier-like), worth a blocking rule."""
    out = []
    for e in extras:
        nd, nn = con.execute(f'SELECT count(DISTINCT "x_{e}"), count("x_{e}") FROM {table}').fetchall()[0]
        if nn and nd / nn >= min_ratio:
            out.append(e)
    return out


def dedupe_table(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    extras: list[str] | None = None,
    model: dict[str, Any] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    keep_all_pairs: bool = False,
    placeholders: Placeholders | None = None,
    refs: dict[str, str] | None = None,
    seed: int = 42,
    strict: bool = False,
    tolerant: bool = False,
    rules_for: Callable[[duckdb.DuckDBPyConnection, str, list[str]], list[str]] | None = None,
) -> DedupeResult:
    """Link the rows of ``source`` (columns ``unique_id`` + standard columns + ``extras``).

    A given ``model`` (Splink model JSON as a dict) is reused as is; otherwise one is estimated
    from the data. ``strict`` uses the police-records model and refuses to join groups whose dates
    of birth conflict (see ``model.settings_dict`` and ``cluster.cluster``). ``keep_all_pairs`` keeps every candidate pair (for blocking recall) instead
    of only those worth storing (probability >= the review band's lower end). ``tolerant`` and
    ``rules_for(con, prepared_table, extras) -> blocking rules`` are passed to a newly estimated
    model (``model.settings_dict``); by default the standard rules are used.
    """
    t = {}
    t0 = time.perf_counter()
    if model is not None and "harmlens_placeholders" in model:
        placeholders = Placeholders.from_json(model["harmlens_placeholders"])
    info = prepare(con, source, "__hl_prep", extras=extras, placeholders=placeholders, detect=model is None)
    if model is not None and "harmlens_detected" in model:
        # apply exactly the placeholders detected when the model was trained
        det = model["harmlens_detected"]
        ph2 = (placeholders or Placeholders()).with_values(dobs=set(det["dobs"]), postcodes=set(det["postcodes"]))
        info = prepare(con, source, "__hl_prep", extras=extras, placeholders=ph2, detect=False)
    t["prepare_s"] = time.perf_counter() - t0
    n = con.execute("SELECT count(*) FROM __hl_prep").fetchall()[0][0]
    t1 = time.perf_counter()
    if model is None:
        rules = rules_for(con, "__hl_prep", info.extras) if rules_for else None
        linker = make_linker(con, "__hl_prep", settings_dict(info.extras, rules, block_extras=distinctive_extras(con, "__hl_prep", info.extras),
                                                             strict=strict, tolerant=tolerant))
        train(linker, n, seed=seed)
        m = None
        extra_meta = {
            "harmlens_placeholders": (placeholders or Placeholders()).to_json(),
            "harmlens_detected": {"dobs": sorted(info.detected_dobs), "postcodes": sorted(info.detected_postcodes)},
            "harmlens_extras": info.extras,
            "harmlens_strict": strict,
        }
    else:
        m = model
        strict = bool(model.get("harmlens_strict", strict))
        linker = make_linker(con, "__hl_prep", {k: v for k, v in model.items() if not k.startswith("harmlens_")})
    t["train_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    n_cand = score_pairs(con, linker, "__hl_pairs", None if keep_all_pairs else min(REVIEW_BAND[0], threshold),
                         refine_n=n if model is None else None)
    if m is None:  # trained here: save the model with the refined prior
        m = json.loads(model_json(linker))
        m.update(extra_meta)
    t["predict_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    ids = [r[0] for r in con.execute("SELECT unique_id FROM __hl_prep").fetchall()]
    edges = con.execute("SELECT unique_id_l, unique_id_r, match_probability FROM __hl_pairs WHERE match_probability >= ?", [threshold]).fetchall()
    rep, blocked = cluster(ids, edges, threshold=threshold, refs=refs, dobs=dob_map(con, "__hl_prep") if strict else None)
    t["cluster_s"] = time.perf_counter() - t3
    t["total_s"] = time.perf_counter() - t0
    return DedupeResult(rep, "__hl_pairs", m, info, t, n_cand, blocked)


def drop_splink_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the working tables Splink materialises (EM sessions, term frequencies, comparison
    vectors). On a file-backed warehouse they would otherwise stay in it after the run: hundreds of
    thousands of rows of names and dates of birth outside the tables that retention and the
    contract govern."""
    rows = con.execute(
        r"""SELECT database_name, schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE table_name LIKE '\_\_splink\_\_%' ESCAPE '\'
            UNION ALL
            SELECT database_name, schema_name, view_name, 'VIEW' FROM duckdb_views() WHERE view_name LIKE '\_\_splink\_\_%' ESCAPE '\'"""
    ).fetchall()
    for db, schema, name, kind in rows:
        con.execute(f'DROP {kind} IF EXISTS "{db}"."{schema}"."{name}"')
