"""One writer thread per server process for the access log (group commit) and small deferred store writes.

Every profile view and list page appends to the hash-chained access log, and the request must
not answer before its entry is committed (an unlogged view must not happen). Appending row by
row from each request thread makes the requests queue on the store's write lock, each paying
its own transaction and fsync. Here requests hand their entries to one thread that appends
whatever has queued up in one transaction (``accesslog.append_many``: the chain stays linear
and append-only) and then wakes each request with its own row; an async request waits without
blocking the event loop, a request in the thread pool waits on a future.

``defer`` runs a store write on the same thread without anyone waiting for it: the session's
``last_seen`` touch, which need not delay the request that triggered it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

from harmlens.web import accesslog
from harmlens.web.store import Store

log = logging.getLogger(__name__)
MAX_BATCH = 500  # entries per transaction: bounds how long one commit holds the store's write lock


class LogWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def _put(self, item: tuple[str, Any, Future | None]) -> None:
        # Under the lock, so an item always goes to the queue of a thread that will read it
        # (close() hands the running thread its stop mark and gives the next thread a new queue).
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(self._q,), name="harmlens-logwriter", daemon=True)
                self._thread.start()
            self._q.put(item)

    def submit(self, entry: dict[str, Any]) -> Future:
        """Queue one access-log entry (``accesslog.append`` keywords); the future gives the written row."""
        fut: Future = Future()
        self._put(("log", entry, fut))
        return fut

    async def append(self, **entry: Any) -> dict[str, Any]:
        """Append and wait (without blocking the event loop) until the entry is committed."""
        return await asyncio.wrap_future(self.submit(entry))

    def append_sync(self, **entry: Any) -> dict[str, Any]:
        """Append and wait, from a worker thread."""
        return self.submit(entry).result()

    def defer(self, fn: Callable[[Store], Any]) -> None:
        """Run ``fn(store)`` on the writer thread, under the store's write lock; nobody waits for it."""
        self._put(("job", fn, None))

    def close(self) -> None:
        """Write what is queued and stop the thread (the app's shutdown); a later append starts a new one."""
        with self._lock:
            t, q = self._thread, self._q
            self._thread, self._q = None, queue.SimpleQueue()
            if t is not None:
                q.put(None)
        if t is not None:
            t.join(timeout=60)

    # -- the writer thread -------------------------------------------------------------------------
    def _run(self, q: "queue.SimpleQueue[Any]") -> None:
        stop = False
        while not stop:
            item = q.get()
            batch = []
            while item is not None:
                batch.append(item)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            else:
                stop = True
            self._write([b for b in batch if b[0] == "log"])
            for _, fn, _ in (b for b in batch if b[0] == "job"):
                try:
                    with self.store.write_lock():
                        fn(self.store)
                except Exception:  # a failed touch must not stop the access log
                    log.exception("deferred store write failed")

    def _write(self, entries: list[tuple[str, dict[str, Any], Future]]) -> None:
        if not entries:
            return
        try:
            rows = accesslog.append_many(self.store, [e for _, e, _ in entries])
        except BaseException as exc:  # every waiting request gets the error (it answers 500, nothing is shown unlogged)
            for _, _, fut in entries:
                fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, _, fut), row in zip(entries, rows):
            fut.set_result(row)
