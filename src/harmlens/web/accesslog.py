"""The access log: append-only and hash-chained.

Every view of a person, every list and every export is one row: who, when, from where, what,
and the purpose chosen at the time. Row ``n`` stores ``hash_n = sha256(hash_{n-1} || canonical
row n)``; ``access_log_head`` stores the last sequence number and hash. ``verify`` recomputes
the chain and reports the first row where it breaks:

- an edited row no longer matches its own hash;
- an inserted row breaks the sequence numbering or the next row's ``prev_hash``;
- a deleted row leaves a gap in the sequence or a ``prev_hash`` that does not match;
- deleted rows at the end leave the head pointing past the last row.

The database also refuses UPDATE and DELETE on the table (triggers), so tampering needs
someone who can drop the triggers, and the chain shows what they did. Someone able to rewrite
the whole chain *and* the head can hide it: publish the head (``harmlens access-log verify``
prints it) to somewhere they cannot reach, and pass it back with ``--expect-head``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from harmlens.web.auth import now_iso
from harmlens.web.store import Store

GENESIS = "0" * 64
FIELDS = ("seq", "at", "username", "role", "ip", "action", "object_type", "object_id", "purpose", "detail")

# Purposes an analyst chooses from before a person profile opens.
PURPOSES = {
    "investigation": "Investigation of a specific crime",
    "safeguarding": "Safeguarding a victim or child",
    "matac": "MATAC tasking preparation",
    "marac": "MARAC case preparation",
    "v100": "V100 / priority list review",
    "referral": "Preparing or reviewing a referral",
    "quality": "Data quality review",
}


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    canon = json.dumps([row.get(f) for f in FIELDS], separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256((prev_hash + "|" + canon).encode("utf-8")).hexdigest()


def append(
    store: Store,
    *,
    username: str,
    role: str,
    action: str,
    object_type: str,
    object_id: str | None = None,
    purpose: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | str | None = None,
) -> dict[str, Any]:
    """Append one entry; returns it with its sequence number and hash."""
    return append_many(store, [dict(username=username, role=role, action=action, object_type=object_type, object_id=object_id,
                                    purpose=purpose, ip=ip, detail=detail)])[0]


def append_many(store: Store, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append entries (keyword arguments of ``append``) in order, in one transaction; returns them with seq and hash.

    One transaction for many entries is what lets a busy server log every view cheaply: the
    chain, the head update and the commit (with its fsync) are paid once per batch, not per row.
    """
    out: list[dict[str, Any]] = []
    with store.write_lock(), store.transaction(exclusive=True):
        if store.dialect == "postgresql":
            # One writer at a time (the lock mode conflicts with itself): the chain stays linear.
            store.execute("LOCK TABLE access_log_head IN SHARE ROW EXCLUSIVE MODE")
        head = store.fetchone("SELECT seq, hash FROM access_log_head WHERE id = 1")
        seq, prev = (int(head["seq"]), head["hash"]) if head else (0, GENESIS)
        params = []
        for e in entries:
            detail = e.get("detail")
            seq += 1
            row = {
                "seq": seq,
                "at": now_iso(),
                "username": e["username"],
                "role": e["role"],
                "ip": e.get("ip"),
                "action": e["action"],
                "object_type": e["object_type"],
                "object_id": e.get("object_id"),
                "purpose": e.get("purpose"),
                "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")) if isinstance(detail, dict) else detail,
            }
            h = row_hash(prev, row)
            params.append([*(row[f] for f in FIELDS), prev, h])
            row.update(prev_hash=prev, hash=h)
            out.append(row)
            prev = h
        store.executemany(
            "INSERT INTO access_log (seq, at, username, role, ip, action, object_type, object_id, purpose, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params,
        )
        if head:
            store.execute("UPDATE access_log_head SET seq = ?, hash = ? WHERE id = 1", [seq, prev])
        else:
            store.execute("INSERT INTO access_log_head (id, seq, hash) VALUES (1, ?, ?)", [seq, prev])
    return out


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    problems: list[str] = field(default_factory=list)


def verify(store: Store, expect_head: str | None = None) -> VerifyResult:
    """Recompute the chain; every break is listed (first problems first)."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    n = 0
    cols = ", ".join(FIELDS) + ", prev_hash, hash"
    cur = store.conn().execute(f"SELECT {cols} FROM access_log ORDER BY seq")
    names = [d[0] for d in cur.description]
    last_hash = GENESIS
    last_seq = 0
    for tup in cur:
        row = dict(zip(names, tup))
        n += 1
        seq = int(row["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                problems.append(f"rows {expected_seq}..{seq - 1} are missing (deleted) before row {seq}")
            else:
                problems.append(f"row {seq} is out of sequence (inserted)")
        if row["prev_hash"] != prev:
            problems.append(f"row {seq}: prev_hash does not match the row before it (a row was inserted or deleted)")
        if row_hash(row["prev_hash"], row) != row["hash"]:
            problems.append(f"row {seq}: contents do not match its hash (the row was edited)")
        prev = row["hash"]
        expected_seq = seq + 1
        last_hash, last_seq = row["hash"], seq
    head = store.fetchone("SELECT seq, hash FROM access_log_head WHERE id = 1")
    if head is None:
        if n:
            problems.append("the head record is missing while the log has rows")
    else:
        if int(head["seq"]) != last_seq or head["hash"] != last_hash:
            problems.append(
                f"the head records row {head['seq']} but the log ends at row {last_seq} (rows at the end were deleted or added)"
            )
    if expect_head and expect_head != last_hash:
        problems.append("the last hash differs from the head you published (--expect-head): the chain was rewritten")
    return VerifyResult(ok=not problems, rows=n, head_seq=last_seq, head_hash=last_hash, problems=problems)


def search(
    store: Store,
    *,
    username: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Entries matching every given filter, newest first."""
    where, params = [], []
    for col, val in (("username", username), ("object_id", object_id), ("action", action)):
        if val:
            where.append(f"{col} = ?")
            params.append(val)
    if since:
        where.append("at >= ?")
        params.append(since)
    if until:
        where.append("at < ?")
        params.append(until)
    sql = "SELECT seq, at, username, role, ip, action, object_type, object_id, purpose, detail FROM access_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
    return store.fetchall(sql, [*params, int(limit), int(offset)])
