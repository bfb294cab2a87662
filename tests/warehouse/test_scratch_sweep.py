"""A link run killed with SIGKILL leaves no names or dates of birth behind after the next command.

The run is really killed: ``harmlens link`` in a child process, SIGKILL after a delay. The test
first checks (without harmlens, read-only) that the kill did leave scratch tables, so it proves
something; a read-only open must not change the file; the next write open (any command) sweeps.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harmlens.cli", *args], capture_output=True, text=True, env=ENV, timeout=timeout)


def _scratch(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(r[0] for r in con.execute(
            r"""SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\_\_hl\_%' ESCAPE '\' OR table_name LIKE '\_\_splink\_\_%' ESCAPE '\'
                UNION ALL SELECT view_name FROM duckdb_views() WHERE view_name LIKE '\_\_splink\_\_%' ESCAPE '\'""").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    r = _cli("synth", "--out", str(d / "x"), "--people", "3000", "--seed", "1", "--format", "csv")
    assert r.returncode == 0, r.stderr
    r = _cli("ingest", str(d / "x"), "--db", str(d / "base.duckdb"))
    assert r.returncode == 0, r.stderr
    return d / "base.duckdb"


def _killed_run(base: Path, work: Path) -> tuple[Path, list[str]]:
    """Kill link runs at growing delays until one dies holding scratch tables."""
    for delay in (4.0, 6.0, 8.0, 3.0, 10.0, 2.0, 12.0):
        db = work / f"k{delay:g}.duckdb"
        shutil.copy(base, db)
        p = subprocess.Popen([sys.executable, "-m", "harmlens.cli", "link", "--db", str(db)], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if p.poll() is not None:
            continue  # finished before the kill: try a shorter delay next
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        left = _scratch(db)
        if left:
            return db, left
    pytest.fail("no delay killed the link run while it held scratch tables")


def test_next_open_sweeps_what_a_killed_link_run_left(ingested, tmp_path):
    db, left = _killed_run(ingested, tmp_path)
    assert any(t.startswith("__splink__") or t.startswith("__hl_") for t in left)

    from harmlens.warehouse import connect

    con = connect(db, read_only=True)  # a read-only open cannot drop anything and must not fail
    con.close()
    assert _scratch(db) == left

    r = _cli("status", "--db", str(db))  # any command's write open is "the next open"
    assert r.returncode == 0, r.stderr
    assert _scratch(db) == []
    # the warehouse's own data is untouched and a new link run works
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM people").fetchone()[0] > 0
    con.close()
    r = _cli("link", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert _scratch(db) == []


def test_sweep_spares_other_tables_and_temp_tables(tmp_path):
    from harmlens.warehouse.connection import sweep_scratch

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE __hl_prep_m (forename VARCHAR); CREATE TABLE __splink__df_concat (x INT); "
                "CREATE VIEW __splink__v AS SELECT 1; CREATE TABLE hl_keep (x INT); CREATE TABLE _x__hl_keep (x INT); "
                "CREATE TEMP TABLE __hl_mine (x INT)")
    assert sorted(sweep_scratch(con, str(path), force=True)) == ["__hl_prep_m", "__splink__df_concat", "__splink__v"]
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert names == {"hl_keep", "_x__hl_keep", "__hl_mine"}  # a live run's TEMP tables are its own: kept
    con.close()
