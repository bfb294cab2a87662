"""The referral lifecycle through the REST API, as the issue's checks state it, plus what leaves the server."""

from __future__ import annotations

import json

import pytest

from tests.web.conftest import PASSWORD, make_app
from tests.web.conftest import signed_in as _client


@pytest.fixture
def app(tmp_path):
    from harmlens.web.auth import add_user

    a = make_app(tmp_path)
    add_user(a.state.store, "sam", PASSWORD, "supervisor")  # a second supervisor, for four eyes
    add_user(a.state.store, "hou", PASSWORD, "partner", "Housing")
    yield a
    a.state.store.close()
    a.state.warehouse.close()


def _decide(c, csrf, rid, body):
    return c.post(f"/api/v1/referrals/{rid}/decision", json=body, headers={"X-CSRF-Token": csrf})


def test_checks_from_the_issue(app):
    pat, _ = _client(app, "pat")  # partner, Probation (R1 is addressed to Probation)
    sue, s_csrf = _client(app, "sue")
    assert pat.get("/api/v1/referrals/R1").status_code in (403, 404)
    r = _decide(sue, s_csrf, "R1", {"decision": "rejected"})
    assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
    assert _decide(sue, s_csrf, "R1", {"decision": "approved", "note": "meets MATAC threshold"}).status_code == 200
    for second in ({"decision": "approved", "note": "again"}, {"decision": "rejected", "note": "changed my mind"}):
        r = _decide(sue, s_csrf, "R1", second)
        assert r.status_code == 409 and r.json()["error"]["code"] == "already_decided"
    r = pat.get("/api/v1/referrals/R1")
    assert r.status_code == 200 and r.json()["state"] == "approved" and r.json()["approved_by"] == "sue"
    other, _ = _client(app, "hou")
    assert other.get("/api/v1/referrals/R1").status_code == 404
    assert [i["referral_id"] for i in other.get("/api/v1/referrals").json()["items"]] == []
    # Every state change is in the access log, with who and why.
    rows = app.state.store.fetchall("SELECT username, action, detail FROM access_log WHERE object_id = 'R1' AND action = 'referral.approved'")
    assert len(rows) == 1 and rows[0]["username"] == "sue" and json.loads(rows[0]["detail"])["reason"] == "meets MATAC threshold"


