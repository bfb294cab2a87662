"""ASVS level-2 checks not covered elsewhere: output escaping, no directory listing, errors in one
shape for unknown methods, session tokens stored only as hashes (see docs/security.md)."""

from __future__ import annotations

import hashlib
import re

from tests.web.conftest import api_login

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_typed_values_shown_again_are_escaped(client):
    api_login(client, "olly")
    form = client.get("/stops/new")
    r = client.post("/stops/new", data={"occurred_at": "not-a-date", "legislation": "s163 Road Traffic Act 1988",
                                         "reason": XSS, "borough": XSS[:90], "csrf_token": _csrf(form.text)})
    assert r.status_code == 400
    assert "<script>alert(1)</script>" not in r.text and "onerror=alert(2)>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # shown back, as text


def test_no_directory_listing(client):
    for path in ("/static/", "/static/vendor/"):
        r = client.get(path)
        assert r.status_code == 404, (path, r.status_code)


def test_unknown_method_answers_405_in_the_error_shape(client):
    api_login(client, "ana")
    r = client.request("PUT", "/api/v1/priority")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_session_token_is_stored_only_as_its_hash(app, client):
    api_login(client, "ana")
    token = client.cookies.get("hl_session")
    rows = app.state.store.fetchall("SELECT token_hash FROM web_sessions")
    assert token and all(token not in r["token_hash"] for r in rows)
    assert hashlib.sha256(token.encode()).hexdigest() in {r["token_hash"] for r in rows}
