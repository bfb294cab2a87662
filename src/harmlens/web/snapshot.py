"""The server reads a snapshot of the warehouse, so command-line writes never wait for the server.

DuckDB lets one process write a database file, and no other process open it while it does; a
server holding the file (even read-only) makes every ``harmlens rank``, ``link`` or ``referral``
fail with "Could not set lock on file". So the server never keeps the warehouse open: it copies
the file into a private snapshot (``harmlens.snapshots/`` beside the warehouse), holding the
warehouse read-only only for the seconds the copy takes, and serves the copy. A thread watches
the warehouse file; when a command has changed it (and released it), a new snapshot and its
serving index are made and swapped in atomically: requests already running finish on the old
one, which is closed and deleted a minute later. A command that starts while a copy is being
made waits for it (``harmlens.warehouse.connect`` retries a locked file for up to
``HARMLENS_LOCK_WAIT`` seconds), instead of failing.

The snapshot holds names as recorded, like the warehouse: it sits beside it with the same
protection, and a retention run on the warehouse reaches the snapshot at the next swap.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

GRACE_SECONDS = 60.0  # an old snapshot stays open this long after a swap, for requests still reading it


def snapshot_dir(warehouse: Path) -> Path:
    w = Path(warehouse)
    return w.with_name(w.stem + ".snapshots")


def _stamp(path: Path) -> tuple[Any, ...] | None:
    """What changes when a command writes the warehouse: the file's and its write-ahead log's size and time."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    wal = Path(str(path) + ".wal")
    w = wal.stat() if wal.exists() else None
    return (st.st_mtime_ns, st.st_size, w.st_mtime_ns if w else None, w.st_size if w else None)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale(warehouse: Path) -> None:
    """Delete snapshots left by server processes that are gone (they hold names: they must not linger)."""
    d = snapshot_dir(warehouse)
    if not d.is_dir():
        return
    for f in d.iterdir():
        parts = f.name.split("-")
        if len(parts) >= 3 and parts[0] == "snap" and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            f.unlink(missing_ok=True)


# One lock per process for opening the real warehouse file: DuckDB refuses a second open of the same
# file in one process with another configuration (read-only copy vs read-write promote).
WAREHOUSE_LOCK = threading.Lock()


def take_snapshot(warehouse: Path) -> tuple[Path, tuple[Any, ...] | None]:
    """Copy the warehouse to a new snapshot file; returns (its path, the warehouse stamp it was copied at).

    Raises ``harmlens.errors.WarehouseError`` when the warehouse stays locked by a writer longer
    than the lock wait.
    """
    from harmlens.warehouse import connect

    warehouse = Path(warehouse)
    d = snapshot_dir(warehouse)
    d.mkdir(exist_ok=True, mode=0o700)
    dest = d / f"snap-{os.getpid()}-{time.time_ns()}.duckdb"
    with WAREHOUSE_LOCK:
        # A read-only connection holds DuckDB's shared lock: no writer can change the file while it is copied.
        con = connect(warehouse, read_only=True, create=False)
        try:
            stamp = _stamp(warehouse)
            if Path(str(warehouse) + ".wal").exists():
                # Committed data still in the write-ahead log: let DuckDB copy the database, not the bytes.
                con.execute(f"ATTACH '{_sql_str(str(dest))}' AS snap")
                con.execute("COPY FROM DATABASE " + _db_name(con) + " TO snap")
                con.execute("DETACH snap")
            else:
                tmp = dest.with_name(dest.name + ".tmp")
                shutil.copyfile(warehouse, tmp)
                os.replace(tmp, dest)
        finally:
            con.close()
    os.chmod(dest, 0o600)
    return dest, stamp


def _db_name(con: Any) -> str:
    name = con.execute("SELECT current_database()").fetchone()[0]
    return '"' + str(name).replace('"', '""') + '"'


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


def _remove_snapshot(path: Path) -> None:
    from harmlens.web.serving import index_path

    for f in (path, Path(str(path) + ".wal"), index_path(path)):
        f.unlink(missing_ok=True)


