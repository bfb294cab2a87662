"""One definition of the evidence behind a person, shown the same way everywhere.

The offenders list, the person profile, referral packs and the API all count a person's evidence
with :func:`evidence_table`, so a count on one screen is the count on every other:

* **what is counted**: VAWG offences (``event_harm.vawg``) naming the person, through ``links``,
  as ``suspect`` or ``offender``, once per offence, that occurred in the last 3 years before the
  as-of date (``[as_of - 1095 days, as_of)``) and were reported before it. Its label on screen is
  :data:`LABEL`;
* **what became of each allegation**, one status per allegation, first match wins:
  ``convicted`` (recorded outcome ``convicted`` or a conviction event before the date referring to
  it), ``acquitted``, ``charged`` (charged and awaiting trial: outcome ``charged`` or a charge
  event), ``cautioned``, ``nfa`` (no further action), ``withdrawn`` (victim withdrew support), and
  ``ongoing`` (under investigation, or no outcome recorded). Charge and conviction events follow
  the rule of :mod:`harmlens.harm.baselines`: an event names its people, one naming nobody counts
  for every suspect of the offence.

Allegations are not findings of guilt: every count is shown with its breakdown (:func:`breakdown_text`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import duckdb
import pandas as pd

from harmlens.engine import as_engine

WINDOW_DAYS = 1095
LABEL = "VAWG allegations in the last 3 years"
SHORT_LABEL = "VAWG allegations (3 years)"

STATUSES: tuple[str, ...] = ("convicted", "charged", "acquitted", "nfa", "withdrawn", "ongoing", "cautioned")
"""Outcome statuses in display order; ``cautioned`` is shown only when a person has one."""
STATUS_WORDS: dict[str, str] = {
    "convicted": "convicted",
    "charged": "charged, awaiting trial",
    "acquitted": "acquitted",
    "nfa": "no further action",
    "withdrawn": "victim withdrew",
    "ongoing": "ongoing",
    "cautioned": "cautioned",
}
ALWAYS_SHOWN = STATUSES[:6]

COLUMNS: tuple[str, ...] = ("allegations", *STATUSES, "charges", "convictions", "distinct_victims", "last_event_at")
"""Columns of :func:`evidence_table`: ``charges`` counts every allegation that reached a charge
(awaiting trial, convicted or acquitted); ``convictions`` equals ``convicted``."""

# The columns the stored list keeps for the breakdown (``allegations``/``charges``/``convictions``
# were already stored; these were added with the breakdown).
ENTRY_STATUS_COLUMNS: dict[str, str] = {s: f"ev_{s}" for s in STATUSES if s != "convicted"}


def _event_columns(con: Any) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'events'").fetchall()}


def _has_table(con: Any, name: str) -> bool:
    return as_engine(con).has_table(name)


def _crime_ref(con: Any, alias: str) -> str:
    return f"{alias}.crime_ref" if "crime_ref" in _event_columns(con) else f"json_extract_string({alias}.extra, '$.crime_ref')"


def status_sql(outcome: str, charged: str, convicted: str) -> str:
    """SQL CASE giving an allegation's status from its recorded outcome and charge/conviction flags."""
    o = f"lower(coalesce({outcome}, 'unknown'))"
    return (
        f"CASE WHEN {convicted} THEN 'convicted' WHEN {o} = 'acquitted' THEN 'acquitted' "
        f"WHEN {charged} THEN 'charged' WHEN {o} = 'caution' THEN 'cautioned' WHEN {o} = 'nfa' THEN 'nfa' "
        f"WHEN {o} = 'victim_withdrew' THEN 'withdrawn' ELSE 'ongoing' END"
    )


