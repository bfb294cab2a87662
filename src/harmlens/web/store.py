"""The operational store: users, sessions, login attempts, the access log and stops recorded in the app.

Operational data is kept apart from the analytical warehouse: the warehouse is rebuilt by the
pipeline and opened read-only by the web app, while this store takes small, frequent writes
from many requests at once. SQLite is the default (a file beside the warehouse); PostgreSQL is
used when ``HARMLENS_DATABASE_URL`` (``postgresql://...``) points at one.

The dialect layer is deliberately tiny: SQL is written once with ``?`` placeholders and
portable types; the PostgreSQL backend rewrites ``?`` to ``%s``. Each thread gets its own
connection, because neither sqlite3 nor psycopg connections may be shared across threads
mid-transaction.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from harmlens.errors import HarmlensError
from harmlens.web.perthread import PerThread

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: writers rely on SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

ENV_URL = "HARMLENS_DATABASE_URL"


class StoreError(HarmlensError):
    """The operational store cannot be opened or used."""


# Portable schema: TEXT / INTEGER / BIGINT only; timestamps are ISO 8601 UTC strings so the
# access-log hash input is byte-identical on both backends.
_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS web_users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        agency TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        disabled_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS web_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        ip TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS web_login_attempts (
        id {autoid},
        username TEXT NOT NULL,
        ip TEXT,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS web_login_attempts_user ON web_login_attempts (username, at)",
    # the throttle counts per source address too, inside its serialised reservation: keep it an index lookup
    "CREATE INDEX IF NOT EXISTS web_login_attempts_ip ON web_login_attempts (ip, at)",
    """CREATE TABLE IF NOT EXISTS web_access_grants (
        grant_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        person_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        reference TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS access_log (
        seq BIGINT PRIMARY KEY,
        at TEXT NOT NULL,
        username TEXT NOT NULL,
        role TEXT NOT NULL,
        ip TEXT,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id TEXT,
        purpose TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    # The head anchors the end of the chain, so deleting the newest rows is detected too.
    """CREATE TABLE IF NOT EXISTS access_log_head (
        id INTEGER PRIMARY KEY,
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS recorded_stops (
        stop_id TEXT PRIMARY KEY,
        occurred_at TEXT NOT NULL,
        legislation TEXT NOT NULL,
        self_defined_ethnicity TEXT,
        officer_defined_ethnicity TEXT,
        sex TEXT,
        age_range TEXT,
        borough TEXT,
        latitude TEXT,
        longitude TEXT,
        reason TEXT,
        outcome TEXT,
        searched INTEGER,
        found INTEGER,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS referral_decisions (
        id {autoid},
        referral_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        note TEXT
    )""",
]

# Append-only enforced by the database itself, not only by the application.
_SQLITE_GUARDS = [
    """CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
       BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
       BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END""",
]
_PG_GUARDS = [
    """CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'access_log is append-only'; END; $$ LANGUAGE plpgsql""",
    """DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'access_log_no_change'
                        AND tgrelid = 'access_log'::regclass) THEN
           CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
             FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
         END IF;
       END $$""",
]


def default_sqlite_path(warehouse: Path | None) -> Path:
    """SQLite file beside the warehouse: ``harmlens.duckdb`` -> ``harmlens.ops.sqlite``."""
    if warehouse is None or str(warehouse) == ":memory:":
        return Path("harmlens.ops.sqlite")
    w = Path(warehouse)
    return w.with_name(w.stem + ".ops.sqlite")


def resolve_url(url: str | None = None, warehouse: Path | None = None) -> str:
    """The store URL: explicit, else HARMLENS_DATABASE_URL, else SQLite beside the warehouse."""
    url = url or os.environ.get(ENV_URL)
    if url:
        return url
    return f"sqlite:///{default_sqlite_path(warehouse)}"


class Store:
    """A connection factory for the operational store (SQLite or PostgreSQL).

    Parameters
    ----------
    url:
        ``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host:port/db``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self._path = url[len("sqlite:///") :]
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            self._path = ""
        else:
            raise StoreError(f"unsupported store URL {url.split(':', 1)[0]!r}: use sqlite:///FILE or postgresql://...")
        self._cons: PerThread[Any] = PerThread(self._connect, lambda con: con.close())
        # one open file description per thread: flock excludes other threads of this process too
        self._lockfds: PerThread[int] = PerThread(lambda: os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600), os.close)
        self.init_schema()

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the request that made it answers (an access-log entry
            # survives a power cut, not only a crash of the server); the log writer batches entries
            # into one commit, so the fsync is paid once per batch.
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA busy_timeout=30000")
            return con
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - the web extra installs it
            from harmlens.errors import MissingExtraError

            raise MissingExtraError("web", "psycopg") from exc
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to the operational store: {str(exc).strip().splitlines()[0]}") from exc

    def conn(self) -> Any:
        return self._cons.get()

    def close(self) -> None:
        self._cons.close()
        self._lockfds.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    # -- statements --------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self.conn().execute(self._sql(sql), tuple(params))
        return cur.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        cur = self.conn().cursor()
        try:
            cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        finally:
            cur.close()

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn().execute(self._sql(sql), tuple(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Queue writers of a SQLite store on a lock file, across threads and server processes.

        SQLite's own busy handler makes a writer that finds the database locked sleep and retry
        (1, 2, 5, 10 ... ms), which under concurrent requests turns a sub-millisecond append into
        tens of milliseconds; waiting on ``flock`` wakes the next writer as soon as the lock is
        released. PostgreSQL queues writers itself (row and table locks), so this is a no-op there.
        """
        if self.dialect != "sqlite" or self._path == ":memory:" or fcntl is None:
            yield
            return
        fd = self._lockfds.get()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self, *, exclusive: bool = False) -> Iterator["Store"]:
        """A transaction; ``exclusive`` serialises writers (used to keep the access log a chain)."""
        con = self.conn()
        if self.dialect == "sqlite":
            con.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")
        else:
            con.execute("BEGIN")
        try:
            yield self
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def init_schema(self) -> None:
        autoid = "INTEGER PRIMARY KEY AUTOINCREMENT" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        con = self.conn()
        if self.dialect == "postgresql":
            # Serialise concurrent first-time set-up (parallel test workers, several servers).
            con.execute("SELECT pg_advisory_lock(7259113)")
        try:
            for stmt in _SCHEMA:
                con.execute(stmt.replace("{autoid}", autoid))
            for stmt in _SQLITE_GUARDS if self.dialect == "sqlite" else _PG_GUARDS:
                con.execute(stmt)
        finally:
            if self.dialect == "postgresql":
                con.execute("SELECT pg_advisory_unlock(7259113)")

    def describe(self) -> str:
        """The URL without any password, for messages."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self._path}"
        from urllib.parse import urlsplit

        p = urlsplit(self.url)
        host = p.hostname or ""
        return f"postgresql://{p.username + '@' if p.username else ''}{host}{':' + str(p.port) if p.port else ''}{p.path}"


def open_store(url: str | None = None, warehouse: Path | None = None) -> Store:
    """Open the operational store named by ``url`` / HARMLENS_DATABASE_URL / the warehouse path."""
    return Store(resolve_url(url, warehouse))
