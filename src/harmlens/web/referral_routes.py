"""Referral pages and API: the packs, their lifecycle (web/referral_flow.py), and making a pack from a profile.

What each role gets back is chosen here, field by field: nobody receives a server file path or
an operating-system login (a pack names the harmlens user who made it and who approved it), and
a partner receives only approved, unexpired packs addressed to their agency, with only the
fields a partner reads. Every state change is written to the access log with who, when and why.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any, Optional

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from harmlens.web import referral_flow as flow
from harmlens.web.security import AppError

NO_REFERRALS = "No referral packs have been made yet: make one from a person's profile or with 'harmlens referral'."
# What a partner receives about a pack; everything else stays on the server.
PARTNER_KEYS = ("referral_id", "person_id", "partner", "agency", "purpose", "as_of", "made_at", "state", "made_by", "approved_by",
                "approved_at", "expires_at", "facts", "pack_html")
# What staff receive: the same plus the history; never paths, hashes of files or logins.
STAFF_KEYS = PARTNER_KEYS + ("source", "model", "history", "decisions", "fields", "pack_warning")


class DecisionBody(BaseModel):
    decision: str = Field(..., pattern="^(approved|rejected)$")
    note: Optional[str] = Field(None, max_length=2000)


class ActionBody(BaseModel):
    note: Optional[str] = Field(None, max_length=2000)


class MakeBody(BaseModel):
    partner: str = Field(..., max_length=50)
    purpose: str = Field(..., min_length=1, max_length=500)


ACTIONS = {"submit": ("referral.make",), "share": ("referral.approve",), "withdraw": ("referral.approve",),
           "reopen": ("referral.approve",)}


def register(app: FastAPI) -> None:
    from harmlens.web.app import API, log_access, principal, render, route
    from harmlens.web.auth import allowed

    wh = app.state.warehouse
    store = app.state.store
    flow.ensure_schema(store)

    def _users() -> set[str]:
        return {r["username"] for r in store.fetchall("SELECT username FROM web_users")}

    def _web_packs() -> list[dict[str, Any]]:
        rows = store.fetchall("SELECT referral_id, person_id, partner, purpose, made_by, made_at, as_of, fields, facts FROM web_referrals"
                              " ORDER BY made_at DESC")
        for r in rows:
            r["source"] = "web"
            r["agency"] = r["partner"]
        return rows

    def _decorate(r: dict[str, Any], hist: list[dict[str, Any]], users: set[str]) -> dict[str, Any]:
        st = flow.state_of(hist, source=r["source"])
        r.update(st)
        r["_maker"] = r.get("made_by")  # kept for the four-eyes check, never sent
        r["made_by"] = flow.public_maker(r.get("made_by"), users)
        r["model"] = flow.model_label(r.pop("model_card", None))
        r["history"] = hist
        r["decisions"] = [{"decision": h["state"], "decided_by": h["by_user"], "decided_at": h["at"], "note": h["note"]}
                          for h in hist if h["action"] in ("approve", "reject")]
        return r

    def _visible(p: Any, r: dict[str, Any]) -> bool:
        if p.role != "partner":
            return True
        return (str(r.get("agency") or r.get("partner") or "").lower() == (p.agency or "").lower()
                and r["state"] in flow.PARTNER_VISIBLE)

    def _shape(p: Any, r: dict[str, Any]) -> dict[str, Any]:
        keys = PARTNER_KEYS if p.role == "partner" else STAFF_KEYS
        return {k: r.get(k) for k in keys if k in r}

    def _all(request: Request) -> list[dict[str, Any]] | None:
        p = principal(request)
        cli = wh.referrals()
        web = _web_packs()
        if cli is None and not web:
            return None
        states, users = flow.all_states(store), _users()
        out = []
        for r in [*(dict(x, source="cli") for x in (cli or [])), *web]:
            r = _decorate(r, states.get(str(r["referral_id"]), []), users)
            if _visible(p, r):
                r.pop("facts", None)
                out.append(_shape(p, r))
        return out

    def _one(request: Request, referral_id: str, *, log: bool = True) -> dict[str, Any]:
        """The pack with its state, or 404 (also for a partner who may not see it: it does not exist for them)."""
        p = principal(request)
        r = store.fetchone("SELECT * FROM web_referrals WHERE referral_id = ?", [referral_id])
        if r is not None:
            r["source"], r["agency"] = "web", r["partner"]
            r["facts"] = flow.json_facts(r)
            r["fields"] = json.loads(r["fields"])
        else:
            r = wh.referral(referral_id)
            if r is not None:
                r["source"] = "cli"
        if r is None:
            raise AppError(404, "not_found", f"no referral pack {referral_id}")
        r = _decorate(r, flow.history(store, referral_id), _users())
        if not _visible(p, r):
            raise AppError(404, "not_found", f"no referral pack {referral_id}")
        if r.get("pack_html"):
            r["pack_html"] = flow.clean_pack_html(r["pack_html"], r["made_by"])
        if log:
            log_access(request, "referral.view", "referral", referral_id, detail={"agency": r.get("agency"), "state": r["state"]})
        return r

    def _step(request: Request, referral_id: str, action: str, note: Optional[str]) -> str:
        p = principal(request)
        r = _one(request, referral_id, log=False)
        pack = {"referral_id": referral_id, "source": r["source"], "made_by": r.get("_maker")}
        try:
            new = flow.transition(store, pack, action, by=p.username, note=note)
        except flow.FlowError as exc:
            raise AppError(exc.status, exc.code, exc.message) from None
        log_access(request, f"referral.{new}" if action in ("approve", "reject") else f"referral.{action}", "referral", referral_id,
                   detail={"action": action, "state": new, "reason": (note or "").strip() or None})
        return new

    # -- pages -----------------------------------------------------------------------------------------
    def referrals_page(request: Request) -> Response:
        items = _all(request)
        log_access(request, "list.view", "referrals")
        return render(request, "referrals.html.j2", items=items, empty=NO_REFERRALS)

    def referral_page(request: Request, referral_id: str) -> Response:
        p = principal(request)
        r = _one(request, referral_id)
        return render(request, "referral.html.j2", r=_shape(p, r), can_decide=allowed(p.role, "referral.approve"),
                      can_submit=allowed(p.role, "referral.make"), problem=request.query_params.get("problem"))

    def decide_page(request: Request, referral_id: str, decision: str = Form("", max_length=20),
                    note: str = Form("", max_length=2000)) -> Response:
        if decision not in ("approved", "rejected"):
            raise AppError(422, "validation_failed", "decision must be approved or rejected")
        _step(request, referral_id, "approve" if decision == "approved" else "reject", note)
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

    def action_page(request: Request, referral_id: str, action: str, note: str = Form("", max_length=2000)) -> Response:
        p = principal(request)
        if action not in ACTIONS or not any(allowed(p.role, x) for x in ACTIONS[action]):
            raise AppError(403, "forbidden", "your role does not allow this")
        _step(request, referral_id, action, note)
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

    # -- API -------------------------------------------------------------------------------------------
    def referrals_api(request: Request) -> dict[str, Any]:
        items = _all(request)
        log_access(request, "list.view", "referrals", detail={"via": "api"})
        return {"available": items is not None, "message": None if items is not None else NO_REFERRALS, "items": items or []}

    def referral_api(request: Request, referral_id: str) -> dict[str, Any]:
        return _shape(principal(request), _one(request, referral_id))

    def decide_api(request: Request, referral_id: str, body: DecisionBody) -> dict[str, Any]:
        new = _step(request, referral_id, "approve" if body.decision == "approved" else "reject", body.note)
        return {"referral_id": referral_id, "decision": body.decision, "state": new}

    def action_api(request: Request, referral_id: str, action: str, body: ActionBody) -> dict[str, Any]:
        p = principal(request)
        if action not in ACTIONS:
            raise AppError(404, "not_found", f"no action {action}: use one of {', '.join(ACTIONS)}")
        if not any(allowed(p.role, x) for x in ACTIONS[action]):
            raise AppError(403, "forbidden", "your role does not allow this")
        return {"referral_id": referral_id, "state": _step(request, referral_id, action, body.note)}

    # -- making a pack from a profile --------------------------------------------------------------
    def _make(request: Request, person_id: str, partner: str, purpose: str) -> dict[str, Any]:
        from harmlens.referral.fields import PARTNER_FIELDS, nothing_needed_message

        p = principal(request)
        problems = []
        if partner not in PARTNER_FIELDS:
            problems.append({"field": "partner", "reason": "choose one of " + ", ".join(PARTNER_FIELDS)})
        if not (purpose or "").strip():
            problems.append({"field": "purpose", "reason": "say why this partner needs the information"})
        if problems:
            raise AppError(422, "validation_failed", "; ".join(f"{x['field']}: {x['reason']}" for x in problems), extra=problems)
        facts = wh.person_facts(person_id)
        if facts is None:
            raise AppError(404, "not_found", f"no person {person_id} in the warehouse")
        refusal = nothing_needed_message(person_id, partner, facts)
        if refusal:
            raise AppError(422, "nothing_to_refer", refusal)
        facts["reason"] = purpose.strip()
        facts["model_card"] = flow.model_label(facts.get("model_card"))
        fields = PARTNER_FIELDS[partner]
        rid = f"RW-{uuid.uuid4().hex[:12]}"
        from harmlens.web.auth import now_iso

        store.execute("INSERT INTO web_referrals (referral_id, person_id, partner, purpose, made_by, made_at, as_of, fields, facts)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [rid, person_id, partner, purpose.strip(), p.username, now_iso(), str(facts.get("as_of") or date.today()),
                       json.dumps(list(fields)), json.dumps({f: facts.get(f) for f in fields}, default=str)])
        log_access(request, "referral.draft", "referral", rid, detail={"person_id": person_id, "partner": partner, "purpose": purpose.strip()})
        return {"referral_id": rid, "state": "draft", "partner": partner}

    def make_page(request: Request, person_id: str, partner: str = Form("", max_length=50), purpose: str = Form("", max_length=500)) -> Response:
        try:
            out = _make(request, person_id, partner, purpose)
        except AppError as exc:
            if exc.status == 404:
                raise
            return render(request, "referral_new.html.j2", status=400, person_id=person_id, partner=partner, purpose=purpose,
                          message=exc.message, partners=_partner_labels())
        return RedirectResponse(f"/referrals/{out['referral_id']}", status_code=303)

    def make_form(request: Request, person_id: str) -> Response:
        return render(request, "referral_new.html.j2", person_id=person_id, partner="", purpose="", message=None, partners=_partner_labels())

    def make_api(request: Request, person_id: str, body: MakeBody) -> JSONResponse:
        return JSONResponse(_make(request, person_id, body.partner, body.purpose), status_code=201)

    rperm = ("referral.view", "referral.view_own")
    route(app, "GET", "/referrals", rperm, referrals_page, include_in_schema=False)
    route(app, "GET", "/referrals/{referral_id}", rperm, referral_page, include_in_schema=False)
    route(app, "POST", "/referrals/{referral_id}/decision", ("referral.approve",), decide_page, include_in_schema=False)
    route(app, "POST", "/referrals/{referral_id}/do/{action}", ("referral.make", "referral.approve"), action_page, include_in_schema=False)
    route(app, "GET", "/persons/{person_id}/referral", ("referral.make",), make_form, include_in_schema=False)
    route(app, "POST", "/persons/{person_id}/referral", ("referral.make",), make_page, include_in_schema=False)
    route(app, "GET", f"{API}/referrals", rperm, referrals_api, tags=["referrals"], summary="Referral packs (partners: approved packs for their agency)")
    route(app, "GET", f"{API}/referrals/{{referral_id}}", rperm, referral_api, tags=["referrals"], summary="One referral pack")
    route(app, "POST", f"{API}/referrals/{{referral_id}}/decision", ("referral.approve",), decide_api, tags=["referrals"],
          summary="Approve or reject a submitted referral (supervisor, not its maker; a rejection needs a note; final)")
    route(app, "POST", f"{API}/referrals/{{referral_id}}/actions/{{action}}", ("referral.make", "referral.approve"), action_api,
          tags=["referrals"], summary="submit (maker) | share | withdraw (reason) | reopen (reason) a referral")
    route(app, "POST", f"{API}/persons/{{person_id}}/referrals", ("referral.make",), make_api, tags=["referrals"],
          summary="Make a draft referral pack for a partner from a person's record", status_code=201)


def _partner_labels() -> dict[str, str]:
    from harmlens.referral.fields import PARTNER_LABELS

    return dict(PARTNER_LABELS)
