"""The unit's casework in the web app: publishing lists, list history, search, assignments, actions, audit.

Everything written here goes to the operational store (SQLite/PostgreSQL), never to the warehouse,
so the pipeline's commands can write the warehouse while people work (docs/web.md).

- A list is not what people open until a supervisor publishes it: the priority and victims pages
  open the newest *published* list of their kind (``list_publications``).
- Search (by person id or recorded name) asks for the purpose first, needs at least 3 characters,
  answers at most 20 people and logs the purpose and the number of results (never the text typed,
  which can be a name).
- Assignment and action forms report every problem at once (harmlens.casework).
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from harmlens.web import accesslog
from harmlens.web.security import AppError

SEARCH_MIN = 3
SEARCH_MAX_RESULTS = 20

_PUB_SCHEMA = """CREATE TABLE IF NOT EXISTS list_publications (
    id {autoid},
    list_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL,
    note TEXT
)"""


def ensure_schema(store: Any) -> None:
    if not getattr(store, "_hl_publish_schema", False):  # once per store object
        from harmlens.casework.records import create_tables

        create_tables(store, [_PUB_SCHEMA])
        store._hl_publish_schema = True


def published_list_id(store: Any, kind: str) -> str | None:
    """The list of ``kind`` (offenders | victims) people open: the one published last."""
    ensure_schema(store)
    r = store.fetchone("SELECT list_id FROM list_publications WHERE kind = ? ORDER BY id DESC LIMIT 1", [kind])
    return r["list_id"] if r else None


def publish(store: Any, list_id: str, kind: str, by: str, note: str | None = None) -> None:
    from harmlens.web.auth import now_iso

    ensure_schema(store)
    store.execute("INSERT INTO list_publications (list_id, kind, published_by, published_at, note) VALUES (?, ?, ?, ?, ?)",
                  [list_id, kind, by, now_iso(), note])


class AssignBody(BaseModel):
    officer: str = Field("", max_length=100)
    status: str = Field("", max_length=30)
    note: Optional[str] = Field(None, max_length=4000)
    list_id: Optional[str] = Field(None, max_length=200)


class ActionBody(BaseModel):
    action: str = Field("", max_length=60)
    action_date: str = Field("", max_length=40)
    reason: Optional[str] = Field(None, max_length=4000)
    note: Optional[str] = Field(None, max_length=4000)
    list_id: Optional[str] = Field(None, max_length=200)


class LeaveBody(BaseModel):
    reason: str = Field("", max_length=100)
    note: Optional[str] = Field(None, max_length=4000)
    list_id: Optional[str] = Field(None, max_length=200)


class PublishBody(BaseModel):
    note: Optional[str] = Field(None, max_length=2000)


def register(app: FastAPI) -> None:
    from harmlens import casework as cw
    from harmlens.casework.records import LEAVE_REASONS, STATUSES
    from harmlens.web.app import API, log_access, principal, render, route
    from harmlens.web.auth import allowed

    wh = app.state.warehouse
    store = app.state.store
    ensure_schema(store)
    cw.ensure_schema(store)
    vocab = cw.load_vocabulary()
    # Every reader of "the current list" (list pages, a profile's list rank) opens the published one.
    wh.default_list = lambda kind: published_list_id(store, kind)
    if hasattr(wh, "current"):
        wh.current.default_list = wh.default_list

    def officers() -> list[str]:
        return [r["username"] for r in store.fetchall("SELECT username FROM web_users WHERE role = 'officer' AND disabled = 0 ORDER BY username")]

    # -- lists: history, churn, publishing -----------------------------------------------------------
    def _lists() -> list[dict[str, Any]]:
        ensure_schema(store)
        pubs: dict[str, list[dict[str, Any]]] = {}
        for r in store.fetchall("SELECT list_id, kind, published_by, published_at, note FROM list_publications ORDER BY id"):
            pubs.setdefault(r["list_id"], []).append(r)
        current = {k: published_list_id(store, k) for k in ("offenders", "victims")}
        out = []
        for kind in ("offenders", "victims"):
            for x in wh.stored_lists(kind):
                out.append({"list_id": x["list_id"], "kind": kind, "method": x["method"], "as_of": x["as_of"], "n_entries": x["n_entries"],
                            "expired": x["expired"], "published": pubs.get(x["list_id"], []), "current": current[kind] == x["list_id"],
                            "churn": wh.list_churn(x["list_id"])})
        return out

    def lists_page(request: Request) -> Response:
        items = _lists()
        log_access(request, "list.history", "priority_list")
        return render(request, "lists.html.j2", items=items, can_publish=allowed(principal(request).role, "list.publish"))

    def lists_api(request: Request) -> dict[str, Any]:
        log_access(request, "list.history", "priority_list", detail={"via": "api"})
        return {"items": _lists()}

    def _publish(request: Request, list_id: str, note: Optional[str]) -> str:
        kind = next((k for k in ("offenders", "victims") for x in wh.stored_lists(k) if x["list_id"] == list_id), None)
        if kind is None:
            raise AppError(404, "not_found", f"no stored list {list_id}")
        lst = next(x for x in wh.stored_lists(kind) if x["list_id"] == list_id)
        if lst["expired"]:
            raise AppError(409, "expired", f"list {list_id} has expired: rebuild it with 'harmlens rank' before publishing")
        publish(store, list_id, kind, principal(request).username, (note or "").strip() or None)
        log_access(request, "list.publish", "priority_list", list_id, detail={"kind": kind, "note": (note or "").strip() or None})
        return kind

    def publish_page(request: Request, list_id: str, note: str = Form("", max_length=2000)) -> Response:
        _publish(request, list_id, note)
        return RedirectResponse("/lists", status_code=303)

    def publish_api(request: Request, list_id: str, body: PublishBody) -> dict[str, Any]:
        return {"list_id": list_id, "kind": _publish(request, list_id, body.note), "published": True}

    route(app, "GET", "/lists", ("list.history",), lists_page, include_in_schema=False)
    route(app, "POST", "/lists/{list_id}/publish", ("list.publish",), publish_page, include_in_schema=False)
    route(app, "GET", f"{API}/lists", ("list.history",), lists_api, tags=["lists"], summary="Stored lists: history, churn, publication")
    route(app, "POST", f"{API}/lists/{{list_id}}/publish", ("list.publish",), publish_api, tags=["lists"],
          summary="Publish a list: it becomes the one people open (supervisor)")

    # -- search (purpose first) ----------------------------------------------------------------------
    def _search(request: Request, q: str, purpose: str) -> list[dict[str, Any]]:
        q = (q or "").strip()
        problems = []
        if purpose not in accesslog.PURPOSES:
            problems.append({"field": "purpose", "reason": "choose why you are searching"})
        if len(q) < SEARCH_MIN:
            problems.append({"field": "q", "reason": f"type at least {SEARCH_MIN} characters of a person id or name"})
        if problems:
            raise AppError(422, "validation_failed", "; ".join(f"{p['field']}: {p['reason']}" for p in problems), extra=problems)
        rows = wh.search_people(q, SEARCH_MAX_RESULTS)
        # The text typed may be a name: the log keeps its length and the number of results, not the text.
        log_access(request, "person.search", "person", None, purpose=purpose, detail={"chars": len(q), "results": len(rows)})
        return rows

    def search_page(request: Request, q: str = Query("", max_length=100), purpose: str = Query("", max_length=50)) -> Response:
        rows, message = None, None
        if q or purpose:
            try:
                rows = _search(request, q, purpose)
            except AppError as exc:
                message = exc.message
        return render(request, "search.html.j2", q=q, purpose=purpose, rows=rows, message=message, max_results=SEARCH_MAX_RESULTS)

    def search_api(request: Request, q: str = Query(..., max_length=100), purpose: str = Query(..., max_length=50)) -> dict[str, Any]:
        rows = _search(request, q, purpose)
        return {"items": rows, "truncated": len(rows) >= SEARCH_MAX_RESULTS}

    route(app, "GET", "/search", ("person.search",), search_page, include_in_schema=False)
    route(app, "GET", f"{API}/search", ("person.search",), search_api, tags=["persons"],
          summary="Find people by id or recorded name (purpose required, at least 3 characters, at most 20 results)")

    # -- casework ------------------------------------------------------------------------------------
    def _problems(exc: Any) -> AppError:
        return AppError(422, "validation_failed", str(exc), extra=exc.problems)

    def _case(request: Request, person_id: str) -> dict[str, Any]:
        p = principal(request)
        c = cw.case(store, person_id)
        if p.role == "officer" and (c is None or c["assigned_to"] != p.username):
            raise AppError(404, "not_found", f"no case {person_id} assigned to you")
        log_access(request, "casework.view", "case", person_id)
        return {"person_id": person_id, "case": c, "history": cw.history(store, person_id)}

    def casework_page(request: Request) -> Response:
        p = principal(request)
        if p.role == "officer":
            rows = cw.cases(store, assigned_to=p.username)
        else:
            rows = cw.cases(store)
        log_access(request, "casework.list", "case")
        return render(request, "casework.html.j2", rows=rows)

    def case_page(request: Request, person_id: str) -> Response:
        return _render_case(request, person_id)

    def _render_case(request: Request, person_id: str, status: int = 200, problems: list[dict[str, str]] | None = None,
                     form: str | None = None, values: dict[str, Any] | None = None) -> Response:
        d = _case(request, person_id)
        p = principal(request)
        return render(request, "case.html.j2", status=status, d=d, problems=problems or [], form=form, values=values or {},
                      statuses=STATUSES, actions=vocab.actions, leave_reasons=LEAVE_REASONS, officers=officers(),
                      can_assign=allowed(p.role, "casework.edit"), vocab_labels={a.code: a.label for a in vocab.actions})

    def _act(request: Request, person_id: str, action: str, action_date: str, reason: Optional[str], note: Optional[str],
             list_id: Optional[str]) -> None:
        p = principal(request)
        if p.role == "officer":
            c = cw.case(store, person_id)
            if c is None or c["assigned_to"] != p.username:
                raise AppError(404, "not_found", f"no case {person_id} assigned to you")
        cw.record_action(store, person_id, action, action_date, by=p.username, reason=reason, note=note, list_id=list_id,
                         vocabulary=vocab)
        log_access(request, "casework.action", "case", person_id, detail={"action": action, "action_date": action_date[:10]})

    def _assign(request: Request, person_id: str, officer: str, status: str, note: Optional[str], list_id: Optional[str]) -> None:
        p = principal(request)
        cw.assign(store, person_id, officer, status, by=p.username, list_id=list_id or published_list_id(store, "offenders"),
                  officers=officers(), note=note)
        log_access(request, "casework.assign", "case", person_id, detail={"officer": officer, "status": status})

    def _leave(request: Request, person_id: str, reason: str, note: Optional[str], list_id: Optional[str]) -> None:
        p = principal(request)
        cw.leave_list(store, person_id, reason, by=p.username, list_id=list_id or published_list_id(store, "offenders"), note=note)
        log_access(request, "casework.leave_list", "case", person_id, detail={"reason": reason})

    def assign_page(request: Request, person_id: str, officer: str = Form("", max_length=100), status: str = Form("", max_length=30),
                    note: str = Form("", max_length=4000), list_id: str = Form("", max_length=200)) -> Response:
        try:
            _assign(request, person_id, officer, status, note or None, list_id or None)
        except cw.CaseworkError as exc:
            return _render_case(request, person_id, 400, exc.problems, "assign", dict(officer=officer, status=status, note=note))
        return RedirectResponse(f"/casework/{person_id}", status_code=303)

    def action_page(request: Request, person_id: str, action: str = Form("", max_length=60), action_date: str = Form("", max_length=40),
                    reason: str = Form("", max_length=4000), note: str = Form("", max_length=4000),
                    list_id: str = Form("", max_length=200)) -> Response:
        try:
            _act(request, person_id, action, action_date, reason or None, note or None, list_id or None)
        except cw.CaseworkError as exc:
            return _render_case(request, person_id, 400, exc.problems, "action",
                                dict(action=action, action_date=action_date, reason=reason, note=note))
        return RedirectResponse(f"/casework/{person_id}?saved=action", status_code=303)

    def leave_page(request: Request, person_id: str, reason: str = Form("", max_length=100), note: str = Form("", max_length=4000),
                   list_id: str = Form("", max_length=200)) -> Response:
        try:
            _leave(request, person_id, reason, note or None, list_id or None)
        except cw.CaseworkError as exc:
            return _render_case(request, person_id, 400, exc.problems, "leave", dict(reason=reason, note=note))
        return RedirectResponse(f"/casework/{person_id}", status_code=303)

    def case_api(request: Request, person_id: str) -> dict[str, Any]:
        return _case(request, person_id)

    def assign_api(request: Request, person_id: str, body: AssignBody) -> dict[str, Any]:
        try:
            _assign(request, person_id, body.officer, body.status, body.note, body.list_id)
        except cw.CaseworkError as exc:
            raise _problems(exc) from None
        return cw.case(store, person_id) or {}

    def action_api(request: Request, person_id: str, body: ActionBody) -> JSONResponse:
        try:
            _act(request, person_id, body.action, body.action_date, body.reason, body.note, body.list_id)
        except cw.CaseworkError as exc:
            raise _problems(exc) from None
        return JSONResponse(cw.case(store, person_id) or {}, status_code=201)

    def leave_api(request: Request, person_id: str, body: LeaveBody) -> dict[str, Any]:
        try:
            _leave(request, person_id, body.reason, body.note, body.list_id)
        except cw.CaseworkError as exc:
            raise _problems(exc) from None
        return cw.case(store, person_id) or {}

    def vocab_api(request: Request) -> dict[str, Any]:
        return {"statuses": list(STATUSES), "leave_reasons": list(LEAVE_REASONS),
                "actions": [{"code": a.code, "label": a.label, "needs_reason": a.needs_reason} for a in vocab.actions]}

    view = ("casework.view", "casework.mine")
    route(app, "GET", "/casework", view, casework_page, include_in_schema=False)
    route(app, "GET", "/casework/{person_id}", view, case_page, include_in_schema=False)
    route(app, "POST", "/casework/{person_id}/assign", ("casework.edit",), assign_page, include_in_schema=False)
    route(app, "POST", "/casework/{person_id}/action", ("casework.edit", "casework.mine"), action_page, include_in_schema=False)
    route(app, "POST", "/casework/{person_id}/leave", ("casework.edit",), leave_page, include_in_schema=False)
    route(app, "GET", f"{API}/casework/vocabulary", view, vocab_api, tags=["casework"], summary="Statuses, actions and reasons to leave a list")
    route(app, "GET", f"{API}/casework/{{person_id}}", view, case_api, tags=["casework"], summary="A person's case and history")
    route(app, "POST", f"{API}/casework/{{person_id}}/assignment", ("casework.edit",), assign_api, tags=["casework"],
          summary="Assign to an officer with a status")
    route(app, "POST", f"{API}/casework/{{person_id}}/actions", ("casework.edit", "casework.mine"), action_api, tags=["casework"],
          summary="Record an action taken (with its date)", status_code=201)
    route(app, "POST", f"{API}/casework/{{person_id}}/leave", ("casework.edit",), leave_api, tags=["casework"],
          summary="Record that a person left the list, and why")

    # -- audit: referral decisions and casework history (read only) --------------------------------
    def _audit(request: Request) -> dict[str, Any]:
        from harmlens.web import referral_flow

        referral_flow.ensure_schema(store)
        states = store.fetchall("SELECT referral_id, state, action, by_user, at, note FROM referral_states ORDER BY id DESC LIMIT 500")
        events = cw.history(store, None, limit=500)
        pubs = store.fetchall("SELECT list_id, kind, published_by, published_at, note FROM list_publications ORDER BY id DESC LIMIT 200")
        log_access(request, "casework.audit", "case")
        return {"referral_states": states, "casework_events": events, "publications": pubs}

    def audit_page(request: Request) -> Response:
        return render(request, "casework_audit.html.j2", **_audit(request), labels={a.code: a.label for a in vocab.actions})

    def audit_api(request: Request) -> dict[str, Any]:
        return _audit(request)

    route(app, "GET", "/casework-audit", ("casework.audit",), audit_page, include_in_schema=False)
    route(app, "GET", f"{API}/casework-audit", ("casework.audit",), audit_api, tags=["casework"],
          summary="Referral decisions, list publications and casework history (auditor, read only)")
