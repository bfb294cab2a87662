"""Choosing the match threshold for a stated precision from the model's own estimates.

Each scored candidate pair has a match probability p: the model expects p of a pair to be a
true match. So, without any truth, the pairs at or above a threshold t are expected to hold
sum(p) true matches among count() pairs (expected precision), out of sum(p) over every
candidate pair (expected recall; pairs never compared are taken as non-matches). These are the
model's beliefs, exactly as good as its calibration: on data unlike what it was trained on they
can be optimistic, which is why the run prints them next to the threshold they chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

DEFAULT_PRECISION = 0.995
"""Expected pairwise precision the threshold is chosen for, unless a threshold is given."""

LOWEST, HIGHEST = 0.5, 0.999
"""The chosen threshold stays in this range: below 0.5 a pair is more likely two people than one,
and above 0.999 only exact agreement on everything would link."""


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    expected_precision: float
    expected_recall: float
    target_precision: float | None  # None when the threshold was given, not chosen

    def text(self) -> str:
        how = f"chosen for expected precision {self.target_precision}" if self.target_precision is not None else "given"
        return (f"threshold {self.threshold:.4f} ({how}); the model expects pairwise precision "
                f"{self.expected_precision:.4f} and recall {self.expected_recall:.4f} at it")


def _grid() -> list[float]:
    # fine near 1, where the choice matters for precision
    out = [round(LOWEST + i * 0.01, 4) for i in range(0, 45)]          # 0.50 .. 0.94
    out += [round(0.95 + i * 0.001, 4) for i in range(0, 50)]           # 0.950 .. 0.999
    return sorted(set(x for x in out if LOWEST <= x <= HIGHEST))


def expected_at(con: duckdb.DuckDBPyConnection, probs_sql: str, thresholds: list[float]) -> list[tuple[float, float, float]]:
    """(threshold, expected precision, expected recall) for each threshold; ``probs_sql`` is a query
    with one column ``p`` (match probability of every candidate pair)."""
    total = con.execute(f"SELECT coalesce(sum(p), 0) FROM ({probs_sql})").fetchall()[0][0] or 0.0
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_thr (t DOUBLE)")
    con.executemany("INSERT INTO __hl_thr VALUES (?)", [[t] for t in thresholds])
    rows = con.execute(
        f"""SELECT t.t, count(q.p), coalesce(sum(q.p), 0) FROM __hl_thr t LEFT JOIN ({probs_sql}) q ON q.p >= t.t
            GROUP BY t.t ORDER BY t.t"""
    ).fetchall()
    con.execute("DROP TABLE __hl_thr")
    out = []
    for t, n, s in rows:
        prec = float(s) / n if n else 1.0
        rec = float(s) / total if total else 0.0
        out.append((float(t), prec, rec))
    return out


def choose_threshold(con: duckdb.DuckDBPyConnection, probs_sql: str, target_precision: float = DEFAULT_PRECISION) -> ThresholdChoice:
    """The lowest threshold (most recall) whose expected precision is at least ``target_precision``;
    the highest allowed threshold when none reaches it."""
    if not 0.0 < target_precision < 1.0:
        raise ValueError("target precision must be between 0 and 1")
    curve = expected_at(con, probs_sql, _grid())
    # a threshold no pair reaches has no precision to speak of: it is not a choice
    ok = [c for c in curve if c[1] >= target_precision and c[2] > 0]
    t, p, r = ok[0] if ok else curve[-1]
    return ThresholdChoice(t, p, r, target_precision)


def given_threshold(con: duckdb.DuckDBPyConnection, probs_sql: str, threshold: float) -> ThresholdChoice:
    """Expected precision and recall at a threshold that was given."""
    (t, p, r), = expected_at(con, probs_sql, [threshold])
    return ThresholdChoice(t, p, r, None)
