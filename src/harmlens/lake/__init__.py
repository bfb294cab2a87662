"""The lake commands (``harmlens lake export|import``): a warehouse moved between the DuckDB file
and the Parquet lake the spark engine reads and writes.

A command area of its own rather than part of ``harmlens.engine``: commands wire CLI options
(``harmlens.options``), which open the warehouse, and the engine layer must import no stage or
command code (tests/architecture/test_imports.py).
"""
