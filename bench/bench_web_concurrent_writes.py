"""Commands write the warehouse while the web app serves it: 20 clients browse while link and rank run.

What it does: makes a small synthetic city (``--people``), ingests, links, applies harm weights
and stores a victims list; adds an analyst and a supervisor, publishes the list; starts
``harmlens serve``; then 20 client threads browse (the victims list, person profiles with a
purpose, the list history) while ``harmlens link``, ``harmlens rank`` and ``harmlens victims``
run against the same warehouse file. Before the app served a snapshot (web/snapshot.py) every
one of those commands failed with DuckDB's "Could not set lock on file".

Prints: each command's exit code and time, requests made, errors (any answer other than 200,
or a failed connection), p50/p95/p99 latency, whether the app showed the list written while it
ran, and the machine.

    PYTHONPATH=src .venv/bin/python bench/bench_web_concurrent_writes.py --people 3000
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine  # noqa: E402

PASSWORD = "bench-only-password-1"


def cli(*args: str, env: dict[str, str]) -> tuple[int, float, str]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "harmlens.cli", *args], capture_output=True, text=True, env=env)
    return r.returncode, time.perf_counter() - t, (r.stderr.strip().splitlines() or [""])[-1]


def must(*args: str, env: dict[str, str]) -> None:
    code, _, err = cli(*args, env=env)
    if code != 0:
        sys.exit(f"setup step {' '.join(args[:2])} failed: {err}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=20)
    a = ap.parse_args()
    import httpx

    work = Path(tempfile.mkdtemp(prefix="hl_bench_cw_"))
    db = str(work / "wh.duckdb")
    env = dict(os.environ, HARMLENS_BENCH_PW=PASSWORD, HARMLENS_SNAPSHOT_POLL="1")
    t0 = time.perf_counter()
    must("synth", "--people", str(a.people), "--seed", "7", "--out", str(work / "extract"), "--cut-date", "2025-01-01", env=env)
    must("ingest", str(work / "extract"), "--db", db, env=env)
    must("link", "--db", db, env=env)
    must("harm", "apply", "--db", db, env=env)
    must("victims", "--as-of", "2024-12-31", "--method", "rules", "--no-validate", "--top", "200", "--db", db, env=env)
    must("users", "add", "bench-analyst", "--role", "analyst", "--password-env", "HARMLENS_BENCH_PW", "--db", db, env=env)
    must("users", "add", "bench-sup", "--role", "supervisor", "--password-env", "HARMLENS_BENCH_PW", "--db", db, env=env)
    import duckdb

    con = duckdb.connect(db, read_only=True)
    list_id = con.execute("SELECT list_id FROM priority_lists WHERE kind = 'victims'").fetchone()[0]
    con.close()
    must("publish", list_id, "--by", "bench-sup", "--db", db, env=env)
    print(f"setup: {a.people:,} people in {time.perf_counter() - t0:.0f} s")

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "harmlens.cli", "serve", "--port", str(port), "--db", db], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            sys.exit("the server did not start: " + (server.stderr.read() if server.stderr else ""))
        c0 = httpx.Client(base_url=base, timeout=30)
        c0.post("/api/v1/session", json={"username": "bench-analyst", "password": PASSWORD}).raise_for_status()
        people = [x["person_id"] for x in c0.get("/api/v1/victims?size=100").json()["items"]]
        stop = threading.Event()
        lat: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(i: int) -> None:
            c = httpx.Client(base_url=base, timeout=30)
            c.post("/api/v1/session", json={"username": "bench-analyst", "password": PASSWORD})
            n = 0
            while not stop.is_set():
                n += 1
                url = ("/api/v1/victims?page=1&size=50" if n % 3 == 0 else
                       f"/api/v1/persons/{people[(i * 7 + n) % len(people)]}?purpose=safeguarding" if n % 3 == 1 else "/api/v1/lists")
                t = time.perf_counter()
                try:
                    r = c.get(url)
                    ok, what = r.status_code == 200, f"{r.status_code} {url}"
                except httpx.HTTPError as exc:
                    ok, what = False, f"{type(exc).__name__} {url}"
                with lock:
                    lat.append(time.perf_counter() - t)
                    if not ok:
                        errors.append(what)
                time.sleep(0.05)  # a person reading, not a load generator

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(a.clients)]
        for t in threads:
            t.start()
        time.sleep(2)
        results = []
        for args in (("link", "--db", db), ("rank", "--method", "v100", "--as-of", "2024-12-01", "--db", db),
                     ("victims", "--as-of", "2024-12-30", "--method", "rules", "--no-validate", "--top", "200", "--db", db)):
            results.append((" ".join(args[:2]), *cli(*args, env=env)))
        # The list written while the app ran appears without a restart.
        seen = False
        for _ in range(60):
            ids = [x["list_id"] for x in c0.get("/api/v1/lists").json()["items"]]
            if any("2024-12-30" in i for i in ids):
                seen = True
                break
            time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"machine: {machine()}")
    for name, code, secs, last in results:
        print(f"  harmlens {name:<14} exit {code}  {secs:6.1f} s" + (f"  ({last})" if code else ""))
    print(f"{a.clients} clients: {len(lat):,} requests, {len(errors)} errors; latency p50 {1000 * pct(lat, .5):.1f} ms,"
          f" p95 {1000 * pct(lat, .95):.1f} ms, p99 {1000 * pct(lat, .99):.1f} ms, max {1000 * max(lat):.0f} ms")
    if errors:
        print("  first errors: " + "; ".join(errors[:5]))
    print(f"new list shown without a restart: {'yes' if seen else 'NO'}")


if __name__ == "__main__":
    main()
