"""The data contract: table definitions, validation, quarantine and ingest."""

from harmlens.contract.load import IngestReport, TableStats, ingest
from harmlens.contract.tables import TABLES, ethnic_group

__all__ = ["IngestReport", "TableStats", "ingest", "TABLES", "ethnic_group"]
