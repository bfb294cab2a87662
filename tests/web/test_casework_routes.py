"""Casework in the web app: publishing lists, search, assignment and action forms, exports as on screen, the auditor's view."""

from __future__ import annotations

import json

from tests.web.conftest import make_app
from tests.web.conftest import signed_in as _c


def test_only_a_published_list_is_opened(tmp_path):
    a = make_app(tmp_path, store_url=None)
    a.state.store.execute("DELETE FROM list_publications")
    ana, _ = _c(a, "ana")
    assert ana.get("/api/v1/priority").json()["available"] is False
    assert ana.get("/api/v1/priority?list_id=offenders:risk:2024-07-01").json()["total"] == 3  # reviewable by id
    sue, csrf = _c(a, "sue")
    assert ana.post("/api/v1/lists/offenders:risk:2024-07-01/publish", json={}, headers={"X-CSRF-Token": _c(a, "ana")[1]}).status_code == 403
    assert sue.post("/api/v1/lists/offenders:risk:2024-07-01/publish", json={"note": "MATAC July"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert ana.get("/api/v1/priority").json()["list_id"] == "offenders:risk:2024-07-01"
    lists = {x["list_id"]: x for x in ana.get("/api/v1/lists").json()["items"]}
    assert lists["offenders:risk:2024-07-01"]["current"] and lists["offenders:risk:2024-07-01"]["published"][0]["published_by"] == "sue"
    assert not lists["victims:risk:2024-07-01"]["current"]
    assert sue.post("/api/v1/lists/nope/publish", json={}, headers={"X-CSRF-Token": csrf}).status_code == 404
    a.state.store.close()
    a.state.warehouse.close()


def test_export_carries_the_filters_and_sort_on_screen(app):
    ana, _ = _c(app, "ana")
    page = ana.get("/priority?borough=Camden&sort=risk", headers={"hx-request": "true", "hx-target": "list"}).text
    assert "/priority.csv?list_id=offenders%3Arisk%3A2024-07-01&amp;borough=Camden&amp;sort=risk" in page
    body = ana.get("/priority.csv?borough=Hackney&sort=risk").text.splitlines()
    assert [r.split(",")[1] for r in body[1:]] == ["P4", "P5"]  # Hackney only, by risk
    row = app.state.store.fetchall("SELECT detail FROM access_log WHERE action = 'export'")[-1]
    d = json.loads(row["detail"])
    assert d["filter"] == {"borough": "Hackney", "band": None} and d["sort"] == "risk" and d["rows"] == 2


def test_search_needs_a_purpose_and_three_characters_and_logs_no_name(app):
    ana, _ = _c(app, "ana")
    r = ana.get("/api/v1/search?q=Jo&purpose=")
    assert r.status_code == 422 and {p["field"] for p in r.json()["error"]["details"]} == {"purpose", "q"}
    items = ana.get("/api/v1/search?q=smith&purpose=investigation").json()["items"]
    assert [i["person_id"] for i in items] == ["P1"]
    assert [i["person_id"] for i in ana.get("/api/v1/search?q=carl%20ode&purpose=matac").json()["items"]] == ["P4"]
    assert ana.get("/api/v1/search?q=%25%25%25&purpose=matac").json()["items"] == []  # LIKE wildcards are literal
    logs = app.state.store.fetchall("SELECT purpose, detail FROM access_log WHERE action = 'person.search'")
    assert [x["purpose"] for x in logs] == ["investigation", "matac", "matac"]
    assert all("smith" not in (x["detail"] or "").lower() for x in logs)
    assert "Smith" not in "".join(x["detail"] or "" for x in app.state.store.fetchall("SELECT detail FROM access_log"))


def test_assignment_form_lists_every_problem_and_officer_records_an_action(app):
    ana, a_csrf = _c(app, "ana")
    r = ana.post("/casework/P1/assign", data={"csrf_token": a_csrf, "officer": "", "status": "bogus"})
    assert r.status_code == 400 and "2 problem(s)" in r.text and "officer" in r.text and "status" in r.text
    r = ana.post("/api/v1/casework/P1/assignment", json={"officer": "olly", "status": "under review"}, headers={"X-CSRF-Token": a_csrf})
    assert r.status_code == 200 and r.json()["assigned_to"] == "olly"
    olly, o_csrf = _c(app, "olly")
    assert "P1" in olly.get("/casework").text
    assert olly.get("/casework/P4").status_code == 404  # not assigned to them
    r = olly.post("/api/v1/casework/P1/actions", json={"action": "no_action", "action_date": ""}, headers={"X-CSRF-Token": o_csrf})
    assert r.status_code == 422 and {p["field"] for p in r.json()["error"]["details"]} == {"action_date", "reason"}
    r = olly.post("/api/v1/casework/P1/actions", json={"action": "safeguarding_visit", "action_date": "2024-07-04"}, headers={"X-CSRF-Token": o_csrf})
    assert r.status_code == 201 and r.json()["status"] == "actioned"
    assert olly.post("/api/v1/casework/P4/actions", json={"action": "arrest", "action_date": "2024-07-04"},
                     headers={"X-CSRF-Token": o_csrf}).status_code == 404
    r = ana.post("/api/v1/casework/P1/leave", json={"reason": "in custody"}, headers={"X-CSRF-Token": a_csrf})
    assert r.json()["status"] == "closed"
    h = ana.get("/api/v1/casework/P1").json()["history"]
    assert [e["kind"] for e in h] == ["assigned", "action", "left_list"] and h[0]["list_id"] == "offenders:risk:2024-07-01"
    # The auditor reads it, with the referral decisions; read only.
    aud, _ = _c(app, "aud")
    d = aud.get("/api/v1/casework-audit").json()
    assert [e["kind"] for e in d["casework_events"]] == ["left_list", "action", "assigned"]
    assert aud.post("/api/v1/casework/P1/leave", json={"reason": "in custody"}, headers={"X-CSRF-Token": "x"}).status_code == 403
    assert "Safeguarding visit" in aud.get("/casework-audit").text
