"""The FastAPI app: server-rendered pages (Jinja2 + htmx) and a REST API mirroring them.

Every route declares the permissions it needs (``x-permissions`` in its OpenAPI entry); a route
that declares none is refused to everyone but the few public ones (sign-in, health, static
assets, the OpenAPI document). Pages answer HTML, ``/api/v1`` answers JSON with errors shaped
``{"error": {"code": ..., "message": ...}}`` and stable codes.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harmlens.web import accesslog, views
from harmlens.web.data import PAGE_SIZES, PRIORITY_SORTS, Warehouse
from harmlens.web.denials import log_denial
from harmlens.web.limits import BodySizeLimit
from harmlens.web.logwriter import LogWriter
from harmlens.web.security import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    AppError,
    Principal,
    Sessions,
    check_csrf,
    client_ip,
    require,
    safe_next,
)
from harmlens.web.store import Store, resolve_url

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
API = "/api/v1"
ANY_USER = ("*",)
PUBLIC = ()

# Where each role lands after signing in.
HOME = {"analyst": "/priority", "supervisor": "/priority", "partner": "/referrals", "officer": "/stops/new", "auditor": "/access-log"}
NAV = [
    ("/priority", "Priority list", ("list.view",)),
    ("/victims", "Victims at risk", ("list.view",)),
    ("/lists", "List history", ("list.history",)),
    ("/search", "Search", ("person.search",)),
    ("/casework", "Casework", ("casework.view", "casework.mine")),
    ("/link-review", "Link review", ("link.review",)),
    ("/referrals", "Referral packs", ("referral.view", "referral.view_own")),
    ("/models", "Model cards", ("report.view",)),
    ("/audit", "Audit report", ("report.view",)),
    ("/stops", "Stop dashboard", ("stops.view",)),
    ("/stops/new", "Record a stop", ("stops.record",)),
    ("/access-log", "Access log", ("accesslog.view",)),
    ("/casework-audit", "Decisions and casework", ("casework.audit",)),
]


@dataclass(frozen=True)
class WebSettings:
    """Everything the app needs; ``from_env`` is the one place environment variables are read."""

    warehouse: Path
    store_url: str
    idle_minutes: int = 15
    max_session_hours: int = 12
    secure_cookies: bool = False
    max_failures_user: int = 5
    max_failures_ip: int = 50
    throttle_minutes: int = 15
    read_only: bool = False
    serving_index: bool = True
    snapshot: bool = True  # serve a snapshot of the warehouse, swapped when it changes (web/snapshot.py)
    snapshot_poll: float = 2.0  # seconds between checks of the warehouse file for changes

    @classmethod
    def from_env(cls) -> "WebSettings":
        from harmlens.warehouse import resolve_db_path

        wh = resolve_db_path(None)
        return cls(
            warehouse=wh,
            store_url=resolve_url(None, wh),
            idle_minutes=int(os.environ.get("HARMLENS_IDLE_MINUTES", "15")),
            secure_cookies=os.environ.get("HARMLENS_SECURE_COOKIES", "0") == "1",
            read_only=os.environ.get("HARMLENS_WEB_READ_ONLY", "0") == "1",
            snapshot_poll=float(os.environ.get("HARMLENS_SNAPSHOT_POLL", "2")),
        )


def _templates() -> Environment:
    # auto_reload off: templates are package data that do not change while the server runs, so
    # each render skips the stat() of every template (and included template) it uses.
    env = Environment(loader=PackageLoader("harmlens.web", "templates"), autoescape=select_autoescape(["html", "j2"]), auto_reload=False)
    env.globals["PURPOSES"] = accesslog.PURPOSES
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * float(v):.1f}%"
    env.filters["num"] = lambda v, d=2: "" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v))
    env.filters["day"] = lambda v: "" if not v else str(v)[:10]
    env.filters["review_links"] = review_links
    return env


_REVIEW_PATH = re.compile(r"/link-review/pairs/[A-Za-z0-9%._~-]+/[A-Za-z0-9%._~-]+")


def review_links(text: Any) -> Markup:
    """Escaped text with each link review page named in it (a list's linkage warning) made a link."""
    s = "" if text is None else str(text)
    out, at = [], 0
    for m in _REVIEW_PATH.finditer(s):
        out += [escape(s[at:m.start()]), Markup('<a href="{0}">the pair\'s review page</a>').format(m.group(0))]
        at = m.end()
    out.append(escape(s[at:]))
    return Markup("").join(out)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app. Without ``settings`` it reads HARMLENS_DB / HARMLENS_DATABASE_URL (uvicorn factory)."""
    settings = settings or WebSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.logwriter.close()  # commit what is queued before the process ends

    app = FastAPI(
        lifespan=lifespan,
        title="harmlens",
        version="1",
        description=(
            "REST API of harmlens: priority lists, person profiles (purpose required), victims at risk, referral packs, "
            "model cards, audit, stops and the access log. Sign in with POST /api/v1/session; send the returned "
            "csrf_token as X-CSRF-Token on every state-changing request. Errors: {\"error\": {\"code\", \"message\"}}."
        ),
        docs_url=None,  # Swagger UI would load from a CDN; the OpenAPI document is served instead
        redoc_url=None,
        openapi_url=f"{API}/openapi.json",
    )
    store = Store(settings.store_url)
    writer = LogWriter(store)
    if settings.snapshot:
        from harmlens.web.snapshot import LiveWarehouse

        # The server serves a snapshot and never holds the warehouse, so commands can write it (web/snapshot.py).
        wh = LiveWarehouse(settings.warehouse, serving_index=settings.serving_index, poll_seconds=settings.snapshot_poll)
        wh.start()
    else:
        index = None
        if settings.serving_index:
            from harmlens.web.serving import build_index, index_path

            # Rebuilt only when the warehouse changed; several --read-only workers share one file.
            index = build_index(settings.warehouse) if not settings.read_only or not index_path(settings.warehouse).exists() else \
                index_path(settings.warehouse)
        wh = Warehouse(settings.warehouse, read_only=settings.read_only, index=index)
    app.state.settings = settings
    app.state.store = store
    app.state.logwriter = writer
    app.state.warehouse = wh
    app.state.sessions = Sessions(
        store,
        idle_minutes=settings.idle_minutes,
        max_hours=settings.max_session_hours,
        max_fail_user=settings.max_failures_user,
        max_fail_ip=settings.max_failures_ip,
        throttle_minutes=settings.throttle_minutes,
        defer=writer.defer,
    )
    app.state.templates = _templates()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    _install_handlers(app)
    # BodySizeLimit refuses before anything reads the body; SecurityHeaders (added after it, so
    # outside it) puts the headers on that 413 too
    app.add_middleware(BodySizeLimit)
    app.add_middleware(SecurityHeaders, secure=settings.secure_cookies)
    views.register(app)
    _register_casework(app)
    wh.warm()
    return app


def _register_casework(app: FastAPI) -> None:
    """Routes of the unit's casework: referral lifecycle, lists published, search, assignments and actions."""
    from harmlens.web import casework_routes, linkreview_routes, referral_routes

    referral_routes.register(app)
    casework_routes.register(app)
    linkreview_routes.register(app)


# -- route registration with declared permissions ------------------------------------------------
def route(app: FastAPI, method: str, path: str, perms: tuple[str, ...], endpoint: Callable[..., Any], **kw: Any) -> None:
    """Add a route guarded by ``perms`` (any of them); state-changing methods also need the CSRF token."""
    deps = []
    if perms != PUBLIC:

        # async: the check is one indexed store read, cheaper than the hop to a worker thread
        # (a sync dependency runs in the thread pool), and it never waits for a lock.
        async def guard(request: Request) -> Principal:
            return require(request, perms)

        deps.append(Depends(guard))
        if method in ("POST", "PUT", "PATCH", "DELETE"):

            async def csrf(request: Request) -> None:
                token = None
                if "x-csrf-token" not in request.headers and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                ):
                    token = (await request.form()).get("csrf_token")
                check_csrf(request, request.state.principal, token if isinstance(token, str) else None)

            deps.append(Depends(csrf))
    extra = dict(kw.pop("openapi_extra", None) or {})
    extra["x-permissions"] = list(perms) if perms else ["public"]
    app.add_api_route(path, endpoint, methods=[method], dependencies=deps, openapi_extra=extra, **kw)


