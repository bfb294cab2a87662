"""Errors raised by the harm area (all are HarmlensError: one line on the CLI, exit code 1)."""

from __future__ import annotations

from harmlens.errors import HarmlensError


class HarmError(HarmlensError):
    """Bad offence map, weight table, ranking option, or a warehouse not ready for harm."""
