"""The spark engine: its contract on a Parquet lake, and the same answers as DuckDB on a small city.

One Spark session (local mode) serves the whole module: starting one costs ~10-20 s.
"""

from __future__ import annotations

import shutil
from collections import defaultdict

import pytest
from typer.testing import CliRunner

pyspark = pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
if shutil.which("java") is None:
    pytest.skip("no java on PATH: the spark engine needs Java 17 (make system-deps installs it)", allow_module_level=True)

from harmlens.cli import app  # noqa: E402
from harmlens.engine import EngineError  # noqa: E402
from harmlens.engine.lake import export_lake, import_lake  # noqa: E402
from harmlens.engine.spark_engine import open_spark_engine  # noqa: E402

AS_OF = "2024-12-01"


@pytest.fixture(scope="module")
def lake_engine(tmp_path_factory):
    eng = open_spark_engine(tmp_path_factory.mktemp("lake"), master="local[2]")
    yield eng
    eng.close()


def test_sql_is_translated_and_values_are_bound(lake_engine):
    eng = lake_engine
    hostile = "x'; DROP TABLE t; --"
    eng.execute("CREATE OR REPLACE TABLE t AS SELECT CAST(? AS VARCHAR) AS s, n FROM (VALUES (0), (1), (2)) v(n)", [hostile])
    assert eng.has_table("t") and (eng.lake / "t").is_dir()
    assert eng.rows("SELECT DISTINCT s FROM t") == [(hostile,)]
    # DuckDB spellings (::, list_contains) arrive in Spark's dialect
    assert eng.scalar("SELECT count(*)::BIGINT FROM t WHERE list_contains([0, 2], n) AND s = ?", [hostile]) == 2
    eng.execute("INSERT INTO t VALUES (?, ?)", ["y", 9])
    eng.execute("DELETE FROM t WHERE n < ?", [2])
    assert sorted(eng.rows("SELECT s, n FROM t")) == [(hostile, 2), ("y", 9)]
    assert eng.columns("t") == ["s", "n"]


def test_transaction_rolls_back_every_table(lake_engine):
    eng = lake_engine
    eng.execute("CREATE OR REPLACE TABLE u AS SELECT 1 AS x")
    with pytest.raises(RuntimeError):
        with eng.transaction():
            eng.execute("INSERT INTO u VALUES (2)")
            with eng.transaction():  # joins the outer one
                eng.execute("CREATE OR REPLACE TABLE v AS SELECT 5 AS y")
            assert eng.scalar("SELECT count(*) FROM u") == 2  # the block sees its own writes
            raise RuntimeError("boom")
    assert eng.rows("SELECT x FROM u") == [(1,)] and not eng.has_table("v")
    with eng.transaction():
        eng.execute("INSERT INTO u VALUES (3)")
    eng.refresh()  # what a new reader of the lake sees
    assert sorted(eng.rows("SELECT x FROM u")) == [(1,), (3,)]
    assert not [p for p in eng.lake.iterdir() if p.name.startswith(".")]  # no staged folder left


def test_read_only_lake_refuses_writes(lake_engine):
    from harmlens.engine.spark_engine import SparkEngine

    ro = SparkEngine(lake_engine.spark, lake_engine.lake, read_only=True)
    with pytest.raises(EngineError, match="read-only"):
        ro.execute("CREATE OR REPLACE TABLE w AS SELECT 1 AS x")


# -- the same answers on both engines ----------------------------------------------------------


