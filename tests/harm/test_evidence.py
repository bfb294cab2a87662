"""One evidence definition: statuses by hand, breakdown sums, and list = profile = API on a small city."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.rank import build_offender_list
from harmlens.harm.evidence import LABEL, allegation_statuses, check_agreement, evidence_table, summary_text
from tests.features.world import World
from tests.rank.helpers import register_model

AS_OF = "2024-01-01"


def make_world() -> tuple[World, dict[str, str]]:
    """Person A: one VAWG allegation per status, plus ones that must not count. Truth in ``want``."""
    w = World(dob={"A": "1985-01-01", "B": "1990-01-01", "C": "1980-01-01"})
    want = {}
    e = w.offence("2023-01-01", ["A"], [("V1", "partner")], "da_assault")
    w.event("conviction", "2023-06-01", ["A"], crime_ref=e)
    want[e] = "convicted"
    e = w.offence("2023-02-01", ["A"], [("V1", "partner")], "da_assault", outcome="acquitted")
    w.event("charge", "2023-03-01", ["A"], crime_ref=e)  # charged, then acquitted: acquitted wins
    want[e] = "acquitted"
    e = w.offence("2023-03-01", ["A"], [("V2", "stranger")], "rape")
    w.event("charge", "2023-04-01", ["A"], crime_ref=e)
    want[e] = "charged"
    want[w.offence("2022-04-01", ["A"], [("V1", "partner")], "stalking", outcome="nfa")] = "nfa"
    want[w.offence("2022-05-01", ["A"], [("V1", "partner")], "coercive", outcome="victim_withdrew")] = "withdrawn"
    e = w.offence("2023-06-01", ["A"], [("V3", "ex_partner")], "stalking", outcome="ongoing")
    w.event("charge", "2024-02-01", ["A"], crime_ref=e)  # charged after the as-of date: not yet known
    want[e] = "ongoing"
    want[w.offence("2023-07-01", ["A"], [("V3", "ex_partner")], "stalking")] = "ongoing"  # no outcome recorded
    want[w.offence("2021-02-01", ["A"], [("V1", "partner")], "breach", outcome="caution")] = "cautioned"
    # a co-suspect convicted alone: A's allegation stays ongoing
    e = w.offence("2023-08-01", ["A", "B"], [("V4", "partner")], "sexual_assault", outcome="ongoing")
    w.event("conviction", "2023-10-01", ["B"], crime_ref=e)
    want[e] = "ongoing"
    # not counted for A: older than 3 years, reported after the date, not VAWG, A as victim
    w.offence("2020-12-01", ["A"], [("V1", "partner")], "da_assault")
    w.offence("2023-12-01", ["A"], [("V1", "partner")], "da_assault", reported="2024-02-01")
    w.offence("2023-05-01", ["A"], [], "burglary")
    w.offence("2023-05-01", ["C"], [("A", "stranger")], "assault")
    return w, want


def _con(warehouse):
    w, want = make_world()
    w.load(warehouse)
    return warehouse, want


def test_each_allegation_status_by_hand(warehouse):
    con, want = _con(warehouse)
    al = allegation_statuses(con, AS_OF, ["A"]).set_index("event_id")["status"].to_dict()
    assert al == want
    ev = evidence_table(con, AS_OF, ["A", "B", "nobody"])
    a = ev.loc["A"]
    assert (a["allegations"], a["convicted"], a["charged"], a["acquitted"], a["nfa"], a["withdrawn"], a["ongoing"], a["cautioned"]) == \
        (9, 1, 1, 1, 1, 1, 3, 1)
    assert a["charges"] == 3 and a["convictions"] == 1  # charged, acquitted and convicted all reached a charge
    assert a["distinct_victims"] == 4 and a["last_event_at"] == pd.Timestamp("2023-08-01")
    assert ev.loc["B", "convicted"] == 1 and ev.loc["B", "allegations"] == 1
    assert ev.loc["nobody", "allegations"] == 0 and pd.isna(ev.loc["nobody", "last_event_at"])
    assert summary_text(a) == (
        "9 VAWG allegations in the last 3 years (1 convicted; 1 charged, awaiting trial; 1 acquitted; "
        "1 no further action; 1 victim withdrew; 3 ongoing; 1 cautioned)")
    assert LABEL == "VAWG allegations in the last 3 years"


OUTCOMES = ["charged", "convicted", "acquitted", "caution", "nfa", "victim_withdrew", "ongoing", "unknown"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OUTCOMES), st.integers(0, 1500)), min_size=0, max_size=8))
def test_breakdown_always_sums_to_the_count(warehouse, allegations):
    w = World(dob={"A": "1985-01-01"})
    inside = 0
    for outcome, days_before in allegations:
        w.offence(str((pd.Timestamp(AS_OF) - pd.Timedelta(days=days_before)).date()), ["A"], ["V"], "stalking", outcome=outcome)
        inside += 1 <= days_before <= 1095  # [as_of - 1095 days, as_of)
    w.offence("2010-01-01", ["Z"], [], "burglary")  # someone scored even when A has no allegation
    w.load(warehouse)
    a = evidence_table(warehouse, AS_OF, ["A"]).loc["A"]
    assert a["allegations"] == inside
    assert sum(int(a[s]) for s in ("convicted", "charged", "acquitted", "nfa", "withdrawn", "ongoing", "cautioned")) == inside


def test_list_profile_and_api_agree_and_the_check_can_fail(warehouse, tmp_path):
    from harmlens.web.data import Warehouse

    con, _ = _con(warehouse)
    register_model(con, tmp_path / "models")
    res = build_offender_list(con, AS_OF)
    entries = res["entries"].set_index("person_id")
    assert entries.loc["A", "allegations"] == 9 and entries.loc["A", "ev_withdrawn"] == 1 and entries.loc["A", "ev_ongoing"] == 3
    assert check_agreement(con, res["list_id"]) == []
    # a stored count that no longer matches the definition is reported
    con.execute("UPDATE priority_entries SET ev_nfa = 0 WHERE person_id = 'A'")
    bad = check_agreement(con, res["list_id"])
    assert len(bad) == 1 and bad[0].startswith("A: list says 9 VAWG allegations")
    con.execute("UPDATE priority_entries SET ev_nfa = 1 WHERE person_id = 'A'")
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    con.close()
    wh = Warehouse(path)
    try:
        page = wh.priority_list(size=100)
        assert page["items"], "the list page shows the stored list"
        for it in page["items"][:20]:
            prof = wh.person(it["person_id"])
            ev = prof["evidence"]
            assert ev["label"] == LABEL and ev["as_of"] == AS_OF
            assert (ev["allegations"], ev["outcomes"]) == (it["allegations"], it["outcomes"]), it["person_id"]
            assert it["evidence"].startswith(f"{it['allegations']} VAWG allegation")
    finally:
        wh.close()
