"""One system: commands write the warehouse while the app serves it, and the app shows what they wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import api_login, make_app

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _cli(*args, env_extra=None, timeout=120):
    env = dict(os.environ, PYTHONPATH=SRC, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "harmlens.cli", *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_rank_runs_while_the_app_serves_and_the_new_list_appears(tmp_path):
    a = make_app(tmp_path, snapshot_poll=0.2)
    wh = tmp_path / "wh.duckdb"
    try:
        c = TestClient(a)
        api_login(c, "sue")
        assert c.get("/api/v1/priority").json()["total"] == 3
        r = _cli("rank", "--method", "v100", "--as-of", "2024-06-01", "--db", str(wh))
        assert r.returncode == 0, r.stderr
        r = _cli("referral", "P1", "--partner", "probation", "--purpose", "MATAC tasking", "--no-pdf", "--as-of", "2024-06-01",
                 "--out", str(tmp_path / "packs"), "--db", str(wh))
        assert r.returncode == 0, r.stderr
        pack_id = r.stdout.split()[1]
        deadline = time.time() + 90
        while time.time() < deadline and a.state.warehouse.swaps == 0:
            time.sleep(0.1)
        assert a.state.warehouse.swaps >= 1, a.state.warehouse.last_error
        ids = [x["referral_id"] for x in c.get("/api/v1/referrals").json()["items"]]
        assert pack_id in ids, ids
        assert c.get(f"/api/v1/referrals/{pack_id}").json()["state"] == "submitted"
        assert c.get("/api/v1/priority").json()["list_id"] == "offenders:risk:2024-07-01"  # still the published one
        # The snapshot is private to the server (owner only) and goes when it closes.
        current = a.state.warehouse._snap
        assert current.exists() and current.stat().st_mode & 0o077 == 0
    finally:
        a.state.store.close()
        a.state.warehouse.close()
    assert not current.exists()


def test_a_command_waits_for_a_lock_then_says_why_in_one_line(tmp_path):
    from tests.web.wh_fixture import build_warehouse

    wh = build_warehouse(tmp_path / "wh.duckdb", lists=False, stops=False)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({str(wh)!r}); print('held', flush=True); time.sleep(8)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = _cli("lists", "list", "--db", str(wh), env_extra={"HARMLENS_LOCK_WAIT": "0.3"})
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by process" in lines[0] and "HARMLENS_LOCK_WAIT" in lines[0], r.stderr
        t = time.time()
        r = _cli("lists", "list", "--db", str(wh))  # the default wait outlasts the holder
        assert r.returncode == 0, r.stderr
        assert time.time() - t < 30
    finally:
        holder.wait(timeout=10)


@pytest.mark.parametrize("bad", ["soon", "-"])
def test_lock_wait_setting_is_checked(monkeypatch, bad):
    from harmlens.errors import WarehouseError
    from harmlens.warehouse.connection import lock_wait

    monkeypatch.setenv("HARMLENS_LOCK_WAIT", bad)
    with pytest.raises(WarehouseError, match="HARMLENS_LOCK_WAIT"):
        lock_wait()