def principal(request: Request) -> Principal:
    return request.state.principal


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API + "/") or request.url.path == API


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    from harmlens.web.auth import allowed

    p: Principal | None = getattr(request.state, "principal", None)
    nav = [(href, label) for href, label, perms in NAV if p and any(allowed(p.role, x) for x in perms)]
    html = request.app.state.templates.get_template(template).render(
        request=request, user=p, csrf=p.csrf if p else "", nav=nav, path=request.url.path, **ctx
    )
    return HTMLResponse(html, status_code=status)


def _entry(request: Request, action: str, object_type: str, object_id: str | None, purpose: str | None, detail: Any) -> dict[str, Any]:
    p = principal(request)
    return dict(username=p.username, role=p.role, ip=client_ip(request), action=action, object_type=object_type, object_id=object_id,
                purpose=purpose, detail=detail)


def log_access(request: Request, action: str, object_type: str, object_id: str | None = None, *, purpose: str | None = None, detail: Any = None) -> None:
    """Append to the access log and return once it is committed (from a worker thread)."""
    request.app.state.logwriter.append_sync(**_entry(request, action, object_type, object_id, purpose, detail))


async def log_access_async(request: Request, action: str, object_type: str, object_id: str | None = None, *, purpose: str | None = None,
                           detail: Any = None) -> None:
    """Append to the access log and return once it is committed (from the event loop, without blocking it)."""
    await request.app.state.logwriter.append(**_entry(request, action, object_type, object_id, purpose, detail))


