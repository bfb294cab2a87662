"""Every route x every role + anonymous: allowed roles get through, everyone else is refused.

The expected matrix is written out by hand from issue 9 (deny by default): a route missing
here fails the test, so no route can be added without deciding who may use it.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.conftest import ROLES, api_login, make_app

A = {"analyst", "supervisor"}
ALL = {"analyst", "supervisor", "partner", "officer", "auditor"}
PUBLIC = "public"

EXPECTED: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/api/v1/session"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/logout"): ALL,
    ("DELETE", "/api/v1/session"): ALL,
    ("GET", "/api/v1/me"): ALL,
    ("GET", "/priority"): A,
    ("GET", "/priority.csv"): A,
    ("GET", "/api/v1/priority"): A,
    ("GET", "/victims"): A,
    ("GET", "/api/v1/victims"): A,
    ("GET", "/persons/{person_id}"): A,
    ("POST", "/persons/{person_id}/purpose"): A,
    ("GET", "/api/v1/persons/{person_id}"): A,
    ("GET", "/referrals"): A | {"partner"},
    ("GET", "/referrals/{referral_id}"): A | {"partner"},
    ("GET", "/api/v1/referrals"): A | {"partner"},
    ("GET", "/api/v1/referrals/{referral_id}"): A | {"partner"},
    ("POST", "/referrals/{referral_id}/decision"): {"supervisor"},
    ("POST", "/api/v1/referrals/{referral_id}/decision"): {"supervisor"},
    ("GET", "/models"): A | {"auditor"},
    ("GET", "/models/{version}"): A | {"auditor"},
    ("GET", "/api/v1/models"): A | {"auditor"},
    ("GET", "/api/v1/models/{version}"): A | {"auditor"},
    ("POST", "/models/{version}/promote"): {"supervisor"},
    ("POST", "/api/v1/models/{version}/promote"): {"supervisor"},
    ("GET", "/audit"): A | {"auditor"},
    ("GET", "/audit/report"): A | {"auditor"},
    ("GET", "/api/v1/audit"): A | {"auditor"},
    ("GET", "/stops"): A | {"auditor"},
    ("GET", "/api/v1/stops/summary"): A | {"auditor"},
    ("GET", "/stops/new"): {"officer"},
    ("POST", "/stops/new"): {"officer"},
    ("POST", "/api/v1/stops"): {"officer"},
    ("GET", "/access-log"): {"auditor"},
    ("GET", "/api/v1/access-log"): {"auditor"},
    ("GET", "/api/v1/access-log/verify"): {"auditor"},
    # casework: lists published, search, cases, the referral lifecycle
    ("GET", "/lists"): A,
    ("GET", "/api/v1/lists"): A,
    ("POST", "/lists/{list_id}/publish"): {"supervisor"},
    ("POST", "/api/v1/lists/{list_id}/publish"): {"supervisor"},
    ("GET", "/search"): A,
    ("GET", "/api/v1/search"): A,
    ("GET", "/casework"): A | {"officer"},
    ("GET", "/casework/{person_id}"): A | {"officer"},
    ("POST", "/casework/{person_id}/assign"): A,
    ("POST", "/casework/{person_id}/action"): A | {"officer"},
    ("POST", "/casework/{person_id}/leave"): A,
    ("GET", "/api/v1/casework/vocabulary"): A | {"officer"},
    ("GET", "/api/v1/casework/{person_id}"): A | {"officer"},
    ("POST", "/api/v1/casework/{person_id}/assignment"): A,
    ("POST", "/api/v1/casework/{person_id}/actions"): A | {"officer"},
    ("POST", "/api/v1/casework/{person_id}/leave"): A,
    ("GET", "/casework-audit"): {"auditor"},
    ("GET", "/api/v1/casework-audit"): {"auditor"},
    ("POST", "/referrals/{referral_id}/do/{action}"): A,
    ("POST", "/api/v1/referrals/{referral_id}/actions/{action}"): A,
    ("GET", "/persons/{person_id}/referral"): A,
    ("POST", "/persons/{person_id}/referral"): A,
    ("POST", "/api/v1/persons/{person_id}/referrals"): A,
    # link review: staff read and decide; partners, officers and auditors never
    ("GET", "/link-review"): A,
    ("GET", "/api/v1/link-review"): A,
    ("GET", "/link-review/pairs/{mention_a}/{mention_b}"): A,
    ("GET", "/api/v1/link-review/pairs/{mention_a}/{mention_b}"): A,
    ("POST", "/link-review/pairs/{mention_a}/{mention_b}/decision"): A,
    ("POST", "/api/v1/link-review/pairs/{mention_a}/{mention_b}/decision"): A,
    ("GET", "/link-review/threshold"): A,
    ("GET", "/api/v1/link-review/threshold"): A,
    ("GET", "/link-review/persons/{person_id}"): A,
    ("GET", "/api/v1/link-review/persons/{person_id}"): A,
}
PARAMS = {"{person_id}": "P1", "{referral_id}": "R1", "{version}": "v1", "{list_id}": "offenders:risk:2024-07-01", "{action}": "submit", "{mention_a}": "M1",
          "{mention_b}": "M3"}
ENDS_SESSION = {("POST", "/logout"), ("DELETE", "/api/v1/session")}


def _routes(app):
    out = set()
    for r in app.routes:
        if isinstance(r, APIRoute):
            for m in r.methods - {"HEAD"}:
                out.add((m, r.path))
    out.add(("GET", "/api/v1/openapi.json"))  # served by FastAPI itself
    return out


def _url(path):
    for k, v in PARAMS.items():
        path = path.replace(k, v)
    return path


def _body(method, path):
    if path == "/api/v1/stops":
        return {"json": {"occurred_at": "2024-01-01T10:00", "legislation": "s163 Road Traffic Act 1988"}}
    if path.endswith("/decision") and path.startswith("/api"):
        return {"json": {"decision": "approved"}}
    if path == "/api/v1/session":
        return {"json": {"username": "nobody", "password": "x"}}
    return {}


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("matrix"))
    yield a
    a.state.store.close()
    a.state.warehouse.close()


def test_every_route_is_in_the_matrix(matrix_app):
    assert _routes(matrix_app) == set(EXPECTED), "a route was added or removed without deciding who may use it"


def test_every_route_declares_permissions(matrix_app):
    for r in matrix_app.routes:
        if isinstance(r, APIRoute):
            assert r.openapi_extra and r.openapi_extra.get("x-permissions"), r.path


@pytest.mark.parametrize("user", [None, *ROLES])
def test_matrix(matrix_app, user):
    role = ROLES[user][0] if user else None
    with TestClient(matrix_app, follow_redirects=False) as c:
        csrf = api_login(c, user) if user else ""
        keys = sorted(EXPECTED, key=lambda k: k in ENDS_SESSION)  # session-ending routes last
        failures = []
        for method, path in keys:
            allowed = EXPECTED[(method, path)]
            if user and (method, path) in ENDS_SESSION:
                csrf = api_login(c, user)  # the previous one signed out
            headers = {"X-CSRF-Token": csrf} if method != "GET" else {}
            r = c.request(method, _url(path), headers=headers, **_body(method, path))
            if allowed == PUBLIC:
                ok = r.status_code not in (401, 403) or path in ("/login", "/api/v1/session")
            elif role in allowed:
                ok = r.status_code not in (401, 403)
            elif role is None:
                ok = (r.status_code == 401) if path.startswith("/api/") else (r.status_code == 303 and r.headers["location"].startswith("/login"))
            else:
                ok = r.status_code == 403
            if not ok:
                failures.append(f"{role or 'anonymous'} {method} {path} -> {r.status_code}")
        assert not failures, "\n".join(failures)
