"""Sign-in, sessions, CSRF, throttling, idle timeout, disabled users, cookies and headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, api_login, make_app


def _form_login(c, username, password=PASSWORD, next_=""):
    page = c.get("/login")
    pre = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": pre, "next": next_})


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_form_login_sets_a_hardened_cookie_and_lands_on_the_role_home(app):
    with TestClient(app, follow_redirects=False) as c:
        r = _form_login(c, "ana")
        assert r.status_code == 303 and r.headers["location"] == "/priority"
        cookie = r.headers["set-cookie"]
        assert "hl_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP in tests; see the TLS test below
        r = _form_login(c, "olly")
        assert r.headers["location"] == "/stops/new"


def test_secure_cookie_behind_tls(tmp_path):
    a = make_app(tmp_path, secure_cookies=True)
    with TestClient(a, base_url="https://testserver") as c:
        r = c.post("/api/v1/session", json={"username": "ana", "password": PASSWORD})
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
    a.state.store.close()
    a.state.warehouse.close()


def test_wrong_password_same_message_as_unknown_user(client):
    a = client.post("/api/v1/session", json={"username": "ana", "password": "wrong-password-here"})
    b = client.post("/api/v1/session", json={"username": "nobody", "password": "wrong-password-here"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json() and a.json()["error"]["code"] == "bad_credentials"


def test_login_throttled_after_five_failures(client):
    for _ in range(5):
        assert client.post("/api/v1/session", json={"username": "ana", "password": "nope-nope-nope"}).status_code == 401
    r = client.post("/api/v1/session", json={"username": "ana", "password": PASSWORD})  # even the right password
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts" and "retry-after" in r.headers
    # Another user is not locked out by ana's failures.
    assert client.post("/api/v1/session", json={"username": "sue", "password": PASSWORD}).status_code == 200


def test_login_form_needs_its_csrf_cookie(client):
    r = client.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "hl_session" not in r.headers.get("set-cookie", "")


def test_post_without_csrf_is_refused(client):
    csrf = api_login(client, "olly")
    body = {"occurred_at": "2024-01-01T10:00", "legislation": "s163 Road Traffic Act 1988"}
    r = client.post("/api/v1/stops", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = client.post("/api/v1/stops", json=body, headers={"X-CSRF-Token": csrf + "x"})
    assert r.status_code == 403
    assert client.post("/api/v1/stops", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # Form posts carry the token as a field.
    page = client.get("/stops/new")
    assert client.post("/stops/new", data={"legislation": "s1 PACE"}, follow_redirects=False).status_code == 403
    assert client.post("/stops/new", data={"legislation": "s1 PACE", "csrf_token": _csrf(page.text)}).status_code == 400


def test_idle_timeout_signs_out(tmp_path):
    a = make_app(tmp_path)
    with TestClient(a, follow_redirects=False) as c:
        api_login(c, "ana")
        assert c.get("/api/v1/me").status_code == 200
        # Age the session past the idle limit.
        a.state.store.execute("UPDATE web_sessions SET last_seen = '2000-01-01T00:00:00.000000Z'")
        r = c.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired"
        api_login(c, "ana")
        a.state.store.execute("UPDATE web_sessions SET last_seen = '2000-01-01T00:00:00.000000Z'")
        r = c.get("/priority")
        assert r.status_code == 303 and "expired=1" in r.headers["location"]
        assert a.state.store.fetchone("SELECT count(*) AS n FROM web_sessions")["n"] == 0
    a.state.store.close()
    a.state.warehouse.close()


def test_disabling_a_user_ends_their_session(app, client):
    from harmlens.web.auth import disable_user

    api_login(client, "ana")
    assert client.get("/api/v1/me").status_code == 200
    disable_user(app.state.store, "ana")
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/session", json={"username": "ana", "password": PASSWORD}).status_code == 401


def test_logout_revokes_the_session(client):
    csrf = api_login(client, "ana")
    cookie = client.cookies.get("hl_session")
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.set("hl_session", cookie)  # replaying the old cookie does not work
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("nxt, expected", [("/victims", "/victims"), ("//evil.example/x", "/priority"), ("https://evil.example", "/priority")])
def test_no_open_redirect_after_login(client, nxt, expected):
    r = _form_login(client, "ana", next_=nxt)
    assert r.history and r.history[0].headers["location"] == expected


def test_security_headers(client):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


def test_no_asset_from_another_origin(client):
    """Every script, stylesheet and font the pages use is served by the app itself."""
    api_login(client, "ana")
    html = client.get("/priority").text + client.get("/login").text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(not re.match(r"^(https?:)?//", u) for u in refs), refs
    for u in {u for u in refs if u.startswith("/static/")}:
        assert client.get(u).status_code == 200, u
