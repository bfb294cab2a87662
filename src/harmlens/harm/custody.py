"""Who is at large on a date: not in custody (remand, prison, hospital order) and not dead.

Priority lists are about people at large; the others are shown in a separate section, never
silently dropped. Rules, as of a moment ``t`` (a date means the start of that day):

- in custody: a ``custody`` event naming the person (any role but victim or witness) with
  ``occurred_at <= t`` and ``ends_at`` empty (open) or ``ends_at > t``;
- dead: a ``death`` event naming the person (any role but witness) with ``occurred_at <= t``.

Death wins over custody when both hold. The rank area reuses :func:`at_large`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

import duckdb
import pandas as pd

from harmlens.engine import Engine, as_engine
from harmlens.harm.baselines import as_of_timestamp, require_links

AT_LARGE_COLUMNS = ["person_id", "at_large", "reason", "since", "until", "event_id"]


def at_large(
    con: Engine | duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    person_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """At-large status of every linked person (or of ``person_ids``) as of a date.

    Returns ``person_id, at_large, reason ('dead' | 'custody' | None), since, until, event_id``
    (the event that takes the person off the street; ``until`` empty means open-ended).
    """
    require_links(con)
    ts = as_of_timestamp(as_of)
    out = as_engine(con).frame(
        """
        WITH off AS (
            SELECT l.person_id, 'dead' AS reason, 1 AS prio, e.occurred_at AS since, CAST(NULL AS TIMESTAMP) AS until, e.event_id
            FROM events e JOIN people p ON p.event_id = e.event_id JOIN links l ON l.mention_id = p.mention_id
            WHERE e.event_type = 'death' AND p.role <> 'witness' AND e.occurred_at <= ?
            UNION ALL
            SELECT l.person_id, 'custody', 2, e.occurred_at, e.ends_at, e.event_id
            FROM events e JOIN people p ON p.event_id = e.event_id JOIN links l ON l.mention_id = p.mention_id
            WHERE e.event_type = 'custody' AND p.role NOT IN ('victim', 'witness')
              AND e.occurred_at <= ? AND (e.ends_at IS NULL OR e.ends_at > ?)
        ),
        best AS (
            SELECT person_id, reason, since, until, event_id,
                   row_number() OVER (PARTITION BY person_id
                                      ORDER BY prio, until DESC NULLS FIRST, since DESC, event_id) AS rn
            FROM off
        )
        SELECT ppl.person_id, b.person_id IS NULL AS at_large, b.reason, b.since, b.until, b.event_id
        FROM (SELECT DISTINCT person_id FROM links) ppl
        LEFT JOIN best b ON b.person_id = ppl.person_id AND b.rn = 1
        ORDER BY ppl.person_id
        """,
        [ts, ts, ts],
    )
    if person_ids is not None:
        # Vectorised: a person the warehouse does not know is at large (nothing says otherwise).
        ids = pd.Index(list(dict.fromkeys(person_ids)), name="person_id")
        out = out.set_index("person_id").reindex(ids).reset_index()
        out["at_large"] = out["at_large"].astype("boolean").fillna(True)
    out["at_large"] = out["at_large"].astype(bool)
    return out[AT_LARGE_COLUMNS]


CUSTODY_FEATURES = ("days_in_custody_365d", "days_in_custody_ever", "in_custody_now", "days_to_sentence_release")
"""Features about time in custody: a reason for someone at large is worded as what it is (a release)."""


def span_words(days: float, *, adjective: bool = False) -> str:
    """``"3 months"`` / ``"a 4-year"`` style wording of a number of days."""
    d = max(0.0, float(days))
    if d < 14:
        n, unit = round(d), "day"
    elif d < 61:
        n, unit = round(d / 7), "week"
    elif d < 548:
        n, unit = round(d / 30.44), "month"
    else:  # half years up to 5 years (2.5 years), whole years beyond
        y = d / 365.25
        n, unit = (round(2 * y) / 2 if y < 5 else round(y)), "year"
    n = max(1, n) if d >= 1 else n
    txt = f"{n:g}"
    if adjective:
        return f"{txt}-{unit}"
    return f"{txt} {unit}{'s' if n != 1 else ''}"


def custody_words(
    con: duckdb.DuckDBPyConnection, as_of: str | date | datetime, person_ids: Iterable[str]
) -> dict[str, str]:
    """Per person, their custody as a reviewer would say it, as of a date.

    ``"released 3 months ago after 4 years in prison (sentence)"``, ``"released 1 year ago after 2 weeks
    on remand"``, ``"in custody since 2024-03-01 (prison sentence, release due 2026-01-01)"`` or
    ``"no time in custody recorded"``: never a count of days for someone at large.
    """
    ids = [str(p) for p in person_ids]
    if not ids:
        return {}
    ts = as_of_timestamp(as_of)
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'events'").fetchall()}
    ctype = "e.custody_type" if "custody_type" in cols else "json_extract_string(e.extra, '$.custody_type')"
    rows = con.execute(
        f"""
        SELECT CAST(l.person_id AS VARCHAR) AS person_id, e.occurred_at AS since, e.ends_at AS until,
               lower(coalesce({ctype}, '')) AS kind
        FROM events e JOIN people p ON p.event_id = e.event_id JOIN links l ON l.mention_id = p.mention_id
        WHERE e.event_type = 'custody' AND p.role NOT IN ('victim', 'witness') AND e.occurred_at < $t
          AND list_contains($ids, CAST(l.person_id AS VARCHAR))
        ORDER BY person_id, coalesce(e.ends_at, TIMESTAMP '9999-01-01') DESC, e.occurred_at DESC
        """,
        {"t": ts, "ids": ids},
    ).fetchall()
    out = {pid: "no time in custody recorded" for pid in ids}
    seen: set[str] = set()
    for pid, since, until, kind in rows:
        if pid in seen:
            continue
        seen.add(pid)
        what = ("prison sentence" if kind in ("prison", "sentence", "custodial_sentence") else
                "remand" if kind == "remand" else "hospital order" if "hospital" in kind else "custody")
        if until is None or pd.Timestamp(until) > pd.Timestamp(ts):
            due = f", release due {pd.Timestamp(until):%Y-%m-%d}" if until is not None and what == "prison sentence" else ""
            out[pid] = f"in custody since {pd.Timestamp(since):%Y-%m-%d} ({what}{due})"
            continue
        length = (pd.Timestamp(until) - pd.Timestamp(since)).days
        ago = (pd.Timestamp(ts) - pd.Timestamp(until)).days
        when = "this week" if ago < 7 else f"{span_words(ago)} ago"
        # the custody event spans the time actually held (a sentence's release date, not its length)
        where = {"prison sentence": "in prison (sentence)", "remand": "on remand"}.get(what, f"in {what}")
        out[pid] = f"released {when} after {span_words(length)} {where}"
    return out