def allegations_sql(con: Any, *, window_days: int | None = WINDOW_DAYS, harm: str = "event_harm", ids: bool = False) -> str:
    """SQL for one row per (person, VAWG allegation) with its ``status``: parameters ``$as_of``
    (and ``$start`` when ``window_days`` is set, ``$ids`` a list of person ids when ``ids``)."""
    ref = _crime_ref(con, "o")
    window = "AND e.occurred_at >= $start" if window_days is not None else ""
    only = "AND list_contains($ids, CAST(l.person_id AS VARCHAR))" if ids else ""
    return f"""
    WITH so AS (
        SELECT DISTINCT CAST(l.person_id AS VARCHAR) AS person_id, e.event_id, e.occurred_at, e.outcome, h.harm_weight
        FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
        JOIN {harm} h ON h.event_id = e.event_id
        WHERE e.event_type = 'offence' AND p.role IN ('suspect', 'offender') AND coalesce(h.vawg, FALSE)
          AND e.occurred_at < $as_of AND (e.reported_at IS NULL OR e.reported_at < $as_of) {window} {only}
    ),
    outc AS (
        SELECT {ref} AS ref, o.event_type, CAST(l2.person_id AS VARCHAR) AS person_id
        FROM events o
        LEFT JOIN people p2 ON p2.event_id = o.event_id AND p2.role NOT IN ('victim', 'witness')
        LEFT JOIN links l2 ON l2.mention_id = p2.mention_id
        WHERE o.event_type IN ('charge', 'conviction') AND o.occurred_at < $as_of AND {ref} IS NOT NULL
    ),
    flagged AS (
        SELECT so.*,
               (lower(coalesce(so.outcome, '')) IN ('charged', 'convicted', 'acquitted')
                OR EXISTS (SELECT 1 FROM outc x WHERE x.ref = so.event_id
                           AND (x.person_id = so.person_id OR x.person_id IS NULL))) AS charged,
               (lower(coalesce(so.outcome, '')) = 'convicted'
                OR EXISTS (SELECT 1 FROM outc x WHERE x.ref = so.event_id AND x.event_type = 'conviction'
                           AND (x.person_id = so.person_id OR x.person_id IS NULL))) AS convicted
        FROM so
    )
    SELECT person_id, event_id, occurred_at, harm_weight, charged,
           {status_sql('outcome', 'charged', 'convicted')} AS status
    FROM flagged
    """


def as_of_ts(as_of: Any) -> datetime:
    from harmlens.harm.baselines import as_of_timestamp

    return as_of_timestamp(as_of)


def harm_relation(con: Any) -> tuple[str, Any]:
    """``event_harm`` when it covers every offence, else the built-in map computed on the fly (CCHI)."""
    if _has_table(con, "event_harm"):
        from harmlens.harm.offence_map import stale_offences

        if stale_offences(con) == 0:
            return "event_harm", None
    from harmlens.harm.offence_map import offence_harm_frame
    from harmlens.harm.weights import load_weight_table

    return "_hl_evidence_harm", offence_harm_frame(con, load_weight_table("cchi"))


def allegation_statuses(con: Any, as_of: Any, person_ids: Iterable[object], *, window_days: int | None = WINDOW_DAYS) -> pd.DataFrame:
    """One row per counted allegation: ``person_id, event_id, occurred_at, harm_weight, charged, status``."""
    at = as_of_ts(as_of)
    ids = [str(p) for p in person_ids]
    cols = ["person_id", "event_id", "occurred_at", "harm_weight", "charged", "status"]
    if not ids or not _has_table(con, "links"):
        return pd.DataFrame(columns=cols)
    harm, frame = harm_relation(con)
    params: dict[str, Any] = {"as_of": at, "ids": ids}
    if window_days is not None:
        params["start"] = at - pd.Timedelta(days=window_days)
    if frame is not None:
        con.register(harm, frame)
    try:
        return con.execute(allegations_sql(con, window_days=window_days, harm=harm, ids=True), params).df()[cols]
    finally:
        if frame is not None:
            con.unregister(harm)


def evidence_table(con: Any, as_of: Any, person_ids: Iterable[object]) -> pd.DataFrame:
    """Evidence per person (index ``person_id``, columns :data:`COLUMNS`); zeros for people with none."""
    ids = pd.Index(pd.Series(list(person_ids), dtype="object").astype(str).unique(), name="person_id")
    al = allegation_statuses(con, as_of, ids)
    out = pd.DataFrame(0, index=ids, columns=[c for c in COLUMNS if c != "last_event_at"], dtype="int64")
    out["last_event_at"] = pd.Series(pd.NaT, index=ids, dtype="datetime64[ns]")
    if len(al):
        counts = al.groupby(["person_id", "status"]).size().unstack(fill_value=0)
        for s in STATUSES:
            if s in counts.columns:
                out.loc[counts.index, s] = counts[s].astype("int64")
        g = al.groupby("person_id")
        out.loc[g.size().index, "allegations"] = g.size().astype("int64")
        out.loc[g.size().index, "charges"] = g["charged"].sum().astype("int64")
        out.loc[g.size().index, "last_event_at"] = pd.to_datetime(g["occurred_at"].max())
        vic = _victims(con, as_of, list(g.size().index))
        out.loc[vic.index, "distinct_victims"] = vic.astype("int64")
    out["convictions"] = out["convicted"]
    return out


