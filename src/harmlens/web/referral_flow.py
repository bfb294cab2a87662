"""The referral lifecycle, kept in the operational store: draft -> submitted -> approved | rejected -> shared -> withdrawn | expired.

Packs are made by ``harmlens referral`` (recorded in the warehouse's ``referral_packs``) or from
a profile in the web app (recorded here, in ``web_referrals``); their states are rows of
``referral_states``, appended and never updated, so the history of every pack is kept. A pack
made at the command line is submitted by being made (the maker ran the command to send it for
review); one made in the app starts as a draft its maker submits.

Rules (each answered with its own status code by the routes):

- a decision (approved / rejected) is taken on a submitted pack only, by someone who did not make
  it (four eyes); rejecting needs a reason; a decided pack answers 409 to a second decision;
- reopening a decided pack is its own action, with a reason, and puts it back to submitted;
- an approved pack is shared with the partner, and can be withdrawn (with a reason);
- an approved or shared pack expires ``HARMLENS_REFERRAL_DAYS`` days (default 28) after approval:
  expiry is a date, not an action, so it is computed when the pack is read;
- a partner reads a pack only when it is approved or shared, unexpired, and addressed to their agency.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any

STATES = ("draft", "submitted", "approved", "rejected", "shared", "withdrawn", "expired")
PARTNER_VISIBLE = ("approved", "shared")
DEFAULT_DAYS = 28

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS referral_states (
        id {autoid},
        referral_id TEXT NOT NULL,
        state TEXT NOT NULL,
        action TEXT NOT NULL,
        by_user TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS referral_states_ref ON referral_states (referral_id, id)",
    """CREATE TABLE IF NOT EXISTS web_referrals (
        referral_id TEXT PRIMARY KEY,
        person_id TEXT NOT NULL,
        partner TEXT NOT NULL,
        purpose TEXT NOT NULL,
        made_by TEXT NOT NULL,
        made_at TEXT NOT NULL,
        as_of TEXT NOT NULL,
        fields TEXT NOT NULL,
        facts TEXT NOT NULL
    )""",
]


class FlowError(Exception):
    """A lifecycle step refused: ``status`` is the HTTP answer (403, 404, 409, 422)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def ensure_schema(store: Any) -> None:
    if getattr(store, "_hl_referral_schema", False):  # once per store object
        return
    from harmlens.casework.records import create_tables

    create_tables(store, _SCHEMA)
    store._hl_referral_schema = True


def expiry_days() -> int:
    try:
        return max(1, int(os.environ.get("HARMLENS_REFERRAL_DAYS", DEFAULT_DAYS)))
    except ValueError:
        return DEFAULT_DAYS


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def history(store: Any, referral_id: str) -> list[dict[str, Any]]:
    ensure_schema(store)
    return store.fetchall("SELECT state, action, by_user, at, note FROM referral_states WHERE referral_id = ? ORDER BY id", [referral_id])


def all_states(store: Any) -> dict[str, list[dict[str, Any]]]:
    ensure_schema(store)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in store.fetchall("SELECT referral_id, state, action, by_user, at, note FROM referral_states ORDER BY id"):
        out.setdefault(r["referral_id"], []).append(r)
    return out


def state_of(hist: list[dict[str, Any]], *, source: str, now: datetime | None = None) -> dict[str, Any]:
    """The pack's state now, who approved it and when it expires, from its history."""
    state = "submitted" if source == "cli" else "draft"
    approved_by = approved_at = None
    for h in hist:
        state = h["state"]
        if h["state"] == "approved":
            approved_by, approved_at = h["by_user"], h["at"]
        elif h["state"] == "submitted":
            approved_by = approved_at = None
    expires_at = None
    if approved_at and state in PARTNER_VISIBLE:
        exp = _parse(approved_at) + timedelta(days=expiry_days())
        expires_at = _iso(exp)
        if (now or _now()) >= exp:
            state = "expired"
    return {"state": state, "approved_by": approved_by, "approved_at": approved_at, "expires_at": expires_at}


def _append(store: Any, referral_id: str, state: str, action: str, by: str, note: str | None) -> None:
    store.execute("INSERT INTO referral_states (referral_id, state, action, by_user, at, note) VALUES (?, ?, ?, ?, ?, ?)",
                  [referral_id, state, action, by, _iso(_now()), note])


