"""``harmlens link --engine spark``: the warehouse link with Splink's Spark backend scoring the pairs.

What runs where, and why:

- **Spark** (Splink's ``SparkAPI``): blocking and scoring every candidate record pair, the part
  that grows with the square of the mentions. It uses the very model and settings of the DuckDB
  path (``model.settings_dict``, the same capped block keys, the same term frequencies counted
  over mentions), so the scores and hence the persons are the same.
- **the driver** (an embedded DuckDB working copy of the lake's ``people`` and ``link_*`` tables):
  standardising, collapsing identical mentions, training (EM on a seeded sample of at most
  ``warehouse.TRAIN_MENTIONS`` mentions: a sample fits one machine), clustering and stable ids.
  These grow with the mentions, not their square; docs/scale.md gives their cost per 1M.

The link tables are written back to the lake one table at a time, each atomically.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from harmlens.link import model as link_model

log = logging.getLogger(__name__)

LINK_TABLES_PREFIX = "link"
"""Tables the link stage reads and writes besides ``people``: ``links`` and every ``link_*``."""


def _literal(path: Path) -> str:
    # COPY and read_parquet in a view take no bound parameter for a path; these paths are made
    # here (a uuid under the lake's scratch folder), quoted as a literal with quotes doubled
    return "'" + str(path).replace("'", "''") + "'"


class _Predictions:
    """A Spark prediction landed as a table of the working DuckDB (what the link stage reads)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str, folder: Path) -> None:
        self.con, self.physical_name, self.folder = con, name, folder

    def drop_table_from_database_and_remove_from_cache(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self.physical_name}")
        shutil.rmtree(self.folder, ignore_errors=True)


class _Registrar:
    """``linker._db_api.register(name)``: a working DuckDB table handed to Spark."""

    def __init__(self, owner: SparkScoringLinker) -> None:
        self.owner = owner

    def register(self, table: str):
        return self.owner.api.register(self.owner.to_spark(table))


class _Inference:
    def __init__(self, owner: SparkScoringLinker) -> None:
        self.owner = owner

    def predict(self, threshold_match_probability: float | None = None, **kw: Any) -> _Predictions:
        o = self.owner
        sdf = o.linker.inference.predict(threshold_match_probability=threshold_match_probability, **kw)
        folder = o.scratch / f"pred-{uuid.uuid4().hex[:8]}"
        sdf.as_spark_dataframe().write.parquet(str(folder))
        sdf.drop_table_from_database_and_remove_from_cache()
        name = f"__hl_spark_pred_{uuid.uuid4().hex[:8]}"
        o.con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM read_parquet({_literal(folder / '*.parquet')})")
        return _Predictions(o.con, name, folder)


class SparkScoringLinker:
    """The part of a Splink linker the link stage uses to score pairs, with Spark doing the work.

    Input and lookup tables live in the working DuckDB; each is handed to Spark through Parquet
    in the scratch folder, and predictions come back the same way (no row passes through Python).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any] | str, *, spark, scratch: Path) -> None:
        import json

        from splink import Linker, SparkAPI

        link_model._silence_splink()
        self.con, self.spark, self.scratch = con, spark, scratch
        self.api = SparkAPI(spark_session=spark, break_lineage_method="persist")
        if isinstance(settings, str):
            settings = json.loads(settings)
        self.linker = Linker(self.api.register(self.to_spark(table)), settings, log_level=logging.ERROR)
        self.table_management = self.linker.table_management
        self._db_api = _Registrar(self)
        self.inference = _Inference(self)

    @property
    def _settings_obj(self):
        return self.linker._settings_obj

    def to_spark(self, table: str):
        folder = self.scratch / f"in-{table.strip('_')}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        # unsigned 64-bit block keys have no Spark type: shifted into the signed range, one to one,
        # so equal keys stay equal and different keys different
        cols = self.con.execute(f"DESCRIBE {table}").fetchall()
        sel = ", ".join(f'CAST(CAST("{c}" AS HUGEINT) - 9223372036854775808 AS BIGINT) AS "{c}"' if t == "UBIGINT" else f'"{c}"'
                        for c, t, *_ in cols)
        self.con.execute(f"COPY (SELECT {sel} FROM {table}) TO {_literal(folder / 'part-0.parquet')} (FORMAT parquet)")
        return self.spark.read.parquet(str(folder))


@contextmanager
def spark_scoring(spark, scratch: Path):
    """Within the block, the link stage scores candidate pairs on Spark (``model.SCORER``)."""
    token = link_model.SCORER.set(lambda con, table, settings: SparkScoringLinker(con, table, settings, spark=spark, scratch=scratch))
    try:
        yield
    finally:
        link_model.SCORER.reset(token)


def link_lake(engine, **kw: Any):
    """Link the mentions of a lake (``people``) on ``engine`` (a SparkEngine); writes the link tables
    back to the lake. Keyword arguments are those of ``warehouse.link_warehouse``."""
    from harmlens.engine.lake import export_lake, import_lake
    from harmlens.errors import WarehouseError
    from harmlens.link.warehouse import link_warehouse
    from harmlens.warehouse import connect

    if not engine.has_table("people"):
        raise WarehouseError(f"the lake {engine.lake} has no people table: ingest into a warehouse and 'harmlens lake export' it")
    scratch = engine.lake / "_work" / uuid.uuid4().hex[:12]
    scratch.mkdir(parents=True)
    engine.spark.sparkContext.setCheckpointDir(str(scratch / "checkpoints"))
    try:
        con = connect(scratch / "work.duckdb")
        try:
            names = ["people"] + [t for t in engine.tables() if t.startswith(LINK_TABLES_PREFIX) and t in engine._lake]
            import_lake(con, engine.lake, names)
            with spark_scoring(engine.spark, scratch):
                summary = link_warehouse(con, **kw)
            written = [t for t in _link_tables(con)]
            export_lake(con, engine.lake, written)
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        _remove_empty(engine.lake / "_work")
    engine.refresh()
    return summary


def _link_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    from harmlens.engine.lake import warehouse_tables

    return [t for t in warehouse_tables(con) if t.startswith(LINK_TABLES_PREFIX)]


def _remove_empty(folder: Path) -> None:
    try:
        os.rmdir(folder)
    except OSError:
        pass
