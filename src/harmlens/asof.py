"""The one parser for every command's ``--as-of`` (and any other date a user types).

A list is reproducible only if its date is: ``today`` or ``now`` would be read as the current time
of day, so each rerun made a new list. Words are refused, the same way and with the same message,
by every command. Dates outside a sane window are refused too, before they reach pandas or
DuckDB, where year 1 overflows date arithmetic and year 9999 is out of pandas' range: the user gets
one line naming the flag instead of a traceback.

Accepted: ``YYYY-MM-DD`` (midnight that day) or an ISO date-time; ``date``/``datetime``/pandas
``Timestamp`` objects from code.

One time-zone rule: the warehouse stores naive wall-clock times in its local zone,
:data:`WAREHOUSE_TZ` (Europe/London, as the data contract says: "naive means Europe/London").
A naive input is already in that zone; an aware one is converted to it and made naive; and a
default of "today" is today there (:func:`local_today`), not on the machine's clock or in UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from harmlens.errors import HarmlensError

WAREHOUSE_TZ = "Europe/London"
"""The warehouse's local time zone: every stored time is naive wall-clock time here."""

EARLIEST = date(1900, 1, 1)
"""No police record, birth or list date harmlens handles is older than this."""

FUTURE_YEARS = 10
"""How far ahead a date may be: far enough for any planned list, near enough to catch typos."""

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+([+-]\d{2}:?\d{2}|Z)?)?$")


class AsOfError(HarmlensError):
    """A date given on the command line is not a date, or not a plausible one."""


def latest() -> date:
    today = date.today()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def _naive(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(WAREHOUSE_TZ)).replace(tzinfo=None)


def local_now() -> datetime:
    """Now, as naive wall-clock time in the warehouse's zone (the default of an omitted ``--as-of``)."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(WAREHOUSE_TZ)).replace(tzinfo=None)


def local_today() -> date:
    """Today in the warehouse's zone (in the hour after midnight in summer, UTC still says yesterday)."""
    return local_now().date()


def check_window(d: datetime, flag: str = "--as-of", error: type[HarmlensError] = AsOfError) -> datetime:
    """``d`` if it lies in 1900-01-01 .. today + 10 years, else a one-line error naming ``flag``."""
    hi = latest()
    if not (datetime.combine(EARLIEST, time.min) <= d < datetime.combine(hi + timedelta(days=1), time.min)):
        raise error(f"{flag} {d.date().isoformat()} is outside {EARLIEST.isoformat()}..{hi.isoformat()}")
    return d


def parse_as_of(value: Any, flag: str = "--as-of", error: type[HarmlensError] = AsOfError) -> datetime:
    """``value`` as a naive datetime (midnight for a date), or one line naming ``flag``.

    Strings must be ISO dates: words such as ``today`` or ``now`` are refused so that the same
    command on another day or minute gives the same list. Every string is also checked against
    the window (:func:`check_window`); objects from code are trusted to be in range.
    """
    if isinstance(value, datetime):  # pandas Timestamp included
        if value != value:  # NaT
            raise error(f"{flag} is missing (NaT)")
        return _naive(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    if isinstance(value, date):
        return datetime.combine(value, time.min)
    if isinstance(value, str):
        s = value.strip()
        if not _ISO.match(s):
            raise error(f"{flag} {value!r} is not a date: use an ISO date, YYYY-MM-DD (words such as today or now "
                        "are refused, so a rerun gives the same list)")
        try:
            d = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise error(f"{flag} {value!r} is not a date: no such day (use an ISO date, YYYY-MM-DD)") from None
        return check_window(_naive(d), flag, error)
    if hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("datetime64"):
        import pandas as pd

        return parse_as_of(pd.Timestamp(value), flag, error)
    raise error(f"{flag} must be a date (YYYY-MM-DD), not {type(value).__name__}")





def check_flags(**flags: Any) -> None:
    """Validate date flags up front, before the warehouse is opened: ``check_flags(**{"--as-of": v})``.

    ``None`` (flag not given) passes; anything else must pass :func:`parse_as_of` under its name."""
    for flag, value in flags.items():
        if value is not None:
            parse_as_of(value, flag)
__all__ = ["parse_as_of", "check_window", "check_flags", "local_now", "local_today", "AsOfError", "EARLIEST", "FUTURE_YEARS",
           "WAREHOUSE_TZ"]
