"""Explaining a list over a driver copy of only the listed people's rows gives the same list.

With the Spark engine, rank explains the listed people (evidence, near-match warnings) on a driver
DuckDB holding just their rows (harm/driver_subset.py). Run here on DuckDB, it must agree with
explaining them on the whole warehouse: any row the copy misses would change an answer.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from harmlens.engine import DuckDBEngine
from harmlens.harm.driver_subset import listed_on_driver
from harmlens.harm.linkwarn import link_warnings

from tests.harm.test_linkwarn import AS_OF, _world


def test_near_match_warnings_agree_on_the_copy(warehouse):
    _world(warehouse)
    listed = pd.DataFrame({"person_id": ["PA", "PB", "PD"], "rank": [1, 2, 3]})
    whole = link_warnings(warehouse, listed, AS_OF)
    with listed_on_driver(DuckDBEngine(warehouse), listed["person_id"]) as small:
        # only the listed people's events, their near matches' (custody, death) and nothing else
        assert small.execute("SELECT count(*) FROM events").fetchall()[0][0] == 6
        copy = link_warnings(small, listed, AS_OF)
    assert whole.dropna().to_dict() == copy.dropna().to_dict() and len(whole.dropna()) == 3


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from typer.testing import CliRunner

    from harmlens.cli import app
    from harmlens.contract import ingest
    from harmlens.synth import SynthConfig, generate
    from harmlens.warehouse import connect

    root = tmp_path_factory.mktemp("city")
    generate(SynthConfig(people=8000, seed=11), root / "extract")
    db = root / "wh.duckdb"
    con = connect(db)
    ingest(con, root / "extract")
    con.close()
    for args in (["link", "--db", str(db)], ["harm", "apply", "--db", str(db)]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, (args, r.output, r.exception)
    return db


@pytest.mark.parametrize("method", ["v100", "rfg"])
def test_rank_explained_on_the_copy_is_the_same_list(city, method):
    from harmlens.harm.ranking import rank
    from harmlens.warehouse import connect

    con = connect(city, create=False)
    try:
        whole = rank(con, method, "2024-12-01", top=15)
        eng = DuckDBEngine(con)
        copy = rank(eng, method, "2024-12-01", top=15, listed_on=partial(listed_on_driver, eng))
    finally:
        con.close()
    assert len(whole.priority) >= 10
    pd.testing.assert_frame_equal(whole.combined(), copy.combined())
    assert whole.link_warnings == copy.link_warnings and whole.notes == copy.notes
