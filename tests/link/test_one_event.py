"""Two mentions recorded in one event in different roles are two people (the father-and-son case)."""

from __future__ import annotations

from harmlens.link.warehouse import link_warehouse

from .smallcity import load_into, make_people


def _family(son_event: str, son_role: str) -> list[dict]:
    # a father with six mentions (date of birth known) and his son of the same name and address,
    # recorded once without a date of birth
    base = {"forename": "Brian", "surname": "Okonkwo-Hale", "sex": "male", "postcode": "SE15 2AB", "person_ref": None}
    rows = [dict(base, mention_id=f"F{i}", event_id=f"EF{i}", role="suspect", date_of_birth="1968-04-12", truth="father") for i in range(6)]
    rows.append(dict(base, mention_id="S0", event_id=son_event, role=son_role, date_of_birth=None, truth="son"))
    return rows


def _load(warehouse, rows):
    # the son's mention may share the father's event: insert each event once
    own = [r for r in rows if not (r["mention_id"] == "S0" and r["event_id"].startswith("EF"))]
    load_into(warehouse, own)
    shared = [r for r in rows if r not in own]
    for r in shared:
        warehouse.execute("""INSERT INTO people (mention_id, event_id, role, forename, surname, date_of_birth, sex, postcode, person_ref)
                             VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL)""",
                          [r["mention_id"], r["event_id"], r["role"], r["forename"], r["surname"], r["sex"], r["postcode"]])


def _links(warehouse) -> dict[str, str]:
    return dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())


def test_witness_in_the_fathers_event_is_not_merged_into_him(warehouse):
    _load(warehouse, make_people(80, seed=3) + _family("EF0", "witness"))
    s = link_warehouse(warehouse)
    links = _links(warehouse)
    assert len({links[f"F{i}"] for i in range(6)}) == 1
    assert links["S0"] != links["F0"]
    assert s.refused_by_constraints >= 1


def test_same_mention_in_its_own_event_still_links(warehouse):
    # nothing tells this undated mention from the father: the model links it (the constraint,
    # not a weaker model, is what keeps the son apart above)
    _load(warehouse, make_people(80, seed=3) + _family("ES0", "witness"))
    link_warehouse(warehouse)
    links = _links(warehouse)
    assert links["S0"] == links["F0"]


def test_same_role_twice_in_one_event_is_still_linked(warehouse):
    # a person entered twice in one event keeps the role: a duplicate, not a relative
    _load(warehouse, make_people(80, seed=3) + _family("EF0", "suspect"))
    link_warehouse(warehouse)
    links = _links(warehouse)
    assert links["S0"] == links["F0"]


def test_incremental_witness_in_the_fathers_event_stays_apart(warehouse):
    # the father is linked first; the son's undated witness mention arrives later, in his event
    rows = make_people(80, seed=3) + _family("EF0", "witness")
    _load(warehouse, [r for r in rows if r["mention_id"] != "S0"])
    link_warehouse(warehouse)
    s0 = [r for r in rows if r["mention_id"] == "S0"][0]
    warehouse.execute("""INSERT INTO people (mention_id, event_id, role, forename, surname, date_of_birth, sex, postcode, person_ref)
                         VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL)""",
                      [s0["mention_id"], s0["event_id"], s0["role"], s0["forename"], s0["surname"], s0["sex"], s0["postcode"]])
    s = link_warehouse(warehouse)
    assert s.mode == "incremental"
    links = _links(warehouse)
    assert links["S0"] != links["F0"] and len({links[f"F{i}"] for i in range(6)}) == 1
