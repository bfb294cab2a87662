"""Link review pages and their API twins: the queue, a pair, the threshold curve, one person's mentions, decisions.

Reading any of them shows mentions as recorded, so each view of a pair or a person is an
access-log row per person, with the purpose ``quality`` (data quality review: the one purpose
these pages serve, so it is recorded rather than asked). A decision is written through to the
warehouse's ``link_decisions`` (``LiveWarehouse.decide_link``), which every later ``harmlens
link`` run, full or incremental, reads; who, when and why are kept there and in the access log.
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from harmlens.web import linkreview as lr
from harmlens.link.reviewurl import review_path
from harmlens.web.security import AppError

PURPOSE = "quality"
REASON_MAX = 500


class DecisionBody(BaseModel):
    decision: str = Field(..., max_length=20, description="same | different")
    reason: Optional[str] = Field(None, max_length=REASON_MAX, description="why (required for 'different')")


def decision_problems(decision: str, reason: str) -> list[dict[str, str]]:
    problems = []
    if decision not in ("same", "different"):
        problems.append({"field": "decision", "reason": "choose 'same person' or 'different people'"})
    if decision == "different" and not reason.strip():
        problems.append({"field": "reason", "reason": "say why they are different people (it is kept with the decision)"})
    return problems


def register(app: FastAPI) -> None:
    from harmlens.web.app import API, log_access, page_url, principal, render, route

    wh = app.state.warehouse

    def _known(a: str, b: str) -> list[dict[str, Any]]:
        if a == b:
            raise AppError(404, "not_found", "a pair needs two different mentions")
        recs = lr.records(wh, [a, b])
        if len(recs) < 2:
            missing = sorted({a, b} - {r["mention_id"] for r in recs})
            raise AppError(404, "not_found", f"no such mention: {', '.join(missing)}")
        return recs

    def _log_persons(request: Request, recs: list[dict[str, Any]], detail: dict[str, Any]) -> None:
        # one row per person shown: a search of the log by person finds every view of their records
        for pid in sorted({r["person_id"] or r["mention_id"] for r in recs}):
            log_access(request, "person.view", "person", pid, purpose=PURPOSE, detail=detail)

    # -- the queue -----------------------------------------------------------------------------------
    def _queue(request: Request, sort: str, page: int, size: int) -> dict[str, Any] | None:
        q = lr.queue(wh, sort=sort, page=page, size=size)
        log_access(request, "list.view", "link_review", None, purpose=PURPOSE, detail={"sort": sort, "page": page,
                   "shown": len(q["items"]) if q else 0})
        return q

    def queue_page(request: Request, sort: str = Query("closest", pattern="^(closest|probability|probability_asc|queued)$"),
                   page: int = Query(1, ge=1, le=100000), size: int = Query(50, ge=1, le=500)) -> Response:
        q = _queue(request, sort, page, size)
        return render(request, "link_review.html.j2", q=q, empty=lr.NO_MODEL, sort=sort, pair_url=review_path,
                      url=lambda **kw: page_url("/link-review", **{"sort": sort, "size": size, **kw}))

    def queue_api(request: Request, sort: str = Query("closest", pattern="^(closest|probability|probability_asc|queued)$"),
                  page: int = Query(1, ge=1, le=100000), size: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        q = _queue(request, sort, page, size)
        if q is None:
            return {"available": False, "message": lr.NO_MODEL, "items": [], "total": 0}
        return {"available": True, **q}

    route(app, "GET", "/link-review", ("link.review",), queue_page, include_in_schema=False)
    route(app, "GET", f"{API}/link-review", ("link.review",), queue_api, tags=["link review"],
          summary="Pairs near the linking threshold, undecided (sortable, paged)")

    # -- one pair ------------------------------------------------------------------------------------
    def _pair(request: Request, a: str, b: str, via: str) -> dict[str, Any]:
        if lr.active_threshold(wh) is None:
            raise AppError(404, "not_found", lr.NO_MODEL)
        recs = _known(a, b)
        _log_persons(request, recs, {"pair": [a, b], "via": via})
        return lr.pair(wh, a, b)

    def pair_page(request: Request, mention_a: str, mention_b: str, decided: Optional[str] = Query(None, max_length=20)) -> Response:
        d = _pair(request, mention_a, mention_b, "page")
        return _pair_render(request, d, decided=decided)

    def _pair_render(request: Request, d: dict[str, Any], status: int = 200, **kw: Any) -> Response:
        from harmlens.web.auth import allowed

        svg = lr.waterfall_svg(d["_e"])
        return render(request, "link_pair.html.j2", status=status, d=d, e=d["explanation"], svg=svg, columns=lr.RECORD_COLUMNS,
                      may_decide=allowed(principal(request).role, "link.decide"),
                      action=review_path(d["mention_a"], d["mention_b"]) + "/decision", **kw)

    def pair_api(request: Request, mention_a: str, mention_b: str) -> dict[str, Any]:
        d = _pair(request, mention_a, mention_b, "api")
        return {k: v for k, v in d.items() if not k.startswith("_")}

    route(app, "GET", "/link-review/pairs/{mention_a}/{mention_b}", ("link.review",), pair_page, include_in_schema=False)
    route(app, "GET", f"{API}/link-review/pairs/{{mention_a}}/{{mention_b}}", ("link.review",), pair_api, tags=["link review"],
          summary="One pair explained: match weight per comparison (waterfall), m and u, gamma, both records, any decision")

    # -- decisions -----------------------------------------------------------------------------------
    def _decide(request: Request, a: str, b: str, decision: str, reason: str) -> None:
        recs = _known(a, b)
        p = principal(request)
        wh.decide_link(a, b, decision, p.username, reason.strip() or None)
        log_access(request, "link.decide", "link_pair", f"{min(a, b)}|{max(a, b)}", purpose=PURPOSE,
                   detail={"decision": decision, "reason": reason.strip() or None,
                           "persons": sorted({r["person_id"] for r in recs if r["person_id"]})})

    def decide_page(request: Request, mention_a: str, mention_b: str, decision: str = Form("", max_length=20),
                    reason: str = Form("", max_length=REASON_MAX), back: str = Form("", max_length=300)) -> Response:
        problems = decision_problems(decision, reason)
        if problems:
            d = _pair(request, mention_a, mention_b, "page")
            return _pair_render(request, d, status=400, problems=problems, chosen=decision, reason=reason)
        _decide(request, mention_a, mention_b, decision, reason)
        # back to the person page the split was made from, else the pair (only the app's own pages)
        nxt = back if back.startswith("/link-review/persons/") else review_path(mention_a, mention_b)
        return RedirectResponse(f"{nxt}?decided={decision}", status_code=303)

    def decide_api(request: Request, mention_a: str, mention_b: str, body: DecisionBody) -> dict[str, Any]:
        problems = decision_problems(body.decision, body.reason or "")
        if problems:
            raise AppError(422, "validation_failed", "; ".join(f"{x['field']}: {x['reason']}" for x in problems), extra=problems)
        _decide(request, mention_a, mention_b, body.decision, body.reason or "")
        return {"recorded": True, "mention_a": min(mention_a, mention_b), "mention_b": max(mention_a, mention_b), "decision": body.decision,
                "decided_by": principal(request).username, "applies": "at the next 'harmlens link' run (full or incremental)"}

    route(app, "POST", "/link-review/pairs/{mention_a}/{mention_b}/decision", ("link.decide",), decide_page, include_in_schema=False)
    route(app, "POST", f"{API}/link-review/pairs/{{mention_a}}/{{mention_b}}/decision", ("link.decide",), decide_api,
          tags=["link review"], summary="Decide a pair: the same person or different people (reason required for 'different')")

    # -- the threshold -------------------------------------------------------------------------------
    def _threshold(request: Request) -> dict[str, Any] | None:
        c = lr.threshold_curve(wh)
        log_access(request, "report.view", "link_threshold", None, detail={"threshold": c["threshold"] if c else None})
        return c

    def threshold_page(request: Request) -> Response:
        c = _threshold(request)
        return render(request, "link_threshold.html.j2", c=c, empty=lr.NO_MODEL, svg=lr.threshold_svg(c) if c and c["points"] else None)

    def threshold_api(request: Request) -> dict[str, Any]:
        c = _threshold(request)
        return {"available": c is not None, "message": None if c else lr.NO_MODEL, **(c or {})}

    route(app, "GET", "/link-review/threshold", ("link.review",), threshold_page, include_in_schema=False)
    route(app, "GET", f"{API}/link-review/threshold", ("link.review",), threshold_api, tags=["link review"],
          summary="Expected precision and recall by threshold (the model's own estimates), current threshold marked")

    # -- one person's mentions -----------------------------------------------------------------------
    def _cluster(request: Request, person_id: str, via: str) -> dict[str, Any]:
        c = lr.cluster(wh, person_id) if wh.has("links", "person_id") else None
        log_access(request, "person.view", "person", person_id, purpose=PURPOSE, detail={"view": "link cluster", "via": via,
                   "found": c is not None})
        if c is None:
            raise AppError(404, "not_found", f"no person {person_id} in the links")
        return c

    def cluster_page(request: Request, person_id: str, decided: Optional[str] = Query(None, max_length=20)) -> Response:
        from harmlens.web.auth import allowed

        c = _cluster(request, person_id, "page")
        return render(request, "link_cluster.html.j2", c=c, columns=lr.RECORD_COLUMNS, pair_url=review_path, decided=decided,
                      may_decide=allowed(principal(request).role, "link.decide"))

    def cluster_api(request: Request, person_id: str) -> dict[str, Any]:
        return _cluster(request, person_id, "api")

    route(app, "GET", "/link-review/persons/{person_id}", ("link.review",), cluster_page, include_in_schema=False)
    route(app, "GET", f"{API}/link-review/persons/{{person_id}}", ("link.review",), cluster_api, tags=["link review"],
          summary="One person's mentions, the scored pairs between them and the weakest link")
