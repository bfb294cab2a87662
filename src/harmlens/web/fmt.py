"""Turning warehouse rows into what pages and the API show: JSON-ready values, factors, evidential status."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def jsonable(v: Any) -> Any:
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return v


def parse_factors(v: Any) -> list[Any]:
    """top_factors may be stored as JSON text, a list, or plain '; '-separated text."""
    if v is None:
        return []
    if isinstance(v, list):
        return v
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("[") or s.startswith("{"):
            try:
                parsed = json.loads(s)
                return parsed if isinstance(parsed, list) else [parsed]
            except ValueError:
                pass
        return [p.strip() for p in s.split(";") if p.strip()]
    return [v]


def factor_text(f: Any) -> str:
    """One factor as a short readable phrase, whatever shape the risk area stores."""
    if isinstance(f, dict):
        name = f.get("label") or f.get("feature") or f.get("name") or "factor"
        val = f.get("value")
        contrib = f.get("contribution", f.get("shap", f.get("weight")))
        out = str(name)
        if val is not None:
            out += f" = {val}"
        if isinstance(contrib, (int, float)):
            out += f" ({'+' if contrib >= 0 else ''}{contrib:.3f})"
        return out
    return str(f)


def evidential_status(event_type: str | None, outcome: str | None) -> str:
    """What an event proves: conviction > charge > allegation; other event types say what they are."""
    et = (event_type or "").lower()
    oc = (outcome or "").lower()
    if et == "conviction" or oc == "convicted":
        return "conviction"
    if et == "charge" or oc == "charged":
        return "charge"
    if et == "offence":
        if oc == "acquitted":
            return "allegation (acquitted)"
        if oc in ("nfa", "victim_withdrew"):
            return f"allegation ({'no further action' if oc == 'nfa' else 'victim withdrew'})"
        return "allegation"
    return et or "unknown"


def evidence_counts(events: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ev in events:
        k = ev["evidential_status"].split(" (")[0]
        counts[k] = counts.get(k, 0) + 1
    return counts


def network_graph(person_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    nodes = {person_id: {"id": person_id, "label": person_id, "centre": True, "roles": []}}
    edges = []
    for r in rows:
        n = nodes.setdefault(r["other"], {"id": r["other"], "label": r["other"], "centre": False, "roles": []})
        n["roles"].append(r["other_role"])
        edges.append({"source": person_id, "target": r["other"], "role": r["other_role"], "events": r["events"], "my_roles": r["my_roles"]})
    return {"nodes": list(nodes.values()), "edges": edges}
