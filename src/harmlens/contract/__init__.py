"""The data contract: table definitions, validation, quarantine and ingest.

Exports are lazy so that ``harmlens --help`` does not import pandas.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IngestReport", "TableStats", "ingest", "TABLES", "ethnic_group"]
_FROM = {"IngestReport": "load", "TableStats": "load", "ingest": "load", "TABLES": "tables", "ethnic_group": "tables"}


def __getattr__(name: str) -> Any:
    if name in _FROM:
        import importlib

        value = getattr(importlib.import_module(f"harmlens.contract.{_FROM[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harmlens.contract' has no attribute {name!r}")
