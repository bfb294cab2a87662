"""Request body limits per endpoint, enforced before any of the body is read.

A sign-in is a username and a password of at most 128 characters: a few KB is plenty, and a
50 MB body sent to it (or sent slowly, a byte at a time) must not be read, parsed or waited for.
This ASGI middleware answers 413 from the declared ``Content-Length`` alone, before the app
reads anything; a body without a declared length (chunked) is counted as it arrives and cut off
at the limit. The answer is in the API's error shape (``{"error": {...}}``) and closes the
connection, so the client cannot keep the worker waiting for the rest.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
DEFAULT_LIMIT = 64 * KB
# Exact paths with a tighter limit than the default (the sign-in forms and API).
PATH_LIMITS: dict[str, int] = {
    "/api/v1/session": 8 * KB,
    "/login": 8 * KB,
}


def limit_for(path: str) -> int:
    return PATH_LIMITS.get(path.rstrip("/") or "/", DEFAULT_LIMIT)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when an undeclared body passes the limit: an HTTPException, so the
    framework's body parsing lets it through and the app answers it in its own error shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: at most {limit} bytes here")


def _body(limit: int) -> bytes:
    return json.dumps({"error": {"code": "too_large", "message": f"request body too large: at most {limit} bytes here"}}).encode()


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, default: int = DEFAULT_LIMIT, paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.paths = dict(PATH_LIMITS if paths is None else paths)

    def _limit(self, path: str) -> int:
        return self.paths.get(path.rstrip("/") or "/", self.default)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = _body(limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = None
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = -1
                break
        if declared is not None and (declared < 0 or declared > limit):
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)


__all__ = ["BodySizeLimit", "DEFAULT_LIMIT", "PATH_LIMITS", "limit_for"]
