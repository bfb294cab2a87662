"""Progress bars on stderr for long work; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

stderr_console = Console(stderr=True)


@contextmanager
def progress(enabled: bool | None = None) -> Iterator[Progress]:
    """A rich Progress on stderr; disabled (no output) when stderr is not a TTY.

    Usage: ``with progress() as p: t = p.add_task("linking", total=n); p.advance(t)``.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    p = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=stderr_console, disable=not enabled)
    with p:
        yield p
