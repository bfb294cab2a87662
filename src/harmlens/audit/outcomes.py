"""Outcome monitoring: what happened after a past list, against similar people who were not listed.

For every listed person, the comparison group holds the not-listed person with the nearest
predicted risk (nearest neighbour on the logit of the score, without replacement, within a
caliper of 0.2 standard deviations); a listed person with nobody close enough stays unmatched
and is counted. Over the follow-up window (the list date to the end of the horizon, or to the
last recorded event if sooner) we count, per person:

* ``offences``: recorded offences naming them as suspect/offender (any kind);
* ``vawg_offences``: of which VAWG;
* ``arrests``: arrest events naming them;
* ``charges``: crimes they were charged with in the window (charge events, or offences in the
  window recorded as charged/convicted);
* ``victims_revictimised``: victims of their earlier offences (linked persons) who are recorded
  as a victim again, by anyone, in the window.

Each is reported as the mean per person and the share with at least one, listed vs comparison,
with the difference and a paired bootstrap interval. Read with care: listing a person brings
police attention, which raises *recorded* arrests and offences without any change in behaviour
(detection), and a protective intervention that works lowers them. The comparison tells you the
list changed what is recorded; it cannot on its own say which way behaviour moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.groupmetrics.groupframe import _jsonable

__all__ = ["OutcomeMonitoring", "match_comparison", "person_outcomes", "outcome_monitoring", "acted_on_monitoring",
           "OUTCOMES", "NOT_AN_INTERVENTION"]

OUTCOMES = ["offences", "vawg_offences", "arrests", "charges", "victims_revictimised"]


def person_outcomes(con: Engine | DuckDBPyConnection, person_ids: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    """Counts per person in ``[start, end)`` (see the module docstring); index person_id."""
    eng = as_engine(con)
    ids = pd.DataFrame({"person_id": sorted({str(p) for p in person_ids})})
    eng.register_frame("_audit_outcome_ids", ids)
    harm_join = ("LEFT JOIN event_harm h ON h.event_id = e.event_id" if as_engine(con).has_table("event_harm")
                 else "LEFT JOIN (SELECT NULL::VARCHAR AS event_id, NULL::BOOLEAN AS vawg) h ON FALSE")
    try:
        df = con.execute(
            f"""
            WITH pm AS (
                SELECT CAST(l.person_id AS VARCHAR) AS person_id, p.role, e.event_id, e.event_type, e.occurred_at,
                       e.outcome, json_extract_string(e.extra, '$.crime_ref') AS crime_ref
                FROM people p JOIN links l ON l.mention_id = p.mention_id
                JOIN events e ON e.event_id = p.event_id
                JOIN _audit_outcome_ids i ON i.person_id = CAST(l.person_id AS VARCHAR)
            ),
            win AS (SELECT * FROM pm WHERE occurred_at >= $start AND occurred_at < $end),
            off AS (
                SELECT DISTINCT w.person_id, w.event_id, w.outcome, coalesce(h.vawg, FALSE) AS vawg
                FROM win w JOIN events e ON e.event_id = w.event_id {harm_join}
                WHERE w.event_type = 'offence' AND w.role IN ('suspect', 'offender')
            ),
            arr AS (
                SELECT person_id, count(DISTINCT event_id) AS arrests FROM win
                WHERE event_type = 'arrest' AND role NOT IN ('victim', 'witness') GROUP BY person_id
            ),
            chg AS (
                SELECT person_id, count(DISTINCT crime) AS charges FROM (
                    SELECT person_id, coalesce(crime_ref, event_id) AS crime FROM win
                    WHERE event_type IN ('charge', 'conviction') AND role NOT IN ('victim', 'witness')
                    UNION ALL
                    SELECT person_id, event_id FROM off WHERE outcome IN ('charged', 'convicted')
                ) GROUP BY person_id
            ),
            prior_vic AS (
                SELECT DISTINCT pm.person_id, CAST(lv.person_id AS VARCHAR) AS victim_id
                FROM pm JOIN people pv ON pv.event_id = pm.event_id AND pv.role = 'victim'
                JOIN links lv ON lv.mention_id = pv.mention_id
                WHERE pm.event_type = 'offence' AND pm.role IN ('suspect', 'offender') AND pm.occurred_at < $start
                  AND CAST(lv.person_id AS VARCHAR) <> pm.person_id
            ),
            vic_again AS (
                SELECT DISTINCT CAST(lv.person_id AS VARCHAR) AS victim_id
                FROM people pv JOIN links lv ON lv.mention_id = pv.mention_id
                JOIN events e ON e.event_id = pv.event_id
                WHERE pv.role = 'victim' AND e.event_type = 'offence' AND e.occurred_at >= $start AND e.occurred_at < $end
            ),
            rv AS (
                SELECT pv.person_id, count(*) AS victims_revictimised
                FROM prior_vic pv JOIN vic_again va ON va.victim_id = pv.victim_id GROUP BY pv.person_id
            ),
            o AS (
                SELECT person_id, count(*) AS offences, count(*) FILTER (WHERE vawg) AS vawg_offences
                FROM off GROUP BY person_id
            )
            SELECT i.person_id, coalesce(o.offences, 0) AS offences, coalesce(o.vawg_offences, 0) AS vawg_offences,
                   coalesce(arr.arrests, 0) AS arrests, coalesce(chg.charges, 0) AS charges,
                   coalesce(rv.victims_revictimised, 0) AS victims_revictimised
            FROM _audit_outcome_ids i
            LEFT JOIN o USING (person_id) LEFT JOIN arr USING (person_id)
            LEFT JOIN chg USING (person_id) LEFT JOIN rv USING (person_id)
            """,
            {"start": start, "end": end},
        ).df()
    finally:
        eng.unregister("_audit_outcome_ids")
    return df.set_index("person_id").astype(float)


def match_comparison(person_id: pd.Series, score: pd.Series, listed: pd.Series, *, caliper_sd: float = 0.2
                     ) -> pd.DataFrame:
    """Pairs (listed person, comparison person) matched on the logit of the score (see module doc)."""
    p = np.clip(pd.to_numeric(score, errors="coerce").to_numpy(dtype=float), 1e-6, 1 - 1e-6)
    lg = np.log(p / (1 - p))
    is_l = listed.astype(bool).to_numpy()
    ids = person_id.astype(str).to_numpy()
    caliper = caliper_sd * float(np.std(lg)) if len(lg) > 1 else 0.0
    cand = np.flatnonzero(~is_l)
    cand = cand[np.argsort(lg[cand], kind="mergesort")]
    cval = lg[cand]
    used = np.zeros(len(cand), dtype=bool)
    pairs = []
    # hardest to match (highest risk) first, so they get the nearest of the few close candidates
    for i in np.flatnonzero(is_l)[np.argsort(-lg[is_l], kind="mergesort")]:
        pos = int(np.searchsorted(cval, lg[i]))
        lo, hi = pos - 1, pos
        best, best_d = -1, np.inf
        while lo >= 0 and used[lo]:
            lo -= 1
        while hi < len(cand) and used[hi]:
            hi += 1
        for j in (lo, hi):
            if 0 <= j < len(cand):
                d = abs(cval[j] - lg[i])
                if d < best_d:
                    best, best_d = j, d
        if best >= 0 and best_d <= caliper:
            used[best] = True
            pairs.append((ids[i], ids[cand[best]], float(p[i]), float(p[cand[best]])))
        else:
            pairs.append((ids[i], None, float(p[i]), np.nan))
    return pd.DataFrame(pairs, columns=["listed_id", "comparison_id", "listed_score", "comparison_score"])


@dataclass
class OutcomeMonitoring:
    start: str
    end: str
    follow_up_days: int
    n_listed: int
    n_matched: int
    table: pd.DataFrame  # outcome, measure, listed, comparison, difference, low, high
    mean_score_listed: float
    mean_score_comparison: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "follow_up_days": self.follow_up_days,
                "n_listed": self.n_listed, "n_matched": self.n_matched,
                "mean_score_listed": _jsonable(self.mean_score_listed),
                "mean_score_comparison": _jsonable(self.mean_score_comparison),
                "table": [{k: _jsonable(v) for k, v in r.items()} for r in self.table.to_dict("records")],
                "notes": list(self.notes)}


def outcome_monitoring(con: Engine | DuckDBPyConnection, scored: pd.DataFrame, as_of: datetime, horizon_days: int, *,
                       data_end: datetime | None = None, n_boot: int = 1000, random_state: int = 0
                       ) -> OutcomeMonitoring | None:
    """Listed vs matched comparison over the follow-up (None when nothing is listed or no follow-up)."""
    end = as_of + timedelta(days=int(horizon_days))
    notes: list[str] = []
    if data_end is not None and data_end < end:
        if data_end <= as_of:
            return None
        notes.append(f"follow-up cut short at the last recorded event ({data_end.date()}): "
                     f"{(data_end - as_of).days} of {horizon_days} days")
        end = data_end
    if not scored["listed"].astype(bool).any():
        return None
    pairs = match_comparison(scored["person_id"], scored["score"], scored["listed"])
    matched = pairs.dropna(subset=["comparison_id"])
    if len(matched) < len(pairs):
        notes.append(f"{len(pairs) - len(matched)} listed people had no unlisted person of similar risk "
                     "(caliper 0.2 SD of logit risk) and are left out")
    if matched.empty:
        return OutcomeMonitoring(str(as_of.date()), str(end.date()), (end - as_of).days, len(pairs), 0,
                                 pd.DataFrame(columns=["outcome", "measure", "listed", "comparison", "difference",
                                                       "low", "high"]), float("nan"), float("nan"), notes)
    outc = person_outcomes(con, list(matched["listed_id"]) + list(matched["comparison_id"]), as_of, end)
    a = outc.reindex(matched["listed_id"]).to_numpy()
    b = outc.reindex(matched["comparison_id"]).to_numpy()
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(matched), size=(n_boot, len(matched)))
    rows = []
    for j, name in enumerate(outc.columns):
        for measure, fa, fb in [("mean per person", a[:, j], b[:, j]),
                                ("share with any", (a[:, j] > 0).astype(float), (b[:, j] > 0).astype(float))]:
            d = fa - fb
            boots = d[idx].mean(axis=1)
            rows.append({"outcome": name, "measure": measure, "listed": fa.mean(), "comparison": fb.mean(),
                         "difference": d.mean(), "low": float(np.quantile(boots, 0.025)),
                         "high": float(np.quantile(boots, 0.975))})
    notes.append("more recorded offences or arrests among listed people can mean more police attention "
                 "(detection), not more offending")
    return OutcomeMonitoring(str(as_of.date()), str(end.date()), (end - as_of).days, len(pairs), len(matched),
                             pd.DataFrame(rows), float(matched["listed_score"].mean()),
                             float(matched["comparison_score"].mean()), notes)


NOT_AN_INTERVENTION = frozenset({"no_action", "no action", "none"})
"""Casework action codes that record a decision not to act: those people are not "acted on"."""


def acted_on_monitoring(con: Engine | DuckDBPyConnection, scored: pd.DataFrame, actions: pd.DataFrame, as_of: datetime, horizon_days: int, *,
                        window_days: int = 90, data_end: datetime | None = None, n_boot: int = 1000,
                        random_state: int = 0) -> OutcomeMonitoring | None:
    """People acted on (a casework action dated in the ``window_days`` after the list date) against scored
    people of similar risk who were not acted on, over the same follow-up as the list's outcome monitoring.

    ``actions`` holds ``person_id``, ``action`` and ``action_date`` (``harmlens casework actions``). The
    matching is the list's (nearest logit risk within a caliper), so the comparison answers "what happened
    to people we acted on, against people the model ranked alike whom we did not", with the same caveat:
    acting brings attention, which changes what is recorded. None when nobody scored was acted on.
    """
    if actions is None or actions.empty:
        return None
    a = actions.copy()
    a["action_date"] = pd.to_datetime(a["action_date"], errors="coerce")
    from harmlens.asof import parse_as_of

    start = pd.Timestamp(parse_as_of(as_of))
    stop = start + pd.Timedelta(days=int(window_days))
    code = a["action"].astype(str).str.strip().str.lower()
    took = a[(a["action_date"] >= start) & (a["action_date"] < stop) & ~code.isin(NOT_AN_INTERVENTION)]
    acted = set(took["person_id"].astype(str))
    sc = scored[["person_id", "score"]].copy()
    sc["person_id"] = sc["person_id"].astype(str)
    sc["listed"] = sc["person_id"].isin(acted)
    n_acted = int(sc["listed"].sum())
    if n_acted == 0:
        return None
    res = outcome_monitoring(con, sc, as_of, horizon_days, data_end=data_end, n_boot=n_boot, random_state=random_state)
    if res is not None:
        left = len(acted) - n_acted
        res.notes.insert(0, f"acted on: {n_acted:,} scored people with an action from {start.date()} to "
                            f"{(stop - pd.Timedelta(days=1)).date()} (decisions to take no action do not count)"
                         + (f"; {left:,} people acted on were not scored on this date and are left out" if left else ""))
    return res