def test_four_eyes_reopen_share_withdraw_and_partner_view(app):
    ana, a_csrf = _client(app, "ana")
    # A draft made from a profile: P1 is a suspect with a conviction, so probation has something to read.
    r = ana.post("/api/v1/persons/P1/referrals", json={"partner": "probation", "purpose": "MATAC tasking"}, headers={"X-CSRF-Token": a_csrf})
    assert r.status_code == 201, r.text
    rid = r.json()["referral_id"]
    # P1 was never a victim: nothing for an IDVA service; the refusal names who would need it.
    r = ana.post("/api/v1/persons/P1/referrals", json={"partner": "idva", "purpose": "x"}, headers={"X-CSRF-Token": a_csrf})
    assert r.status_code == 422 and "Probation Service" in r.json()["error"]["message"]
    sue, s_csrf = _client(app, "sue")
    assert _decide(sue, s_csrf, rid, {"decision": "approved", "note": "ok"}).status_code == 409  # still a draft
    assert ana.post(f"/api/v1/referrals/{rid}/actions/submit", json={}, headers={"X-CSRF-Token": a_csrf}).json()["state"] == "submitted"
    # Four eyes: a supervisor who made a pack cannot decide it.
    r = sue.post("/api/v1/persons/P1/referrals", json={"partner": "probation", "purpose": "own"}, headers={"X-CSRF-Token": s_csrf})
    own = r.json()["referral_id"]
    sue.post(f"/api/v1/referrals/{own}/actions/submit", json={}, headers={"X-CSRF-Token": s_csrf})
    r = _decide(sue, s_csrf, own, {"decision": "approved", "note": "mine"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "four_eyes"
    sam, m_csrf = _client(app, "sam")
    assert _decide(sam, m_csrf, own, {"decision": "rejected", "note": "not needed"}).status_code == 200
    # Reopening is its own action and needs a reason.
    assert sam.post(f"/api/v1/referrals/{own}/actions/reopen", json={}, headers={"X-CSRF-Token": m_csrf}).status_code == 422
    assert sam.post(f"/api/v1/referrals/{own}/actions/reopen", json={"note": "new allegation"},
                    headers={"X-CSRF-Token": m_csrf}).json()["state"] == "submitted"
    assert _decide(sam, m_csrf, own, {"decision": "approved", "note": "now needed"}).status_code == 200
    # An analyst may not share or withdraw.
    assert ana.post(f"/api/v1/referrals/{own}/actions/withdraw", json={"note": "x"}, headers={"X-CSRF-Token": a_csrf}).status_code == 403
    assert _decide(sue, s_csrf, rid, {"decision": "approved", "note": "ok"}).status_code == 200
    assert sue.post(f"/api/v1/referrals/{rid}/actions/share", json={}, headers={"X-CSRF-Token": s_csrf}).json()["state"] == "shared"
    pat, _ = _client(app, "pat")
    items = {i["referral_id"]: i for i in pat.get("/api/v1/referrals").json()["items"]}
    assert {rid, own} <= set(items)
    pack = pat.get(f"/api/v1/referrals/{rid}").json()
    # Only what a partner needs: no history, no paths, the harmlens users who made and approved it.
    assert set(pack) <= {"referral_id", "person_id", "partner", "agency", "purpose", "as_of", "made_at", "state", "made_by",
                         "approved_by", "approved_at", "expires_at", "facts", "pack_html"}
    assert pack["made_by"] == "ana" and pack["approved_by"] == "sue" and pack["facts"]["suspect_convictions"] >= 0
    assert "victim_offences" not in pack["facts"]  # an IDVA field, not a probation one
    # Withdrawn: the partner no longer sees it.
    assert sue.post(f"/api/v1/referrals/{rid}/actions/withdraw", json={"note": "sent in error"},
                    headers={"X-CSRF-Token": s_csrf}).json()["state"] == "withdrawn"
    assert pat.get(f"/api/v1/referrals/{rid}").status_code == 404
    actions = [r["action"] for r in app.state.store.fetchall("SELECT action FROM access_log WHERE object_id = ? AND action <> 'referral.view' ORDER BY seq", [rid])]
    assert actions == ["referral.draft", "referral.submit", "referral.approved", "referral.share", "referral.withdraw"]


def test_expired_pack_is_hidden_from_the_partner(app, monkeypatch):
    sue, s_csrf = _client(app, "sue")
    assert _decide(sue, s_csrf, "R1", {"decision": "approved", "note": "ok"}).status_code == 200
    pat, _ = _client(app, "pat")
    assert pat.get("/api/v1/referrals/R1").status_code == 200
    app.state.store.execute("UPDATE referral_states SET at = '2020-01-01T00:00:00.000000Z' WHERE referral_id = 'R1'")
    assert pat.get("/api/v1/referrals/R1").status_code == 404
    assert sue.get("/api/v1/referrals/R1").json()["state"] == "expired"


def test_no_paths_or_logins_leave_the_server(app, tmp_path):
    # A pack file as the old code wrote it: a login, a card path and a docs reference inside.
    wh_dir = app.state.warehouse.source.parent
    html = (b"<p>This pack holds only what this partner needs (see docs/protect.md).</p><td>model v1: /srv/harmlens/models/v1/card.html</td>"
            b"<p>Pack R1, made by jbloggs.</p>")
    import hashlib

    import duckdb

    (wh_dir / "R1.html").write_bytes(html)
    app.state.warehouse.close()
    con = duckdb.connect(str(wh_dir / "wh.duckdb"))
    con.execute("UPDATE referral_packs SET html_sha256 = ?, made_by = 'jbloggs', model_card = 'model v1: /srv/x/card.html' WHERE pack_id = 'R1'",
                [hashlib.sha256(html).hexdigest()])
    con.close()
    from harmlens.web.app import WebSettings, create_app

    a = create_app(WebSettings(warehouse=wh_dir / "wh.duckdb", store_url=app.state.store.url))
    sue, s_csrf = _client(a, "sue")
    assert _decide(sue, s_csrf, "R1", {"decision": "approved", "note": "ok"}).status_code == 200
    for user in ("pat", "sue", "ana"):
        c, _ = _client(a, user)
        for url in ("/api/v1/referrals", "/api/v1/referrals/R1", "/referrals", "/referrals/R1"):
            body = c.get(url).text
            for secret in ("jbloggs", "/srv/", "docs/protect", "html_path", str(wh_dir)):
                assert secret not in body, (user, url, secret)
    a.state.warehouse.close()


def test_model_card_page_shows_the_card_not_its_path(tmp_path):
    import duckdb

    from harmlens.web.app import WebSettings, create_app
    from tests.web.conftest import _template

    import shutil

    tpl = _template(True, True)
    shutil.copy(tpl / "wh.duckdb", tmp_path / "wh.duckdb")
    shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
    card = tmp_path / "cards" / "model_card.html"
    card.parent.mkdir()
    card.write_text("<h1>Model card v1</h1><p>Calibration slope 0.98</p>")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("UPDATE models SET card_html = ?", [str(card)])
    con.close()
    a = create_app(WebSettings(warehouse=tmp_path / "wh.duckdb", store_url=f"sqlite:///{tmp_path / 'ops.sqlite'}"))
    c, _ = _client(a, "ana")
    page = c.get("/models/v1").text
    api = c.get("/api/v1/models/v1").text
    assert "Calibration slope 0.98" in page and "Calibration slope 0.98" in api
    assert str(card.parent) not in page and str(card.parent) not in api
    card.unlink()
    a.state.warehouse.refresh(force=True)
    page = c.get("/models/v1").text
    assert "model card file (model_card.html) is missing" in page and str(card.parent) not in page
    a.state.store.close()
    a.state.warehouse.close()


def test_two_decisions_at_once_one_lands(store_url, tmp_path):
    """Ten supervisors' decisions sent at once on both store backends: exactly one is recorded."""
    from concurrent.futures import ThreadPoolExecutor

    from harmlens.web import referral_flow as flow
    from harmlens.web.store import Store

    stores = [Store(store_url) for _ in range(10)]
    pack = {"referral_id": "R9", "source": "cli", "made_by": "ana"}

    def decide(i):
        try:
            return flow.transition(stores[i], pack, "approve" if i % 2 else "reject", by=f"sup{i}", note="n")
        except flow.FlowError as exc:
            return exc.status

    with ThreadPoolExecutor(10) as ex:
        out = list(ex.map(decide, range(10)))
    assert sorted(map(str, out)).count("409") == 9, out
    assert [h["state"] for h in flow.history(stores[0], "R9")] in (["approved"], ["rejected"])
    for s in stores:
        s.close()
