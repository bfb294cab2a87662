"""Schema migrations gathered from every area's ``schema.py``."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import datetime, timezone

import duckdb

import harmlens

from harmlens.engine import as_engine

# Areas whose tables others read come first, so their migrations run first.
_AREA_ORDER = ["warehouse", "contract", "link", "harm", "features", "risk", "rank", "audit", "stops", "api", "web"]


def registered_migrations() -> list[tuple[str, str]]:
    """All (id, sql) migrations, in the order they must run."""
    areas = [m.name for m in pkgutil.iter_modules(harmlens.__path__) if m.ispkg]
    areas.sort(key=lambda a: (_AREA_ORDER.index(a) if a in _AREA_ORDER else len(_AREA_ORDER), a))
    out: list[tuple[str, str]] = []
    for area in areas:
        try:
            mod = importlib.import_module(f"harmlens.{area}.schema")
        except ModuleNotFoundError as exc:
            if exc.name == f"harmlens.{area}.schema":
                continue
            raise
        out.extend(getattr(mod, "MIGRATIONS", []))
    ids = [m[0] for m in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise RuntimeError(f"duplicate migration ids: {sorted(dup)}")
    return out


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    return [r[0] for r in con.execute("SELECT id FROM schema_migrations ORDER BY applied_at, id").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration not yet applied; returns the ids applied now."""
    done = set(applied_migrations(con))
    new: list[str] = []
    for mid, sql in registered_migrations():
        if mid in done:
            continue
        with as_engine(con).transaction():
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [mid, datetime.now(timezone.utc).replace(tzinfo=None)])
        new.append(mid)
    return new
