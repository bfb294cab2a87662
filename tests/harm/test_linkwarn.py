"""Warnings on a list where linkage may be wrong: near matches to someone in custody, dead or higher up."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.harm.linkwarn import link_warnings, near_matches, warning_note

AS_OF = datetime(2024, 6, 1)


def _world(con) -> None:
    # PA, PB, PD listed; PC in custody since January (open-ended); PX died in March
    ev = [("E1", "custody", "custody", "2024-01-10", None), ("E2", "crime", "offence", "2024-02-01", None),
          ("E3", "crime", "offence", "2024-02-02", None), ("E4", "crime", "offence", "2024-02-03", None),
          ("E5", "death", "death", "2024-03-01", None), ("E6", "crime", "offence", "2024-02-04", None)]
    for e in ev:
        con.execute("INSERT INTO events (event_id, source, event_type, occurred_at, ends_at) VALUES (?, ?, ?, CAST(? AS TIMESTAMP), ?)", list(e))
    ppl = [("MC1", "E1", "subject", "PC"), ("MA1", "E2", "suspect", "PA"), ("MA2", "E3", "suspect", "PA"),
           ("MB1", "E4", "suspect", "PB"), ("MX1", "E5", "subject", "PX"), ("MD1", "E6", "suspect", "PD")]
    for m, e, role, pid in ppl:
        con.execute("INSERT INTO people (mention_id, event_id, role) VALUES (?, ?, ?)", [m, e, role])
        con.execute("INSERT INTO links VALUES (?, ?, 'probabilistic', NULL)", [m, pid])
    # near matches the linker did not join: PA~PC (custody), PB~PA (PA is higher), PD~PX (dead) weakly,
    # and a pair inside PA (same person: never a warning)
    for a, b, p in [("MA1", "MC1", 0.81), ("MA2", "MB1", 0.72), ("MD1", "MX1", 0.55), ("MA1", "MA2", 0.99)]:
        con.execute("INSERT INTO link_pairs VALUES (?, ?, 0, ?, 1, 1)", [a, b, p])


def test_warnings_name_the_other_person_and_why(warehouse):
    _world(warehouse)
    listed = pd.DataFrame({"person_id": ["PA", "PB", "PD"], "rank": [1, 2, 3]})
    w = link_warnings(warehouse, listed, AS_OF)
    assert "PC" in w["PA"] and "in custody" in w["PA"] and "0.81" in w["PA"]
    assert "PA" in w["PB"] and "rank 1 on this list" in w["PB"]
    assert "PX" in w["PD"] and "dead" in w["PD"]
    assert "3 listed people" in warning_note(w)


def test_lower_on_the_list_or_at_large_is_no_warning(warehouse):
    _world(warehouse)
    # PB above PA now: PA's match with PB is with someone lower, PC was released before the date
    warehouse.execute("UPDATE events SET ends_at = TIMESTAMP '2024-02-01' WHERE event_id = 'E1'")
    listed = pd.DataFrame({"person_id": ["PB", "PA"], "rank": [1, 2]})
    w = link_warnings(warehouse, listed, AS_OF)
    assert w.isna()["PB"]
    assert "PB" in w["PA"] and "rank 1" in w["PA"] and "PC" not in w["PA"]
    assert warning_note(pd.Series([None, None], dtype=object)) is None


def test_no_link_tables_means_no_warnings(tmp_path):
    import duckdb

    con = duckdb.connect()
    assert near_matches(con, ["PA"]).empty


@settings(max_examples=25, deadline=None)
@given(st.permutations(["PA", "PB", "PD"]))
def test_higher_on_list_warnings_follow_the_order(perm):
    # a warning for "higher on the list" is only ever about someone ranked above
    from harmlens.warehouse import connect
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        con = connect(Path(d) / "wh.duckdb")
        _world(con)
        listed = pd.DataFrame({"person_id": list(perm), "rank": [1, 2, 3]})
        w = link_warnings(con, listed, AS_OF)
        rank = dict(zip(listed.person_id, listed["rank"]))
        for pid, text in w.dropna().items():
            if "on this list" in text:
                other = text.split("same person as ")[1].split(" ")[0]
                assert rank[other] < rank[pid]
        con.close()


def test_offender_list_stores_the_warning_and_keeps_ranks(warehouse, tmp_path):
    from harmlens.rank import build_offender_list, list_entries
    from tests.rank.helpers import register_model
    from tests.rank.test_offenders import AS_OF as LIST_DATE, make_world

    make_world().load(warehouse)
    register_model(warehouse, tmp_path / "models")
    before = build_offender_list(warehouse, LIST_DATE)["entries"][["person_id", "rank"]]
    # a mention of D (listed) nearly matches one of C (in custody on the date), below the threshold
    md = warehouse.execute("SELECT mention_id FROM links WHERE person_id = 'D' LIMIT 1").fetchall()[0][0]
    mc = warehouse.execute("SELECT mention_id FROM links WHERE person_id = 'C' LIMIT 1").fetchall()[0][0]
    warehouse.execute("INSERT INTO link_pairs VALUES (?, ?, 0, 0.77, 1, 1)", sorted([md, mc]))
    res = build_offender_list(warehouse, LIST_DATE)
    assert res["entries"][["person_id", "rank"]].equals(before)  # words only, ranks unchanged
    stored = list_entries(warehouse, res["list_id"]).set_index("person_id")
    assert "C (in custody" in stored.loc["D", "link_warning"]
    assert stored["link_warning"].notna().sum() == 1
    # printed with the list by 'harmlens rank': the count in the notes, the warning after the table
    from harmlens.harm.ranking import rank

    r = rank(warehouse, "risk", LIST_DATE, top=10)
    assert set(r.link_warnings) == {"D"}
    assert any(n.startswith("1 listed person may be the same") for n in r.notes)
    assert "Linkage warnings (1)" in r.to_text() and r.to_json_dict()["link_warnings"]["D"].startswith("may be the same person as C")
