"""Case records in the operational store: one current row per person, and an append-only history.

``casework_cases`` holds where each person stands now (status, officer, the list they were
taken from); ``casework_events`` holds everything that happened, in order, never updated: an
assignment, a status change, an action with the date it was taken, a note, a person leaving a
list with the reason. The history of a person across lists and actions is that table.

Validation collects every problem before refusing, so a form can show them all at once.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Sequence

from harmlens.casework.vocab import Vocabulary, load_vocabulary
from harmlens.errors import HarmlensError

STATUSES = ("new", "under review", "actioned", "closed")
LEAVE_REASONS = ("no longer meets the threshold", "in custody", "moved out of the force area", "deceased",
                 "managed by another agency", "list error", "other")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS casework_cases (
        person_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        assigned_to TEXT,
        list_id TEXT,
        updated_by TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS casework_events (
        id {autoid},
        person_id TEXT NOT NULL,
        list_id TEXT,
        kind TEXT NOT NULL,
        action_code TEXT,
        action_date TEXT,
        status TEXT,
        assigned_to TEXT,
        reason TEXT,
        note TEXT,
        by_user TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS casework_events_person ON casework_events (person_id, id)",
]


class CaseworkError(HarmlensError):
    """A casework record was refused; ``problems`` lists every reason (field, reason)."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['reason']}" for p in problems))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")




def ensure_schema(store: Any) -> None:
    """Create the casework tables in the store if they are not there (idempotent)."""
    if getattr(store, "_hl_casework_schema", False):  # once per store object
        return
    create_tables(store, _SCHEMA)
    store._hl_casework_schema = True


def create_tables(store: Any, statements: Sequence[str]) -> None:
    """Run CREATE ... IF NOT EXISTS statements (``{autoid}`` for the backend's id column).

    On PostgreSQL two servers (or threads) creating the same table at once collide in the
    catalogue even with IF NOT EXISTS, so set-up is serialised on the store's advisory lock.
    """
    autoid = "INTEGER PRIMARY KEY AUTOINCREMENT" if store.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    pg = store.dialect == "postgresql"
    if pg:
        store.execute("SELECT pg_advisory_lock(7259113)")
    try:
        for stmt in statements:
            store.execute(stmt.replace("{autoid}", autoid))
    finally:
        if pg:
            store.execute("SELECT pg_advisory_unlock(7259113)")


def case(store: Any, person_id: str) -> dict[str, Any] | None:
    ensure_schema(store)
    return store.fetchone("SELECT * FROM casework_cases WHERE person_id = ?", [person_id])


