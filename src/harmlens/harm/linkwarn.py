"""Warnings on a priority list where linkage may be wrong.

Linkage decides who is one person; a list ranks those persons. When the linker kept two persons
apart on weak or refused evidence (a scored pair between their mentions that did not join them:
below the threshold, or above it but refused by a constraint), the list may be wrong in the
ways that matter most: the listed person may really be someone in custody or dead (not at
large, so not a priority), or someone already higher on the list (one person listed twice).
Such an entry carries a warning naming the other person and the strongest pair of their
mentions, with the web app's review page for that pair (``/link-review/pairs/A/B``, where the
waterfall of match weights shows why they were kept apart and a reviewer decides); the warnings
are words beside the entry and never change a rank.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from harmlens.engine import as_engine
from harmlens.link.reviewurl import review_path

REVIEW_HINT = "settle it on the Link review page of the web app (/link-review) or with 'harmlens link-review list'"


def near_matches(con: duckdb.DuckDBPyConnection, person_ids: Iterable[str]) -> pd.DataFrame:
    """Other persons each of ``person_ids`` has a scored pair with (any of their mentions):
    ``person_id, other_id, p, mention_a, mention_b`` (the strongest pair: its match probability and mentions)."""
    ids = pd.DataFrame({"person_id": pd.Series(list(dict.fromkeys(str(p) for p in person_ids)), dtype=object)})
    eng = as_engine(con)
    if not len(ids) or not (eng.has_table("link_pairs") and eng.has_table("links")):
        return pd.DataFrame({c: pd.Series(dtype=float if c == "p" else object) for c in ("person_id", "other_id", "p", "mention_a", "mention_b")})
    con.register("__lw_ids", ids)
    try:
        return con.execute(
            """WITH pp AS (
                   SELECT la.person_id AS a, lb.person_id AS b, p.mention_a AS ma, p.mention_b AS mb, p.match_probability AS p
                   FROM link_pairs p JOIN links la ON la.mention_id = p.mention_a JOIN links lb ON lb.mention_id = p.mention_b
                   WHERE la.person_id <> lb.person_id),
               both_ways AS (SELECT a, b, ma, mb, p FROM pp UNION ALL SELECT b, a, ma, mb, p FROM pp),
               best AS (SELECT w.*, row_number() OVER (PARTITION BY w.a, w.b ORDER BY w.p DESC, w.ma, w.mb) AS rn
                        FROM both_ways w JOIN __lw_ids i ON i.person_id = w.a)
               SELECT a AS person_id, b AS other_id, p, ma AS mention_a, mb AS mention_b FROM best WHERE rn = 1
               ORDER BY 1, 3 DESC, 2"""
        ).df()
    finally:
        con.unregister("__lw_ids")


def link_warnings(con: duckdb.DuckDBPyConnection, listed: pd.DataFrame, as_of) -> pd.Series:
    """Warning text per listed person (index ``person_id``; None where there is none).

    ``listed``: the list's entries with ``person_id`` and ``rank``. A warning names the other
    person of the strongest near match who is in custody or dead on ``as_of``, or higher on this
    list, with the match probability and how many more such persons there are.
    """
    from harmlens.harm.custody import at_large

    out = pd.Series(None, index=pd.Index(listed["person_id"].astype(str), name="person_id"), dtype=object)
    if not len(listed):
        return out
    nm = near_matches(con, out.index)
    if not len(nm):
        return out
    rank = dict(zip(listed["person_id"].astype(str), pd.to_numeric(listed["rank"])))
    status = at_large(con, as_of, nm["other_id"].unique()).set_index("person_id")
    for pid, g in nm.groupby("person_id", sort=False):
        reasons = []
        for other, p, ma, mb in zip(g["other_id"], g["p"], g["mention_a"], g["mention_b"]):
            r = status.loc[other, "reason"] if other in status.index and not bool(status.loc[other, "at_large"]) else None
            if isinstance(r, str) and r:
                reasons.append((other, p, "in custody" if r == "custody" else "recorded as dead" if r == "dead" else r, ma, mb))
            elif other in rank and rank[other] < rank[pid]:
                reasons.append((other, p, f"rank {int(rank[other])} on this list", ma, mb))
        if reasons:
            other, p, why, ma, mb = reasons[0]  # strongest first (near_matches orders by probability)
            more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
            out[pid] = (f"may be the same person as {other} ({why}; match probability {p:.2f}){more}: "
                        f"mentions {ma} and {mb}, see {review_path(ma, mb)}")
    return out


def warning_note(warnings: pd.Series) -> str | None:
    """The count printed with a list, or None when there is no warning."""
    n = int(warnings.notna().sum())
    if not n:
        return None
    return (f"{n} listed {'person' if n == 1 else 'people'} may be the same as someone in custody, dead or higher on the list "
            f"(a near match the linker did not join): see link_warning; {REVIEW_HINT}")
