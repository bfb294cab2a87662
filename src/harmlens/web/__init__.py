"""The web app and REST API (``harmlens serve``), its operational store and the access log.

Public API (imported lazily so ``harmlens --help`` does not load FastAPI):

* :func:`create_app`, :class:`WebSettings`: the FastAPI app (``harmlens.web.app``).
* :class:`Store`, :func:`open_store`: the operational store, SQLite or PostgreSQL (``harmlens.web.store``).
* :func:`add_user`, :func:`disable_user`, :func:`list_users`, ``ROLES``, ``ROLE_PERMS`` (``harmlens.web.auth``).
* :func:`append_access`, :func:`verify_access_log`, :func:`search_access_log` (``harmlens.web.accesslog``).
* :func:`build_index`: the serving index beside the warehouse (``harmlens.web.serving``).
* :func:`record_stop`, :func:`export_recorded_stops`: stops recorded in the app (``harmlens.web.stopform``).
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "create_app": ("harmlens.web.app", "create_app"),
    "WebSettings": ("harmlens.web.app", "WebSettings"),
    "Store": ("harmlens.web.store", "Store"),
    "open_store": ("harmlens.web.store", "open_store"),
    "add_user": ("harmlens.web.auth", "add_user"),
    "disable_user": ("harmlens.web.auth", "disable_user"),
    "list_users": ("harmlens.web.auth", "list_users"),
    "ROLES": ("harmlens.web.auth", "ROLES"),
    "ROLE_PERMS": ("harmlens.web.auth", "ROLE_PERMS"),
    "append_access": ("harmlens.web.accesslog", "append"),
    "verify_access_log": ("harmlens.web.accesslog", "verify"),
    "search_access_log": ("harmlens.web.accesslog", "search"),
    "build_index": ("harmlens.web.serving", "build_index"),
    "record_stop": ("harmlens.web.stopform", "record_stop"),
    "export_recorded_stops": ("harmlens.web.stopform", "export_recorded_stops"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        mod, attr = _EXPORTS[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'harmlens.web' has no attribute {name!r}")
