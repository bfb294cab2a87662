"""Tiny hand-made warehouses for the harm tests: every number in the tests is computed from these by hand."""

from __future__ import annotations

import json

LINKS_DDL = "CREATE TABLE IF NOT EXISTS links (mention_id VARCHAR PRIMARY KEY, person_id VARCHAR, method VARCHAR, linked_at TIMESTAMP)"


class World:
    """Add events and people to a migrated warehouse; links are written alongside."""

    def __init__(self, con):
        self.con = con
        con.execute(LINKS_DDL)
        self._m = 0

    def event(self, event_id, event_type, occurred_at, code=None, desc=None, *, outcome="unknown", domestic=None,
              ends_at=None, reported_at=None, crime_ref=None, source="crime"):
        extra = json.dumps({"crime_ref": crime_ref}) if crime_ref else None
        self.con.execute(
            "INSERT INTO events (event_id, source, event_type, offence_code, offence_description, occurred_at, ends_at, "
            "reported_at, outcome, domestic, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [event_id, source, event_type, code, desc, occurred_at, ends_at, reported_at, outcome, domestic, extra],
        )
        return self

    def person(self, event_id, role, person_id, *, sex=None, postcode=None, link=True):
        self._m += 1
        mid = f"m{self._m:04d}"
        self.con.execute(
            "INSERT INTO people (mention_id, event_id, role, sex, postcode) VALUES (?, ?, ?, ?, ?)",
            [mid, event_id, role, sex, postcode],
        )
        if link:
            self.con.execute("INSERT INTO links (mention_id, person_id, method, linked_at) VALUES (?, ?, 'exact', TIMESTAMP '2020-01-01')", [mid, person_id])
        return mid

    def offence(self, event_id, when, code, suspect, victim=None, *, desc=None, victim_sex="female", **kw):
        """An offence with one suspect and (optionally) one victim."""
        self.event(event_id, "offence", when, code, desc, **kw)
        if suspect:
            self.person(event_id, "suspect", suspect)
        if victim:
            self.person(event_id, "victim", victim, sex=victim_sex)
        return self
