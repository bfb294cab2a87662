"""Pages and REST API routes. Each page has an API twin answering the same data as JSON."""

from __future__ import annotations

import json
from typing import Any, Optional, Union

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from harmlens.web import accesslog, charts
from harmlens.web.denials import log_denial_sync
from harmlens.web.passwords import MAX_LENGTH as MAX_PASSWORD
from harmlens.web.security import PRELOGIN_COOKIE, AppError, client_ip, safe_next

NO_LIST = ("No priority list has been published yet: run 'harmlens rank' on this warehouse, then a supervisor publishes it"
           " on the List history page.")
NO_VICTIMS = ("No victims-at-risk list has been published yet: run 'harmlens victims' on this warehouse, then a supervisor"
              " publishes it on the List history page.")
NO_MODELS = "No model has been trained yet: run 'harmlens train' on this warehouse."
NO_STOPS = "No stop records in the warehouse yet: ingest a stops extract or record stops in the app."
NO_REFERRALS = "No referral packs have been produced yet: run 'harmlens referral' on this warehouse."
NO_AUDIT = "No audit report has been produced yet: run 'harmlens audit' on this warehouse."
NO_PEOPLE = "No linked people in the warehouse yet: run 'harmlens ingest' and 'harmlens link'."


# -- request bodies (API) ----------------------------------------------------------------------------
class LoginBody(BaseModel):
    username: str = Field(..., max_length=200)
    password: str = Field(..., max_length=MAX_PASSWORD)


class StopBody(BaseModel):
    stop_id: Optional[str] = Field(None, max_length=100)
    occurred_at: str = Field(..., max_length=40)
    legislation: str = Field(..., max_length=200)
    self_defined_ethnicity: Optional[str] = Field(None, max_length=100)
    officer_defined_ethnicity: Optional[str] = Field(None, max_length=100)
    sex: Optional[str] = Field(None, max_length=20)
    age_range: Optional[str] = Field(None, max_length=20)
    borough: Optional[str] = Field(None, max_length=100)
    latitude: Optional[Union[float, str]] = Field(None)
    longitude: Optional[Union[float, str]] = Field(None)
    reason: Optional[str] = Field(None, max_length=500)
    outcome: Optional[str] = Field(None, max_length=200)
    searched: Optional[Union[bool, str]] = Field(None)
    found: Optional[Union[bool, str]] = Field(None)


