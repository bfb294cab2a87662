"""Link review in the web app: the queue, a pair explained (waterfall, m and u), the threshold curve,
one person's mentions, and decisions that every later link run respects."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from harmlens.link.explain import explain_link
from harmlens.link.reviewurl import review_path
from harmlens.web import linkreview as lr
from tests.web.conftest import api_login
from tests.web.linked_fixture import linked_app


@pytest.fixture
def served(tmp_path):
    a = linked_app(tmp_path)
    with TestClient(a) as c:
        yield a, c, tmp_path / "wh.duckdb"
    a.state.store.close()
    a.state.warehouse.close()


@contextmanager
def _read(db):
    """The warehouse read-only. The app in this process copies the warehouse when it changes, and
    DuckDB refuses two openings of one file with different settings in a process: one at a time."""
    from harmlens.web.snapshot import WAREHOUSE_LOCK

    with WAREHOUSE_LOCK:
        con = duckdb.connect(str(db), read_only=True)
        try:
            yield con
        finally:
            con.close()


def _links(db) -> dict[str, str]:
    with _read(db) as con:
        return dict(con.execute("SELECT mention_id, person_id FROM links").fetchall())


def _one_person_pair(db) -> tuple[str, str]:
    """A scored pair inside one person, above the threshold (what a 'different' should undo)."""
    with _read(db) as con:
        return tuple(con.execute(
            """SELECT p.mention_a, p.mention_b FROM link_pairs p JOIN links la ON la.mention_id = p.mention_a
               JOIN links lb ON lb.mention_id = p.mention_b WHERE la.person_id = lb.person_id
               ORDER BY p.match_probability, p.mention_a LIMIT 1""").fetchall()[0])


def _queued_pair(db) -> tuple[str, str]:
    """A queued pair now in two persons (what a 'same' should join)."""
    with _read(db) as con:
        return tuple(con.execute(
            """SELECT r.mention_a, r.mention_b FROM link_review r JOIN links la ON la.mention_id = r.mention_a
               JOIN links lb ON lb.mention_id = r.mention_b WHERE la.person_id <> lb.person_id
               ORDER BY r.match_probability DESC, r.mention_a LIMIT 1""").fetchall()[0])


def _add_copies(db, mentions) -> None:
    """A new event and mention per given mention, recorded the same (a second extract)."""
    con = duckdb.connect(str(db))
    try:
        for i, m in enumerate(mentions):
            con.execute("INSERT INTO events (event_id, source, event_type, occurred_at) VALUES (?, 'crime', 'offence', TIMESTAMP '2024-06-01 10:00:00')",
                        [f"ENEW{i}"])
            con.execute("""INSERT INTO people (mention_id, event_id, role, forename, surname, date_of_birth, sex, postcode, person_ref)
                           SELECT ?, ?, 'suspect', forename, surname, date_of_birth, sex, postcode, person_ref FROM people WHERE mention_id = ?""",
                        [f"MNEW{i}", f"ENEW{i}", m])
    finally:
        con.close()


def _link_again(db, *args: str) -> dict:
    """``harmlens link`` in its own process, as a unit runs it while the app serves; returns the run's summary."""
    r = subprocess.run([sys.executable, "-m", "harmlens.cli", "link", "--db", str(db), "--format", "json", *args], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")})
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout[r.stdout.index("{"):])


