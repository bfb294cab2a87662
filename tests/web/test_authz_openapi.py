"""The authorisation matrix, generated from the app itself so a new route cannot ship unlisted.

Each route's ``x-permissions`` (the OpenAPI document for the API, the route table for the pages,
which are left out of the document) is the list of who may use it; the roles' grants come from
``ROLE_PERMS``. For every route and every role plus anonymous this sends a real request and checks
that exactly the roles the declaration allows get past the guard: the others get 403 (401 or a
redirect to sign-in when anonymous). A route added without a declaration fails
``test_every_route_declares_who_may_use_it``; one whose guard disagrees with its declaration fails
the matrix. The hand-written matrix (test_authz_matrix.py) stays as the reviewed statement of intent.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from harmlens.web.auth import ROLE_PERMS, allowed
from tests.web.conftest import ROLES, api_login, make_app

USER_FOR_ROLE = {role: name for name, (role, _) in ROLES.items()}
SAMPLE = {"person_id": "P1", "referral_id": "R1", "version": "v1", "list_id": "offenders:risk:2024-07-01", "action": "submit", "mention_a": "M1", "mention_b": "M3"}
SIGN_IN = {("POST", "/login"), ("POST", "/api/v1/session")}


@pytest.fixture(scope="module")
def authz_app(tmp_path_factory):
    a = make_app(tmp_path_factory.mktemp("authz_openapi"), max_failures_user=10**6, max_failures_ip=10**6)
    yield a
    a.state.store.close()
    a.state.warehouse.close()


def _declared(app) -> dict[tuple[str, str], list[str]]:
    """(method, path) -> x-permissions, from the OpenAPI document and the hidden page routes."""
    with TestClient(app) as c:
        doc = c.get("/api/v1/openapi.json").json()
    out: dict[tuple[str, str], list[str]] = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            out[(method.upper(), path)] = op.get("x-permissions")
    for r in app.routes:
        if isinstance(r, APIRoute):
            for m in r.methods - {"HEAD"}:
                out.setdefault((m, r.path), (r.openapi_extra or {}).get("x-permissions"))
    return out


def _url(path: str) -> str:
    for k, v in SAMPLE.items():
        path = path.replace("{" + k + "}", v)
    return path


def test_every_route_declares_who_may_use_it(authz_app):
    declared = _declared(authz_app)
    assert len(declared) >= 30
    known = set().union(*ROLE_PERMS.values()) | {"public", "*"}
    for key, perms in declared.items():
        assert perms, f"{key} declares no x-permissions"
        assert set(perms) <= known, f"{key} names a permission no role has: {set(perms) - known}"
    # every route in the app is one of these (nothing mounted around the guard but static files)
    for r in authz_app.routes:
        if not isinstance(r, APIRoute):
            assert r.path in ("/static", "/api/v1/openapi.json"), f"unguarded route {r.path}"


def _may(role: str | None, perms: list[str]) -> bool:
    if "public" in perms:
        return True
    if role is None:
        return False
    return "*" in perms or any(allowed(role, p) for p in perms)


@pytest.mark.parametrize("user", [None, *ROLES])
def test_generated_matrix(authz_app, user):
    role = ROLES[user][0] if user else None
    declared = _declared(authz_app)
    ends_session = {k for k in declared if k in {("POST", "/logout"), ("DELETE", "/api/v1/session")}}
    failures = []
    with TestClient(authz_app, follow_redirects=False) as c:
        csrf = api_login(c, user) if user else ""
        for (method, path) in sorted(declared, key=lambda k: k in ends_session):
            if (method, path) in SIGN_IN:
                continue  # public by design; its refusals are the credentials', tested in test_auth
            if user and (method, path) in ends_session:
                csrf = api_login(c, user)
            headers = {"X-CSRF-Token": csrf} if method != "GET" else {}
            body = {"json": {}} if path.startswith("/api/") and method in ("POST", "PUT", "PATCH") else {}
            r = c.request(method, _url(path), headers=headers, **body)
            may = _may(role, declared[(method, path)])
            if may:
                ok = r.status_code not in (401, 403)
            elif role is None:
                ok = r.status_code == 401 if path.startswith("/api/") else (r.status_code == 303 and r.headers["location"].startswith("/login"))
            else:
                ok = r.status_code == 403
            if not ok:
                failures.append(f"{role or 'anonymous'} {method} {path} -> {r.status_code} (declared {declared[(method, path)]})")
    assert not failures, "\n".join(failures)
