"""Operational store on SQLite and PostgreSQL: users, the hash-chained access log, tamper detection."""

from __future__ import annotations

import threading

import pytest

from harmlens.web import accesslog
from harmlens.web.auth import UserError, add_user, disable_user, get_user, list_users, verify_password

PW = "correct horse battery"


def _tamper(store, sql, params=()):
    """Run SQL with the append-only guards lifted, as an attacker with DBA rights could."""
    if store.dialect == "sqlite":
        store.execute("DROP TRIGGER access_log_no_update")
        store.execute("DROP TRIGGER access_log_no_delete")
    else:
        store.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_no_change")
    store.execute(sql, params)


def _fill(store, n=5):
    for i in range(n):
        accesslog.append(store, username="ana", role="analyst", action="person.view", object_type="person",
                         object_id=f"P{i}", purpose="investigation", ip="10.0.0.1")


def test_users_add_list_disable(store):
    add_user(store, "ana", PW, "analyst")
    add_user(store, "pat", PW, "partner", agency="Probation")
    u = get_user(store, "ana")
    assert u["role"] == "analyst" and u["password_hash"].startswith("$argon2")
    assert verify_password(u["password_hash"], PW)
    assert not verify_password(u["password_hash"], PW + "x")
    assert [r["username"] for r in list_users(store)] == ["ana", "pat"]
    disable_user(store, "ana")
    assert get_user(store, "ana")["disabled"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("ana", PW, "wizard"), "unknown role"),
        (("ana", "short", "analyst"), "too short"),
        (("Bad Name", PW, "analyst"), "bad username"),
        (("pat", PW, "partner"), "needs --agency"),
    ],
)
def test_users_bad_input_is_one_clear_error(store, args, message):
    with pytest.raises(UserError, match=message):
        add_user(store, *args)


def test_duplicate_and_unknown_users(store):
    add_user(store, "ana", PW, "analyst")
    with pytest.raises(UserError, match="already exists"):
        add_user(store, "ana", PW, "analyst")
    with pytest.raises(UserError, match="no user"):
        disable_user(store, "nobody")


def test_chain_intact(store):
    assert accesslog.verify(store).ok  # empty log verifies
    _fill(store)
    res = accesslog.verify(store)
    assert res.ok and res.rows == 5 and res.head_seq == 5
    assert accesslog.verify(store, expect_head=res.head_hash).ok
    assert not accesslog.verify(store, expect_head="f" * 64).ok


def test_database_refuses_update_and_delete(store):
    _fill(store, 2)
    with pytest.raises(Exception, match="append-only"):
        store.execute("UPDATE access_log SET purpose = 'x' WHERE seq = 1")
    with pytest.raises(Exception, match="append-only"):
        store.execute("DELETE FROM access_log WHERE seq = 1")
    assert accesslog.verify(store).ok


def test_verify_detects_edit(store):
    _fill(store)
    _tamper(store, "UPDATE access_log SET object_id = 'P999' WHERE seq = 3")
    res = accesslog.verify(store)
    assert not res.ok and any("row 3" in p and "edited" in p for p in res.problems)


def test_verify_detects_deletion_in_middle(store):
    _fill(store)
    _tamper(store, "DELETE FROM access_log WHERE seq = 2")
    res = accesslog.verify(store)
    assert not res.ok and any("missing" in p for p in res.problems)


def test_verify_detects_deletion_at_end(store):
    _fill(store)
    _tamper(store, "DELETE FROM access_log WHERE seq = 5")
    res = accesslog.verify(store)
    assert not res.ok and any("head" in p for p in res.problems)


def test_verify_detects_insertion(store):
    _fill(store)
    rows = store.fetchall("SELECT * FROM access_log WHERE seq = 2")
    forged = dict(rows[0], seq=6, object_id="P-forged")
    # A forger who recomputes the row's own hash still breaks the link to the next row / head.
    forged["hash"] = accesslog.row_hash(forged["prev_hash"], forged)
    cols = list(forged)
    store.execute(f"INSERT INTO access_log ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", [forged[c] for c in cols])
    res = accesslog.verify(store)
    assert not res.ok and res.problems


def test_concurrent_appends_keep_one_chain(store_url):
    from harmlens.web.store import Store

    s = Store(store_url)
    errors = []

    def worker(k):
        try:
            for i in range(10):
                accesslog.append(s, username=f"u{k}", role="analyst", action="list.view", object_type="list", object_id=str(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    res = accesslog.verify(s)
    assert res.ok and res.rows == 40
    s.close()


def test_search_filters(store):
    _fill(store, 3)
    accesslog.append(store, username="aud", role="auditor", action="accesslog.view", object_type="access_log")
    assert [r["object_id"] for r in accesslog.search(store, username="ana")] == ["P2", "P1", "P0"]
    assert len(accesslog.search(store, object_id="P1")) == 1
    assert len(accesslog.search(store, action="accesslog.view")) == 1
