"""Fixtures for the web area: operational stores (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("HARMLENS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as con:
            con.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure means: not reachable here
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty operational store URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.sqlite'}"
        return
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = "hlweb_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url):
    from harmlens.web.store import Store

    s = Store(store_url)
    yield s
    s.close()


ROLES = {
    "ana": ("analyst", None),
    "sue": ("supervisor", None),
    "pat": ("partner", "Probation"),
    "olly": ("officer", None),
    "aud": ("auditor", None),
}
PASSWORD = "a-long-test-password"


_TEMPLATES: dict[tuple[bool, bool], object] = {}


def _template(lists: bool, stops: bool):
    """Build the warehouse and the user store once per test session; tests get copies (argon2 is slow on purpose)."""
    import tempfile
    from pathlib import Path

    from harmlens.web.auth import add_user
    from harmlens.web.store import Store
    from tests.web.wh_fixture import build_warehouse

    key = (lists, stops)
    if key not in _TEMPLATES:
        d = Path(tempfile.mkdtemp(prefix="hlweb_tpl_"))
        build_warehouse(d / "wh.duckdb", lists=lists, stops=stops)
        s = Store(f"sqlite:///{d / 'ops.sqlite'}")
        for name, (role, agency) in ROLES.items():
            add_user(s, name, PASSWORD, role, agency)
        if lists:
            _publish_fixture_lists(s)
        s.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.close()
        _TEMPLATES[key] = d
    return _TEMPLATES[key]


def _publish_fixture_lists(store) -> None:
    """The fixture's lists, published by the supervisor (lists are only opened once published)."""
    from harmlens.web.casework_routes import publish

    publish(store, "offenders:risk:2024-07-01", "offenders", "sue")
    publish(store, "victims:risk:2024-07-01", "victims", "sue")


def make_app(tmp_path, store_url=None, *, lists=True, stops=True, **settings):
    """A warehouse with written-down truth (tests/web/wh_fixture.py), a store with one user per role, the app."""
    import shutil

    from harmlens.web.app import WebSettings, create_app
    from harmlens.web.auth import add_user
    from harmlens.web.store import Store

    tpl = _template(lists, stops)
    wh = tmp_path / "wh.duckdb"
    shutil.copy(tpl / "wh.duckdb", wh)
    if store_url is None:
        shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
        url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    else:
        url = store_url
        s = Store(url)
        for name, (role, agency) in ROLES.items():
            add_user(s, name, PASSWORD, role, agency)
        if lists:
            _publish_fixture_lists(s)
        s.close()
    return create_app(WebSettings(warehouse=wh, store_url=url, **settings))


def api_login(client, username, password=PASSWORD):
    """Sign in through the API; returns the CSRF token (the cookie stays in the client)."""
    r = client.post("/api/v1/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


def signed_in(app, username):
    """A test client signed in as ``username`` through the API, and its CSRF token."""
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    return c, api_login(c, username)


@pytest.fixture
def app(tmp_path):
    a = make_app(tmp_path)
    yield a
    a.state.store.close()
    a.state.warehouse.close()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
