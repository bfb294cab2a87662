"""Sessions, CSRF, login throttling, idle timeout and the deny-by-default route guard.

A session is a random token in an HttpOnly cookie; only its sha256 is stored, so a copy of the
store does not let anyone sign in. Each session carries its own CSRF token: every state-changing
request must echo it (form field ``csrf_token`` or header ``X-CSRF-Token``). The login form,
which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from fastapi import Request

from harmlens.web.auth import allowed, dummy_verify, get_user, now_iso, verify_password
from harmlens.web.passwords import within_login_limit
from harmlens.web.store import Store

SESSION_COOKIE = "hl_session"
PRELOGIN_COOKIE = "hl_prelogin"
LAST_SEEN_GRANULARITY = timedelta(seconds=30)


class AppError(Exception):
    """An error with an HTTP status and a stable machine-readable code (the API's ``error.code``)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, extra: Any = None,
                 subject: str | None = None) -> None:
        super().__init__(message)
        # who was refused when nobody is signed in yet (the username a sign-in named), for the access log
        self.subject = subject
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    agency: str | None
    token_hash: str
    csrf: str


def _parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class Sessions:
    def __init__(self, store: Store, *, idle_minutes: int, max_hours: int, max_fail_user: int, max_fail_ip: int, throttle_minutes: int,
                 defer: Callable[[Callable[[Store], Any]], None] | None = None) -> None:
        self.store = store
        # Where per-request bookkeeping writes go (the app's log writer thread), so checking a
        # session never waits for the store's write lock; None: written at once.
        self.defer = defer
        self.idle = timedelta(minutes=idle_minutes)
        self.max_age = timedelta(hours=max_hours)
        self.max_fail_user = max_fail_user
        self.max_fail_ip = max_fail_ip
        self.window = timedelta(minutes=throttle_minutes)

    # -- login ----------------------------------------------------------------------------------
    def reserve_attempt(self, username: str, ip: str | None) -> int | None:
        """Count and claim one sign-in attempt atomically, before any password is checked.

        In one serialised transaction: count this account's and this address's attempts in the
        window that have not succeeded (a claimed attempt counts as failed until it succeeds), and
        either refuse (None) or insert the attempt as failed and return its id. So 30 requests at
        once can claim at most ``max_fail_user`` attempts between them; the rest are refused
        without their passwords being checked. SQLite serialises on the write lock and
        ``BEGIN IMMEDIATE``; PostgreSQL on a transaction-scoped table lock.
        """
        since = _iso(datetime.now(timezone.utc) - self.window)
        with self.store.write_lock(), self.store.transaction(exclusive=True):
            if self.store.dialect == "postgresql":
                # conflicts with itself, not with readers: one reservation at a time
                self.store.execute("LOCK TABLE web_login_attempts IN SHARE ROW EXCLUSIVE MODE")
            n_user = self.store.fetchone(
                "SELECT count(*) AS n FROM web_login_attempts WHERE username = ? AND ok = 0 AND at >= ?", [username, since]
            )["n"]
            if n_user >= self.max_fail_user:
                return None
            if ip:
                n_ip = self.store.fetchone(
                    "SELECT count(*) AS n FROM web_login_attempts WHERE ip = ? AND ok = 0 AND at >= ?", [ip, since]
                )["n"]
                if n_ip >= self.max_fail_ip:
                    return None
            row = self.store.fetchone(
                "INSERT INTO web_login_attempts (username, ip, at, ok) VALUES (?, ?, ?, 0) RETURNING id", [username, ip, now_iso()]
            )
            return int(row["id"])

    def login(self, username: str, password: str, ip: str | None) -> tuple[str, Principal]:
        """Check the password (throttled); returns (cookie token, principal) or raises AppError."""
        username = (username or "").strip().lower()
        attempt = self.reserve_attempt(username, ip)
        if attempt is None:
            raise AppError(
                429,
                "too_many_attempts",
                f"too many failed sign-ins: try again in {int(self.window.total_seconds() // 60)} minutes",
                headers={"Retry-After": str(int(self.window.total_seconds()))},
                subject=username,
            )
        user = get_user(self.store, username) if username else None
        ok = False
        if not within_login_limit(password):
            pass  # longer than any password an account can have: refused without hashing it
        elif user is None:
            dummy_verify(password)
        else:
            ok = verify_password(user["password_hash"], password) and not user["disabled"]
        if not ok:
            # Same message for unknown user, wrong password and disabled account: no enumeration.
            raise AppError(401, "bad_credentials", "the username or password is not right (or the account is disabled)", subject=username)
        with self.store.write_lock():
            self.store.execute("UPDATE web_login_attempts SET ok = 1 WHERE id = ?", [attempt])
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        h = token_hash(token)
        now = now_iso()
        self.store.execute(
            "INSERT INTO web_sessions (token_hash, username, csrf_token, created_at, last_seen, ip) VALUES (?, ?, ?, ?, ?, ?)",
            [h, username, csrf, now, now, ip],
        )
        return token, Principal(username, user["role"], user["agency"], h, csrf)

    def logout(self, p: Principal) -> None:
        self.store.execute("DELETE FROM web_sessions WHERE token_hash = ?", [p.token_hash])
        self.store.execute("DELETE FROM web_access_grants WHERE token_hash = ?", [p.token_hash])

    # -- per request ----------------------------------------------------------------------------
    def resolve(self, token: str | None) -> tuple[Principal | None, bool]:
        """The signed-in principal for a cookie token, and whether a session just expired."""
        if not token:
            return None, False
        h = token_hash(token)
        row = self.store.fetchone(
            "SELECT s.username, s.csrf_token, s.created_at, s.last_seen, u.role, u.agency, u.disabled"
            " FROM web_sessions s JOIN web_users u ON u.username = s.username WHERE s.token_hash = ?",
            [h],
        )
        if row is None:
            return None, False
        now = datetime.now(timezone.utc)
        last = _parse(row["last_seen"])
        if row["disabled"] or now - last > self.idle or now - _parse(row["created_at"]) > self.max_age:
            # Deleted at once (rare: once per session), so an expired session is gone from the store when we answer.
            self.store.execute("DELETE FROM web_sessions WHERE token_hash = ?", [h])
            return None, True
        if now - last > LAST_SEEN_GRANULARITY:
            # Deferred when the app has a writer thread: the touch need not delay this request.
            self._write("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?", [_iso(now), h])
        return Principal(row["username"], row["role"], row["agency"], h, row["csrf_token"]), False

    def _write(self, sql: str, params: list[Any]) -> None:
        if self.defer is None:
            self.store.execute(sql, params)
        else:
            self.defer(lambda store: store.execute(sql, params))

    # -- purpose grants for person profiles -------------------------------------------------------
    def grant(self, p: Principal, person_id: str, purpose: str, reference: str | None) -> str:
        gid = secrets.token_urlsafe(16)
        self.store.execute(
            "INSERT INTO web_access_grants (grant_id, token_hash, person_id, purpose, reference, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [gid, p.token_hash, person_id, purpose, reference, now_iso()],
        )
        return gid

    def check_grant(self, p: Principal, person_id: str, grant_id: str | None) -> dict[str, Any] | None:
        """The purpose grant if it belongs to this session and person and is still fresh."""
        if not grant_id:
            return None
        row = self.store.fetchone(
            "SELECT purpose, reference, created_at FROM web_access_grants WHERE grant_id = ? AND token_hash = ? AND person_id = ?",
            [grant_id, p.token_hash, person_id],
        )
        if row is None or datetime.now(timezone.utc) - _parse(row["created_at"]) > self.idle:
            return None
        return row


def require(request: Request, perms: tuple[str, ...]) -> Principal:
    """The guard every protected route runs: signed in, and the role grants one of ``perms``."""
    p: Principal | None = getattr(request.state, "principal", None)
    if p is None:
        sessions: Sessions = request.app.state.sessions
        p, expired = sessions.resolve(request.cookies.get(SESSION_COOKIE))
        request.state.principal = p
        if p is None:
            raise AppError(
                401,
                "session_expired" if expired else "not_authenticated",
                "your session ended after a period of inactivity: sign in again" if expired else "sign in first",
            )
    if perms != ("*",) and not any(allowed(p.role, perm) for perm in perms):
        raise AppError(403, "forbidden", f"the {p.role} role may not use this page")
    return p


def check_csrf(request: Request, p: Principal, form_token: str | None) -> None:
    sent = request.headers.get("x-csrf-token") or form_token or ""
    if not hmac.compare_digest(sent.encode(), p.csrf.encode()):
        raise AppError(403, "csrf_failed", "the form was out of date or not sent from this site: reload the page and try again")


def safe_next(url: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None
