"""One password policy for creating a user and for signing in, after NIST SP 800-63B (5.1.1).

- at least ``MIN_LENGTH`` (12) characters and at most ``MAX_LENGTH`` (128): the same maximum at
  creation and at sign-in, so an account can never be made that cannot sign in;
- no composition rules (NIST advises against them) and spaces are allowed, but a password made
  only of whitespace, or of one character repeated, is refused;
- passwords known from breach lists (``data/common_passwords.txt``, compared case-insensitively)
  and the username itself are refused.

Every refusal is one line naming the rule, never echoing the password.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from harmlens.errors import HarmlensError

MIN_LENGTH = 12
MAX_LENGTH = 128  # ASVS 4.0 2.1.2: at least 64 permitted, more than 128 denied


class PasswordPolicyError(HarmlensError):
    """A password does not meet the policy (the message names the rule)."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = files("harmlens.web").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def problem(password: str, username: str | None = None) -> str | None:
    """The one-line reason ``password`` is refused, or None when it meets the policy."""
    if not isinstance(password, str):
        return "a password is required"
    n = len(password)
    if n > MAX_LENGTH:
        return f"password too long: at most {MAX_LENGTH} characters"
    if n < MIN_LENGTH:
        return f"password too short: at least {MIN_LENGTH} characters"
    if not password.strip():
        return "password refused: it is only spaces"
    if len(set(password)) == 1:
        return "password refused: it is one character repeated"
    low = password.strip().lower()
    if low in common_passwords():
        return "password refused: it is on a list of commonly used passwords"
    if username and low == username.strip().lower():
        return "password refused: it is the username"
    return None


def check(password: str, username: str | None = None) -> None:
    """Raise :class:`PasswordPolicyError` when ``password`` is refused (used by ``users add``)."""
    msg = problem(password, username)
    if msg is not None:
        raise PasswordPolicyError(msg)


def within_login_limit(password: str) -> bool:
    """Sign-in checks only the length bounds, so no valid account is ever turned away; the
    maximum also keeps an attacker from making the server hash megabytes."""
    return isinstance(password, str) and len(password) <= MAX_LENGTH


__all__ = ["MIN_LENGTH", "MAX_LENGTH", "PasswordPolicyError", "problem", "check", "within_login_limit", "common_passwords"]
