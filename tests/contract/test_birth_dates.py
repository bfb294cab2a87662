"""Dates of birth in the future, or after the event a person is recorded on, are quarantined.

Written-down truth: e1 happened 2024-01-02 and e2 2024-03-01 (``GOOD_EVENTS``).
m1 1980-05-06 is fine; m2 2091-01-03 and m3 2099-05-06 are in the future; m4 2024-02-01 is after
e1 (2024-01-02) although in the past; m5 born on the day of e1 is allowed (a newborn's record).
"""

from __future__ import annotations

from harmlens.contract import ingest
from tests.contract.test_ingest import GOOD_EVENTS, quarantine, write


def test_impossible_birth_dates_are_quarantined_and_counted(tmp_path, warehouse):
    people = (
        "m1,e1,suspect,John,Smith,1980-05-06,male,,,,,\n"
        "m2,e1,victim,Jane,Doe,2091-01-03,female,,,,,\n"
        "m3,e2,subject,Ann,Lee,2099-05-06,female,,,,,\n"
        "m4,e1,witness,Bo,Ray,2024-02-01,male,,,,,\n"
        "m5,e1,witness,Cy,Ray,2024-01-02,male,,,,,\n"
    )
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS, people))
    pe = rep.to_frame().set_index("table").loc["people"]
    assert (pe["read"], pe["loaded"], pe["quarantined"]) == (5, 2, 3)
    q = quarantine(warehouse)
    q = q[q.table_name == "people"].set_index("line")
    assert q.loc[3, "reason"] == "date_of_birth is in the future" and q.loc[3, "column_name"] == "date_of_birth"
    assert q.loc[4, "reason"] == "date_of_birth is in the future"
    assert q.loc[5, "reason"] == "date_of_birth is after the event it is recorded on (e1)"
    assert sorted(r[0] for r in warehouse.execute("SELECT mention_id FROM people").fetchall()) == ["m1", "m5"]


def test_event_already_in_the_warehouse_counts(tmp_path, warehouse):
    ingest(warehouse, write(tmp_path / "a", GOOD_EVENTS, "m1,e1,suspect,John,Smith,1980-05-06,male,,,,,\n"))
    # a later extract with only new people on old events: the event's date comes from the warehouse
    rep = ingest(warehouse, write(tmp_path / "b", "e4,crime,offence,,2024-09-01,,,,,,,\n",
                                  "m9,e2,victim,Di,Ho,2024-05-01,female,,,,,\nm10,e4,victim,Di,Ho,2024-05-01,female,,,,,\n"))
    assert rep.to_frame().set_index("table").loc["people", "quarantined"] == 1
    assert "date_of_birth is after the event it is recorded on (e2)" in quarantine(warehouse).reason.tolist()
