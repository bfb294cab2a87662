"""Stored priority lists: save a list, find the previous one, and say what changed and why.

A list is kept per (kind, method, as-of date): ``offenders`` lists from the ``risk`` method and
``victims`` lists. Rebuilding the same list refreshes it (entries replaced, ``refreshed_at`` and
``expires_at`` moved on). A list expires ``expiry_days`` (default 90) after its last refresh;
``harmlens retention apply`` (protect area) removes expired lists.

Churn compares a list with the latest earlier list of the same kind and method:

* ``new``: on this list, not on the previous one;
* ``up`` / ``down``: on both, rank moved (``same`` when it did not);
* ``left``: on the previous list, not on this one.

Every change carries a reason in words: new evidence since the previous list (allegations,
charges, convictions), the change in risk, or why someone left (custody, death, no longer scored,
risk fell below the cut).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from harmlens.engine import as_engine
from harmlens.errors import HarmlensError

ENTRY_COLUMNS = [
    "rank", "person_id", "score", "risk", "expected_harm", "band", "top_factors", "allegations", "charges",
    "convictions", "distinct_victims", "last_event_at", "linked_suspects", "model_version",
    "ev_charged", "ev_acquitted", "ev_nfa", "ev_withdrawn", "ev_ongoing", "ev_cautioned",
    "link_warning",
]
CHANGE_COLUMNS = ["person_id", "change", "previous_rank", "new_rank", "reason"]
DEFAULT_EXPIRY_DAYS = 90


class RankError(HarmlensError):
    """A list cannot be built or found (no model, no list stored, bad arguments)."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def list_id_for(kind: str, method: str, as_of: datetime) -> str:
    return f"{kind}:{method}:{as_of:%Y-%m-%d}" + ("" if as_of.time() == datetime.min.time() else f"T{as_of:%H%M%S}")


@dataclass(frozen=True)
class StoredList:
    list_id: str
    kind: str
    method: str
    as_of: datetime
    model_version: str | None
    expires_at: datetime


def previous_list(con: duckdb.DuckDBPyConnection, kind: str, method: str, as_of: datetime) -> StoredList | None:
    """The latest stored list of this kind and method with an earlier as-of date."""
    rows = con.execute(
        "SELECT list_id, kind, method, as_of, model_version, expires_at FROM priority_lists "
        "WHERE kind = ? AND method = ? AND as_of < ? ORDER BY as_of DESC LIMIT 1",
        [kind, method, as_of],
    ).fetchall()
    return StoredList(*rows[0]) if rows else None


def list_entries(con: duckdb.DuckDBPyConnection, list_id: str) -> pd.DataFrame:
    return con.execute(
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM priority_entries WHERE list_id = ? ORDER BY rank, person_id", [list_id]
    ).df()


