"""The Spark engine: the warehouse as a Parquet lake, SQL run by Spark.

The lake is a folder with one Parquet folder per warehouse table (``<lake>/<table>/*.parquet``,
layout in docs/scale.md). ``harmlens lake export`` writes one from a DuckDB warehouse and
``harmlens lake import`` reads one back, so a city can move between the engines.

SQL arrives in DuckDB's dialect with ``?`` placeholders: it is translated by sqlglot and the
values are bound by Spark (``spark.sql(sql, args=[...])``, positional parameters since Spark 3.5),
never pasted into the text. Parquet has no UPDATE, so the statements that change a table are
read here (sqlglot's parse) and carried out as a rewrite of the whole table: ``CREATE TABLE AS``,
``INSERT INTO ... SELECT|VALUES``, ``DELETE FROM ... WHERE`` and ``DROP``. A rewrite goes to a
new folder that is renamed into place, so a reader sees the old table or the new one, never half.
A transaction stages every rewrite and renames them all at commit: each table swaps atomically,
but a crash between two renames can leave one table new and another old (Parquet has no
multi-table commit; docs/scale.md says so).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmlens.engine.base import Engine, EngineError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("harmlens.engine.spark")

DEFAULT_MASTER = "local[2]"
"""Master when neither ``--spark-master`` nor ``HARMLENS_SPARK_MASTER`` names one."""

SIMILARITY_ALIASES = {"jaro_winkler_similarity": "uk.gov.moj.dash.linkage.JaroWinklerSimilarity"}
"""DuckDB's names for string similarities, bound to the Scala functions in Splink's jar, so a
model's comparison SQL runs unchanged on Spark."""


