"""Records (identical mentions collapsed) and capped blocking: the scale machinery of the warehouse link."""

from __future__ import annotations

import duckdb
import pandas as pd

from harmlens.link.model import BLOCKING_RULES
from harmlens.link.records import capped_rules, collapse, rule_keys
from harmlens.link.warehouse import decide, link_warehouse

from .smallcity import load_into, make_people


def test_rule_keys_parses_symmetric_rules_only():
    assert rule_keys("l.fn = r.fn AND l.sn = r.sn") == ["fn", "sn"]
    assert rule_keys("l.sn = r.sn AND left(l.fn, 1) = left(r.fn, 1)") == ["sn", "left(fn, 1)"]
    assert rule_keys("l.fn = r.sn AND l.sn = r.fn") is None  # swap: not one key
    assert rule_keys("l.dob_y >= r.dob_y") is None
    assert rule_keys("l.fn = r.fn OR l.sn = r.sn") is None
    # every standard rule is understood or deliberately left as it is
    assert sum(rule_keys(r) is None for r in BLOCKING_RULES) <= 1


def _pairs(con, table, rule):
    return {tuple(x) for x in con.execute(
        f"SELECT l.unique_id, r.unique_id FROM {table} l JOIN {table} r ON ({rule}) WHERE l.unique_id < r.unique_id").fetchall()}


def test_capped_rules_split_only_overfull_blocks():
    # 30 'john smith' records (an over-full block for cap 10) and 3 'ann lee' (a small one)
    rows = [(f"J{i:02d}", "john", "smith", 1980 + i % 3, f"SE{i % 2}") for i in range(30)]
    rows += [(f"A{i}", "ann", "lee", 1990 + i, "N1") for i in range(3)]
    con = duckdb.connect()
    con.register("df", pd.DataFrame(rows, columns=["unique_id", "fn", "sn", "dob_y", "pc_district"]))
    con.execute("CREATE TEMP TABLE t AS SELECT * FROM df")
    rules = capped_rules(con, "t", ["l.fn = r.fn AND l.sn = r.sn", "l.fn = r.sn AND l.sn = r.fn"], cap=10)
    assert "l.fn = r.sn AND l.sn = r.fn" in rules  # asymmetric rule kept verbatim
    got = set().union(*(_pairs(con, "t", r) for r in rules))
    # the small block is compared whole; the big one only where birth year or district agrees
    assert {("A0", "A1"), ("A0", "A2"), ("A1", "A2")} <= got
    for i in range(30):
        for j in range(i + 1, 30):
            same = (i % 3 == j % 3) or (i % 2 == j % 2)
            assert ((f"J{i:02d}", f"J{j:02d}") in got) == same
    # a cap above every block changes nothing
    con.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM df")
    rules = capped_rules(con, "t", ["l.fn = r.fn AND l.sn = r.sn"], cap=1000)
    assert set().union(*(_pairs(con, "t", r) for r in rules)) == _pairs(con, "df", "l.fn = r.fn AND l.sn = r.sn")


def test_collapse_groups_identical_mentions_and_keeps_apart_ones():
    con = duckdb.connect()
    prep = pd.DataFrame({"unique_id": ["m1", "m2", "m3", "m4", "m5"], "fn": ["ann", "ann", "ann", "ann", "bob"],
                         "sn": ["lee"] * 5, "dob_s": ["1990-01-02"] * 4 + [None]})
    ment = pd.DataFrame({"unique_id": ["m1", "m2", "m3", "m4", "m5"], "person_ref": [None, None, "R1", None, None]})
    con.register("p", prep)
    con.register("m", ment)
    con.execute("CREATE TEMP TABLE apart AS SELECT 'm4' AS mention_id")
    n = collapse(con, "p", "m", "rec", "map", "apart")
    got = dict(con.execute("SELECT mention_id, record_id FROM map").fetchall())
    # m1 = m2; m3 differs by person_ref; m4 is kept apart by a reviewer's decision; m5 differs
    assert got == {"m1": "m1", "m2": "m1", "m3": "m3", "m4": "m4", "m5": "m5"} and n == 4
    assert con.execute("SELECT n FROM rec WHERE unique_id = 'm1'").fetchall()[0][0] == 2


def _people_rows(n: int, **kw) -> list[dict]:
    base = {"event_id": None, "role": "suspect", "forename": "Ann", "surname": "Lee", "date_of_birth": "1990-02-03",
            "sex": "female", "postcode": "SE15 2AB", "person_ref": None, "truth": "T"}
    return [dict(base, mention_id=f"X{i:03d}", event_id=f"EX{i:03d}", **kw) for i in range(n)]


