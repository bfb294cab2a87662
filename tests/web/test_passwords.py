"""One password policy at creation and at sign-in (NIST SP 800-63B): length bounds, no
whitespace-only, no common passwords, one-line messages; an account that can be made can sign in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harmlens.cli import app as cli
from harmlens.web import passwords
from harmlens.web.auth import UserError, add_user
from tests.web.conftest import make_app

runner = CliRunner()


@pytest.mark.parametrize(
    "password, reason",
    [
        (" " * 12, "only spaces"),
        ("\t \u3000" * 5, "only spaces"),
        ("a" * 11, "too short"),
        ("x" * 40, "one character repeated"),
        ("x" * (passwords.MAX_LENGTH + 1), "too long"),
        ("Password1234", "commonly used"),
        ("CORRECTHORSEBATTERYSTAPLE", "commonly used"),
        ("harmlens1234", "commonly used"),
    ],
)
def test_refused_with_one_line(password, reason):
    msg = passwords.problem(password)
    assert msg is not None and reason in msg and "\n" not in msg
    assert not password.strip() or password.strip() not in msg  # never echoes the password


@pytest.mark.parametrize("password", ["a perfectly fine passphrase", "tr0ub4dor&3-plus", "x" * 63 + "y", "é" * (passwords.MAX_LENGTH - 1) + "f"])
def test_accepted(password):
    assert passwords.problem(password) is None


def test_the_username_is_not_a_password():
    assert "username" in passwords.problem("anastasia.jones", "anastasia.jones")


def test_the_shipped_list_is_package_data_and_lower_case():
    common = passwords.common_passwords()
    assert len(common) > 50 and all(p == p.lower() and len(p) >= passwords.MIN_LENGTH for p in common)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_every_password_that_can_be_set_passes_the_sign_in_limit(pw):
    if passwords.problem(pw) is None:
        assert passwords.within_login_limit(pw) and passwords.MIN_LENGTH <= len(pw) <= passwords.MAX_LENGTH


def test_add_user_uses_the_policy(store):
    with pytest.raises(UserError, match="only spaces"):
        add_user(store, "ana", " " * 12, "analyst")
    with pytest.raises(UserError, match="too long"):
        add_user(store, "ana", "z" * 1500, "analyst")


def test_users_add_command_refuses_twelve_spaces_in_one_line(tmp_path):
    env = {"HARMLENS_DATABASE_URL": f"sqlite:///{tmp_path / 'ops.sqlite'}", "PW": " " * 12}
    r = runner.invoke(cli, ["users", "add", "ana", "--role", "analyst", "--password-env", "PW"], env=env)
    assert r.exit_code == 1 and "only spaces" in str(r.exception) and "\n" not in str(r.exception)


def test_longest_allowed_password_signs_in_and_longer_is_refused_without_a_500(tmp_path):
    from fastapi.testclient import TestClient

    app = make_app(tmp_path)
    longest = "ü" * (passwords.MAX_LENGTH - 1) + "!"
    add_user(app.state.store, "lena", longest, "analyst")
    try:
        with TestClient(app) as c:
            assert c.post("/api/v1/session", json={"username": "lena", "password": longest}).status_code == 200
            r = c.post("/api/v1/session", json={"username": "lena", "password": longest + "x"})
            assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    finally:
        app.state.store.close()
        app.state.warehouse.close()