def cases(store: Any, *, assigned_to: str | None = None, person_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    ensure_schema(store)
    if assigned_to is not None:
        return store.fetchall("SELECT * FROM casework_cases WHERE assigned_to = ? ORDER BY updated_at DESC", [assigned_to])
    rows = store.fetchall("SELECT * FROM casework_cases ORDER BY updated_at DESC")
    if person_ids is not None:
        want = set(person_ids)
        rows = [r for r in rows if r["person_id"] in want]
    return rows


def history(store: Any, person_id: str | None = None, *, limit: int = 500) -> list[dict[str, Any]]:
    """Everything recorded (for one person, or everyone), oldest first for a person, newest first otherwise."""
    ensure_schema(store)
    if person_id is not None:
        return store.fetchall("SELECT * FROM casework_events WHERE person_id = ? ORDER BY id", [person_id])
    return store.fetchall("SELECT * FROM casework_events ORDER BY id DESC LIMIT ?", [limit])


def _event(store: Any, person_id: str, by: str, kind: str, *, list_id: str | None = None, **fields: Any) -> None:
    cols = ["person_id", "list_id", "kind", "by_user", "at", *fields]
    store.execute(f"INSERT INTO casework_events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                  [person_id, list_id, kind, by, _now(), *fields.values()])


def _upsert(store: Any, person_id: str, by: str, *, list_id: str | None, **changes: Any) -> None:
    cur = store.fetchone("SELECT * FROM casework_cases WHERE person_id = ?", [person_id])
    if cur is None:
        row = {"person_id": person_id, "status": "new", "assigned_to": None, "list_id": list_id, "updated_by": by, "updated_at": _now()}
        row.update(changes)
        store.execute("INSERT INTO casework_cases (person_id, status, assigned_to, list_id, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [row["person_id"], row["status"], row["assigned_to"], row["list_id"], row["updated_by"], row["updated_at"]])
        return
    sets = dict(changes, updated_by=by, updated_at=_now())
    if list_id:
        sets["list_id"] = list_id
    store.execute(f"UPDATE casework_cases SET {', '.join(k + ' = ?' for k in sets)} WHERE person_id = ?", [*sets.values(), person_id])


def _problem(field: str, reason: str) -> dict[str, str]:
    return {"field": field, "reason": reason}


def _check_person(person_id: str, known: Any) -> list[dict[str, str]]:
    if not person_id or not person_id.strip():
        return [_problem("person_id", "a person id is required")]
    if known is not None and not known(person_id):
        return [_problem("person_id", f"no person {person_id} in the warehouse")]
    return []


def assign(store: Any, person_id: str, officer: str, status: str, *, by: str, list_id: str | None = None,
           officers: Sequence[str] | None = None, known: Any = None, note: str | None = None) -> None:
    """Assign a listed person to an officer with a status; every problem is reported at once."""
    ensure_schema(store)
    problems = _check_person(person_id, known)
    officer = (officer or "").strip()
    if not officer:
        problems.append(_problem("officer", "choose the officer who will take this on"))
    elif officers is not None and officer not in officers:
        problems.append(_problem("officer", f"{officer!r} is not an active officer account"))
    if status not in STATUSES:
        problems.append(_problem("status", "choose one of " + ", ".join(STATUSES)))
    if note is not None and len(note) > 2000:
        problems.append(_problem("note", "at most 2,000 characters"))
    if problems:
        raise CaseworkError(problems)
    with store.transaction():
        _upsert(store, person_id, by, list_id=list_id, assigned_to=officer, status=status)
        _event(store, person_id, by, "assigned", list_id=list_id, assigned_to=officer, status=status, note=note or None)


def set_status(store: Any, person_id: str, status: str, *, by: str, list_id: str | None = None, note: str | None = None) -> None:
    ensure_schema(store)
    problems = _check_person(person_id, None)
    if status not in STATUSES:
        problems.append(_problem("status", "choose one of " + ", ".join(STATUSES)))
    if problems:
        raise CaseworkError(problems)
    with store.transaction():
        _upsert(store, person_id, by, list_id=list_id, status=status)
        _event(store, person_id, by, "status", list_id=list_id, status=status, note=note or None)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()[:10]) if value and len(value.strip()) >= 10 else None
    except ValueError:
        return None


def record_action(store: Any, person_id: str, action: str, action_date: str, *, by: str, reason: str | None = None,
                  note: str | None = None, list_id: str | None = None, vocabulary: Vocabulary | None = None,
                  known: Any = None, today: date | None = None) -> None:
    """Record an action taken about a person, with the date it was taken (not the date it was typed)."""
    ensure_schema(store)
    vocab = vocabulary or load_vocabulary()
    problems = _check_person(person_id, known)
    a = vocab.get(action or "")
    if a is None:
        problems.append(_problem("action", "choose an action from the list"))
    day = _parse_day(action_date)
    today = today or datetime.now(timezone.utc).date()
    if day is None:
        problems.append(_problem("action_date", "the date the action was taken, as YYYY-MM-DD"))
    elif day > today:
        problems.append(_problem("action_date", "an action cannot be dated in the future"))
    elif day.year < 2000:
        problems.append(_problem("action_date", "a date after 2000-01-01"))
    if a is not None and a.needs_reason and not (reason or "").strip():
        problems.append(_problem("reason", f"'{a.label}' needs a reason"))
    if reason and len(reason) > 1000:
        problems.append(_problem("reason", "at most 1,000 characters"))
    if note and len(note) > 2000:
        problems.append(_problem("note", "at most 2,000 characters"))
    if problems:
        raise CaseworkError(problems)
    with store.transaction():
        cur = store.fetchone("SELECT status FROM casework_cases WHERE person_id = ?", [person_id])
        # An action moves a new or under-review case to "actioned"; a closed case stays closed.
        status = "actioned" if cur is None or cur["status"] in ("new", "under review") else cur["status"]
        _upsert(store, person_id, by, list_id=list_id, status=status)
        _event(store, person_id, by, "action", list_id=list_id, action_code=action, action_date=day.isoformat(),
               reason=(reason or "").strip() or None, note=(note or "").strip() or None, status=status)


def add_note(store: Any, person_id: str, note: str, *, by: str, list_id: str | None = None) -> None:
    ensure_schema(store)
    problems = _check_person(person_id, None)
    if not (note or "").strip():
        problems.append(_problem("note", "the note is empty"))
    elif len(note) > 2000:
        problems.append(_problem("note", "at most 2,000 characters"))
    if problems:
        raise CaseworkError(problems)
    with store.transaction():
        _upsert(store, person_id, by, list_id=list_id)
        _event(store, person_id, by, "note", list_id=list_id, note=note.strip())


def leave_list(store: Any, person_id: str, reason: str, *, by: str, list_id: str | None = None, note: str | None = None) -> None:
    """Record that a person left a list, and why (the reason is required)."""
    ensure_schema(store)
    problems = _check_person(person_id, None)
    if reason not in LEAVE_REASONS:
        problems.append(_problem("reason", "choose why the person leaves the list: " + ", ".join(LEAVE_REASONS)))
    if reason == "other" and not (note or "").strip():
        problems.append(_problem("note", "say why, when the reason is 'other'"))
    if problems:
        raise CaseworkError(problems)
    with store.transaction():
        _upsert(store, person_id, by, list_id=list_id, status="closed")
        _event(store, person_id, by, "left_list", list_id=list_id, reason=reason, note=(note or "").strip() or None, status="closed")


def actions_frame(store: Any) -> list[dict[str, Any]]:
    """One row per action taken: person, action, the date taken, the list it was taken from (for outcome monitoring)."""
    ensure_schema(store)
    return store.fetchall("SELECT person_id, action_code AS action, action_date, list_id, by_user FROM casework_events"
                          " WHERE kind = 'action' ORDER BY action_date, id")