def spark_session(master: str | None = None, *, app: str = "harmlens"):
    """A Spark session with Splink's similarity functions (one per process; reused when open)."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    if not master and not os.environ.get("HARMLENS_SPARK_MASTER"):
        # under spark-submit the master comes from its --master (a JVM system property)
        from pyspark import SparkConf

        master = SparkConf().get("spark.master", DEFAULT_MASTER)
    master = master or os.environ["HARMLENS_SPARK_MASTER"]
    b = (
        SparkSession.builder.appName(app).master(master)
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # DuckDB's casts and arithmetic are the reference: Spark 4's ANSI mode differs on them
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        # Python workers (map_batches) run this interpreter, where harmlens and the model's
        # libraries are installed; on a cluster the executors' Python comes from spark-submit
        # (an environment archive with harmlens in it: docs/scale.md). PySpark reads the
        # environment variable when it starts the context; the spark.pyspark.python setting is
        # not read there
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # a handful of cores: the default 200 shuffle partitions would be mostly scheduling
        b = b.config("spark.sql.shuffle.partitions", os.environ.get("HARMLENS_SPARK_PARTITIONS", "8"))
        b = b.config("spark.driver.memory", os.environ.get("HARMLENS_SPARK_DRIVER_MEMORY", "4g"))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    from pyspark.sql.types import DoubleType

    for name, cls in SIMILARITY_ALIASES.items():
        spark.udf.registerJavaFunction(name, cls, DoubleType())
    return spark


def lake_tables(lake: Path) -> dict[str, Path]:
    """Table name -> folder, for every table folder of a lake (dot and underscore folders are the
    lake's own scratch)."""
    if not lake.is_dir():
        return {}
    return {p.name: p for p in sorted(lake.iterdir())
            if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.parquet"))}


def swap_in(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` where ``target`` is: one rename each way, the old one removed after."""
    old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.rename(target, old)
    os.rename(staged, target)
    shutil.rmtree(old, ignore_errors=True)


class SparkEngine(Engine):
    """An :class:`Engine` over a Spark session and a Parquet lake folder."""

    name = "spark"
    dialect = "spark"

    def __init__(self, spark, lake: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.spark = spark
        self.lake = Path(lake)
        self.read_only = read_only
        self._temps: set[str] = set()
        self._staged: dict[str, Path] | None = None  # table -> staged folder, while a transaction is open
        self.refresh()

    # -- the lake ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """(Re)register every lake table as a view of its Parquet folder."""
        self._lake = lake_tables(self.lake)
        for name, path in self._lake.items():
            self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def _write(self, name: str, df) -> None:
        if self.read_only:
            raise EngineError(f"the lake {self.lake} is open read-only: cannot write {name}")
        self.lake.mkdir(parents=True, exist_ok=True)
        tmp = self.lake / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
        df.write.parquet(str(tmp))
        if self._staged is not None:
            prev = self._staged.get(name)
            self._staged[name] = tmp
            if prev is not None:
                shutil.rmtree(prev, ignore_errors=True)
        else:
            swap_in(tmp, self.lake / name)
            tmp = self.lake / name
            self._lake[name] = tmp
        self._temps.discard(name)
        self.spark.read.parquet(str(tmp)).createOrReplaceTempView(name)

    # -- SQL -----------------------------------------------------------------------------------
    def translate(self, sql: str) -> str:
        import sqlglot

        from sqlglot import exp

        trees = sqlglot.parse(sql, read="duckdb")
        if len(trees) != 1 or trees[0] is None:
            raise EngineError("one SQL statement at a time on the spark engine")
        tree = trees[0]
        # DuckDB's "AS MATERIALIZED" is a planning hint Spark's parser refuses; Spark reuses a
        # CTE read twice through its own exchange reuse, so dropping the hint keeps the meaning
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)
        # "86400.0" is a DECIMAL literal on both engines, but DuckDB divides decimals in double
        # precision while Spark keeps a decimal of limited scale (7 places): without this a day
        # count reads 14.6119792 on Spark and 14.611979166666666 on DuckDB
        for lit in list(tree.find_all(exp.Literal)):
            if not lit.is_string and any(ch in lit.this for ch in ".eE"):
                lit.replace(exp.cast(lit.copy(), "DOUBLE"))
        return tree.sql(dialect="spark")

    def _sql(self, sql: str, params: Sequence[Any] | None):
        return self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)

    def _execute(self, sql: str, params: Sequence[Any] | None) -> Any:
        # sql is already in Spark's dialect; the statements Parquet cannot run in place are read
        # here and carried out as whole-table rewrites
        import sqlglot
        from sqlglot import exp

        values = list(params or [])
        tree = sqlglot.parse_one(sql, read="spark")
        if isinstance(tree, exp.Create) and tree.expression is not None and tree.kind == "TABLE":
            self._create_as(tree, values)
        elif isinstance(tree, exp.Insert):
            self._insert(tree, values)
        elif isinstance(tree, exp.Delete):
            self._delete(tree, values)
        elif isinstance(tree, exp.Drop):
            self.drop(tree.this.name)
        else:
            return self._sql(sql, values)
        return self.spark.createDataFrame([], "done INT")

    def _materialise(self, name: str, df, temporary: bool) -> None:
        if temporary:
            df.localCheckpoint().createOrReplaceTempView(name)
            self._temps.add(name)
        else:
            self._write(name, df)

    def _create_as(self, tree, values: list[Any]) -> None:
        name = tree.this.this.name if hasattr(tree.this, "this") and tree.this.this is not None else tree.this.name
        from sqlglot import exp

        props = tree.args.get("properties")
        temporary = bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))
        if not tree.args.get("replace") and self.has_table(name):
            raise EngineError(f"table {name} exists")
        self._materialise(name, self._sql(tree.expression.sql(dialect="spark"), values), temporary)

    def _insert(self, tree, values: list[Any]) -> None:
        from sqlglot import exp

        target = tree.this
        cols = None
        if isinstance(target, exp.Schema):
            cols = [c.name for c in target.expressions]
            target = target.this
        name = target.name
        self.require(name)
        existing = self.spark.table(name)
        new = self._sql(tree.expression.sql(dialect="spark"), values)
        names = cols or existing.columns[: len(new.columns)]
        new = new.toDF(*names)
        from pyspark.sql import functions as F

        for c in existing.columns:
            if c not in names:
                new = new.withColumn(c, F.lit(None))
        new = new.select(*[F.col(c).cast(existing.schema[c].dataType) for c in existing.columns])
        self._rewrite(name, existing.unionByName(new))

    def _delete(self, tree, values: list[Any]) -> None:
        name = tree.this.name
        self.require(name)
        where = tree.args.get("where")
        if where is None:
            df = self.spark.table(name).limit(0)
        else:
            cond = where.this.sql(dialect="spark")
            df = self._sql(f"SELECT * FROM {name} WHERE NOT coalesce(({cond}), false)", values)
        self._rewrite(name, df)

    def _rewrite(self, name: str, df) -> None:
        if name in self._temps:
            self._materialise(name, df, temporary=True)
        else:
            self._write(name, df)

    def _to_frame(self, result: Any) -> pd.DataFrame:
        return result.toPandas()

    def _to_rows(self, result: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in result.collect()]

    # -- tables --------------------------------------------------------------------------------
    def tables(self) -> set[str]:
        return {t.name for t in self.spark.catalog.listTables()}

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns) if self.has_table(table) else []

    def register_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.spark.createDataFrame(frame).createOrReplaceTempView(name)
        self._temps.add(name)

    def map_batches(self, source, fn, schema, *, into: str, temporary: bool = True) -> str:
        from sqlglot import exp

        ddl = ", ".join(f"`{c}` {exp.DataType.build(t, dialect='duckdb').sql(dialect='spark')}" for c, t in schema.items())
        names = list(schema)

        def each(batches):  # runs on the executors: fn travels there pickled with its closure
            for b in batches:
                out = fn(b)
                if list(out.columns) != names:
                    raise ValueError(f"map_batches: the function must return the columns {names}")
                yield out

        self._materialise(into, self.spark.table(source).mapInPandas(each, schema=ddl), temporary)
        return into

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._temps.discard(name)

    def drop(self, name: str) -> None:
        if name in self._lake:
            if self.read_only:
                raise EngineError(f"the lake {self.lake} is open read-only: cannot drop {name}")
            shutil.rmtree(self._lake.pop(name), ignore_errors=True)
        self.spark.catalog.dropTempView(name)
        self._temps.discard(name)

    # -- transactions --------------------------------------------------------------------------
    def _begin(self) -> bool:
        if self._staged is not None:
            return False
        self._staged = {}
        return True

    def _commit(self) -> None:
        staged, self._staged = self._staged or {}, None
        for name, path in staged.items():
            swap_in(path, self.lake / name)
            self._lake[name] = self.lake / name
            self.spark.read.parquet(str(self.lake / name)).createOrReplaceTempView(name)

    def _rollback(self) -> None:
        staged, self._staged = self._staged or {}, None
        for path in staged.values():
            shutil.rmtree(path, ignore_errors=True)
        for name in staged:
            self.spark.catalog.dropTempView(name)
        self.refresh()

    def close(self) -> None:
        for name in list(self._temps):
            self.spark.catalog.dropTempView(name)
        self._temps.clear()


def open_spark_engine(lake: str | os.PathLike[str] | None, *, master: str | None = None, read_only: bool = False) -> SparkEngine:
    """The lake folder ``lake`` on a Spark session at ``master`` (default local[2])."""
    if lake is None:
        raise EngineError("the spark engine needs a lake folder: --db LAKE_DIR (write one with 'harmlens lake export')")
    p = Path(lake)
    if p.exists() and not p.is_dir():
        raise EngineError(f"{p} is a file: the spark engine reads a lake folder (write one with 'harmlens lake export')")
    return SparkEngine(spark_session(master), p, read_only=read_only)
