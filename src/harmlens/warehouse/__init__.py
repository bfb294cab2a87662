"""The warehouse: one DuckDB file, schema versioned through per-area migrations.

Every area of harmlens that owns tables declares them in ``harmlens/<area>/schema.py`` as
``MIGRATIONS = [("<area>_001", "CREATE TABLE ..."), ...]``. Migrations are applied once, in
order within an area, recorded in ``schema_migrations`` and never edited after they land: a
change is a new migration (``ALTER TABLE ...``) so an existing warehouse keeps its data.
"""

from __future__ import annotations

from harmlens.warehouse.connection import DEFAULT_DB, connect, resolve_db_path
from harmlens.warehouse.migrations import applied_migrations, migrate, registered_migrations

__all__ = ["DEFAULT_DB", "connect", "resolve_db_path", "migrate", "applied_migrations", "registered_migrations"]
