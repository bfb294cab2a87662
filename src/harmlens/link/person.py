"""A person's mentions and events, for ``harmlens person``."""

from __future__ import annotations

import duckdb

from harmlens.errors import HarmlensError


class UnknownPersonError(HarmlensError):
    """No mention is linked to this person id."""


def person_mentions(con: duckdb.DuckDBPyConnection, person_id: str):
    """(mentions with their events, merges/splits involving the person) as DataFrames.

    Raises ``UnknownPersonError`` naming where the id went when it was merged away.
    """
    df = con.execute(
        """SELECT l.mention_id, p.role, e.event_id, e.source, e.event_type, e.offence_code, e.offence_description,
                  e.occurred_at, e.outcome, p.forename, p.surname, p.date_of_birth, p.postcode, p.person_ref, l.method
           FROM links l JOIN people p USING (mention_id) LEFT JOIN events e ON e.event_id = p.event_id
           WHERE l.person_id = ? ORDER BY e.occurred_at NULLS LAST, l.mention_id""",
        [person_id],
    ).df()
    hist = con.execute(
        """SELECT run_id, changed_at, change, before, after, reason FROM link_history
           WHERE list_contains(CAST(before AS VARCHAR[]), ?) OR list_contains(CAST(after AS VARCHAR[]), ?)
           ORDER BY changed_at, run_id""",
        [person_id, person_id],
    ).df()
    if df.empty:
        if len(hist):
            last = hist.iloc[-1]
            raise UnknownPersonError(f"person {person_id} no longer has mentions: {last['change']} into {last['after']} ({last['reason']})")
        raise UnknownPersonError(f"no such person: {person_id}")
    return df, hist
