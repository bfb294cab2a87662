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
    with one column ``p`` (match probability of every candidate pair).

    One scan at scale (millions of pairs): the pairs are counted and summed in bins of 0.001 and
    the bins accumulated from the top; a threshold off that grid gets a filtered aggregate of its own."""
    ts = [float(t) for t in thresholds]
    on_grid = {t: round(t * 1000) for t in ts if abs(t * 1000 - round(t * 1000)) < 1e-9}
    off = [t for t in ts if t not in on_grid]
    extra = "".join(f", count(*) FILTER (WHERE p >= {t!r}), coalesce(sum(p) FILTER (WHERE p >= {t!r}), 0)" for t in off)
    row = con.execute(f"SELECT coalesce(sum(p), 0){extra} FROM ({probs_sql})").fetchall()[0]
    total = float(row[0] or 0.0)
    got = {t: (row[1 + 2 * k], float(row[2 + 2 * k])) for k, t in enumerate(off)}
    if on_grid:
        lo = min(on_grid.values())
        # bin k holds 0.001 k <= p < 0.001 (k + 1); p >= t (t = 0.001 j) exactly when its bin is >= j
        # p * 1000 can round across an integer: correct the bin so "bin >= j" is exactly "p >= j / 1000"
        bins = con.execute(f"""SELECT k0 + CASE WHEN p >= (k0 + 1) / 1000.0 THEN 1 WHEN p < k0 / 1000.0 THEN -1 ELSE 0 END AS k,
                                      count(*), sum(p)
                               FROM (SELECT p, CAST(floor(p * 1000) AS INTEGER) k0 FROM ({probs_sql}) WHERE p >= {lo / 1000!r})
                               GROUP BY 1 ORDER BY 1 DESC""").fetchall()
        for t, j in on_grid.items():
            n = sum(c for k, c, _ in bins if k >= j)
            sm = sum(float(x) for k, _, x in bins if k >= j)
            got[t] = (n, sm)
    out = []
    for t in ts:
        n, sm = got[t]
        # two sums of the same numbers in another order can differ in the last bit: a share stays <= 1
        out.append((t, min(sm / n, 1.0) if n else 1.0, min(sm / total, 1.0) if total else 0.0))
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
