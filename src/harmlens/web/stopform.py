"""Recording a stop from the app: the stops area's validation (the same rules as a file import)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from harmlens.web.auth import now_iso
from harmlens.web.store import Store

FIELDS = (
    "occurred_at", "legislation", "self_defined_ethnicity", "officer_defined_ethnicity", "sex", "age_range",
    "borough", "latitude", "longitude", "reason", "outcome", "searched", "found",
)


def record_stop(store: Store, username: str, values: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate ``values`` (strings as typed) and store the stop; returns (row, problems).

    Nothing is stored when there is any problem; every problem is returned at once so the officer
    fixes the form in one pass.
    """
    from harmlens.stops.validate import validate_stop

    record = {k: (values.get(k) or "").strip() if isinstance(values.get(k), str) or values.get(k) is None else values.get(k)
              for k in FIELDS}
    record["stop_id"] = (values.get("stop_id") or "").strip() or f"APP-{uuid.uuid4().hex[:12].upper()}"
    row, problems = validate_stop(record)
    if row is not None:
        occ = row["occurred_at"]
        if isinstance(occ, datetime) and occ > datetime.now():
            problems = [{"column": "occurred_at", "value": values.get("occurred_at"), "reason": "occurred_at is in the future"}]
        elif row["found"] and row["searched"] is False:
            problems = [{"column": "found", "value": values.get("found"), "reason": "found is true but no search was recorded"}]
    if problems:
        return None, problems
    if store.fetchone("SELECT 1 AS x FROM recorded_stops WHERE stop_id = ?", [row["stop_id"]]):
        return None, [{"column": "stop_id", "value": row["stop_id"], "reason": "a stop with this id has already been recorded"}]

    def s(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, datetime):
            return v.isoformat()
        return str(v)

    cols = ["stop_id", *FIELDS]
    store.execute(
        f"INSERT INTO recorded_stops ({', '.join(cols)}, recorded_by, recorded_at) VALUES ({', '.join('?' * (len(cols) + 2))})",
        [*(s(row[c]) for c in cols), username, now_iso()],
    )
    return row, []


def export_recorded_stops(store: Store) -> list[dict[str, Any]]:
    """Stops recorded in the app as contract ``stops`` rows, ready for ``harmlens ingest``."""
    rows = store.fetchall(f"SELECT stop_id, {', '.join(FIELDS)} FROM recorded_stops ORDER BY recorded_at, stop_id")
    for r in rows:
        for b in ("searched", "found"):
            r[b] = "" if r[b] is None else ("true" if r[b] else "false")
    return rows
