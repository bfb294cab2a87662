"""The data contract: table definitions, validation, quarantine and ingest.

Exports are lazy so that ``harmlens --help`` does not import pandas.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

__all__ = ["IngestReport", "TableStats", "ingest", "TABLES", "ethnic_group"]
_FROM = {"IngestReport": "load", "TableStats": "load", "ingest": "load", "TABLES": "tables", "ethnic_group": "tables"}

__getattr__ = lazy_exports(__name__, _FROM)