def _pairs(links: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for m, p in links.items():
        groups[p].append(m)
    return {(a, b) for ms in groups.values() for a in ms for b in ms if a < b}


def _f1(a: set, b: set) -> float:
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


@pytest.fixture(scope="module")
def two_cities(tmp_path_factory, lake_engine):
    """One synthetic city ingested into DuckDB and exported to a lake; linked, harm-applied on each engine."""
    from harmlens.contract import ingest
    from harmlens.synth import SynthConfig, generate
    from harmlens.warehouse import connect

    root = tmp_path_factory.mktemp("city")
    generate(SynthConfig(people=1500, seed=5), root / "extract")
    db = root / "wh.duckdb"
    con = connect(db)
    ingest(con, root / "extract")
    export_lake(con, root / "lake")
    con.close()
    runner = CliRunner()
    for args in (["link", "--db", str(db)], ["harm", "apply", "--db", str(db)],
                 ["link", "--engine", "spark", "--db", str(root / "lake")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output, r.exception)
    with pytest.MonkeyPatch.context() as mp:
        _no_driver_copy(mp)
        r = runner.invoke(app, ["harm", "apply", "--engine", "spark", "--db", str(root / "lake")])
    assert r.exit_code == 0, (r.output, r.exception)
    return db, root / "lake"


def _no_driver_copy(mp: pytest.MonkeyPatch) -> None:
    """Make copying the lake into a driver DuckDB fail: harm apply and rank must run on Spark."""
    import harmlens.engine.lake as lake

    def refuse(*_a, **_k):
        raise AssertionError("the lake was copied to the driver")

    mp.setattr(lake, "on_driver", refuse)
    mp.setattr(lake, "import_lake", refuse)


def test_harm_apply_gives_the_same_event_harm(two_cities):
    from harmlens.harm.offence_map import HARM_COLUMNS
    from harmlens.warehouse import connect

    db, lake = two_cities
    cols = ", ".join(HARM_COLUMNS)
    con = connect(db, create=False)
    duck = con.execute(f"SELECT {cols} FROM event_harm ORDER BY event_id").fetchall()
    runs = con.execute("SELECT weight_table, map_source, events, mapped, unmapped, unweighted, weight_unit FROM harm_runs").fetchall()
    con.close()
    eng = open_spark_engine(lake)
    spark = eng.rows(f"SELECT {cols} FROM event_harm ORDER BY event_id")
    assert len(duck) > 100 and spark == duck
    assert eng.rows("SELECT weight_table, map_source, events, mapped, unmapped, unweighted, weight_unit FROM harm_runs") == runs


def test_scores_with_another_weight_table_agree(two_cities, monkeypatch):
    """--weights maps the offences on the fly: a temporary table on Spark, the same scores."""
    from harmlens.harm.baselines import rfh_scores
    from harmlens.warehouse import connect

    db, lake = two_cities
    _no_driver_copy(monkeypatch)
    con = connect(db, create=False)
    duck = rfh_scores(con, AS_OF, weights="severity")
    con.close()
    spark = rfh_scores(open_spark_engine(lake), AS_OF, weights="severity")
    assert len(duck) > 3
    cols = ["person_id", "score", "allegations", "charges", "convictions", "distinct_victims", "harm_sum", "top_factors"]
    assert spark[cols].to_dict("records") == duck[cols].to_dict("records")


def test_link_gives_the_same_persons(two_cities):
    from harmlens.warehouse import connect

    db, lake = two_cities
    con = connect(db, create=False)
    duck = dict(con.execute("SELECT mention_id, person_id FROM links").fetchall())
    con.close()
    eng = open_spark_engine(lake)
    spark = dict(eng.rows("SELECT mention_id, person_id FROM links"))
    assert duck.keys() == spark.keys()
    assert _f1(_pairs(duck), _pairs(spark)) >= 0.999


@pytest.mark.parametrize("method", ["v100", "rfg", "rfh"])
def test_rank_gives_the_same_top_people(two_cities, method, tmp_path, monkeypatch):
    db, lake = two_cities
    _no_driver_copy(monkeypatch)
    runner = CliRunner()
    got = {}
    for name, args in (("duckdb", ["--db", str(db)]), ("spark", ["--engine", "spark", "--db", str(lake)])):
        out = tmp_path / f"{name}.csv"
        r = runner.invoke(app, ["rank", "--as-of", AS_OF, "--method", method, "--top", "20", "--format", "csv", "--out", str(out), *args])
        assert r.exit_code == 0, (r.output, r.exception)
        got[name] = out.read_text()
    # person ids are assigned from the mentions, so the same persons carry the same ids
    assert got["duckdb"] == got["spark"]
    assert got["duckdb"].count("\n") > 3


def test_lake_round_trip_keeps_the_warehouse(two_cities, tmp_path):
    from harmlens.warehouse import connect

    db, lake = two_cities
    con = connect(tmp_path / "back.duckdb")
    got = import_lake(con, lake)
    assert got["links"] > 0 and got["event_harm"] > 0
    src = connect(db, create=False)
    assert got["people"] == src.execute("SELECT count(*) FROM people").fetchall()[0][0]
    src.close()
    con.close()


def test_temporary_tables_and_steps_stay_out_of_the_lake(lake_engine):
    from harmlens.engine import SQLPipeline

    eng = lake_engine
    eng.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
    assert eng.has_table("scratch") and not (eng.lake / "scratch").exists()
    eng.execute("INSERT INTO scratch VALUES (?)", [2])
    assert eng.scalar("SELECT sum(x) FROM scratch") == 3
    p = SQLPipeline()
    p.add("a", "SELECT x FROM scratch")
    p.add("b", "SELECT x * ? AS y FROM a", 10)
    assert eng.run_steps(p) == {"a": 2, "b": 2}
    assert sorted(eng.frame(p)["y"].tolist()) == [10, 20]
    eng.run(p, into="kept")
    assert (eng.lake / "kept").is_dir() and eng.scalar("SELECT max(y) FROM kept") == 20
    eng.drop("scratch")
    eng.drop("kept")
    assert not eng.has_table("scratch") and not (eng.lake / "kept").exists()


def test_features_are_the_same_on_both_engines(two_cities):
    """Feature building runs its SQL steps on Spark (translated) and gives DuckDB's numbers."""
    import pandas as pd

    from harmlens.features import build_features
    from harmlens.warehouse import connect

    db, lake = two_cities
    con = connect(db, create=False)
    duck = build_features(con, "2024-06-01")
    con.close()
    spark = build_features(open_spark_engine(lake), "2024-06-01")
    assert len(duck) > 10 and duck.to_numpy().any()
    pd.testing.assert_frame_equal(spark, duck, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def scored_lake(demo_out, tmp_path_factory, lake_engine):
    """The demo's warehouse (a trained, promoted model) copied, and exported to a lake."""
    from harmlens.warehouse import connect

    root = tmp_path_factory.mktemp("scored")
    db = root / "wh.duckdb"
    shutil.copy(demo_out / "harmlens.duckdb", db)
    con = connect(db, create=False)
    export_lake(con, root / "lake")
    con.close()
    return db, root / "lake"


def test_score_gives_the_same_top_people_and_stores_everyone(scored_lake, monkeypatch):
    """`score --engine spark`: features and the model's predictions run on Spark (the lake is
    never copied to the driver), the same top people with the same evidence as on DuckDB, and
    every scored person lands in the lake's risk_scores."""
    from harmlens.demo import BACKTEST
    from harmlens.warehouse import connect

    db, lake = scored_lake
    _no_driver_copy(monkeypatch)
    runner = CliRunner()
    got = {}
    for name, args in (("duckdb", ["--db", str(db)]), ("spark", ["--engine", "spark", "--db", str(lake)])):
        r = runner.invoke(app, ["score", "--as-of", BACKTEST, "--top", "15", "--format", "csv", *args])
        assert r.exit_code == 0, (r.output, r.exception)
        got[name] = r.stdout
    assert got["duckdb"].count("\n") == 16 and "allegation" in got["duckdb"]
    assert got["spark"] == got["duckdb"]
    con = connect(db, create=False)
    duck = con.execute("SELECT person_id, risk, top_factors FROM risk_scores WHERE as_of = ? ORDER BY person_id", [BACKTEST]).fetchall()
    con.close()
    spark = open_spark_engine(lake).rows(
        "SELECT person_id, risk, top_factors FROM risk_scores WHERE as_of = CAST(? AS TIMESTAMP) ORDER BY person_id", [BACKTEST])
    assert len(spark) == len(duck) > 15  # everyone, not only the 15 shown
    assert [p for p, _, _ in spark] == [p for p, _, _ in duck]
    assert max(abs(a[1] - b[1]) for a, b in zip(spark, duck)) < 1e-12
    # the explained (top) people carry their factors on both engines
    assert {p for p, _, f in spark if f} <= {p for p, _, f in duck if f}


def test_score_refuses_a_cohort_on_spark(scored_lake, tmp_path):
    _, lake = scored_lake
    cohort = tmp_path / "c.csv"
    cohort.write_text("person_id,as_of\nP1,2024-01-01\n")
    r = CliRunner().invoke(app, ["score", "--cohort", str(cohort), "--engine", "spark", "--db", str(lake)])
    assert r.exit_code != 0 and "embedded warehouse only" in str(r.exception or r.output)


def test_map_batches_runs_on_the_workers_and_decimals_divide_as_on_duckdb(lake_engine):
    import pandas as pd

    eng = lake_engine
    # DuckDB divides by a decimal literal in double precision; so must the translation
    assert eng.scalar("SELECT 1 / 3.0") == pytest.approx(1 / 3, rel=1e-15)
    values = ", ".join(f"({i})" for i in range(100))
    eng.execute(f"CREATE OR REPLACE TEMP TABLE nums AS SELECT n FROM (VALUES {values}) v(n)")

    def square(b: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"n": b["n"], "sq": b["n"].astype(float) ** 2})

    eng.map_batches("nums", square, {"n": "BIGINT", "sq": "DOUBLE"}, into="squares")
    assert eng.scalar("SELECT sum(sq) FROM squares") == sum(i * i for i in range(100))
    assert not (eng.lake / "squares").exists()  # temporary by default
    eng.drop("squares")
    eng.drop("nums")
