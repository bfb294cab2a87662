"""Pages and API against the small warehouse of tests/web/wh_fixture.py (truth written there)."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from harmlens.web import accesslog
from tests.web.conftest import api_login, make_app


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _log(app, **kw):
    return accesslog.search(app.state.store, **kw)


def test_priority_list_filter_sort_paginate(app, client):
    api_login(client, "ana")
    d = client.get("/api/v1/priority").json()
    assert d["available"] and [i["person_id"] for i in d["items"]] == ["P1", "P4", "P5"]
    assert d["list_id"] == "offenders:risk:2024-07-01" and d["model_version"] == "v1"
    p1 = d["items"][0]
    assert p1["factors"] == ["3 VAWG allegations in 12 months", "charged ABH 2024-03", "2 victims"]
    assert p1["allegations"] == 2 and p1["borough"] == "Camden"
    assert p1["outcomes"] == {"convicted": 0, "charged": 1, "acquitted": 0, "nfa": 1, "withdrawn": 0, "ongoing": 0}
    assert p1["evidence"].startswith("2 VAWG allegations in the last 3 years (0 convicted; 1 charged, awaiting trial; 0 acquitted; 1 no further action")
    assert [i["person_id"] for i in client.get("/api/v1/priority?borough=Hackney").json()["items"]] == ["P4", "P5"]
    assert [i["person_id"] for i in client.get("/api/v1/priority?band=medium").json()["items"]] == ["P4"]
    assert [i["person_id"] for i in client.get("/api/v1/priority?sort=last_event").json()["items"]] == ["P1", "P4", "P5"]
    page2 = client.get("/api/v1/priority?size=2&page=2").json()
    assert page2["pages"] == 2 and [i["person_id"] for i in page2["items"]] == ["P5"]
    html = client.get("/priority?borough=Camden").text
    # person links, not bare ids: a random CSRF token in the page can contain "P4"
    assert 'href="/persons/P1"' in html and 'href="/persons/P4"' not in html and "Decision support" in html
    # htmx asks for the table only
    part = client.get("/priority?band=low", headers={"HX-Request": "true", "HX-Target": "list"}).text
    assert "<html" not in part and 'href="/persons/P5"' in part and 'href="/persons/P1"' not in part
    assert len(_log(app, action="list.view")) == 7  # 5 API calls + 2 pages


def test_export_is_logged(app, client):
    api_login(client, "ana")
    r = client.get("/priority.csv?band=high")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.headers["content-disposition"].startswith("attachment") and [x["person_id"] for x in rows] == ["P1"]
    e = _log(app, action="export")
    assert len(e) == 1 and e[0]["username"] == "ana" and '"rows":1' in e[0]["detail"]


def test_person_profile_needs_a_purpose_and_is_logged(app):
    with TestClient(app, follow_redirects=False) as c:
        api_login(c, "ana")
        r = c.get("/persons/P1")
        assert "Why do you need this profile?" in r.text and "Smith" not in r.text  # no data before a purpose
        r = c.post("/persons/P1/purpose", data={"purpose": "", "csrf_token": _csrf(r.text)})
        assert r.status_code == 400 and "Choose why" in r.text
        r = c.post("/persons/P1/purpose", data={"purpose": "matac", "reference": "MATAC-7", "csrf_token": _csrf(r.text)})
        assert r.status_code == 303
        page = c.get(r.headers["location"])
        assert page.status_code == 200
        html = page.text
        assert "MATAC tasking preparation" in html and "John Smith" in html
        # timeline with evidential status, newest first
        assert html.index("2024-06-01") < html.index("2024-03-10") < html.index("2024-01-05")
        assert "conviction" in html and "allegation (no further action)" in html and "charge" in html
        assert "model version" in html and "v1" in html
        e = _log(app, action="person.view")
        assert len(e) == 1 and e[0]["object_id"] == "P1" and e[0]["purpose"] == "matac" and "MATAC-7" in e[0]["detail"]
        # A grant is for one person in one session: it does not open another profile.
        gid = r.headers["location"].split("grant=")[1]
        assert "Why do you need" in c.get(f"/persons/P4?grant={gid}").text
    with TestClient(app, follow_redirects=False) as other:
        api_login(other, "sue")
        assert "Why do you need" in other.get(f"/persons/P1?grant={gid}").text


def test_person_api_network_truth(app, client):
    api_login(client, "ana")
    r = client.get("/api/v1/persons/P1")
    assert r.status_code == 400 and r.json()["error"]["code"] == "purpose_required"
    assert client.get("/api/v1/persons/P1?purpose=curiosity").json()["error"]["code"] == "purpose_unknown"
    prof = client.get("/api/v1/persons/P1?purpose=investigation").json()
    assert {(e["target"], e["events"]) for e in prof["network"]["edges"]} == {("P2", 2), ("P3", 1)}
    # E1 (nfa) and E2 (charged) are VAWG allegations; E3 is a conviction event with no crime reference
    assert prof["evidence"]["label"] == "VAWG allegations in the last 3 years" and prof["evidence"]["as_of"] == "2024-07-01"
    assert prof["evidence"]["allegations"] == 2 and prof["evidence"]["outcomes"]["nfa"] == 1 and prof["evidence"]["outcomes"]["charged"] == 1
    assert prof["risk"]["version"] == "v1" and prof["risk"]["list_rank"] == 1
    r = client.get("/api/v1/persons/NOPE?purpose=investigation")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert len(_log(app, action="person.view")) == 2  # the unknown person's attempt is logged too


def test_partner_sees_only_their_agency(app, client):
    api_login(client, "pat")  # Probation
    assert client.get("/api/v1/referrals").json()["items"] == []  # nothing before a supervisor approves
    assert client.get("/api/v1/referrals/R1").status_code == 404
    with TestClient(app, follow_redirects=False) as sup:
        csrf = api_login(sup, "sue")
        for rid in ("R1", "R2"):
            assert sup.post(f"/api/v1/referrals/{rid}/decision", json={"decision": "approved", "note": "ok"},
                            headers={"X-CSRF-Token": csrf}).status_code == 200
    items = client.get("/api/v1/referrals").json()["items"]
    assert [i["referral_id"] for i in items] == ["R1"]
    assert client.get("/api/v1/referrals/R1").status_code == 200
    assert "Pack R1" in client.get("/referrals/R1").text  # the referral area's HTML file, checked against its sha256
    assert client.get("/api/v1/referrals/R2").status_code == 404
    assert "Pack R2" not in client.get("/referrals/R2").text


def test_supervisor_approves_referral_and_promotes_model(app, client):
    csrf = api_login(client, "sue")
    r = client.post("/api/v1/referrals/R1/decision", json={"decision": "approved", "note": "ok"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert client.get("/api/v1/referrals/R1").json()["decisions"][0]["decided_by"] == "sue"
    r = client.post("/api/v1/models/v1/promote", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["promoted"] == "v1"
    assert client.get("/api/v1/models").json()["items"][0]["status"] == "promoted"
    assert _log(app, action="model.promote")[0]["object_id"] == "v1"


def test_officer_records_a_stop_and_nothing_is_lost_on_error(app, client):
    api_login(client, "olly")
    form = client.get("/stops/new")
    bad = {"occurred_at": "2024-13-45T10:00", "legislation": "s163 Road Traffic Act 1988", "self_defined_ethnicity": "B2",
           "borough": "Camden", "latitude": "95", "reason": "speeding", "csrf_token": _csrf(form.text)}
    r = client.post("/stops/new", data=bad)
    assert r.status_code == 400
    assert "The stop was not saved" in r.text and "latitude" in r.text and "occurred_at" in r.text
    # every value typed comes back
    assert 'value="Camden"' in r.text and 'value="speeding"' in r.text and '<option value="B2" selected>' in r.text
    good = dict(bad, occurred_at="2024-02-01T10:00", latitude="51.5", longitude="-0.12", csrf_token=_csrf(r.text))
    r = client.post("/stops/new", data=good, follow_redirects=False)
    assert r.status_code == 303 and "saved=APP-" in r.headers["location"]
    assert app.state.store.fetchone("SELECT count(*) AS n FROM recorded_stops WHERE recorded_by = 'olly'")["n"] == 1


def test_stop_api_errors_are_json_with_stable_codes(client):
    csrf = api_login(client, "olly")
    r = client.post("/api/v1/stops", json={"occurred_at": "yesterday", "legislation": ""}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    cols = {p["column"] for p in r.json()["error"]["details"]}
    assert {"occurred_at", "legislation"} <= cols
    r = client.post("/api/v1/stops", json={"occurred_at": "2099-01-01T10:00", "legislation": "s1 PACE"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "future" in r.json()["error"]["message"]
    r = client.post("/api/v1/stops", json={"legislation": "s1 PACE"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    # JSON types are accepted as well as strings
    r = client.post("/api/v1/stops", json={"occurred_at": "2024-01-01T10:00", "legislation": "s1 PACE", "searched": True, "found": False,
                                           "latitude": 51.5, "longitude": -0.1}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_stop_dashboard_counts_and_charts(client):
    api_login(client, "aud")
    s = client.get("/api/v1/stops/summary").json()["summary"]
    assert s["total"] == 6 and {r["month"]: r["stops"] for r in s["by_month"]} == {"2024-01": 3, "2024-02": 3}
    html = client.get("/stops").text
    assert html.count("<svg") >= 4


def test_access_log_page_and_verify(app, client):
    api_login(client, "ana")
    client.get("/api/v1/priority")
    client.get("/api/v1/persons/P1?purpose=safeguarding")
    api_login(client, "aud")
    rows = client.get("/api/v1/access-log?user=ana").json()["items"]
    assert [r["action"] for r in rows] == ["person.view", "list.view", "login"]
    v = client.get("/api/v1/access-log/verify").json()
    assert v["ok"] and v["rows"] >= 4
    html = client.get("/access-log?object_id=P1").text
    assert "safeguarding" in html


def test_empty_states_are_honest(tmp_path):
    a = make_app(tmp_path, lists=False, stops=False)
    with TestClient(a) as c:
        api_login(c, "ana")
        assert "No priority list has been published yet" in c.get("/priority").text
        assert c.get("/api/v1/priority").json() == {"available": False, "message": c.get("/api/v1/priority").json()["message"], "items": [], "total": 0}
        assert "harmlens victims" in c.get("/victims").text
        assert "No stop records" in c.get("/stops").text
        assert "No referral packs" in c.get("/referrals").text
        assert "No audit report" in c.get("/audit").text
        assert "No model has been trained" in c.get("/models").text
    a.state.store.close()
    a.state.warehouse.close()


def test_serving_index_gives_the_same_profiles_and_follows_the_warehouse(tmp_path):
    """Profiles read from the serving index equal profiles read by joining the warehouse; a change rebuilds it."""
    import duckdb

    from harmlens.web.data import Warehouse
    from harmlens.web.serving import build_index, index_path
    from tests.web.wh_fixture import build_warehouse

    wh = build_warehouse(tmp_path / "wh.duckdb")
    ix = build_index(wh)
    assert ix == index_path(wh) and ix.exists()
    mtime = ix.stat().st_mtime_ns
    assert build_index(wh).stat().st_mtime_ns == mtime  # unchanged warehouse: not rebuilt
    a, b = Warehouse(wh, read_only=True), Warehouse(wh, read_only=True, index=ix)
    for pid in ("P1", "P2", "P3", "P4", "P5"):
        pa, pb = a.person(pid), b.person(pid)
        for prof in (pa, pb):
            for e in prof["events"]:
                e.pop("mention_id", None)
        assert pa == pb, pid
    assert b.person("NOPE") is None
    a.close()
    b.close()
    con = duckdb.connect(str(wh))
    con.execute("UPDATE links SET person_id = 'P9' WHERE mention_id = 'M7'")
    con.close()
    build_index(wh)
    c = Warehouse(wh, read_only=True, index=ix)
    assert c.person("P4") is None and c.person("P9")["events"][0]["event_id"] == "E4"
    c.close()


def test_app_runs_on_each_store_backend(tmp_path, store_url):
    """Sign-in, a logged profile view and a recorded stop on SQLite and on PostgreSQL."""
    a = make_app(tmp_path, store_url)
    with TestClient(a) as c:
        api_login(c, "ana")
        assert c.get("/api/v1/persons/P1?purpose=investigation").status_code == 200
        csrf = api_login(c, "olly")
        r = c.post("/api/v1/stops", json={"occurred_at": "2024-01-01T10:00", "legislation": "s1 PACE"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201
        api_login(c, "aud")
        v = c.get("/api/v1/access-log/verify").json()
        assert v["ok"] and v["rows"] == 4  # 2 logins + 1 profile + 1 login (auditor); verify itself is logged after
    assert a.state.store.dialect == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
    a.state.store.close()
    a.state.warehouse.close()


def test_every_list_links_its_model_card_and_transparency_record(app, client):
    api_login(client, "ana")
    html = client.get("/priority").text
    assert 'href="/models/v1#transparency"' in html and 'href="/models/v1"' in html
    card = client.get("/models/v1").text
    assert 'id="transparency"' in card
    # The fixture warehouse has no transparency record: the page says how to make one, nothing invented.
    assert "harmlens transparency --model v1" in card


def test_list_profile_and_api_evidence_agree(app, client):
    """Every listed person's count and outcome breakdown is the same on the list API, the profile API and both pages."""
    api_login(client, "ana")
    items = client.get("/api/v1/priority").json()["items"]
    html = client.get("/priority").text
    assert "VAWG allegations in the last 3 years" in html and "charged, awaiting trial" in html
    for it in items:
        ev = client.get(f"/api/v1/persons/{it['person_id']}?purpose=investigation").json()["evidence"]
        assert (ev["allegations"], ev["outcomes"]) == (it["allegations"], it["outcomes"]), it["person_id"]


