"""Every refusal goes into the access log: a 403, a failed sign-in and a 429.

An auditor looking for someone probing pages they may not see, or guessing passwords, finds one
``action = 'denied'`` row per refusal: who (the signed-in user, or the username a sign-in named),
when, from where, what was asked (method and path) and the answer (status and code). Request
bodies are never logged, so a password never reaches the log.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from harmlens.web.security import AppError, client_ip

LOGGED_CODES = frozenset({"bad_credentials"})  # a 401 is logged only when it answers a sign-in
ANONYMOUS = "anonymous"


def is_denial(exc: AppError) -> bool:
    return exc.status in (403, 429) or exc.code in LOGGED_CODES


def entry(request: Request, exc: AppError) -> dict[str, Any]:
    p = getattr(request.state, "principal", None)
    who = p.username if p is not None else (exc.subject or ANONYMOUS)
    return dict(
        username=who[:200],
        role=p.role if p is not None else ANONYMOUS,
        ip=client_ip(request),
        action="denied",
        object_type="request",
        object_id=f"{request.method} {request.url.path}"[:500],
        purpose=None,
        detail={"status": exc.status, "code": exc.code},
    )


async def log_denial(request: Request, exc: AppError) -> None:
    """From the event loop: wait, without blocking it, until the row is committed."""
    if is_denial(exc):
        await request.app.state.logwriter.append(**entry(request, exc))


def log_denial_sync(request: Request, exc: AppError) -> None:
    """From a worker thread (a sync route that answers the refusal itself)."""
    if is_denial(exc):
        request.app.state.logwriter.append_sync(**entry(request, exc))