# -- errors ----------------------------------------------------------------------------------------
def _json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None, extra: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if extra is not None:
        body["error"]["details"] = extra
    return JSONResponse(body, status_code=status, headers=headers)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        await log_denial(request, exc)
        if is_api(request):
            return _json_error(exc.status, exc.code, exc.message, exc.headers, exc.extra)
        if exc.status == 401:
            nxt = request.url.path + (("?" + request.url.query) if request.url.query and request.method == "GET" else "")
            q = {"next": nxt}
            if exc.code == "session_expired":
                q["expired"] = "1"
            return RedirectResponse("/login?" + urlencode(q), status_code=303)
        return render(request, "error.html.j2", status=exc.status, code=exc.code, message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")), "reason": e.get("msg", "")}
            for e in exc.errors()
        ]
        msg = "; ".join(f"{p['field']}: {p['reason']}" for p in problems) or "invalid request"
        if is_api(request):
            return _json_error(422, "validation_failed", msg, extra=problems)
        return render(request, "error.html.j2", status=400, code="bad_request", message=msg)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        msg = str(exc.detail) if exc.detail else code
        if is_api(request):
            return _json_error(exc.status_code, code, msg, getattr(exc, "headers", None))
        return render(request, "error.html.j2", status=exc.status_code, code=code, message=msg)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        from harmlens.errors import HarmlensError

        if isinstance(exc, HarmlensError):
            if is_api(request):
                return _json_error(409, "unavailable", str(exc))
            return render(request, "error.html.j2", status=409, code="unavailable", message=str(exc))
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_api(request):
            return _json_error(500, "internal_error", "something went wrong on the server; it has been logged")
        return HTMLResponse("<h1>Something went wrong</h1><p>It has been logged.</p>", status_code=500)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    """Security headers on every response, as plain ASGI middleware.

    (Starlette's ``@app.middleware("http")`` wraps each request in an extra task and streams the
    body through a queue: a measurable share of a 2-3 ms request. This only edits the start message.)
    """

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", CSP)
                h["X-Content-Type-Options"] = "nosniff"
                h["X-Frame-Options"] = "DENY"
                h["Referrer-Policy"] = "no-referrer"  # person ids in URLs never leave in a Referer
                if not static:
                    h["Cache-Control"] = "no-store"
                if self.secure:
                    h["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def set_session_cookie(resp: Response, request: Request, token: str) -> None:
    s: WebSettings = request.app.state.settings
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=s.secure_cookies, path="/")


def new_prelogin(resp: Response, request: Request) -> str:
    tok = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(24)
    s: WebSettings = request.app.state.settings
    resp.set_cookie(PRELOGIN_COOKIE, tok, httponly=True, samesite="strict", secure=s.secure_cookies, path="/login")
    return tok


def page_url(path: str, **params: Any) -> str:
    q = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(q) if q else "")


def csv_response(rows: list[dict[str, Any]], filename: str) -> Response:
    from harmlens.csvsafe import csv_text

    body = csv_text(rows) if rows else ""
    return Response(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{quote(filename)}"'}
    )


__all__ = ["create_app", "WebSettings", "route", "PAGE_SIZES", "PRIORITY_SORTS", "HOME"]
