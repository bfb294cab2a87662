"""What the link review pages read: the queue, one pair explained, the threshold curve, one person's cluster.

Everything here reads the snapshot the app serves (web/snapshot.py) through the link area's own
tables and functions (``link_review``, ``link_pairs``, ``links``, ``people``, ``explain_link``,
``threshold.expected_at``), so a page shows the numbers ``harmlens explain-link`` and the link
run would print. A decision is the one write: ``LiveWarehouse.decide_link`` puts it in the
warehouse's ``link_decisions`` through ``link.warehouse.decide`` (as the CLI does), where every
later ``harmlens link`` run reads it.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

QUEUE_SORTS = {
    # closest to the threshold first: the pairs the model is least sure about
    "closest": "abs(r.match_probability - ?) , r.mention_a, r.mention_b",
    "probability": "r.match_probability DESC, r.mention_a, r.mention_b",
    "probability_asc": "r.match_probability, r.mention_a, r.mention_b",
    "queued": "r.queued_at DESC, r.mention_a, r.mention_b",
}
NO_MODEL = "No linking model yet: run 'harmlens ingest' and 'harmlens link' on this warehouse."
_EXPLAIN_LOCK = threading.Lock()
RECORD_COLUMNS = ("forename", "surname", "date_of_birth", "sex", "postcode", "person_ref")


def active_threshold(wh: Any) -> float | None:
    if not wh.has("link_models", "threshold"):
        return None
    return wh.scalar("SELECT max(threshold) FROM link_models WHERE active")


def queue(wh: Any, *, sort: str = "closest", page: int = 1, size: int = 50) -> dict[str, Any] | None:
    """Undecided pairs near the threshold (``link_review``), with the persons each mention is in now."""
    thr = active_threshold(wh)
    if thr is None:
        return None
    order = QUEUE_SORTS[sort]
    total = wh.scalar("SELECT count(*) FROM link_review")
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    params: list[Any] = [thr] if "?" in order else []
    items = wh.rows(
        f"""SELECT r.mention_a, r.mention_b, r.match_probability, la.person_id AS person_a, lb.person_id AS person_b,
                   coalesce(la.person_id = lb.person_id, false) AS same_person_now, r.queued_at
            FROM link_review r LEFT JOIN links la ON la.mention_id = r.mention_a LEFT JOIN links lb ON lb.mention_id = r.mention_b
            ORDER BY {order} LIMIT ? OFFSET ?""",
        params + [size, (page - 1) * size],
    )
    return {"items": items, "total": total, "page": page, "pages": pages, "size": size, "sort": sort, "threshold": thr}


def records(wh: Any, mention_ids: list[str]) -> list[dict[str, Any]]:
    """The mentions as recorded (names, date of birth, sex, postcode, reference), their event and person."""
    if not mention_ids:
        return []
    return wh.rows(
        """SELECT p.mention_id, p.forename, p.surname, p.date_of_birth, p.sex, p.postcode, p.person_ref, p.role, p.event_id,
                  e.event_type, e.occurred_at, e.source, l.person_id, l.method
           FROM people p LEFT JOIN events e USING (event_id) LEFT JOIN links l ON l.mention_id = p.mention_id
           WHERE list_contains(?, p.mention_id) ORDER BY p.mention_id""",
        [list(mention_ids)],
    )


def decision(wh: Any, a: str, b: str) -> dict[str, Any] | None:
    x, y = sorted((a, b))
    rows = wh.rows("SELECT decision, decided_by, decided_at, note FROM link_decisions WHERE mention_a = ? AND mention_b = ?", [x, y])
    return rows[0] if rows else None


def explain(wh: Any, a: str, b: str) -> Any:
    """``link.explain.explain_link`` on the served snapshot.

    Splink writes working tables as it scores, and the snapshot is open read-only; so the pair
    is scored on an in-memory database that attaches the snapshot read-only and reads its tables
    through the search path (working tables land in memory and go with the connection)."""
    import duckdb

    from harmlens.link.explain import explain_link

    if not getattr(wh, "read_only", True):
        # a server holding the warehouse itself (no snapshot): Splink's working tables go into it and
        # are dropped by name afterwards, so two explanations at once must not share them
        with _EXPLAIN_LOCK:
            return explain_link(wh.cur(), a, b, hide_values=False)
    path = Path(wh.path)
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
        con.execute("SET search_path = 'memory.main,wh.main'")
        return explain_link(con, a, b, hide_values=False, frequencies="auto")
    finally:
        con.close()


def waterfall(e: Any) -> list[dict[str, Any]]:
    """The steps of the waterfall: the prior, each comparison's weight, the final match weight.

    Each step starts where the one before ended, so the last comparison ends on the pair's match
    weight (what Splink's own waterfall chart shows, ``explain-link --chart``)."""
    steps = [{"step": "prior", "label": "prior (two random mentions match)", "weight": e.prior_weight, "start": 0.0,
              "end": e.prior_weight, "kind": "prior"}]
    at = e.prior_weight
    for f in e.fields:
        steps.append({"step": f.field, "label": f"{f.field}: {f.level}", "weight": f.match_weight, "start": at, "end": at + f.match_weight,
                      "kind": "for" if f.match_weight > 0 else "against" if f.match_weight < 0 else "none"})
        at += f.match_weight
    steps.append({"step": "final", "label": f"match weight (probability {e.match_probability:.4f})", "weight": at, "start": 0.0, "end": at,
                  "kind": "final"})
    return steps


def waterfall_svg(e: Any) -> str:
    """The waterfall as an SVG (altair, rendered offline with vl-convert) with the threshold's weight marked."""
    import altair as alt
    import pandas as pd

    from harmlens.reports.render import chart_svg

    df = pd.DataFrame(waterfall(e))
    df["order"] = range(len(df))
    thr_w = math.log2(e.threshold / (1 - e.threshold))
    colours = alt.Scale(domain=["prior", "for", "against", "none", "final"], range=["#5f6b7a", "#1f6f3f", "#a4262c", "#8a8a8a", "#1f4e79"])
    y = alt.Y("label:N", sort=alt.SortField("order"), title=None)
    bars = alt.Chart(df).mark_bar().encode(
        y=y, x=alt.X("start:Q", title="match weight (log2 Bayes factor)"), x2="end:Q",
        color=alt.Color("kind:N", scale=colours, legend=alt.Legend(title=None)),
        tooltip=["label", alt.Tooltip("weight:Q", format="+.2f")])
    text = alt.Chart(df).mark_text(align="left", dx=4).encode(y=y, x=alt.X("end:Q"), text=alt.Text("weight:Q", format="+.2f"))
    rule = alt.Chart(pd.DataFrame({"w": [thr_w], "what": [f"threshold {e.threshold:.3f}"]})).mark_rule(strokeDash=[4, 3], color="#000").encode(
        x="w:Q", tooltip=["what"])
    return chart_svg((bars + text + rule).properties(width=520, height=28 * len(df), title="Match weight, step by step"))


def pair(wh: Any, a: str, b: str) -> dict[str, Any]:
    """Everything the pair page shows: explanation, waterfall, m and u per comparison, both records, any decision."""
    e = explain(wh, a, b)
    recs = {r["mention_id"]: r for r in records(wh, [a, b])}
    prob = wh.rows("SELECT match_probability, run_id FROM link_pairs WHERE mention_a = ? AND mention_b = ?", sorted((a, b)))
    d = asdict(e)
    d.pop("chart_spec", None)
    comps = []
    for f in e.fields:
        bf = 2 ** f.match_weight
        comps.append({**asdict(f), "bayes_factor": bf})
    return {
        "mention_a": a, "mention_b": b, "explanation": d, "comparisons": comps, "waterfall": waterfall(e),
        "records": [recs.get(a), recs.get(b)], "decision": decision(wh, a, b), "stored_pair": prob[0] if prob else None,
        "same_person_now": e.person_a is not None and e.person_a == e.person_b,
        "threshold_weight": math.log2(e.threshold / (1 - e.threshold)),
        "_e": e,
    }


def threshold_curve(wh: Any) -> dict[str, Any] | None:
    """Expected precision and recall by threshold, from the stored pairs' match probabilities (``link/threshold.py``)."""
    from harmlens.link.threshold import _grid, expected_at

    thr = active_threshold(wh)
    if thr is None:
        return None
    n = wh.scalar("SELECT count(*) FROM link_pairs")
    grid = sorted(set(_grid()) | {float(thr)})
    curve = expected_at(wh.cur(), "SELECT match_probability AS p FROM link_pairs", grid) if n else []
    at = next(((p, r) for t, p, r in curve if t == float(thr)), (None, None))
    # what the last run that scored every pair printed (its recall counts the pairs below 0.5 too)
    full = wh.rows("""SELECT run_id, mode, finished_at, stats FROM link_runs WHERE mode <> 'incremental'
                      ORDER BY run_id DESC LIMIT 1""")
    run = None
    if full:
        st = json.loads(full[0]["stats"]) if isinstance(full[0]["stats"], str) else (full[0]["stats"] or {})
        run = {"run_id": full[0]["run_id"], "mode": full[0]["mode"], "finished_at": full[0]["finished_at"],
               "threshold": st.get("threshold"), "expected_precision": st.get("expected_precision"),
               "expected_recall": st.get("expected_recall"), "target_precision": st.get("target_precision")}
    return {"threshold": float(thr), "pairs": n, "points": [{"threshold": t, "precision": p, "recall": r} for t, p, r in curve],
            "precision_at": at[0], "recall_at": at[1], "full_run": run}


def threshold_svg(c: dict[str, Any]) -> str:
    import altair as alt
    import pandas as pd

    from harmlens.reports.render import chart_svg

    df = pd.DataFrame(c["points"]).melt("threshold", var_name="measure", value_name="expected")
    lines = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=alt.X("threshold:Q", scale=alt.Scale(domain=[0.5, 1.0]), title="match probability threshold"),
        y=alt.Y("expected:Q", scale=alt.Scale(zero=False), title="expected (model's own estimate)"),
        color=alt.Color("measure:N", scale=alt.Scale(domain=["precision", "recall"], range=["#1f4e79", "#b35900"]), legend=alt.Legend(title=None)),
        strokeDash=alt.StrokeDash("measure:N", legend=None), tooltip=["threshold", "measure", alt.Tooltip("expected:Q", format=".4f")])
    rule = alt.Chart(pd.DataFrame({"t": [c["threshold"]], "what": [f"current threshold {c['threshold']:.3f}"]})).mark_rule(
        color="#000", strokeDash=[4, 3]).encode(x="t:Q", tooltip=["what"])
    label = alt.Chart(pd.DataFrame({"t": [c["threshold"]], "txt": [f"current {c['threshold']:.3f}"]})).mark_text(
        align="right", dx=-4, dy=-6, baseline="bottom").encode(x="t:Q", y=alt.value(10), text="txt:N")
    return chart_svg((lines + rule + label).properties(width=560, height=300, title="Expected precision and recall by threshold"))