def register(app: FastAPI) -> None:
    from harmlens.web.app import ANY_USER, API, HOME, PUBLIC, route

    wh = app.state.warehouse
    store = app.state.store
    sessions = app.state.sessions

    from harmlens.web.app import csv_response, log_access, log_access_async, new_prelogin, page_url, principal, render, set_session_cookie

    def published(kind: str) -> str | None:
        """The list people open: the one a supervisor published last (web/casework_routes.py)."""
        from harmlens.web.casework_routes import published_list_id

        return published_list_id(store, kind)

    # The busiest routes (list pages, person profiles, and their API twins) are ``async``: their
    # reads are in-memory lists and serving-index point lookups (tens of microseconds, see
    # data.py), so they run on the event loop instead of hopping to the thread pool, where
    # dozens of threads would contend for the GIL; the access-log append is awaited on the log
    # writer thread (logwriter.py). Routes that run DuckDB queries stay sync (thread pool).

    # -- public ------------------------------------------------------------------------------------
    def home(request: Request) -> Response:
        p, _ = sessions.resolve(request.cookies.get("hl_session"))
        return RedirectResponse(HOME.get(p.role, "/login") if p else "/login", status_code=303)

    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def login_page(request: Request, next: Optional[str] = None, expired: Optional[str] = None) -> Response:
        resp = HTMLResponse("")
        tok = new_prelogin(resp, request)
        page = render(request, "login.html.j2", next=safe_next(next) or "", pre=tok,
                      message="Your session ended after a period of inactivity: sign in again." if expired else None)
        page.headers.append("set-cookie", resp.headers["set-cookie"])
        return page

    def login_submit(
        request: Request,
        username: str = Form("", max_length=200),
        password: str = Form("", max_length=MAX_PASSWORD),
        csrf_token: str = Form(""),
        next: str = Form(""),
    ) -> Response:
        pre = request.cookies.get(PRELOGIN_COOKIE)
        if not pre or not csrf_token or pre != csrf_token:
            raise AppError(403, "csrf_failed", "the sign-in form was out of date: reload the page and try again")
        try:
            token, p = sessions.login(username, password, client_ip(request))
        except AppError as exc:
            log_denial_sync(request, exc)
            return render(request, "login.html.j2", status=exc.status, next=safe_next(next) or "", pre=pre, message=exc.message, username=username)
        request.state.principal = p
        log_access(request, "login", "session")
        resp = RedirectResponse(safe_next(next) or HOME.get(p.role, "/"), status_code=303)
        set_session_cookie(resp, request, token)
        return resp

    def logout(request: Request) -> Response:
        sessions.logout(principal(request))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie("hl_session", path="/")
        return resp

    route(app, "GET", "/", PUBLIC, home, include_in_schema=False)
    route(app, "GET", "/healthz", PUBLIC, healthz, include_in_schema=False)
    route(app, "GET", "/login", PUBLIC, login_page, include_in_schema=False)
    route(app, "POST", "/login", PUBLIC, login_submit, include_in_schema=False)
    route(app, "POST", "/logout", ANY_USER, logout, include_in_schema=False)

    # -- priority list -----------------------------------------------------------------------------
    async def _priority(request: Request, list_id: Optional[str], borough: Optional[str], band: Optional[str], sort: str, page: int,
                        size: int) -> dict[str, Any] | None:
        lid = list_id or published("offenders")
        data = wh.priority_list(list_id=lid, borough=borough or None, band=band or None, sort=sort, page=page, size=size) if lid else None
        await log_access_async(request, "list.view", "priority_list", data["list_id"] if data else None,
                               detail={"borough": borough, "band": band, "sort": sort, "page": page})
        return data

    async def priority_page(
        request: Request,
        list_id: Optional[str] = Query(None, max_length=200),
        borough: Optional[str] = Query(None, max_length=100),
        band: Optional[str] = Query(None, max_length=50),
        sort: str = Query("rank", pattern="^(rank|risk|harm|last_event)$"),
        page: int = Query(1, ge=1, le=100000),
        size: int = Query(50, ge=1, le=500),
    ) -> Response:
        data = await _priority(request, list_id, borough, band, sort, page, size)
        ctx = dict(data=data, empty=NO_LIST, borough=borough or "", band=band or "", sort=sort, size=size, list_id=list_id or "",
                   url=lambda **kw: page_url("/priority", **{"list_id": list_id, "borough": borough, "band": band, "sort": sort,
                                                             "size": size, **kw}))
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "list":
            return render(request, "_priority_table.html.j2", **ctx)
        return render(request, "priority.html.j2", **ctx)

    def priority_csv(
        request: Request,
        list_id: Optional[str] = Query(None, max_length=200),
        borough: Optional[str] = Query(None, max_length=100),
        band: Optional[str] = Query(None, max_length=50),
        sort: str = Query("rank", pattern="^(rank|risk|harm|last_event)$"),
    ) -> Response:
        # Exactly what the page shows for the same address: the same list, filters and sort, every page.
        rows: list[dict[str, Any]] = []
        page = 1
        lid = list_id or published("offenders")
        while True:
            d = wh.priority_list(list_id=lid, borough=borough or None, band=band or None, sort=sort, page=page, size=5000) if lid else None
            if d is None:
                raise AppError(404, "no_data", NO_LIST)
            rows.extend(d["items"])
            if page >= d["pages"]:
                break
            page += 1
        log_access(request, "export", "priority_list", d["list_id"],
                   detail={"format": "csv", "rows": len(rows), "filter": {"borough": borough or None, "band": band or None}, "sort": sort})
        return csv_response(rows, "priority_list.csv")

    async def priority_api(
        request: Request,
        list_id: Optional[str] = Query(None, max_length=200),
        borough: Optional[str] = Query(None, max_length=100),
        band: Optional[str] = Query(None, max_length=50),
        sort: str = Query("rank", pattern="^(rank|risk|harm|last_event)$"),
        page: int = Query(1, ge=1, le=100000),
        size: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        data = await _priority(request, list_id, borough, band, sort, page, size)
        if data is None:
            return {"available": False, "message": NO_LIST, "items": [], "total": 0}
        return {"available": True, **data}

    route(app, "GET", "/priority", ("list.view",), priority_page, include_in_schema=False)
    route(app, "GET", "/priority.csv", ("list.view",), priority_csv, include_in_schema=False)
    route(app, "GET", f"{API}/priority", ("list.view",), priority_api, tags=["lists"], summary="Priority list (paginated)")

    # -- victims -----------------------------------------------------------------------------------
    async def victims_page(request: Request, list_id: Optional[str] = Query(None, max_length=200), page: int = Query(1, ge=1, le=100000),
                           size: int = Query(50, ge=1, le=500)) -> Response:
        lid = list_id or published("victims")
        data = wh.victims_list(list_id=lid, page=page, size=size) if lid else None
        await log_access_async(request, "list.view", "victims_list", data["list_id"] if data else None, detail={"page": page})
        return render(request, "victims.html.j2", data=data, empty=NO_VICTIMS, url=lambda **kw: page_url("/victims", **{"list_id": list_id, "size": size, **kw}))

    async def victims_api(request: Request, list_id: Optional[str] = Query(None, max_length=200), page: int = Query(1, ge=1, le=100000),
                          size: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        lid = list_id or published("victims")
        data = wh.victims_list(list_id=lid, page=page, size=size) if lid else None
        await log_access_async(request, "list.view", "victims_list", data["list_id"] if data else None, detail={"page": page, "via": "api"})
        if data is None:
            return {"available": False, "message": NO_VICTIMS, "items": [], "total": 0}
        return {"available": True, **data}

    route(app, "GET", "/victims", ("list.view",), victims_page, include_in_schema=False)
    route(app, "GET", f"{API}/victims", ("list.view",), victims_api, tags=["lists"], summary="Victims most at risk")

    # -- person profile (purpose first) ------------------------------------------------------------
    async def person_page(request: Request, person_id: str, grant: Optional[str] = Query(None, max_length=100)) -> Response:
        p = principal(request)
        g = sessions.check_grant(p, person_id, grant)
        if g is None:
            return render(request, "purpose.html.j2", person_id=person_id)
        prof = wh.person(person_id)
        await log_access_async(request, "person.view", "person", person_id, purpose=g["purpose"],
                   detail={"reference": g["reference"], "found": prof is not None})
        if prof is None:
            raise AppError(404, "not_found", f"no person {person_id} in the warehouse")
        return render(request, "person.html.j2", prof=prof, purpose=g, network_json=json.dumps(prof["network"]).replace("<", "\\u003c"))

    def person_purpose(
        request: Request,
        person_id: str,
        purpose: str = Form("", max_length=50),
        reference: str = Form("", max_length=200),
    ) -> Response:
        if purpose not in accesslog.PURPOSES:
            return render(request, "purpose.html.j2", status=400, person_id=person_id, error="Choose why you need to see this profile.",
                          reference=reference)
        gid = sessions.grant(principal(request), person_id, purpose, reference.strip() or None)
        return RedirectResponse(f"/persons/{person_id}?grant={gid}", status_code=303)

    async def person_api(
        request: Request,
        person_id: str,
        purpose: Optional[str] = Query(None, description="Why you need this profile: " + ", ".join(accesslog.PURPOSES)),
        reference: Optional[str] = Query(None, max_length=200),
    ) -> dict[str, Any]:
        if not purpose:
            raise AppError(400, "purpose_required", "a purpose is required before a person profile opens: " + ", ".join(accesslog.PURPOSES))
        if purpose not in accesslog.PURPOSES:
            raise AppError(400, "purpose_unknown", "unknown purpose: choose one of " + ", ".join(accesslog.PURPOSES))
        prof = wh.person(person_id)
        await log_access_async(request, "person.view", "person", person_id, purpose=purpose, detail={"reference": reference, "found": prof is not None, "via": "api"})
        if prof is None:
            raise AppError(404, "not_found", f"no person {person_id} in the warehouse")
        return prof

    route(app, "GET", "/persons/{person_id}", ("person.view",), person_page, include_in_schema=False)
    route(app, "POST", "/persons/{person_id}/purpose", ("person.view",), person_purpose, include_in_schema=False)
    route(app, "GET", f"{API}/persons/{{person_id}}", ("person.view",), person_api, tags=["persons"],
          summary="Person profile: events with evidential status, risk and factors, linked people (purpose required)")

    # -- referral packs: web/referral_routes.py (the lifecycle) -------------------------------------

    # -- models ------------------------------------------------------------------------------------
    def models_page(request: Request) -> Response:
        return render(request, "models.html.j2", models=wh.models(), empty=NO_MODELS)

    def model_page(request: Request, version: str) -> Response:
        card = wh.model_card(version)
        if card is None:
            raise AppError(404, "not_found", f"no model version {version}")
        log_access(request, "report.view", "model_card", version)
        return render(request, "model.html.j2", card=card)

    def _promote(request: Request, version: str) -> str | None:
        if wh.model_card(version) is None:
            raise AppError(404, "not_found", f"no model version {version}")
        prev = wh.promote(version)
        log_access(request, "model.promote", "model", version, detail={"replaced": prev})
        return prev

    def model_promote_page(request: Request, version: str) -> Response:
        _promote(request, version)
        return RedirectResponse(f"/models/{version}", status_code=303)

    def models_api(request: Request) -> dict[str, Any]:
        m = wh.models()
        return {"available": m is not None, "message": None if m is not None else NO_MODELS, "items": m or []}

    def model_api(request: Request, version: str) -> dict[str, Any]:
        card = wh.model_card(version)
        if card is None:
            raise AppError(404, "not_found", f"no model version {version}")
        log_access(request, "report.view", "model_card", version, detail={"via": "api"})
        return card

    def model_promote_api(request: Request, version: str) -> dict[str, Any]:
        return {"promoted": version, "replaced": _promote(request, version)}

    route(app, "GET", "/models", ("report.view",), models_page, include_in_schema=False)
    route(app, "GET", "/models/{version}", ("report.view",), model_page, include_in_schema=False)
    route(app, "POST", "/models/{version}/promote", ("model.promote",), model_promote_page, include_in_schema=False)
    route(app, "GET", f"{API}/models", ("report.view",), models_api, tags=["models"], summary="Model registry")
    route(app, "GET", f"{API}/models/{{version}}", ("report.view",), model_api, tags=["models"], summary="Model card")
    route(app, "POST", f"{API}/models/{{version}}/promote", ("model.promote",), model_promote_api, tags=["models"],
          summary="Promote a model version (supervisor)")

    # -- audit -------------------------------------------------------------------------------------
    def audit_page(request: Request) -> Response:
        from harmlens.audit.webview import audit_page_context

        rep = wh.audit_report()
        log_access(request, "report.view", "audit_report")
        full = bool(rep and rep.get("run_id") and "audit_report_pages" in wh.tables()
                    and wh.scalar("SELECT count(*) FROM audit_report_pages WHERE run_id = ?", [rep["run_id"]]))
        return render(request, "audit.html.j2", report=rep, empty=NO_AUDIT, a=audit_page_context(rep), has_full=full)

    def audit_full_report(request: Request) -> Response:
        rep = wh.audit_report()
        rows = (wh.rows("SELECT html FROM audit_report_pages WHERE run_id = ?", [rep["run_id"]])
                if rep and rep.get("run_id") and "audit_report_pages" in wh.tables() else [])
        if not rows:
            raise AppError(404, "not_found", "no full report was stored with the newest audit run")
        log_access(request, "report.view", "audit_report", detail={"view": "full"})
        # the report is a document, not part of the app: no scripts, no requests, no forms
        return HTMLResponse(rows[0]["html"], headers={"Content-Security-Policy":
                            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"})

    def audit_api(request: Request) -> dict[str, Any]:
        rep = wh.audit_report()
        log_access(request, "report.view", "audit_report", detail={"via": "api"})
        return {"available": rep is not None, "message": None if rep is not None else NO_AUDIT, "report": rep}

    route(app, "GET", "/audit", ("report.view",), audit_page, include_in_schema=False)
    route(app, "GET", "/audit/report", ("report.view",), audit_full_report, include_in_schema=False)
    route(app, "GET", f"{API}/audit", ("report.view",), audit_api, tags=["audit"], summary="Latest audit report")

    # -- stops -------------------------------------------------------------------------------------
    def stops_page(request: Request) -> Response:
        summ = wh.stops_summary()
        recorded = store.fetchone("SELECT count(*) AS n FROM recorded_stops")["n"]
        return render(request, "stops.html.j2", s=summ, empty=NO_STOPS, charts=charts.stop_charts(summ) if summ else {}, recorded=recorded,
                      panels=_stop_panels() if summ else [])

    def _stop_panels() -> list[dict[str, Any]]:
        # Per force/jurisdiction: where, period, stops used and left out, veil of darkness (stops area).
        from harmlens.errors import HarmlensError
        from harmlens.stops.dashboard import stops_dashboard

        try:
            return stops_dashboard(wh.cur())
        except HarmlensError as exc:
            return [{"unit": "stops", "error": str(exc)}]

    def stops_api(request: Request) -> dict[str, Any]:
        summ = wh.stops_summary()
        recorded = store.fetchone("SELECT count(*) AS n FROM recorded_stops")["n"]
        panels = [{k: v for k, v in p.items() if k != "vod_svg"} for p in _stop_panels()] if summ else []
        return {"available": summ is not None, "message": None if summ else NO_STOPS, "summary": summ, "recorded_in_app": recorded,
                "by_force": panels}

    def _record_stop(request: Request, record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        from harmlens.web.stopform import record_stop

        return record_stop(store, principal(request).username, record)

    def stop_form(request: Request) -> Response:
        return render(request, "stop_form.html.j2", values={}, problems=[], saved=request.query_params.get("saved"))

    def stop_submit(
        request: Request,
        occurred_at: str = Form("", max_length=40),
        legislation: str = Form("", max_length=200),
        self_defined_ethnicity: str = Form("", max_length=100),
        officer_defined_ethnicity: str = Form("", max_length=100),
        sex: str = Form("", max_length=20),
        age_range: str = Form("", max_length=20),
        borough: str = Form("", max_length=100),
        latitude: str = Form("", max_length=40),
        longitude: str = Form("", max_length=40),
        reason: str = Form("", max_length=500),
        outcome: str = Form("", max_length=200),
        searched: str = Form("", max_length=10),
        found: str = Form("", max_length=10),
    ) -> Response:
        values = dict(occurred_at=occurred_at, legislation=legislation, self_defined_ethnicity=self_defined_ethnicity,
                      officer_defined_ethnicity=officer_defined_ethnicity, sex=sex, age_range=age_range, borough=borough,
                      latitude=latitude, longitude=longitude, reason=reason, outcome=outcome, searched=searched, found=found)
        row, problems = _record_stop(request, values)
        if problems:
            # Everything the officer typed comes back, with each problem beside its field.
            return render(request, "stop_form.html.j2", status=400, values=values, problems=problems, saved=None)
        return RedirectResponse(f"/stops/new?saved={row['stop_id']}", status_code=303)

    def stop_api(request: Request, body: StopBody) -> JSONResponse:
        rec = {k: (str(v) if isinstance(v, float) else v) for k, v in body.model_dump().items()}
        row, problems = _record_stop(request, rec)
        if problems:
            raise AppError(422, "validation_failed", "; ".join(f"{p['column']}: {p['reason']}" for p in problems), extra=problems)
        return JSONResponse({"stop_id": row["stop_id"], "recorded": True}, status_code=201)

    route(app, "GET", "/stops", ("stops.view",), stops_page, include_in_schema=False)
    route(app, "GET", f"{API}/stops/summary", ("stops.view",), stops_api, tags=["stops"], summary="Stop counts for the dashboard")
    route(app, "GET", "/stops/new", ("stops.record",), stop_form, include_in_schema=False)
    route(app, "POST", "/stops/new", ("stops.record",), stop_submit, include_in_schema=False)
    route(app, "POST", f"{API}/stops", ("stops.record",), stop_api, tags=["stops"], summary="Record a stop (officer)", status_code=201)

    # -- access log --------------------------------------------------------------------------------
    def _log_search(request: Request, user: Optional[str], object_id: Optional[str], action: Optional[str], since: Optional[str],
                    until: Optional[str], page: int) -> list[dict[str, Any]]:
        rows = accesslog.search(store, username=user or None, object_id=object_id or None, action=action or None,
                                since=since or None, until=until or None, limit=100, offset=(page - 1) * 100)
        log_access(request, "accesslog.view", "access_log", detail={"user": user, "object": object_id, "action": action, "page": page})
        return rows

    def log_page(request: Request, user: Optional[str] = Query(None, max_length=100), object_id: Optional[str] = Query(None, max_length=200),
                 action: Optional[str] = Query(None, max_length=50), since: Optional[str] = Query(None, max_length=40),
                 until: Optional[str] = Query(None, max_length=40), page: int = Query(1, ge=1, le=100000)) -> Response:
        rows = _log_search(request, user, object_id, action, since, until, page)
        return render(request, "access_log.html.j2", rows=rows, f=dict(user=user or "", object_id=object_id or "", action=action or "",
                      since=since or "", until=until or ""), page=page,
                      url=lambda **kw: page_url("/access-log", user=user, object_id=object_id, action=action, since=since, until=until, **kw))

    def log_api(request: Request, user: Optional[str] = Query(None, max_length=100), object_id: Optional[str] = Query(None, max_length=200),
                action: Optional[str] = Query(None, max_length=50), since: Optional[str] = Query(None, max_length=40),
                until: Optional[str] = Query(None, max_length=40), page: int = Query(1, ge=1, le=100000)) -> dict[str, Any]:
        return {"items": _log_search(request, user, object_id, action, since, until, page), "page": page}

    def log_verify_api(request: Request) -> dict[str, Any]:
        res = accesslog.verify(store)
        log_access(request, "accesslog.verify", "access_log", detail={"ok": res.ok})
        return {"ok": res.ok, "rows": res.rows, "head_seq": res.head_seq, "head_hash": res.head_hash, "problems": res.problems}

    route(app, "GET", "/access-log", ("accesslog.view",), log_page, include_in_schema=False)
    route(app, "GET", f"{API}/access-log", ("accesslog.view",), log_api, tags=["access log"], summary="Search the access log")
    route(app, "GET", f"{API}/access-log/verify", ("accesslog.view",), log_verify_api, tags=["access log"], summary="Verify the hash chain")

    # -- API session -------------------------------------------------------------------------------
    def api_login(request: Request, body: LoginBody) -> JSONResponse:
        token, p = sessions.login(body.username, body.password, client_ip(request))
        request.state.principal = p
        log_access(request, "login", "session", detail={"via": "api"})
        resp = JSONResponse({"username": p.username, "role": p.role, "agency": p.agency, "csrf_token": p.csrf})
        set_session_cookie(resp, request, token)
        return resp

    def api_logout(request: Request) -> Response:
        sessions.logout(principal(request))
        resp = Response(status_code=204)
        resp.delete_cookie("hl_session", path="/")
        return resp

    def api_me(request: Request) -> dict[str, Any]:
        p = principal(request)
        return {"username": p.username, "role": p.role, "agency": p.agency, "csrf_token": p.csrf}

    route(app, "POST", f"{API}/session", PUBLIC, api_login, tags=["session"], summary="Sign in (sets the session cookie)")
    route(app, "DELETE", f"{API}/session", ANY_USER, api_logout, tags=["session"], summary="Sign out", status_code=204)
    route(app, "GET", f"{API}/me", ANY_USER, api_me, tags=["session"], summary="Who am I")