# -- the waterfall ------------------------------------------------------------------------------------
def test_waterfall_sums_to_the_pairs_weight_and_matches_splink(tmp_path):
    from tests.web.linked_fixture import _template

    con = duckdb.connect(str(_template() / "wh.duckdb"), read_only=True)
    mem = duckdb.connect()
    mem.execute(f"ATTACH '{_template() / 'wh.duckdb'}' AS wh (READ_ONLY)")
    mem.execute("SET search_path = 'memory.main,wh.main'")
    pairs = con.execute("""(SELECT mention_a, mention_b, match_weight FROM link_pairs ORDER BY match_probability LIMIT 3)
                           UNION ALL (SELECT mention_a, mention_b, match_weight FROM link_pairs ORDER BY match_probability DESC LIMIT 3)""").fetchall()
    con.close()
    assert len(pairs) == 6
    for a, b, stored_weight in pairs:
        e = explain_link(mem, a, b)
        steps = lr.waterfall(e)
        # each step starts where the one before ended; the comparisons end on the pair's weight
        assert steps[0]["step"] == "prior" and steps[-1]["step"] == "final"
        for before, step in zip(steps[1:-1], steps[2:-1]):
            assert step["start"] == pytest.approx(before["end"])
        assert steps[-2]["end"] == pytest.approx(e.match_weight, abs=1e-9)
        assert e.prior_weight + sum(f.match_weight for f in e.fields) == pytest.approx(e.match_weight, abs=1e-9)
        assert e.match_probability == pytest.approx(2 ** e.match_weight / (1 + 2 ** e.match_weight), abs=1e-12)
        # oracle 1: the link run's own Splink scoring of this pair
        assert e.match_weight == pytest.approx(stored_weight, abs=1e-6)
        # oracle 2: Splink's own waterfall chart data (a comparison and its term-frequency row)
        rows = e.chart_spec["data"]["values"]
        by_col: dict[str, float] = defaultdict(float)
        levels = {}
        for r in rows:
            if r["column_name"] == "Prior":
                assert r["log2_bayes_factor"] == pytest.approx(e.prior_weight)
            elif r["column_name"] != "Final score":
                col = r["column_name"].removeprefix("tf_")
                by_col[col] += r["log2_bayes_factor"]
                if not r["term_frequency_adjustment"]:
                    levels[col] = r
        for f in e.fields:
            assert f.match_weight == pytest.approx(by_col[f.field], abs=1e-9), f.field
            lv = levels[f.field]
            assert f.gamma == lv["comparison_vector_value"]
            if f.gamma is not None and f.gamma >= 0:
                assert f.m_probability == pytest.approx(lv["m_probability"]) and f.u_probability == pytest.approx(lv["u_probability"])
                # the level's own weight is log2(m/u); the rest is the name-frequency adjustment
                assert f.match_weight - f.tf_weight == pytest.approx(math.log2(f.m_probability / f.u_probability), abs=1e-9)
    mem.close()


