"""Benchmark: person profile and priority list latency under concurrent analysts.

Target (issue 9): person profile p95 <= 50 ms and list page p95 <= 100 ms with 1M persons in the
warehouse and 50 concurrent clients on 2 cores, the load generator on the same machine.

What it does: builds a synthetic warehouse of ``--persons`` people in DuckDB SQL (1.5 events per
person, a suspect and a victim in each, harm for every event, a stored offenders list of 1,000
and a victims list of 500), builds the serving index, starts ``harmlens serve --read-only --workers N``
(uvicorn, warehouse read-only) in a separate process, signs in ``--clients`` analysts, and runs
two phases: profiles (``GET /api/v1/persons/{id}?purpose=...``, random persons, every view
written to the hash-chained access log) and list pages (``GET /priority?page=k``, HTML). Each
client waits an exponential think time (mean ``--think`` seconds) between requests, as people
reading a page do; ``--think 0`` measures the closed-loop capacity instead.

The load generator shares the two cores with the server, so by default it is a minimal HTTP/1.1
keep-alive client on asyncio streams (about 0.5 ms of CPU per request): real GET requests with
each analyst's session cookie, every response read in full and counted as an error unless it is
200 and contains a marker of the real page (``"person_id"`` in the profile JSON, the list table
in the HTML). ``--client httpx`` uses httpx instead (about 2.5-3 ms of CPU per request, and its
own event loop then adds queueing to the measured latency). It prints the server's and the
client's CPU per request and how many access-log entries were written (one per sign-in, profile
and list page).

    nice .venv/bin/python bench/bench_web_load.py --persons 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PW = "bench-password-123"


def build(path: Path, persons: int) -> Path:
    from harmlens.warehouse import connect

    if path.exists():
        path.unlink()
    con = connect(path)
    n_ev = int(persons * 1.5)
    boroughs = "['Barnet','Brent','Camden','Croydon','Ealing','Enfield','Hackney','Haringey','Lambeth','Lewisham','Newham','Southwark']"
    con.execute(f"""
        INSERT INTO events (event_id, source, event_type, offence_code, offence_description, occurred_at, outcome, domestic, borough)
        SELECT 'E' || i, 'crime', CASE WHEN i % 11 = 0 THEN 'conviction' WHEN i % 7 = 0 THEN 'charge' ELSE 'offence' END,
               '8N', 'Assault', TIMESTAMP '2019-01-01' + to_minutes((hash(i) % 3000000)::BIGINT),
               CASE WHEN i % 3 = 0 THEN 'nfa' ELSE 'unknown' END, i % 2 = 0, {boroughs}[1 + (i % 12)::INT]
        FROM range({n_ev}) t(i)""")
    # Suspect = person (i % persons), victim = a pseudo-random other person.
    con.execute(f"""
        INSERT INTO people (mention_id, event_id, role, forename, surname, sex)
        SELECT 'M' || i || 's', 'E' || i, 'suspect', 'F' || (i % 997), 'S' || (i % 1999), 'male' FROM range({n_ev}) t(i)
        UNION ALL
        SELECT 'M' || i || 'v', 'E' || i, 'victim', 'G' || (i % 991), 'T' || (i % 1997), 'female' FROM range({n_ev}) t(i)""")
    con.execute(f"""
        INSERT INTO links (mention_id, person_id, method, linked_at)
        SELECT 'M' || i || 's', 'P' || (i % {persons}), 'bench', now() FROM range({n_ev}) t(i)
        UNION ALL
        SELECT 'M' || i || 'v', 'P' || ((hash(i) % {persons})::BIGINT), 'bench', now() FROM range({n_ev}) t(i)""")
    con.execute(f"""
        INSERT INTO event_harm (event_id, offence_category, vawg, domestic, sexual, violent, harm_weight, weight_table, weight_source,
                                mapped_by, applied_at)
        SELECT 'E' || i, 'violence with injury', true, i % 2 = 0, false, true, 365, 'cchi', 'bench', 'code', now() FROM range({n_ev}) t(i)""")
    con.execute("""INSERT INTO priority_lists VALUES
        ('offenders:risk:2025-01-01','offenders','risk','2025-01-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,1000,'{}'),
        ('victims:risk:2025-01-01','victims','risk','2025-01-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,500,'{}')""")
    con.execute("""
        INSERT INTO priority_entries (list_id, rank, person_id, score, risk, expected_harm, band, top_factors, allegations, charges,
                                      convictions, distinct_victims, last_event_at, linked_suspects, model_version)
        SELECT 'offenders:risk:2025-01-01', i + 1, 'P' || i, 1000 - i, 0.9 - i / 2000.0, 1000 - i,
               CASE WHEN i < 100 THEN 'high' WHEN i < 400 THEN 'medium' ELSE 'low' END,
               'prior VAWG allegations; recent escalation; multiple victims', 3, 1, 1, 2, TIMESTAMP '2024-12-01', NULL, 'v1'
        FROM range(1000) t(i)
        UNION ALL
        SELECT 'victims:risk:2025-01-01', i + 1, 'P' || (500000 + i), 0.5, 0.5 - i / 2000.0, NULL, NULL, 'repeat victim', NULL, NULL,
               NULL, NULL, TIMESTAMP '2024-12-01', NULL, 'v1'
        FROM range(500) t(i)""")
    con.execute("CHECKPOINT")
    con.close()
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def _get_raw(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 GET on a kept-alive connection: (status, body, server keeps the connection open)."""
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body, keep = await reader.read(), False
    return status, body, keep


async def _phase(base: str, cookies: list[dict[str, str]], make_url, duration: float, think: float, expect: bytes,
                 client_kind: str = "raw") -> dict[str, float]:
    """``len(cookies)`` clients, each signed in as its own analyst, for ``duration`` seconds.

    Every response must be 200 and contain ``expect`` (a marker of the real page or document),
    else it counts as an error. ``raw`` is a minimal HTTP/1.1 keep-alive client on asyncio
    streams (same requests, cookies and checks as ``httpx``, at a fraction of the CPU, which
    matters when the load generator shares the server's two cores).
    """
    import httpx

    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    host, port = base.split("//", 1)[1].rsplit(":", 1)

    async def client_httpx(ck: dict[str, str], rnd: random.Random) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, cookies=ck, timeout=60) as c:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await c.get(make_url(rnd))
                except httpx.TransportError:
                    errors += 1
                    continue
                dt = time.perf_counter() - t
                if r.status_code != 200 or expect not in r.content:
                    errors += 1
                else:
                    lat.append(dt * 1000)
                if think > 0:
                    await asyncio.sleep(rnd.expovariate(1 / think))

    async def client_raw(ck: dict[str, str], rnd: random.Random) -> None:
        nonlocal errors
        cookie = "; ".join(f"{k}={v}" for k, v in ck.items())
        conn = None
        while time.perf_counter() < stop:
            req = (f"GET {make_url(rnd)} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                   "Accept: */*\r\nUser-Agent: harmlens-bench\r\n\r\n").encode()
            t = time.perf_counter()
            try:
                if conn is not None and conn[0].at_eof():  # the server closed the idle connection (keep-alive timeout)
                    conn[1].close()
                    conn = None
                if conn is None:
                    conn = await asyncio.open_connection(host, int(port))
                    status, body, keep = await asyncio.wait_for(_get_raw(*conn, req), 60)
                else:
                    try:
                        status, body, keep = await asyncio.wait_for(_get_raw(*conn, req), 60)
                    except ConnectionError:
                        # Closed by the server just as we sent on a reused connection: like a browser,
                        # retry once on a new one (the time spent so far counts).
                        conn[1].close()
                        conn = await asyncio.open_connection(host, int(port))
                        status, body, keep = await asyncio.wait_for(_get_raw(*conn, req), 60)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError):
                errors += 1
                if conn is not None:
                    conn[1].close()
                conn = None
                continue
            dt = time.perf_counter() - t
            if not keep:
                conn[1].close()
                conn = None
            if status != 200 or expect not in body:
                errors += 1
            else:
                lat.append(dt * 1000)
            if think > 0:
                await asyncio.sleep(rnd.expovariate(1 / think))
        if conn is not None:
            conn[1].close()

    async def client(ck: dict[str, str], seed: int) -> None:
        rnd = random.Random(seed)
        await asyncio.sleep(rnd.random() * max(think, 0.05))  # clients do not all start at once
        await (client_raw if client_kind == "raw" else client_httpx)(ck, rnd)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(client(ck, i) for i, ck in enumerate(cookies)))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {"requests": len(lat), "errors": errors, "rps": len(lat) / wall, "p50": _pct(lat, 0.5), "p95": _pct(lat, 0.95),
            "p99": _pct(lat, 0.99), "mean": statistics.fmean(lat) if lat else float("nan"),
            "client_cpu_ms": 1000 * cpu / max(1, len(lat) + errors)}


async def _login_all(base: str, n: int) -> list[dict[str, str]]:
    import httpx

    out = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        for i in range(n):
            r = await c.post("/api/v1/session", json={"username": f"analyst{i}", "password": PW})
            r.raise_for_status()
            out.append({"hl_session": r.cookies["hl_session"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between a client's requests (s); 0 = closed loop")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="load generator: raw asyncio HTTP/1.1 keep-alive (lean) or httpx (about 2.5 ms of CPU per request)")
    ap.add_argument("--keep", type=Path, default=None, help="build (or reuse) the warehouse here instead of a temp dir")
    a = ap.parse_args()

    from harmlens.web.auth import add_user
    from harmlens.web.serving import build_index
    from harmlens.web.store import Store

    work = a.keep or Path(tempfile.mkdtemp(prefix="hl_bench_web_"))
    work.mkdir(parents=True, exist_ok=True)
    wh = work / f"bench_{a.persons}.duckdb"
    t = time.perf_counter()
    if not wh.exists():
        build(wh, a.persons)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    build_index(wh)
    t_index = time.perf_counter() - t
    ops = work / "ops.sqlite"
    for f in work.glob("ops.sqlite*"):
        f.unlink()
    s = Store(f"sqlite:///{ops}")
    for i in range(a.clients):
        add_user(s, f"analyst{i}", PW, "analyst")
    s.close()

    port = _free_port()
    # The real command (harmlens serve), so the benchmark measures what users run.
    env = dict(os.environ, HARMLENS_DATABASE_URL=f"sqlite:///{ops}")
    server = subprocess.Popen(
        [sys.executable, "-m", "harmlens.cli", "serve", "--db", str(wh), "--read-only", "--workers", str(a.workers), "--host", "127.0.0.1",
         "--port", str(port)],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.5)
        cookies = asyncio.run(_login_all(base, a.clients))
        n = a.persons
        c0 = _cpu_seconds(server.pid)
        prof = asyncio.run(_phase(base, cookies, lambda r: f"/api/v1/persons/P{r.randrange(n)}?purpose=investigation", a.duration, a.think,
                                  b'"person_id"', a.client))
        c1 = _cpu_seconds(server.pid)
        lst = asyncio.run(_phase(base, cookies, lambda r: f"/priority?page={r.randrange(1, 21)}", a.duration, a.think,
                                 b'id="priority-table"', a.client))
        c2 = _cpu_seconds(server.pid)
        prof["cpu_ms"] = 1000 * (c1 - c0) / max(1, prof["requests"] + prof["errors"])
        lst["cpu_ms"] = 1000 * (c2 - c1) / max(1, lst["requests"] + lst["errors"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = Store(f"sqlite:///{ops}").fetchone("SELECT count(*) AS n FROM access_log")["n"]
    print(f"machine: {platform.machine()} {os.cpu_count()} cpu, {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"warehouse: {a.persons:,} persons ({'built in %.0fs' % t_build if t_build > 1 else 'reused'}); serving index {t_index:.0f}s")
    print(f"server: uvicorn, {a.workers} worker(s), read-only warehouse, SQLite store; {a.clients} clients ({a.client}), think {a.think}s,"
          f" {a.duration:.0f}s per phase")
    for name, r, target in (("person profile (API)", prof, 50), ("list page (HTML)", lst, 100)):
        ok = "meets" if r["p95"] <= target else "MISSES"
        print(f"{name:22s} n={r['requests']:6d} err={r['errors']} {r['rps']:6.1f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
              f"  p99 {r['p99']:6.1f} ms  server CPU {r['cpu_ms']:.1f} ms/request  client CPU {r['client_cpu_ms']:.1f} ms/request"
              f"  ({ok} p95 <= {target} ms)")
    print(f"access log entries written: {rows}")
    if a.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
