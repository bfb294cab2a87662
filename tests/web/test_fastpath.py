"""The pieces that make the busy pages cheap: the log writer, the in-memory lists, the SQLite serving index."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading

import pytest

from harmlens.web import accesslog
from harmlens.web.listcache import CachedList
from harmlens.web.logwriter import LogWriter


def _entry(i, user="ana"):
    return dict(username=user, role="analyst", action="person.view", object_type="person", object_id=f"P{i}", purpose="matac",
                ip="10.0.0.1", detail={"i": i})


# -- the log writer ---------------------------------------------------------------------------------
def test_writer_batches_concurrent_appends_into_one_chain(store_url):
    """Async waiters, thread-pool waiters and direct appends interleave; the chain stays whole and every entry is there once."""
    from harmlens.web.store import Store

    s = Store(store_url)
    w = LogWriter(s)

    async def many():
        return await asyncio.gather(*(w.append(**_entry(i)) for i in range(60)))

    rows = []
    t = threading.Thread(target=lambda: rows.extend(asyncio.run(many())))
    t.start()
    sync_rows = [w.append_sync(**_entry(100 + i, "sue")) for i in range(20)]
    direct = [accesslog.append(s, **_entry(200 + i, "olly")) for i in range(5)]
    t.join()
    w.close()
    res = accesslog.verify(s)
    assert res.ok and res.rows == 85
    seqs = sorted(r["seq"] for r in rows + sync_rows + direct)
    assert seqs == list(range(1, 86))  # each caller got its own row back, none lost or doubled
    ids = {r["object_id"] for r in accesslog.search(s, limit=1000)}
    assert ids == {f"P{i}" for i in [*range(60), *range(100, 120), *range(200, 205)]}
    s.close()


def test_writer_restarts_after_close_and_reports_failures(tmp_path):
    from harmlens.web.store import Store

    s = Store(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    w = LogWriter(s)
    assert w.append_sync(**_entry(1))["seq"] == 1
    w.close()  # the app's shutdown: a TestClient or server can start the app again
    assert w.append_sync(**_entry(2))["seq"] == 2
    with pytest.raises(KeyError):  # an entry without a username is refused, and the caller hears of it
        w.append_sync(role="analyst", action="x", object_type="y")
    assert w.append_sync(**_entry(3))["seq"] == 3
    touched = []
    w.defer(lambda store: touched.append(store.fetchone("SELECT count(*) AS n FROM access_log")["n"]))
    w.close()  # close waits for deferred writes too
    assert touched == [3] and accesslog.verify(s).ok
    s.close()


def _append_in_process(url, k):
    from harmlens.web.store import Store

    s = Store(url)
    w = LogWriter(s)
    for i in range(25):
        w.append_sync(**_entry(i, f"u{k}"))
    w.close()
    s.close()


def test_two_server_processes_share_one_chain(tmp_path):
    """Two worker processes (as with --workers 2) append to the same SQLite store: one linear chain."""
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    from harmlens.web.store import Store

    Store(url).close()  # schema first
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_in_process, args=(url, k)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    s = Store(url)
    res = accesslog.verify(s)
    assert res.ok and res.rows == 50
    s.close()


# -- lists held in memory ---------------------------------------------------------------------------
def _rows():
    return [
        {"list_id": "L", "rank": 3, "person_id": "C", "risk": None, "expected_harm": 5.0, "band": "low", "top_factors": None,
         "allegations": 1, "charges": None, "convictions": 0, "last_event_at": "2024-01-01T00:00:00"},
        {"list_id": "L", "rank": 1, "person_id": "A", "risk": 0.5, "expected_harm": 5.0, "band": "high", "top_factors": "x; y",
         "allegations": 2, "charges": 1, "convictions": None, "last_event_at": None},
        {"list_id": "L", "rank": 2, "person_id": "B", "risk": 0.9, "expected_harm": None, "band": "high", "top_factors": '["z"]',
         "allegations": None, "charges": None, "convictions": None, "last_event_at": "2024-06-01T00:00:00"},
        {"list_id": "L", "rank": 4, "person_id": "D", "risk": 0.5, "expected_harm": 9.0, "band": "low", "top_factors": None,
         "allegations": 0, "charges": 0, "convictions": 0, "last_event_at": "2024-06-01T00:00:00"},
    ]


def test_cached_list_sorts_like_the_sql_it_replaced():
    """rank asc; the others descending, missing values last, ties in rank order."""
    c = CachedList.build(_rows(), lambda ids: {"A": "Camden", "B": "Hackney", "D": "Camden"})
    ids = lambda sort: [r["person_id"] for r in c.ordered(sort)]  # noqa: E731
    assert ids("rank") == ["A", "B", "C", "D"]
    assert ids("risk") == ["B", "A", "D", "C"]
    assert ids("harm") == ["D", "A", "C", "B"]
    assert ids("last_event") == ["B", "D", "C", "A"]
    a = c.items[0]
    assert a["factors"] == ["x", "y"] and a["evidence"].startswith("2 VAWG allegations in the last 3 years (0 convicted; ") and a["borough"] == "Camden"
    assert "list_id" not in a and "top_factors" not in a and c.items[1]["factors"] == ["z"] and c.items[2]["borough"] is None


def test_cached_list_filters_and_pages_without_sharing_its_rows():
    c = CachedList.build(_rows(), lambda ids: {"A": "Camden", "B": "Hackney", "D": "Camden"})
    items, total = c.page(borough="Camden", band=None, sort="risk", page=1, size=1)
    assert total == 2 and [r["person_id"] for r in items] == ["A"]
    items, total = c.page(borough="Camden", band="low", sort="rank", page=1, size=10)
    assert total == 1 and [r["person_id"] for r in items] == ["D"]
    items, total = c.page(borough=None, band=None, sort="rank", page=3, size=2)
    assert total == 4 and items == []
    items[:0] = c.page(borough=None, band=None, sort="rank", page=1, size=1)[0]
    items[0]["person_id"] = "changed by a caller"
    assert c.items[0]["person_id"] == "A"


# -- the serving index -----------------------------------------------------------------------------
def test_serving_index_keeps_microseconds_caps_the_network_and_drops_the_old_format(tmp_path):
    import duckdb

    from harmlens.web.data import Warehouse
    from harmlens.web.serving import NETWORK_LIMIT, build_index
    from tests.web.wh_fixture import build_warehouse

    wh = build_warehouse(tmp_path / "wh.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("UPDATE events SET occurred_at = TIMESTAMP '2024-05-01 12:00:00.012345', ends_at = TIMESTAMP '2024-05-02 00:00' "
                "WHERE event_id = 'E4'")
    # E9: P4 with more co-mentioned people than the chart shows
    n = NETWORK_LIMIT + 5
    con.execute("INSERT INTO events (event_id, source, event_type, occurred_at, outcome) VALUES ('E9','crime','offence','2023-01-01','unknown')")
    con.execute(f"INSERT INTO people (mention_id, event_id, role) SELECT 'N' || i, 'E9', 'witness' FROM range({n}) t(i)")
    con.execute("INSERT INTO people (mention_id, event_id, role) VALUES ('N-P4', 'E9', 'suspect')")
    con.execute(f"INSERT INTO links SELECT 'N' || i, 'Q' || lpad(i::VARCHAR, 3, '0'), 'splink', now() FROM range({n}) t(i)")
    con.execute("INSERT INTO links VALUES ('N-P4', 'P4', 'splink', now())")
    con.close()
    old = wh.with_name("wh.serve.duckdb")
    old.write_bytes(b"an index in the previous format, with names in it")
    ix = build_index(wh)
    assert not old.exists()
    a, b = Warehouse(wh, read_only=True), Warehouse(wh, read_only=True, index=ix)
    pa, pb = a.person("P4"), b.person("P4")
    assert pa == pb
    assert pb["events"][0]["occurred_at"] == "2024-05-01T12:00:00.012345" and pb["events"][0]["ends_at"] == "2024-05-02T00:00:00"
    assert pb["events"][0]["domestic"] is False and pb["events"][0]["vawg"] is True
    assert len(pb["network"]["edges"]) == NETWORK_LIMIT
    assert pb["network"]["edges"][0]["target"] == "P5"  # E4's victim shares the same single event but sorts first by id
    a.close()
    b.close()


# -- the listening socket ------------------------------------------------------------------------------
def test_listening_socket_is_tcp_so_connections_get_nodelay():
    """uvicorn binds socket.socket(family) (proto 0) for --workers > 1; asyncio then leaves Nagle on for its connections."""
    import socket

    from harmlens.web.server import tcp_socket

    raw = socket.socket(family=socket.AF_INET)
    assert raw.proto == 0  # what uvicorn makes
    raw.bind(("127.0.0.1", 0))
    lst = tcp_socket(raw)
    lst.listen()
    assert lst.proto == socket.IPPROTO_TCP and lst.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    cli = socket.create_connection(lst.getsockname())
    conn, _ = lst.accept()
    # asyncio sets TCP_NODELAY on a connection only when its proto says TCP; and Linux copies the listener's flag
    assert conn.proto == socket.IPPROTO_TCP and conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    for s in (cli, conn, lst):
        s.close()
