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

from harmlens.lazy import lazy_exports

_EXPORTS = {
    "create_app": "app",
    "WebSettings": "app",
    "Store": "store",
    "open_store": "store",
    "add_user": "auth",
    "disable_user": "auth",
    "list_users": "auth",
    "ROLES": "auth",
    "ROLE_PERMS": "auth",
    "append_access": "accesslog:append",
    "verify_access_log": "accesslog:verify",
    "search_access_log": "accesslog:search",
    "build_index": "serving",
    "record_stop": "stopform",
    "export_recorded_stops": "stopform",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
