"""Running uvicorn so that every connection has TCP_NODELAY, also with several worker processes.

uvicorn writes a response's headers and its body as two separate TCP writes. With Nagle's
algorithm on, the body waits until the client acknowledges the headers, and clients delay that
acknowledgement by up to 40 ms: on a kept-alive connection every response after the first took
~42 ms however fast the app was (measured: 1-2 ms on a fresh connection, 42-48 ms on the next
requests, with curl as well as the benchmark client). asyncio turns Nagle off for the sockets it
accepts, but only when the listening socket says it is TCP (``proto == IPPROTO_TCP``); with
``--workers`` > 1 uvicorn binds the listening socket itself as ``socket.socket(family)``, proto 0,
so asyncio skips it. Here that socket is re-wrapped so its protocol is read from the kernel
(TCP), and TCP_NODELAY is set on it too (Linux copies it to accepted sockets).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn  # this module is imported only by `harmlens serve`, after it checked the web extra
from uvicorn.supervisors import Multiprocess


def tcp_socket(sock: socket.socket) -> socket.socket:
    """The same listening socket, with ``proto`` = IPPROTO_TCP and TCP_NODELAY (unix sockets as they are)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    s = socket.socket(fileno=sock.detach())  # family, type and proto auto-detected from the descriptor
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.set_inheritable(True)  # the worker processes get it
    return s


class NodelayConfig(uvicorn.Config):
    """uvicorn's settings, binding the listening socket as TCP (module level: it is pickled to the worker processes)."""

    def bind_socket(self) -> socket.socket:
        return tcp_socket(super().bind_socket())


def run(app: str, *, workers: int = 1, **config: Any) -> None:
    """``uvicorn.run(app, factory=..., workers=..., ...)`` with TCP_NODELAY on every connection."""
    cfg = NodelayConfig(app, workers=workers, **config)
    server = uvicorn.Server(cfg)
    try:
        if workers > 1:
            Multiprocess(cfg, sockets=[cfg.bind_socket()]).run()
        else:
            server.run()  # asyncio binds a TCP socket itself here, and its connections get TCP_NODELAY
    except KeyboardInterrupt:
        pass
    if workers <= 1 and not server.started:
        sys.exit(3)  # as uvicorn does when the server could not start (port taken, app failed to load)