def stored_lists(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> pd.DataFrame:
    sql = (
        "SELECT list_id, kind, method, as_of, model_version, n_entries, created_at, refreshed_at, expires_at, "
        "previous_list_id, expires_at <= ? AS expired FROM priority_lists"
    )
    params: list[Any] = [_now()]
    if kind:
        sql += " WHERE kind = ?"
        params.append(kind)
    return con.execute(sql + " ORDER BY kind, as_of, list_id", params).df()


def list_changes(con: duckdb.DuckDBPyConnection, list_id: str) -> pd.DataFrame:
    order = "CASE change WHEN 'new' THEN 0 WHEN 'up' THEN 1 WHEN 'down' THEN 2 WHEN 'left' THEN 3 ELSE 4 END"
    return con.execute(
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM priority_changes WHERE list_id = ? "
        f"ORDER BY {order}, coalesce(new_rank, previous_rank), person_id",
        [list_id],
    ).df()


def _pct(x: float | None) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{100 * float(x):.0f}%"


def _evidence_delta(prev: pd.Series | None, cur: pd.Series) -> str:
    parts = []
    if prev is not None:
        for col, word in (("allegations", "allegation"), ("charges", "charge"), ("convictions", "conviction")):
            a, b = prev.get(col), cur.get(col)
            if pd.notna(a) and pd.notna(b) and int(b) != int(a):
                d = int(b) - int(a)
                parts.append(f"{d:+d} {word}{'s' if abs(d) != 1 else ''}")
    return ", ".join(parts)


def compute_changes(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    *,
    previous_as_of: datetime,
    status: pd.DataFrame | None = None,
    new_evidence: pd.Series | None = None,
) -> pd.DataFrame:
    """Churn between two lists (entries with ``person_id``, ``rank``, ``risk`` and evidence columns).

    ``status``: optional frame indexed by person_id with ``reason`` (``custody``/``dead``/None) and
    ``scored`` (bool) and ``risk``/``rank`` for everyone scored now, to explain who left.
    ``new_evidence``: optional words per person_id about allegations since the previous list.
    """
    since = f"since {previous_as_of:%Y-%m-%d}"
    prev = previous.set_index("person_id")
    cur = current.set_index("person_id")
    rows = []
    for pid, c in cur.iterrows():
        if pid not in prev.index:
            bits = []
            if new_evidence is not None and pid in new_evidence.index and new_evidence[pid]:
                bits.append(new_evidence[pid])
            if status is not None and pid in status.index and pd.notna(status.loc[pid].get("previous_risk")):
                bits.append(f"risk {_pct(status.loc[pid, 'previous_risk'])} -> {_pct(c.get('risk'))}")
            else:
                bits.append(f"risk now {_pct(c.get('risk'))}")
            rows.append((pid, "new", None, int(c["rank"]), f"new {since}: " + "; ".join(bits)))
            continue
        p = prev.loc[pid]
        move = int(p["rank"]) - int(c["rank"])
        change = "up" if move > 0 else "down" if move < 0 else "same"
        ev = _evidence_delta(p, c)
        risk = f"risk {_pct(p.get('risk'))} -> {_pct(c.get('risk'))}"
        if change == "same":
            reason = f"same rank {since}" + (f" ({ev})" if ev else "")
        else:
            what = f"{'up' if move > 0 else 'down'} {abs(move)} place{'s' if abs(move) != 1 else ''} {since}"
            because = ev if ev else "no new evidence; others moved or older events aged out"
            reason = f"{what}: {because}; {risk}"
        rows.append((pid, change, int(p["rank"]), int(c["rank"]), reason))
    for pid, p in prev.iterrows():
        if pid in cur.index:
            continue
        why = "no longer on the list"
        if status is not None and pid in status.index:
            s = status.loc[pid]
            if isinstance(s.get("reason"), str) and s.get("reason"):
                why = {"custody": "in custody (not at large)", "dead": "recorded as dead"}.get(s["reason"], str(s["reason"]))
            elif not bool(s.get("scored", True)):
                why = "no longer in the scored population"
            elif pd.notna(s.get("risk")):
                rank_now = s.get("rank")
                where = f"now rank {int(rank_now):,}" if pd.notna(rank_now) else "now below the cut"
                why = f"{where}; risk {_pct(p.get('risk'))} -> {_pct(s.get('risk'))}"
        elif status is not None:
            why = "no longer in the scored population"
        rows.append((pid, "left", int(p["rank"]), None, f"left {since}: {why}"))
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    out["previous_rank"] = out["previous_rank"].astype("Int64")
    out["new_rank"] = out["new_rank"].astype("Int64")
    return out


def save_list(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    method: str,
    as_of: datetime,
    entries: pd.DataFrame,
    changes: pd.DataFrame | None,
    previous: StoredList | None,
    model_version: str | None,
    params: dict[str, Any],
    expiry_days: int = DEFAULT_EXPIRY_DAYS,
    cohort: pd.DataFrame | None = None,
) -> str:
    """Store (or refresh) a list and its changes in one transaction; returns the list id.

    ``cohort``: everyone scored for the list (``person_id``, ``score`` the model's, ``rank_value``
    what the list sorts by), kept in ``rank_cohort`` for the audit.
    """
    lid = list_id_for(kind, method, as_of)
    now = _now()
    created = con.execute("SELECT created_at FROM priority_lists WHERE list_id = ?", [lid]).fetchall()
    created_at = created[0][0] if created else now
    e = entries.copy()
    for c in ENTRY_COLUMNS:
        if c not in e.columns:
            e[c] = None
    e = e[ENTRY_COLUMNS]
    e.insert(0, "list_id", lid)
    ch = changes.copy() if changes is not None else pd.DataFrame(columns=CHANGE_COLUMNS)
    ch.insert(0, "list_id", lid)
    ch.insert(1, "previous_list_id", previous.list_id if previous else "")
    co = pd.DataFrame({"list_id": lid, "person_id": pd.Series(dtype=object), "as_of": pd.Series(dtype="datetime64[ns]"),
                       "score": pd.Series(dtype=float), "rank_value": pd.Series(dtype=float)})
    if cohort is not None and len(cohort):
        co = pd.DataFrame({"list_id": lid, "person_id": cohort["person_id"].astype(str).to_numpy(), "as_of": pd.Timestamp(as_of),
                           "score": cohort["score"].astype(float).to_numpy(), "rank_value": cohort["rank_value"].astype(float).to_numpy()})
    con.register("_rank_entries_new", e)
    con.register("_rank_changes_new", ch)
    con.register("_rank_cohort_new", co)
    try:
        with as_engine(con).transaction():
            con.execute("DELETE FROM priority_entries WHERE list_id = ?", [lid])
            con.execute("DELETE FROM priority_changes WHERE list_id = ?", [lid])
            con.execute("DELETE FROM priority_lists WHERE list_id = ?", [lid])
            con.execute("DELETE FROM rank_cohort WHERE list_id = ?", [lid])
            con.execute("INSERT INTO rank_cohort SELECT list_id, person_id, as_of, score, rank_value FROM _rank_cohort_new")
            con.execute(
                "INSERT INTO priority_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [lid, kind, method, as_of, created_at, now, now + timedelta(days=int(expiry_days)), model_version,
                 previous.list_id if previous else None, int(len(e)), json.dumps(params, default=str)],
            )
            con.execute(
                f"INSERT INTO priority_entries (list_id, {', '.join(ENTRY_COLUMNS)}) "
                f"SELECT list_id, {', '.join(ENTRY_COLUMNS)} FROM _rank_entries_new"
            )
            if len(ch) and previous is not None:
                con.execute(
                    "INSERT INTO priority_changes SELECT list_id, previous_list_id, person_id, change, "
                    "previous_rank, new_rank, reason FROM _rank_changes_new"
                )
    finally:
        con.unregister("_rank_entries_new")
        con.unregister("_rank_changes_new")
        con.unregister("_rank_cohort_new")
    return lid


def change_tags(changes: pd.DataFrame) -> dict[str, str]:
    """Short tags for display beside each entry: ``[new]``, ``[up 3]``, ``[down 1]``, ``[=]``."""
    tags: dict[str, str] = {}
    for r in changes.itertuples(index=False):
        if r.change == "new":
            tags[r.person_id] = "[new]"
        elif r.change in ("up", "down"):
            tags[r.person_id] = f"[{r.change} {abs(int(r.previous_rank) - int(r.new_rank))}]"
        elif r.change == "same":
            tags[r.person_id] = "[=]"
    return tags


def summarise_changes(changes: pd.DataFrame) -> dict[str, int]:
    counts = changes["change"].value_counts() if len(changes) else pd.Series(dtype=int)
    return {k: int(counts.get(k, 0)) for k in ("new", "up", "down", "same", "left")}


def ranks_from_scores(score: np.ndarray) -> np.ndarray:
    """Competition ranks (1, 2, 2, 4) for a descending score."""
    return pd.Series(score).rank(method="min", ascending=False).to_numpy(dtype=int)