def test_risk_and_harm_are_rounded_with_units_on_list_and_profile(app):
    # P1: risk 0.62 and expected harm 412.5 (wh_fixture.py): shown as the validation supports, harm with its unit
    with TestClient(app, follow_redirects=False) as c:
        api_login(c, "ana")
        html = c.get("/priority").text
        assert ">60%<" in html and "412 days of custody equivalent" in html
        assert "62.0%" not in html and "412.5" not in html and "under 1%" not in html and ">5%<" in html  # P5: 0.05
        r = c.get("/persons/P1")
        r = c.post("/persons/P1/purpose", data={"purpose": "matac", "reference": "M-1", "csrf_token": _csrf(r.text)})
        page = c.get(r.headers["location"]).text
        risk_box = page[page.index('id="risk"'):]
        risk_box = risk_box[: risk_box.index("</section>")]
        assert "60%" in risk_box and "412 days of custody equivalent" in risk_box
        assert "62.0%" not in risk_box and "412.5" not in risk_box


def test_band_meanings_stored_with_the_list_are_shown(tmp_path):
    import json
    import shutil

    from harmlens.warehouse import connect
    from harmlens.web.app import WebSettings, create_app
    from tests.web.conftest import _template

    tpl = _template(True, True)
    shutil.copy(tpl / "wh.duckdb", tmp_path / "wh.duckdb")
    shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
    bands = [{"name": "high", "low": 0.5, "high": 1.0, "people": 40, "offended": 30, "observed": 0.75, "base_rate": 0.3},
             {"name": "medium", "low": 0.2, "high": 0.5, "people": 60, "offended": 20, "observed": 0.33, "base_rate": 0.3},
             {"name": "low", "low": 0.0, "high": 0.2, "people": 100, "offended": 10, "observed": 0.1, "base_rate": 0.3}]
    con = connect(tmp_path / "wh.duckdb")
    con.execute("UPDATE priority_lists SET params = ? WHERE list_id = 'offenders:risk:2024-07-01'", [json.dumps({"bands": bands})])
    con.close()
    app = create_app(WebSettings(warehouse=tmp_path / "wh.duckdb", store_url=f"sqlite:///{tmp_path / 'ops.sqlite'}"))
    try:
        with TestClient(app) as c:
            api_login(c, "ana")
            html = c.get("/priority").text
            legend = html[html.index('id="band-meanings"'):]
            legend = legend[: legend.index("</dl>")]
            # the list's bands (high, medium, low) each with its range and what followed on the validation date
            assert "a chance from 20% to 50%; on the validation date 20 of 60 people in this band (35%) went on to offend" in legend
            assert "a chance of 50% or more" in legend and "a chance below 20%" in legend
            d = c.get("/api/v1/priority").json()
            assert set(d["band_meanings"]) == {"high", "medium", "low"}
    finally:
        app.state.store.close()
        app.state.warehouse.close()


def test_profile_without_a_score_tells_no_cli_command(app):
    with TestClient(app, follow_redirects=False) as c:
        api_login(c, "ana")
        r = c.get("/persons/P3")
        r = c.post("/persons/P3/purpose", data={"purpose": "matac", "reference": "M-2", "csrf_token": _csrf(r.text)})
        page = c.get(r.headers["location"]).text
        box = page[page.index('id="risk"'):]
        box = box[: box.index("</section>")]
        assert "No risk score for this person yet" in box and "harmlens" not in box and "<code>" not in box
