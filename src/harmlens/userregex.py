"""Regular expressions that come from users (an offence map's regex rows) run on RE2.

Python's ``re`` backtracks: a pattern such as ``(a+)+$`` against forty ``a``s and a ``!`` takes
longer than the age of the universe, so one crafted row in a ``--map`` file could hang a run.
RE2 matches in time linear in the text, whatever the pattern. It has no backreferences or
look-around; a pattern that needs them is refused up front with one line naming it, rather than
quietly falling back to a backtracking engine.
"""

from __future__ import annotations

from typing import Any

from harmlens.errors import HarmlensError


class UnsupportedPattern(HarmlensError):
    """A user-supplied pattern that RE2 cannot run (backreference, look-around, bad syntax)."""


def compile_user_regex(pattern: str, *, ignore_case: bool = False, where: str = "pattern") -> Any:
    """``pattern`` compiled by RE2 (linear time), or a one-line :class:`UnsupportedPattern`."""
    import re2

    opts = re2.Options()
    opts.case_sensitive = not ignore_case
    opts.log_errors = False  # RE2 would otherwise print its own diagnostics to stderr
    try:
        return re2.compile(str(pattern), opts)
    except Exception as exc:  # re2.error and friends: any refusal is the same to the user
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsupportedPattern(
            f"{where} {pattern!r} does not compile: {detail} (patterns run on RE2: no backreferences or look-around)"
        ) from None


__all__ = ["compile_user_regex", "UnsupportedPattern"]