class LiveWarehouse:
    """The warehouse as the app sees it: the current snapshot's ``Warehouse``, swapped when the file changes.

    Every attribute not defined here is the current ``Warehouse``'s, so views keep one reference
    to this object for the life of the app.
    """

    def __init__(self, warehouse: Path, *, serving_index: bool = True, poll_seconds: float = 2.0,
                 opener: Callable[[Path, Path | None], Any] | None = None) -> None:
        from harmlens.errors import WarehouseError

        self.source = Path(warehouse)
        if not self.source.exists():
            raise WarehouseError(f"no warehouse at {self.source}: run 'harmlens ingest DIR' first or pass --db")
        self._serving_index = serving_index
        self._poll = poll_seconds
        self._opener = opener or self._open
        self._swap_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.swaps = 0
        self.last_error: str | None = None
        clear_stale(self.source)
        self._current, self._snap, self._stamp = self._make()

    def _open(self, snap: Path, index: Path | None) -> Any:
        from harmlens.web.data import Warehouse

        return Warehouse(snap, read_only=True, index=index)

    def _make(self) -> tuple[Any, Path, Any]:
        snap, stamp = take_snapshot(self.source)
        try:
            index = None
            if self._serving_index:
                from harmlens.web.serving import build_index

                index = build_index(snap)
            wh = self._opener(snap, index)
            wh.default_list = self.__dict__.get("default_list")  # which list people open (set by the app)
            wh.warm()
        except BaseException:
            _remove_snapshot(snap)
            raise
        return wh, snap, stamp

    @property
    def current(self) -> Any:
        return self._current

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)

    def changed(self) -> bool:
        return _stamp(self.source) != self._stamp

    def refresh(self, *, force: bool = False) -> bool:
        """Swap in a new snapshot if the warehouse changed since the current one (True if swapped)."""
        with self._swap_lock:
            if not force and not self.changed():
                return False
            wh, snap, stamp = self._make()
            old, old_snap = self._current, self._snap
            self._current, self._snap, self._stamp = wh, snap, stamp
            self.swaps += 1
        log.info("warehouse snapshot swapped in (%s)", snap.name)
        t = threading.Timer(GRACE_SECONDS, self._retire, args=(old, old_snap))
        t.daemon = True
        t.start()
        return True

    @staticmethod
    def _retire(wh: Any, snap: Path) -> None:
        try:
            wh.close()
        finally:
            _remove_snapshot(snap)

    def start(self) -> None:
        """Watch the warehouse file in a background thread."""
        if self._thread is not None or self._poll <= 0:
            return

        def loop() -> None:
            while not self._stop.wait(self._poll):
                try:
                    if self.changed():
                        # Wait until the writer is done (the stamp stops moving) before copying.
                        before = _stamp(self.source)
                        if self._stop.wait(min(self._poll, 0.5)):
                            break
                        if _stamp(self.source) == before:
                            self.refresh()
                    self.last_error = None
                except Exception as exc:  # a writer holding the file longer than the wait: try again next poll
                    self.last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    log.warning("warehouse snapshot not refreshed: %s", self.last_error)

        self._thread = threading.Thread(target=loop, name="harmlens-snapshot", daemon=True)
        self._thread.start()

    def promote(self, version: str) -> str | None:
        """Promote a model on the warehouse itself (a short write), then serve a snapshot that shows it."""
        from harmlens.risk.registry import promote
        from harmlens.warehouse import connect

        with WAREHOUSE_LOCK:
            con = connect(self.source)
            try:
                prev = promote(con, version)
            finally:
                con.close()
        self.refresh(force=True)
        return prev

    def decide_link(self, a: str, b: str, decision: str, by: str, note: str | None) -> None:
        """Record a reviewer's link decision in the warehouse's ``link_decisions`` (a short write, as
        ``promote``), where every later ``harmlens link`` run reads it; then serve a snapshot showing it."""
        from harmlens.link.warehouse import decide
        from harmlens.warehouse import connect

        with WAREHOUSE_LOCK:
            con = connect(self.source)
            try:
                decide(con, a, b, decision, by, note)
            finally:
                con.close()
        self.refresh(force=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._swap_lock:
            try:
                self._current.close()
            finally:
                _remove_snapshot(self._snap)
