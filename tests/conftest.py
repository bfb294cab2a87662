"""Shared fixtures: where ../shared/data is, and a fresh warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