# -- pages ----------------------------------------------------------------------------------------------
def test_queue_pair_threshold_and_cluster_pages_are_logged(served):
    app, c, db = served
    api_login(c, "ana")
    q = c.get("/api/v1/link-review", params={"size": 3}).json()
    assert q["available"] and q["total"] >= 3 and len(q["items"]) == 3 and q["pages"] == math.ceil(q["total"] / 3)
    thr = q["threshold"]
    dist = [abs(i["match_probability"] - thr) for i in q["items"]]
    assert dist == sorted(dist)  # closest to the threshold first
    by_p = c.get("/api/v1/link-review", params={"sort": "probability", "size": 500}).json()["items"]
    assert [i["match_probability"] for i in by_p] == sorted((i["match_probability"] for i in by_p), reverse=True)
    html = c.get("/link-review", params={"size": 3, "page": 2}).text
    assert "Page 2 of" in html and 'id="review-table"' in html

    a, b = q["items"][0]["mention_a"], q["items"][0]["mention_b"]
    page = c.get(review_path(a, b))
    assert page.status_code == 200
    assert "<svg" in page.text and 'id="comparisons"' in page.text and "Record decision" in page.text
    d = c.get(f"/api/v1/link-review/pairs/{a}/{b}").json()
    assert [s["step"] for s in d["waterfall"]][0] == "prior" and d["waterfall"][-1]["weight"] == pytest.approx(d["explanation"]["match_weight"])
    assert all("m_probability" in x and "u_probability" in x and "gamma" in x for x in d["comparisons"])
    assert {r["mention_id"] for r in d["records"]} == {a, b}
    log = app.state.store.fetchall("SELECT action, object_id, purpose, detail FROM access_log WHERE action = 'person.view' ORDER BY seq")
    persons = {q["items"][0]["person_a"], q["items"][0]["person_b"]}
    assert persons <= {r["object_id"] for r in log} and {r["purpose"] for r in log} == {"quality"}

    t = c.get("/api/v1/link-review/threshold").json()
    assert t["threshold"] == thr and t["points"]
    pts = {p["threshold"]: p for p in t["points"]}
    assert pts[thr]["precision"] == t["precision_at"]
    precisions = [p["precision"] for p in t["points"]]
    assert all(0 <= x <= 1 for x in precisions)
    recalls = [p["recall"] for p in t["points"]]
    assert recalls == sorted(recalls, reverse=True)  # a higher threshold never links more
    tp = c.get("/link-review/threshold").text
    assert 'id="threshold-chart"' in tp and "<svg" in tp and f"{thr:.3f}" in tp

    pid = _links(db)[_one_person_pair(db)[0]]
    cl = c.get(f"/api/v1/link-review/persons/{pid}").json()
    assert len(cl["mentions"]) >= 2 and cl["weakest"]
    tree = [e for e in cl["edges"] if e["in_tree"]]
    assert cl["weakest_probability"] == min(e["match_probability"] for e in tree)
    assert sum(e["weakest"] for e in cl["edges"]) == 1
    html = c.get(f"/link-review/persons/{pid}").text
    assert 'class="weakest"' in html and 'id="split-form"' in html
    assert c.get("/api/v1/link-review/persons/NOPE").status_code == 404
    assert c.get("/api/v1/link-review/pairs/M00001/NOPE").status_code == 404
    views = app.state.store.fetchall("SELECT object_id, detail FROM access_log WHERE action = 'person.view' AND object_id = ?", [pid])
    assert any("link cluster" in r["detail"] for r in views)