def _victims(con: Any, as_of: Any, ids: list[str]) -> pd.Series:
    at = as_of_ts(as_of)
    harm, frame = harm_relation(con)
    if frame is not None:
        con.register(harm, frame)
    try:
        df = con.execute(
            f"""
            WITH a AS ({allegations_sql(con, harm=harm, ids=True)})
            SELECT a.person_id, count(DISTINCT coalesce(CAST(lv.person_id AS VARCHAR), 'mention:' || pv.mention_id)) AS n
            FROM a JOIN people pv ON pv.event_id = a.event_id AND pv.role = 'victim'
            LEFT JOIN links lv ON lv.mention_id = pv.mention_id
            WHERE coalesce(CAST(lv.person_id AS VARCHAR), '') <> a.person_id
            GROUP BY 1
            """,
            {"as_of": at, "start": at - pd.Timedelta(days=WINDOW_DAYS), "ids": ids},
        ).df()
    finally:
        if frame is not None:
            con.unregister(harm)
    return df.set_index("person_id")["n"] if len(df) else pd.Series(dtype="int64")


def breakdown(row: Any) -> dict[str, int]:
    """Status -> count for one person (a row of :func:`evidence_table` or a stored list entry):
    the six always-shown statuses, plus ``cautioned`` when there is one."""
    def get(s: str) -> int:
        for k in (s, ENTRY_STATUS_COLUMNS.get(s, ""), "convictions" if s == "convicted" else ""):
            if k and k in row and row[k] is not None and not pd.isna(row[k]):
                return int(row[k])
        return 0

    out = {s: get(s) for s in ALWAYS_SHOWN}
    if get("cautioned"):
        out["cautioned"] = get("cautioned")
    return out


def breakdown_text(row: Any) -> str:
    """``"0 convicted, 2 charged, awaiting trial, 3 acquitted, 8 no further action, ..."``."""
    return "; ".join(f"{n} {STATUS_WORDS[s]}" for s, n in breakdown(row).items())


def summary_text(row: Any) -> str:
    """``"15 VAWG allegations in the last 3 years (0 convicted; ...)"``: the count always with its breakdown."""
    n = int(row["allegations"]) if row.get("allegations") is not None and not pd.isna(row.get("allegations")) else 0
    return f"{n} VAWG allegation{'s' if n != 1 else ''} in the last 3 years ({breakdown_text(row)})"


def as_dict(row: Any, as_of: Any) -> dict[str, Any]:
    """The evidence of one person as the API returns it (same keys everywhere)."""
    n = row.get("allegations")
    return {
        "label": LABEL,
        "as_of": as_of_ts(as_of).date().isoformat(),
        "allegations": int(n) if n is not None and not pd.isna(n) else 0,
        "outcomes": breakdown(row),
        "outcome_words": {s: STATUS_WORDS[s] for s in breakdown(row)},
    }


def entry_columns(ev: pd.DataFrame) -> pd.DataFrame:
    """The stored list's evidence columns from an :func:`evidence_table` frame."""
    out = ev[["allegations", "charges", "convictions", "distinct_victims", "last_event_at"]].copy()
    for s, c in ENTRY_STATUS_COLUMNS.items():
        out[c] = ev[s]
    return out


def check_agreement(con: duckdb.DuckDBPyConnection, list_id: str, *, top: int = 20) -> list[str]:
    """Disagreements between a stored list's evidence and the evidence computed now for its as-of
    date, for the ``top`` entries (empty when every count and breakdown agrees)."""
    lst = con.execute("SELECT as_of FROM priority_lists WHERE list_id = ?", [list_id]).fetchall()
    if not lst:
        return [f"no stored list {list_id!r}"]
    cols = ["allegations", "charges", "convictions", *ENTRY_STATUS_COLUMNS.values()]
    have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'priority_entries'").fetchall()}
    rows = con.execute(
        f"SELECT person_id, {', '.join(c for c in cols if c in have)} FROM priority_entries WHERE list_id = ? ORDER BY rank LIMIT ?",
        [list_id, top],
    ).df()
    live = evidence_table(con, lst[0][0], rows["person_id"])
    bad = []
    for r in rows.to_dict("records"):
        want = live.loc[r["person_id"]]
        if breakdown(r) != breakdown(want) or int(r["allegations"] or 0) != int(want["allegations"]):
            bad.append(f"{r['person_id']}: list says {summary_text(r)}; now {summary_text(want)}")
    return bad
