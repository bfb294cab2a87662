"""One resource per thread (a database connection, a lock file), made on first use in that thread.

The web server answers requests on a pool of threads; SQLite and psycopg connections must not be
shared between threads at the same time, and a ``flock`` on one open file excludes only other
open files. ``close()`` releases every thread's resource at once (at shutdown or when the
serving index is replaced), which is why they are also kept in a list.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class PerThread(Generic[T]):
    def __init__(self, make: Callable[[], T], release: Callable[[T], None]) -> None:
        self._make, self._release = make, release
        self._local = threading.local()
        self._all: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        item = getattr(self._local, "item", None)
        if item is None:
            item = self._make()
            self._local.item = item
            with self._lock:
                self._all.append(item)
        return item

    def close(self) -> None:
        with self._lock:
            for item in self._all:
                try:
                    self._release(item)
                except Exception:  # releasing another thread's connection may fail; it is dropped anyway
                    pass
            self._all.clear()
        self._local = threading.local()
