"""A tiny hand-written world for feature, label and ranking tests.

Each person is an id like ``"P1"``; every time a person is named in an event a new mention is
made and linked to that person (as the link stage would). Offence kinds carry the flags and harm
weights the harm stage would write to ``event_harm``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

# kind -> (offence_category, vawg, domestic, sexual, violent, harm_weight)
KINDS: dict[str, tuple[str, bool, bool, bool, bool, float]] = {
    "rape": ("rape", True, False, True, True, 2555.0),
    "sexual_assault": ("other_sexual", True, False, True, True, 365.0),
    "da_assault": ("domestic_violence_with_injury", True, True, False, True, 100.0),
    "stalking": ("stalking", True, False, False, False, 10.0),
    "coercive": ("coercive_control", True, True, False, False, 10.0),
    "breach": ("breach_of_order", True, True, False, False, 5.0),
    "assault": ("violence_with_injury", False, False, False, True, 50.0),
    "burglary": ("non_violent", False, False, False, False, 20.0),
}


def ts(x: str | date | datetime) -> datetime:
    return pd.Timestamp(x).to_pydatetime()


@dataclass
class World:
    events: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    harm: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    dob: dict[str, str | None] = field(default_factory=dict)
    sex: dict[str, str] = field(default_factory=dict)
    household: dict[str, str] = field(default_factory=dict)
    dob_noise: str | None = None
    """When set, every new mention records this date of birth instead of the person's own."""
    _m: itertools.count = field(default_factory=lambda: itertools.count(1))
    _e: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- building
    def _mention(self, event_id: str, person: str | None, role: str, **extra: Any) -> str:
        mid = f"M{next(self._m)}"
        x = {}
        if person in self.household:
            x["household_id"] = self.household[person]
        row = {
            "mention_id": mid,
            "event_id": event_id,
            "role": role,
            "forename": "Test",
            "surname": "Person",
            "date_of_birth": extra.pop("dob", self.dob_noise or (self.dob.get(person) if person else None)),
            "sex": self.sex.get(person, "unknown") if person else "unknown",
            "self_defined_ethnicity": extra.pop("ethnicity", "not_stated"),
            "relationship_to_suspect": extra.pop("rel", None),
            "extra": json.dumps(x) if x else None,
        }
        self.people.append(row)
        if person is not None:
            self.links.append({"mention_id": mid, "person_id": person})
        return mid

    def offence(
        self,
        when: str,
        suspects: list[str],
        victims: list[tuple[str, str]] | list[str] = (),
        kind: str = "da_assault",
        *,
        outcome: str = "unknown",
        reported: str | None = None,
        event_id: str | None = None,
        domestic: bool | None = None,
        role: str = "suspect",
    ) -> str:
        eid = event_id or f"E{next(self._e)}"
        cat, vawg, dom, sex, vio, w = KINDS[kind]
        self.events.append(
            {
                "event_id": eid,
                "source": "crime",
                "event_type": "offence",
                "offence_code": kind,
                "occurred_at": ts(when),
                "ends_at": None,
                "reported_at": ts(reported) if reported else None,
                "outcome": outcome,
                "domestic": dom if domestic is None else domestic,
                "extra": None,
            }
        )
        self.harm.append(
            {
                "event_id": eid,
                "offence_category": cat,
                "vawg": vawg,
                "domestic": dom,
                "sexual": sex,
                "violent": vio,
                "harm_weight": w,
                "weight_table": "test",
            }
        )
        for s in suspects:
            self._mention(eid, s, role)
        for v in victims:
            person, rel = (v, "partner") if isinstance(v, str) else v
            self._mention(eid, person, "victim", rel=rel)
        return eid

    def event(
        self,
        event_type: str,
        when: str,
        subjects: list[str],
        *,
        ends: str | None = None,
        crime_ref: str | None = None,
        role: str = "subject",
        reported: str | None = None,
        event_id: str | None = None,
        custody_type: str | None = None,
    ) -> str:
        eid = event_id or f"E{next(self._e)}"
        extra = {k: v for k, v in (("crime_ref", crime_ref), ("custody_type", custody_type)) if v}
        self.events.append(
            {
                "event_id": eid,
                "source": "custody" if event_type in ("custody", "arrest") else "court",
                "event_type": event_type,
                "offence_code": None,
                "occurred_at": ts(when),
                "ends_at": ts(ends) if ends else None,
                "reported_at": ts(reported) if reported else None,
                "outcome": "unknown",
                "domestic": None,
                "extra": json.dumps(extra) if extra else None,
            }
        )
        for s in subjects:
            self._mention(eid, s, role)
        return eid

    def dash(self, victim: str, when: str, score: int, level: str | None = None, event_id: str | None = None) -> None:
        """A DASH assessment of ``victim`` (on their mention in ``event_id``, else a new intelligence event)."""
        mids = [p["mention_id"] for p in self.people if p["event_id"] == event_id and p["role"] == "victim"]
        links = {lk["mention_id"]: lk["person_id"] for lk in self.links}
        mids = [m for m in mids if links.get(m) == victim]
        if not mids:
            eid = self.event("intelligence", when, [victim], role="victim")
            mids = [self.people[-1]["mention_id"]]
        lvl = level or ("high" if score >= 14 else "medium" if score >= 10 else "standard")
        self.assessments.append(
            {"assessment_id": f"A{len(self.assessments) + 1}", "mention_id": mids[0], "assessed_at": ts(when),
             "tool": "DASH", "score": score, "level": lvl}
        )

    # ---- loading
    def load(self, con) -> None:
        """Write the world into a migrated warehouse (replacing what these tables held)."""
        ensure_interface_tables(con)
        for table in ("events", "people", "links", "event_harm", "risk_assessments"):
            con.execute(f"DELETE FROM {table}")
        _insert(con, "events", self.events)
        _insert(con, "people", self.people)
        _insert(con, "links", self.links)
        _insert(con, "event_harm", self.harm)
        _insert(con, "risk_assessments", self.assessments)


def ensure_interface_tables(con) -> None:
    """links and event_harm are written by other stages; create them if their migration has not landed."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS links (mention_id VARCHAR PRIMARY KEY, person_id VARCHAR, method VARCHAR, linked_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS event_harm (event_id VARCHAR PRIMARY KEY, offence_category VARCHAR, vawg BOOLEAN, "
        "domestic BOOLEAN, sexual BOOLEAN, violent BOOLEAN, harm_weight DOUBLE, weight_table VARCHAR)"
    )


def _insert(con, table: str, rows: list[dict[str, Any]]) -> None:
    cols = con.execute(f"DESCRIBE {table}").df()
    df = pd.DataFrame(rows)
    for _, c in cols.iterrows():
        name, typ, null = c["column_name"], c["column_type"], c["null"]
        if name in df.columns:
            continue
        if null == "NO" and c["default"] is None:
            if typ.startswith("TIMESTAMP"):
                df[name] = pd.Timestamp("2000-01-01")
            elif typ in ("INTEGER", "BIGINT", "DOUBLE"):
                df[name] = 0
            else:
                df[name] = "test"
        else:
            df[name] = None
    if not len(df):
        return
    df = df[list(cols["column_name"])]
    con.register("_world_rows", df)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _world_rows")
    finally:
        con.unregister("_world_rows")