def test_identical_mentions_link_once_and_explain(warehouse):
    # plus 5 mentions identical only in placeholders (NULL after cleaning) and sex
    ph = [dict(r, mention_id=f"U{i}", event_id=f"EU{i}", forename="UNKNOWN", surname="UNKNOWN", date_of_birth="1900-01-01",
               postcode="NFA") for i, r in enumerate(_people_rows(5))]
    rows = make_people(60, seed=5) + _people_rows(40) + ph
    load_into(warehouse, rows)
    s = link_warehouse(warehouse)
    assert s.records < s.mentions
    links = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    assert len({links[f"X{i:03d}"] for i in range(40)}) == 1
    methods = {r[0] for r in warehouse.execute("SELECT method FROM links WHERE mention_id LIKE 'X%'").fetchall()}
    assert methods == {"identical"}
    # explain-link still works for two collapsed mentions (they are identical on every field)
    from harmlens.link.explain import explain_link

    e = explain_link(warehouse, "X001", "X017")
    assert e.match_probability >= 0.95
    recs = dict(warehouse.execute("SELECT mention_id, record_id FROM link_records").fetchall())
    assert len({recs[f"X{i:03d}"] for i in range(40)}) == 1
    # identical but with nothing to go on: not collapsed (the model does not join them), not linked
    assert len({recs[f"U{i}"] for i in range(5)}) == 5
    assert len({links[f"U{i}"] for i in range(5)}) == 5


def test_reviewer_can_separate_two_identical_mentions(warehouse):
    rows = make_people(40, seed=9) + _people_rows(6)
    load_into(warehouse, rows)
    link_warehouse(warehouse)
    decide(warehouse, "X000", "X001", "different", "analyst")
    s = link_warehouse(warehouse)
    links = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    assert links["X000"] != links["X001"]
    assert s.splits == 1
    # the others stay with one of them; later runs keep the decision
    link_warehouse(warehouse, full=True)
    links = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    assert links["X000"] != links["X001"]
    assert len({links[f"X{i:03d}"] for i in range(2, 6)}) == 1


def test_new_identical_mention_joins_its_record_without_scoring(warehouse):
    rows = make_people(60, seed=11) + _people_rows(3)
    load_into(warehouse, [r for r in rows if r["mention_id"] != "X002"])
    link_warehouse(warehouse)
    before = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    load_into(warehouse, [r for r in rows if r["mention_id"] == "X002"])
    s = link_warehouse(warehouse)
    after = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    assert s.mode == "incremental" and s.new_mentions == 1 and s.pairs_scored == 0
    assert after["X002"] == after["X000"] == before["X000"]
    assert all(after[m] == p for m, p in before.items())


def test_new_placeholder_twin_of_an_old_mention_is_not_glued(warehouse):
    # an old mention with nothing but placeholders, then an identical new one: identical, yet
    # the model has nothing to join them on, so the incremental run must not collapse them
    ph = dict(_people_rows(1)[0], forename="UNKNOWN", surname="UNKNOWN", date_of_birth="1900-01-01", postcode="NFA")
    rows = make_people(60, seed=13)
    load_into(warehouse, rows + [dict(ph, mention_id="U0", event_id="EU0")])
    link_warehouse(warehouse)
    load_into(warehouse, [dict(ph, mention_id="U1", event_id="EU1"), dict(ph, mention_id="U2", event_id="EU2")])
    s = link_warehouse(warehouse)
    assert s.mode == "incremental"
    links = dict(warehouse.execute("SELECT mention_id, person_id FROM links").fetchall())
    assert len({links["U0"], links["U1"], links["U2"]}) == 3
    recs = dict(warehouse.execute("SELECT mention_id, record_id FROM link_records").fetchall())
    assert len({recs["U0"], recs["U1"], recs["U2"]}) == 3


def test_prior_on_records_equals_prior_on_the_mention_pairs_they_stand_for():
    """A record pair counts n_l x n_r mention pairs and pairs inside a record count as matches:
    the same prior as model.refine_prior over every mention pair, identical ones scored as certain."""
    from types import SimpleNamespace

    from harmlens.link.model import refine_prior
    from harmlens.link.records import refine_prior_by_mentions

    con = duckdb.connect()
    recs = pd.DataFrame({"unique_id": ["a", "b", "c", "d"], "n": [3, 1, 2, 1]})
    pairs = pd.DataFrame({"unique_id_l": ["a", "a", "b"], "unique_id_r": ["b", "c", "d"], "match_weight": [4.0, -2.0, 0.5]})
    con.register("recs", recs)
    con.register("pairs", pairs)
    members = {"a": ["a1", "a2", "a3"], "b": ["b1"], "c": ["c1", "c2"], "d": ["d1"]}
    rows = [(x, y, w) for l, r, w in pairs.itertuples(index=False) for x in members[l] for y in members[r]]
    rows += [(x, y, 60.0) for ms in members.values() for i, x in enumerate(ms) for y in ms[i + 1:]]  # identical: certain
    con.register("mpairs", pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_weight"]))

    def linker():
        return SimpleNamespace(_settings_obj=SimpleNamespace(_probability_two_random_records_match=0.01))

    la, lb = linker(), linker()
    shift = refine_prior_by_mentions(con, "pairs", "recs", la)
    _, shift_m = refine_prior(con, "mpairs", lb, 7)
    assert abs(la._settings_obj._probability_two_random_records_match - lb._settings_obj._probability_two_random_records_match) < 1e-9
    assert abs(shift - shift_m) < 1e-6
