"""The engine contract on DuckDB: the behaviour every stage relies on, and the doctests."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

import harmlens.engine as engine_pkg
import harmlens.engine.pipeline as pipeline_mod
from harmlens.engine import DuckDBEngine, EngineError, SQLPipeline, as_engine, open_engine


@pytest.mark.parametrize("mod", [engine_pkg, pipeline_mod])
def test_doctests(mod):
    res = doctest.testmod(mod)
    assert res.attempted > 0 and res.failed == 0


def test_transaction_commits_and_rolls_back():
    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE t (x INTEGER)")
    with eng.transaction():
        eng.execute("INSERT INTO t VALUES (?)", [1])
    with pytest.raises(RuntimeError):
        with eng.transaction():
            eng.execute("INSERT INTO t VALUES (?)", [2])
            raise RuntimeError("boom")
    assert eng.rows("SELECT x FROM t") == [(1,)]


def test_nested_transaction_joins_the_outer_one():
    # A helper that opens its own transaction inside a caller's must not commit half the write.
    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(ValueError):
        with eng.transaction():
            eng.execute("INSERT INTO t VALUES (1)")
            with eng.transaction():
                eng.execute("INSERT INTO t VALUES (2)")
            raise ValueError("outer fails after the inner block ended")
    assert eng.scalar("SELECT count(*) FROM t") == 0


def test_has_table_sees_tables_views_temp_and_frames():
    eng = DuckDBEngine.in_memory()
    assert not eng.has_table("a")
    eng.execute("CREATE TABLE a (x INTEGER)")
    eng.execute("CREATE VIEW b AS SELECT * FROM a")
    eng.execute("CREATE TEMP TABLE c (y VARCHAR)")
    eng.register_frame("d", pd.DataFrame({"z": [1, 2]}))
    assert {"a", "b", "c", "d"} <= eng.tables()
    assert eng.columns("c") == ["y"] and eng.columns("missing") == []
    assert eng.scalar("SELECT sum(z) FROM d") == 3
    eng.unregister("d")
    assert not eng.has_table("d")
    eng.drop("b")
    eng.drop("a")
    eng.drop("never_there")
    assert not (eng.has_table("a") or eng.has_table("b"))


def test_require_names_the_missing_table_and_the_hint():
    eng = DuckDBEngine.in_memory()
    with pytest.raises(EngineError, match="no links table: run 'harmlens link'"):
        eng.require("links", hint="run 'harmlens link'")


def test_pipeline_whole_equals_step_by_step_and_binds_values():
    eng = DuckDBEngine.in_memory()
    p = SQLPipeline()
    p.add("people", "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, code)")
    p.add("picked", "SELECT id FROM people WHERE code <> ?", "b")
    p.add("doubled", "SELECT id * ? AS id2 FROM picked", 2)
    assert sorted(eng.frame(p)["id2"]) == [2, 6]
    counts = eng.run_steps(p)
    assert counts == {"people": 3, "picked": 2, "doubled": 2}
    assert not eng.has_table("picked")  # scratch steps dropped
    eng.run(p, into="result")
    assert sorted(r[0] for r in eng.rows("SELECT id2 FROM result")) == [2, 6]


def test_hostile_step_values_stay_values():
    eng = DuckDBEngine.in_memory()
    p = SQLPipeline()
    p.add("x", "SELECT ? AS v", "'); DROP TABLE y; --")
    eng.execute("CREATE TABLE y (a INTEGER)")
    assert eng.scalar(p) == "'); DROP TABLE y; --"
    assert eng.has_table("y")


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", 'a"b'])
def test_step_names_must_be_identifiers(name):
    with pytest.raises(EngineError):
        SQLPipeline().add(name, "SELECT 1")


def test_duplicate_step_and_empty_pipeline_rejected():
    p = SQLPipeline()
    with pytest.raises(EngineError, match="empty pipeline"):
        p.sql()
    p.add("a", "SELECT 1")
    with pytest.raises(EngineError, match="already has"):
        p.add("a", "SELECT 2")


def test_run_steps_refuses_names_that_clash():
    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE a (x INTEGER)")
    p = SQLPipeline()
    p.add("a", "SELECT 1 AS x")
    with pytest.raises(EngineError, match="clash"):
        eng.run_steps(p)


def test_as_engine_wraps_a_connection_without_owning_it(tmp_path):
    import duckdb

    con = duckdb.connect(":memory:")
    eng = as_engine(con)
    assert as_engine(eng) is eng
    eng.close()
    assert con.execute("SELECT 1").fetchall() == [(1,)]  # still open
    with pytest.raises(EngineError):
        as_engine(object())


def test_open_engine_migrates_and_rejects_unknown(tmp_path):
    eng = open_engine(tmp_path / "w.duckdb")
    try:
        assert eng.has_table("schema_migrations")
    finally:
        eng.close()
    with pytest.raises(EngineError, match="unknown engine"):
        open_engine(tmp_path / "w.duckdb", engine="oracle")


def test_nesting_is_seen_across_engines_on_one_connection():
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t (x INTEGER)")
    outer, inner = as_engine(con), as_engine(con)
    with pytest.raises(KeyError):
        with outer.transaction():
            with inner.transaction():
                inner.execute("INSERT INTO t VALUES (1)")
            raise KeyError("x")
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    with outer.transaction():  # usable again after the rollback
        outer.execute("INSERT INTO t VALUES (2)")
    assert con.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_rollback_undoes_a_block_without_an_error():
    # "nothing new to record": the block raises Rollback, the caller catches it just outside
    from harmlens.engine import Rollback

    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(Rollback):
        with eng.transaction():
            eng.execute("INSERT INTO t VALUES (1)")
            raise Rollback
    assert eng.scalar("SELECT count(*) FROM t") == 0
    with eng.transaction():  # no transaction left open
        eng.execute("INSERT INTO t VALUES (2)")
    assert eng.rows("SELECT x FROM t") == [(2,)]


def test_pipeline_materialized_steps_and_ctes():
    p = SQLPipeline()
    p.add("a", "SELECT 1 AS x", materialized=True)
    p.add("b", "SELECT x + 1 AS y FROM a")
    assert p.ctes().startswith("a AS MATERIALIZED (")
    assert "b AS (" in p.ctes() and p.sql() == f"WITH\n{p.ctes()}\nSELECT * FROM b"
    eng = DuckDBEngine.in_memory()
    assert eng.scalar(p) == 2 and eng.run_steps(p) == {"a": 1, "b": 1}


def test_map_batches_sees_every_row_once_in_batches(monkeypatch):
    import harmlens.engine.duckdb_engine as dd

    monkeypatch.setattr(dd, "BATCH_ROWS", 7)
    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE src AS SELECT range AS n, 'p' || range AS person_id FROM range(50)")
    sizes = []

    def double(b: pd.DataFrame) -> pd.DataFrame:
        sizes.append(len(b))
        return pd.DataFrame({"person_id": b["person_id"], "twice": b["n"] * 2.0})

    assert eng.map_batches("src", double, {"person_id": "VARCHAR", "twice": "DOUBLE"}, into="out") == "out"
    got = eng.frame("SELECT person_id, twice FROM out ORDER BY twice")
    assert got["twice"].tolist() == [2.0 * i for i in range(50)] and got["person_id"].iloc[3] == "p3"
    assert sum(sizes) == 50 and max(sizes) <= 7 and len(sizes) > 1


def test_map_batches_refuses_other_columns_and_leaves_no_table():
    eng = DuckDBEngine.in_memory()
    eng.execute("CREATE TABLE src AS SELECT 1 AS n")
    with pytest.raises(EngineError, match="must return the columns"):
        eng.map_batches("src", lambda b: b.rename(columns={"n": "m"}), {"x": "DOUBLE"}, into="out")
    assert not eng.has_table("out")
