"""Linkage quality against known truth: pairwise precision/recall/F1, blocking recall,
and false merges / false splits counted separately."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class PairwiseScores:
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    false_merge_pairs: int  # predicted same person, truly different (false positives)
    false_split_pairs: int  # truly the same person, predicted different (false negatives)
    false_merge_clusters: int  # predicted persons that hold mentions of more than one true person
    false_split_persons: int  # true persons spread over more than one predicted person
    blocking_recall: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        s = (f"pairwise precision {self.precision:.4f} recall {self.recall:.4f} F1 {self.f1:.4f} "
             f"(true pairs {self.true_pairs}, predicted {self.predicted_pairs}, correct {self.true_positive_pairs})\n"
             f"false merges: {self.false_merge_pairs} pairs in {self.false_merge_clusters} predicted persons; "
             f"false splits: {self.false_split_pairs} pairs over {self.false_split_persons} true persons")
        if self.blocking_recall is not None:
            s += f"\nblocking recall {self.blocking_recall:.4f} (share of true pairs among candidate pairs)"
        return s


def pairwise_scores(con: duckdb.DuckDBPyConnection, assignments: str, candidates: str | None = None) -> PairwiseScores:
    """Scores from table ``assignments(unique_id, pred, truth)``; ``candidates(unique_id_l, unique_id_r)``
    (all blocked pairs) gives blocking recall."""
    row = con.execute(
        f"""WITH a AS (SELECT * FROM {assignments} WHERE truth IS NOT NULL),
        pc AS (SELECT count(*) n FROM a GROUP BY pred),
        tc AS (SELECT count(*) n FROM a GROUP BY truth),
        bc AS (SELECT count(*) n FROM a GROUP BY pred, truth),
        fm AS (SELECT count(*) n FROM (SELECT pred FROM a GROUP BY pred HAVING count(DISTINCT truth) > 1)),
        fs AS (SELECT count(*) n FROM (SELECT truth FROM a GROUP BY truth HAVING count(DISTINCT pred) > 1))
        SELECT (SELECT coalesce(sum(n*(n-1)/2), 0) FROM tc), (SELECT coalesce(sum(n*(n-1)/2), 0) FROM pc),
               (SELECT coalesce(sum(n*(n-1)/2), 0) FROM bc), (SELECT n FROM fm), (SELECT n FROM fs)"""
    ).fetchall()[0]
    hit_sql = (f"""SELECT count(*) FROM (SELECT DISTINCT least(c.unique_id_l, c.unique_id_r) x, greatest(c.unique_id_l, c.unique_id_r) y
                FROM {candidates} c JOIN {assignments} a ON a.unique_id = c.unique_id_l
                JOIN {assignments} b ON b.unique_id = c.unique_id_r WHERE a.truth = b.truth)"""
               if candidates is not None else None)
    return _scores(con, row, hit_sql)


def cross_source_scores(con: duckdb.DuckDBPyConnection, assignments: str, candidates: str | None = None) -> PairwiseScores:
    """Scores for two sources linked to each other: ``assignments(unique_id, pred, truth, src)``
    with ``src`` 0 or 1; only pairs across the sources count (a pair within one source is not
    something link-only mode looks for)."""
    row = con.execute(
        f"""WITH a AS (SELECT * FROM {assignments} WHERE truth IS NOT NULL),
        pc AS (SELECT count_if(src = 0) * count_if(src = 1) n FROM a GROUP BY pred),
        tc AS (SELECT count_if(src = 0) * count_if(src = 1) n FROM a GROUP BY truth),
        bc AS (SELECT count_if(src = 0) * count_if(src = 1) n FROM a GROUP BY pred, truth),
        fm AS (SELECT count(*) n FROM (SELECT pred FROM a GROUP BY pred HAVING count(DISTINCT truth) > 1)),
        fs AS (SELECT count(*) n FROM (SELECT truth FROM a GROUP BY truth HAVING count(DISTINCT pred) > 1))
        SELECT (SELECT coalesce(sum(n), 0) FROM tc), (SELECT coalesce(sum(n), 0) FROM pc),
               (SELECT coalesce(sum(n), 0) FROM bc), (SELECT n FROM fm), (SELECT n FROM fs)"""
    ).fetchall()[0]
    hit_sql = (f"""SELECT count(*) FROM (SELECT DISTINCT c.unique_id_l, c.unique_id_r FROM {candidates} c
                JOIN {assignments} a ON a.unique_id = c.unique_id_l JOIN {assignments} b ON b.unique_id = c.unique_id_r
                WHERE a.truth = b.truth AND a.src <> b.src)"""
               if candidates is not None else None)
    return _scores(con, row, hit_sql)


def _scores(con: duckdb.DuckDBPyConnection, row: Any, hit_sql: str | None) -> PairwiseScores:
    """Precision, recall and F1 from (true, predicted, correct pairs, false merges, false splits); blocking recall
    from ``hit_sql`` (true pairs among the candidates) when candidates are given."""
    t, p, tp, fm, fs = (int(x) for x in row)
    prec = tp / p if p else 1.0
    rec = tp / t if t else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    br = None
    if hit_sql is not None:
        hit = con.execute(hit_sql).fetchall()[0][0]
        br = hit / t if t else 1.0
    return PairwiseScores(t, p, tp, prec, rec, f1, p - tp, t - tp, fm, fs, br)
