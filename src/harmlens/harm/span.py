"""A list is made only as of a date inside the span of the recorded events.

A list "as of" a date after the last recorded event ranks people on data that stops before
that date, so it looks current and is not; one before the first event is empty. Either is
refused (one line, exit 1) unless the user says ``--force``. The comparison is strict and on
time, not on whole days: an as-of after the last event's time is outside (no grace days), so
for data ending on 2024-12-31 the newest list is as of 2024-12-31.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from harmlens.errors import HarmlensError


class OutsideSpanError(HarmlensError):
    """--as-of falls outside the recorded events."""


def event_span(con: Any) -> tuple[datetime, datetime] | None:
    """(time of the first event, time of the last event), or None without events."""
    from harmlens.engine import as_engine

    rows = as_engine(con).rows("SELECT min(occurred_at), max(occurred_at) FROM events")
    r = rows[0] if rows else None
    return None if r is None or r[0] is None else (r[0], r[1])


def check_as_of(con: Any, as_of: datetime | date, *, force: bool = False, flag: str = "--as-of") -> None:
    """Refuse ``as_of`` outside the recorded events unless ``force``."""
    if force:
        return
    span = event_span(con)
    if span is None:
        return  # no events: the command itself says there is nothing to rank
    t = as_of if isinstance(as_of, datetime) else datetime.combine(as_of, datetime.min.time())
    first, last = span
    shown = t.date().isoformat() if t.time() == datetime.min.time() else t.isoformat(sep=" ")
    if t > last:
        raise OutsideSpanError(f"{flag} {shown} is after the last recorded event ({last:%Y-%m-%d %H:%M}): the list would look current"
                               f" and is not; use {flag} {last:%Y-%m-%d} or earlier, or --force to make it anyway")
    if t <= first:
        raise OutsideSpanError(f"{flag} {shown} is not after the first recorded event ({first:%Y-%m-%d %H:%M}): the list would be"
                               f" empty; use a later date, or --force to make it anyway")
