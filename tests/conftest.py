"""Shared fixtures: where ../shared/data is, and a fresh warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example time limit: CI machines are shared and two workers run at once, so a deadline
# would fail a correct example for being slow (performance is measured by bench/, not tests).
settings.register_profile("harmlens", deadline=None)
settings.load_profile("harmlens")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """../shared/data beside the clone (CI lays it there), or HARMLENS_SHARED_DATA."""
    env = os.environ.get("HARMLENS_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"public reference data not found at {d} (a fresh clone has none; CI lays ../shared/data beside it)")
    return d


@pytest.fixture
def warehouse(tmp_path):
    """A fresh, migrated warehouse file; yields an open connection."""
    from harmlens.warehouse import connect

    con = connect(tmp_path / "wh.duckdb")
    yield con
    con.close()


DEMO_PEOPLE = "3000"
"""A small city for the demo run the report tests read: every step of `make demo` runs, in about
two minutes, instead of the newcomer's 100,000 people."""


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """A folder `make demo` wrote: HARMLENS_DEMO_OUT when given, else one run made here.

    Under pytest-xdist every worker asks for it; a file lock in the run's shared temporary root
    makes the first one build it and the others wait and reuse it, so the demo runs once.
    """
    import subprocess
    import sys

    from filelock import FileLock

    given = os.environ.get("HARMLENS_DEMO_OUT")
    if given:
        if not Path(given).is_dir():
            pytest.fail(f"HARMLENS_DEMO_OUT={given} is not a folder")
        return Path(given)
    root = tmp_path_factory.getbasetemp().parent
    out = root / "demo-out"
    with FileLock(str(root / "demo-out.lock")):
        done = root / "demo-out.rc"
        if not done.exists():
            env = {**os.environ, "HARMLENS_DB": str(root / "demo-unused.duckdb")}
            proc = subprocess.run(
                [sys.executable, "-m", "harmlens.demo", "--out", str(out), "--people", DEMO_PEOPLE],
                cwd=root, env=env, capture_output=True, text=True, timeout=900,
            )
            (root / "demo-out.log").write_text(proc.stdout + proc.stderr)
            done.write_text(str(proc.returncode))
        rc = int(done.read_text())
    if rc != 0:
        pytest.fail(f"the demo failed (exit {rc}); its output is in {root / 'demo-out.log'}")
    return out
