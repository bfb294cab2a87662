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

from harmlens.harm.baselines import as_of_timestamp, require_links

AT_LARGE_COLUMNS = ["person_id", "at_large", "reason", "since", "until", "event_id"]


def at_large(
    con: duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    person_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """At-large status of every linked person (or of ``person_ids``) as of a date.

    Returns ``person_id, at_large, reason ('dead' | 'custody' | None), since, until, event_id``
    (the event that takes the person off the street; ``until`` empty means open-ended).
    """
    require_links(con)
    ts = as_of_timestamp(as_of)
    out = con.execute(
        """
        WITH off AS (
            SELECT l.person_id, 'dead' AS reason, 1 AS prio, e.occurred_at AS since, NULL::TIMESTAMP AS until, e.event_id
            FROM events e JOIN people p ON p.event_id = e.event_id JOIN links l ON l.mention_id = p.mention_id
            WHERE e.event_type = 'death' AND p.role <> 'witness' AND e.occurred_at <= $t
            UNION ALL
            SELECT l.person_id, 'custody', 2, e.occurred_at, e.ends_at, e.event_id
            FROM events e JOIN people p ON p.event_id = e.event_id JOIN links l ON l.mention_id = p.mention_id
            WHERE e.event_type = 'custody' AND p.role NOT IN ('victim', 'witness')
              AND e.occurred_at <= $t AND (e.ends_at IS NULL OR e.ends_at > $t)
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
        {"t": ts},
    ).df()
    if person_ids is not None:
        # Vectorised: a person the warehouse does not know is at large (nothing says otherwise).
        ids = pd.Index(list(dict.fromkeys(person_ids)), name="person_id")
        out = out.set_index("person_id").reindex(ids).reset_index()
        out["at_large"] = out["at_large"].astype("boolean").fillna(True)
    out["at_large"] = out["at_large"].astype(bool)
    return out[AT_LARGE_COLUMNS]
