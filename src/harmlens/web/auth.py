"""Users, roles and permissions (deny by default), passwords hashed with argon2.

A route names the one permission it needs; a role grants a fixed set of permissions; anything
not granted is refused. Partners additionally only see referral packs addressed to their agency
(checked where the pack is read, because it depends on the row, not only on the route).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from harmlens.errors import HarmlensError
from harmlens.web import passwords
from harmlens.web.store import Store

ROLES = ("analyst", "supervisor", "partner", "officer", "auditor")

# Permissions, one per kind of page or action.
PERMS_ANALYST = frozenset(
    {
        "list.view",  # priority list and victims list
        "person.view",  # person profile (purpose required) and its network
        "referral.view",  # referral packs (all agencies)
        "report.view",  # model card, audit report
        "stops.view",  # stop dashboard
    }
)
ROLE_PERMS: dict[str, frozenset[str]] = {
    "analyst": PERMS_ANALYST,
    "supervisor": PERMS_ANALYST | {"referral.approve", "model.promote"},
    "partner": frozenset({"referral.view_own"}),
    "officer": frozenset({"stops.record"}),
    "auditor": frozenset({"report.view", "accesslog.view", "stops.view"}),
}

# Casework (web/casework_routes.py, web/referral_routes.py): what each role may do in the unit's work.
_CASEWORK_PERMS: dict[str, frozenset[str]] = {
    "analyst": frozenset({"person.search", "casework.view", "casework.edit", "referral.make", "list.history"}),
    "supervisor": frozenset({"person.search", "casework.view", "casework.edit", "referral.make", "list.history", "list.publish"}),
    "officer": frozenset({"casework.mine"}),
    "auditor": frozenset({"casework.audit"}),
}
ROLE_PERMS = {r: p | _CASEWORK_PERMS.get(r, frozenset()) for r, p in ROLE_PERMS.items()}

# Link review (web/linkreview_routes.py): reading the queue, a pair, the threshold curve or a
# person's mentions shows records as recorded, so staff only; analysts and supervisors both decide
# (settling linkage is the analyst's daily work, as clerical review is in any Splink deployment), and
# each decision names who made it, when and, for a split, why. Partners, officers and auditors never.
_LINK_PERMS = frozenset({"link.review", "link.decide"})
ROLE_PERMS = {r: p | (_LINK_PERMS if r in ("analyst", "supervisor") else frozenset()) for r, p in ROLE_PERMS.items()}

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = passwords.MIN_LENGTH


class UserError(HarmlensError):
    """A user command was given bad input (unknown role, weak password, duplicate user...)."""


def allowed(role: str | None, perm: str) -> bool:
    """True only when ``role`` is a known role that grants ``perm`` (deny by default)."""
    return role is not None and perm in ROLE_PERMS.get(role, frozenset())


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A valid argon2 hash of a random string: verifying against it when the user does not exist
# makes a wrong username cost the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH: str | None = None


def dummy_verify(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-user-password")
    verify_password(_DUMMY_HASH, password)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def add_user(store: Store, username: str, password: str, role: str, agency: str | None = None) -> None:
    """Create a user. Partners must name their agency; other roles must not."""
    if not _USERNAME.match(username or ""):
        raise UserError(f"bad username {username!r}: 2-63 characters, lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    msg = passwords.problem(password, username)
    if msg is not None:
        raise UserError(msg)
    if role == "partner" and not agency:
        raise UserError("a partner user needs --agency (the agency whose referral packs they may read)")
    if role != "partner" and agency:
        raise UserError("--agency only applies to partner users")
    if store.fetchone("SELECT 1 AS x FROM web_users WHERE username = ?", [username]):
        raise UserError(f"user {username!r} already exists")
    store.execute(
        "INSERT INTO web_users (username, password_hash, role, agency, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)",
        [username, hash_password(password), role, agency, now_iso()],
    )


def disable_user(store: Store, username: str) -> None:
    """Disable a user and end their sessions at once."""
    with store.transaction():
        n = store.execute("UPDATE web_users SET disabled = 1, disabled_at = ? WHERE username = ?", [now_iso(), username])
        if n == 0:
            raise UserError(f"no user {username!r}")
        store.execute("DELETE FROM web_sessions WHERE username = ?", [username])


def list_users(store: Store) -> list[dict[str, Any]]:
    return store.fetchall("SELECT username, role, agency, disabled, created_at, disabled_at FROM web_users ORDER BY username")


def get_user(store: Store, username: str) -> dict[str, Any] | None:
    return store.fetchone("SELECT username, password_hash, role, agency, disabled FROM web_users WHERE username = ?", [username])
