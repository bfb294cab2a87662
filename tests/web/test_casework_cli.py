"""``harmlens publish`` and ``harmlens casework actions``: what the demo and a unit lead run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.errors import HarmlensError

runner = CliRunner()


@pytest.fixture
def wh(tmp_path):
    from harmlens.web.auth import add_user
    from harmlens.web.store import open_store
    from tests.web.wh_fixture import build_warehouse

    db = build_warehouse(tmp_path / "wh.duckdb")
    s = open_store(None, db)
    add_user(s, "sue", "a-long-test-password", "supervisor")
    add_user(s, "ana", "a-long-test-password", "analyst")
    s.close()
    return db


def test_publish_then_the_app_opens_that_list(wh):
    r = runner.invoke(app, ["publish", "offenders:risk:2024-07-01", "--by", "ana", "--db", str(wh)])
    assert r.exit_code == 1 and "not an active supervisor" in str(r.exception)
    r = runner.invoke(app, ["publish", "nope", "--by", "sue", "--db", str(wh)])
    assert r.exit_code == 1 and isinstance(r.exception, HarmlensError)
    r = runner.invoke(app, ["publish", "offenders:risk:2024-07-01", "--by", "sue", "--db", str(wh)])
    assert r.exit_code == 0, r.output
    from harmlens.web.casework_routes import published_list_id
    from harmlens.web.store import open_store

    s = open_store(None, wh)
    assert published_list_id(s, "offenders") == "offenders:risk:2024-07-01" and published_list_id(s, "victims") is None
    from datetime import date

    from harmlens.casework import record_action

    record_action(s, "P1", "arrest", "2024-07-05", by="olly", note="=HYPERLINK(1)", today=date(2025, 1, 1))
    s.close()
    r = runner.invoke(app, ["casework", "actions", "--db", str(wh)])
    assert r.exit_code == 0 and r.output.splitlines() == ["person_id,action,action_date,list_id,by_user", "P1,arrest,2024-07-05,,olly"]


def test_demo_adds_a_user_per_role_and_publishes(tmp_path, monkeypatch):
    from harmlens import demo
    from harmlens.web.auth import get_user, verify_password
    from harmlens.web.casework_routes import published_list_id
    from harmlens.web.store import open_store
    from tests.web.wh_fixture import build_warehouse

    monkeypatch.delenv(demo.DEMO_PASSWORD_ENV, raising=False)
    db = build_warehouse(tmp_path / "harmlens.duckdb")
    demo.web_users(str(db))
    s = open_store(None, db)
    try:
        roles = {get_user(s, name)["role"] for name, _, _ in demo.DEMO_USERS}
        assert roles == {"analyst", "supervisor", "partner", "officer", "auditor"}
        assert verify_password(get_user(s, "demo-analyst")["password_hash"], demo.DEMO_PASSWORD)  # the documented default
        assert published_list_id(s, "offenders") == "offenders:risk:2024-07-01"
        assert published_list_id(s, "victims") == "victims:risk:2024-07-01"
    finally:
        s.close()
    demo.web_users(str(db))  # a second run adds nobody twice