def transition(store: Any, pack: dict[str, Any], action: str, *, by: str, note: str | None) -> str:
    """Apply ``action`` (submit, approve, reject, share, withdraw, reopen) to ``pack``; returns the new state.

    ``pack`` carries ``referral_id``, ``source`` (cli | web) and ``made_by`` (the harmlens user or login who made it).
    The check and the append happen in one write transaction, so two decisions sent at once cannot both land.
    """
    ensure_schema(store)
    note = (note or "").strip() or None
    rid = str(pack["referral_id"])
    with store.write_lock(), store.transaction(exclusive=True):
        if store.dialect == "postgresql":
            # SQLite's BEGIN IMMEDIATE serialises writers; on PostgreSQL a transaction lock on the pack does.
            store.execute("SELECT pg_advisory_xact_lock(hashtext(?))", ["referral:" + rid])
        cur = state_of(history(store, rid), source=pack["source"])["state"]
        if action == "submit":
            if cur != "draft":
                raise FlowError(409, "conflict", f"referral {rid} is {cur}: only a draft is submitted")
            new = "submitted"
        elif action in ("approve", "reject"):
            if cur in ("approved", "rejected", "shared", "withdrawn", "expired"):
                raise FlowError(409, "already_decided", f"referral {rid} is already {cur}: a decision is final; reopen it (with a reason) to decide again")
            if cur != "submitted":
                raise FlowError(409, "conflict", f"referral {rid} is a draft: its maker submits it first")
            if (pack.get("made_by") or "").lower() == by.lower():
                raise FlowError(403, "four_eyes", "you made this referral: another supervisor must decide it (four eyes)")
            if action == "reject" and not note:
                raise FlowError(422, "validation_failed", "note: a rejection needs a reason")
            new = "approved" if action == "approve" else "rejected"
        elif action == "share":
            if cur != "approved":
                raise FlowError(409, "conflict", f"referral {rid} is {cur}: only an approved pack is shared")
            new = "shared"
        elif action == "withdraw":
            if cur not in ("approved", "shared", "submitted", "draft"):
                raise FlowError(409, "conflict", f"referral {rid} is {cur}: it cannot be withdrawn")
            if not note:
                raise FlowError(422, "validation_failed", "note: withdrawing needs a reason")
            new = "withdrawn"
        elif action == "reopen":
            if cur not in ("approved", "rejected", "shared", "withdrawn", "expired"):
                raise FlowError(409, "conflict", f"referral {rid} is {cur}: only a decided pack is reopened")
            if not note:
                raise FlowError(422, "validation_failed", "note: reopening needs a reason")
            new = "submitted"
        else:
            raise FlowError(422, "validation_failed", f"unknown action {action!r}")
        _append(store, rid, new, action, by, note)
    return new


# -- what leaves the server ---------------------------------------------------------------------------
# An absolute file path (two segments at least), not a closing tag, a URL or a relative link.
_PATHISH = re.compile(r"(?<![<\w:/.])/(?:[\w.-]+/)+[\w.-]+")
_DOCS = re.compile(r"\s*\(?see docs/[A-Za-z0-9_./-]+\)?")
_MADE_BY = re.compile(r"(made by )([^<.]*)(\.)")


def model_label(model_card: Any) -> str | None:
    """'model v3' from the stored reference (which may hold the card's server path): never the path."""
    if not model_card:
        return None
    m = re.match(r"\s*(model\s+\S+?)[:\s(]", str(model_card) + " ")
    if m:
        return m.group(1)
    return "model card recorded" if "/" in str(model_card) else str(model_card)


def clean_pack_html(html: str, made_by_user: str) -> str:
    """A pack's HTML without server paths, developer documentation references or an operating-system login."""
    html = _DOCS.sub("", html)
    html = _MADE_BY.sub(lambda m: m.group(1) + made_by_user + m.group(3), html)
    return _PATHISH.sub(lambda m: m.group(0) if m.group(0).startswith(("/static/", "/referrals/")) else "[on the server]", html)


def public_maker(made_by: str | None, users: set[str]) -> str:
    """The harmlens user who made the pack; a login that is not a harmlens user is not shown."""
    return made_by if made_by and made_by in users else "a harmlens user at the command line"


def json_facts(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(row.get("facts") or "{}")
    except ValueError:
        return {}