def test_reason_required_for_different_and_who_may_decide(served):
    app, c, db = served
    a, b = _queued_pair(db)
    csrf = api_login(c, "ana")
    r = c.post(f"/api/v1/link-review/pairs/{a}/{b}/decision", json={"decision": "different"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "reason"
    r = c.post(f"/api/v1/link-review/pairs/{a}/{b}/decision", json={"decision": "maybe", "reason": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422
    r = c.post(review_path(a, b) + "/decision", data={"csrf_token": csrf, "decision": "different", "reason": " "})
    assert r.status_code == 400 and "Please fix 1 problem" in r.text
    r = c.post(review_path(a, b) + "/decision", data={"decision": "same"})  # no CSRF token
    assert r.status_code == 403
    for user in ("aud", "pat", "olly"):
        c.cookies.clear()
        tok = api_login(c, user)
        assert c.post(f"/api/v1/link-review/pairs/{a}/{b}/decision", json={"decision": "same"}, headers={"X-CSRF-Token": tok}).status_code == 403
        assert c.get(review_path(a, b)).status_code == 403
    c.cookies.clear()
    tok = api_login(c, "sue")
    r = c.post(f"/api/v1/link-review/pairs/{b}/{a}/decision", json={"decision": "same", "reason": "same PNC photo"}, headers={"X-CSRF-Token": tok})
    assert r.status_code == 200 and r.json()["decided_by"] == "sue"
    with _read(db) as con:
        row = con.execute("SELECT mention_a, mention_b, decision, decided_by, note FROM link_decisions").fetchall()
    assert row == [(min(a, b), max(a, b), "same", "sue", "same PNC photo")]
    entry = app.state.store.fetchall("SELECT username, purpose, detail FROM access_log WHERE action = 'link.decide'")
    assert len(entry) == 1 and entry[0]["username"] == "sue" and json.loads(entry[0]["detail"])["reason"] == "same PNC photo"
    # the page shows the decision at once (a fresh snapshot), and it left the queue
    page = c.get(review_path(a, b)).text
    assert 'id="decision"' in page and "by sue" in page
    assert (min(a, b), max(a, b)) not in {(i["mention_a"], i["mention_b"]) for i in c.get("/api/v1/link-review", params={"size": 500}).json()["items"]}


@pytest.mark.parametrize("run", ["incremental", "full"])
def test_web_decisions_are_respected_by_the_next_link_run(served, run):
    app, c, db = served
    csrf = api_login(c, "ana")
    split = _one_person_pair(db)
    join = _queued_pair(db)
    before = _links(db)
    assert before[split[0]] == before[split[1]] and before[join[0]] != before[join[1]]
    # the analyst splits one person (the form, as the cluster page sends it) and joins two (the pair form)
    pid = before[split[0]]
    r = c.post(review_path(*split) + "/decision", data={"csrf_token": csrf, "decision": "different", "reason": "different dates of birth",
                                                          "back": f"/link-review/persons/{pid}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/link-review/persons/{pid}?decided=different"
    r = c.post(review_path(*join) + "/decision", data={"csrf_token": csrf, "decision": "same", "reason": ""}, follow_redirects=False)
    assert r.status_code == 303
    s = _link_again(db, *(["--full"] if run == "full" else []))
    assert s["mode"] == run
    after = _links(db)
    assert after[split[0]] != after[split[1]]
    assert after[join[0]] == after[join[1]]
    # and the run after that (nothing new) keeps them so
    _link_again(db)
    again = _links(db)
    assert again[split[0]] != again[split[1]] and again[join[0]] == again[join[1]]
    # so does an incremental run that links new mentions: a second record of each split mention arrives
    from harmlens.web.snapshot import WAREHOUSE_LOCK

    with WAREHOUSE_LOCK:
        _add_copies(db, split)
    s = _link_again(db)
    assert s["mode"] == "incremental" and s["new_mentions"] == 2
    later = _links(db)
    assert "MNEW0" in later and "MNEW1" in later
    assert later[split[0]] != later[split[1]] and later[join[0]] == later[join[1]]


def test_list_warning_links_to_the_pairs_review_page(tmp_path):
    from harmlens.web.app import review_links

    text = "may be the same person as P9 (in custody; match probability 0.81): mentions M1 and M3, see /link-review/pairs/M1/M3"
    html = str(review_links(text))
    assert '<a href="/link-review/pairs/M1/M3">' in html and html.startswith("may be the same person as P9")
    assert str(review_links("<b>x</b> /link-review/pairs/A/B")).startswith("&lt;b&gt;")


def test_list_warning_names_the_strongest_pair_and_its_page(tmp_path):
    """harm/linkwarn.py: the warning on a listed person names the strongest pair with the person above and its review page."""
    import shutil
    from datetime import datetime

    import pandas as pd

    from harmlens.harm.linkwarn import link_warnings, near_matches
    from tests.web.linked_fixture import _template

    shutil.copy(_template() / "wh.duckdb", tmp_path / "wh.duckdb")
    a, b = _queued_pair(tmp_path / "wh.duckdb")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        links = dict(con.execute("SELECT mention_id, person_id FROM links").fetchall())
        pa, pb = links[a], links[b]
        strongest = con.execute(
            """SELECT p.mention_a, p.mention_b, p.match_probability FROM link_pairs p JOIN links la ON la.mention_id = p.mention_a
               JOIN links lb ON lb.mention_id = p.mention_b
               WHERE (la.person_id = ? AND lb.person_id = ?) OR (la.person_id = ? AND lb.person_id = ?)
               ORDER BY p.match_probability DESC, p.mention_a, p.mention_b LIMIT 1""", [pa, pb, pb, pa]).fetchall()[0]
        nm = near_matches(con, [pa]).set_index("other_id").loc[pb]
        assert (nm["mention_a"], nm["mention_b"], nm["p"]) == strongest
        w = link_warnings(con, pd.DataFrame({"person_id": [pb, pa], "rank": [1, 2]}), datetime(2025, 1, 1))
        assert w[pa].endswith(f"mentions {strongest[0]} and {strongest[1]}, see {review_path(strongest[0], strongest[1])}")
    finally:
        con.close()