def cluster(wh: Any, person_id: str) -> dict[str, Any] | None:
    """One person's mentions, the scored pairs between them, and the weakest link holding them together.

    The weakest link is the weakest edge of the maximum spanning tree of the stored pairs: the
    strongest chain of evidence that joins the mentions still has to pass through it, so it is
    where the person would come apart first (and the pair a reviewer checks for a false merge)."""
    import networkx as nx

    recs = wh.rows(
        """SELECT p.mention_id, p.forename, p.surname, p.date_of_birth, p.sex, p.postcode, p.person_ref, p.role, p.event_id,
                  e.event_type, e.occurred_at, l.method
           FROM links l JOIN people p ON p.mention_id = l.mention_id LEFT JOIN events e ON e.event_id = p.event_id
           WHERE l.person_id = ? ORDER BY e.occurred_at NULLS LAST, p.mention_id""",
        [person_id],
    )
    if not recs:
        return None
    edges = wh.rows(
        """SELECT p.mention_a, p.mention_b, p.match_probability, p.match_weight FROM link_pairs p
           JOIN links la ON la.mention_id = p.mention_a JOIN links lb ON lb.mention_id = p.mention_b
           WHERE la.person_id = ? AND lb.person_id = ? ORDER BY p.match_probability, p.mention_a, p.mention_b""",
        [person_id, person_id],
    )
    g = nx.Graph()
    g.add_nodes_from(r["mention_id"] for r in recs)
    for e in edges:
        g.add_edge(e["mention_a"], e["mention_b"], p=e["match_probability"])
    tree = nx.maximum_spanning_tree(g, weight="p")
    tree_edges = {tuple(sorted(x)) for x in tree.edges()}
    weakest = min(tree.edges(data=True), key=lambda x: (x[2]["p"], sorted(x[:2])), default=None)
    weakest_pair = tuple(sorted(weakest[:2])) if weakest else None
    for e in edges:
        k = (e["mention_a"], e["mention_b"])
        e["in_tree"] = k in tree_edges
        e["weakest"] = k == weakest_pair
    parts = [sorted(c) for c in nx.connected_components(g)]
    decisions = wh.rows(
        """SELECT d.* FROM link_decisions d JOIN links la ON la.mention_id = d.mention_a JOIN links lb ON lb.mention_id = d.mention_b
           WHERE la.person_id = ? OR lb.person_id = ? ORDER BY d.decided_at DESC""", [person_id, person_id])
    return {"person_id": person_id, "mentions": recs, "edges": edges, "weakest": list(weakest_pair) if weakest_pair else None,
            "weakest_probability": weakest[2]["p"] if weakest else None, "parts": parts, "decisions": decisions}
