"""A stored priority list held in memory, display-ready, for filtering, sorting and paging per request.

While the server runs it holds the warehouse (DuckDB lets no other process write to it), so a
stored list cannot change under it: each list is read once, its rows made display-ready (factors
as phrases, evidence summary, borough of the person's latest event) and kept, and every list
page is then a filter, a sort and a slice of a few thousand dicts in Python, with no query.
Lists are the top of a ranking for people to review (``harmlens rank --top``), so they are small;
a list of 100,000 entries would take roughly 100 MB per server process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harmlens.features.catalogue import harm_text, probability_text
from harmlens.harm.evidence import STATUS_WORDS, breakdown, summary_text
from harmlens.web.fmt import factor_text, parse_factors

# Sort name -> column sorted descending with missing values last, ties by rank ("rank": rank, then person_id).
PRIORITY_SORTS: dict[str, str | None] = {
    "rank": None,
    "risk": "risk",
    "harm": "expected_harm",
    "last_event": "last_event_at",
}


@dataclass
class CachedList:
    """All entries of one stored list, in rank order, plus lookups by person."""

    items: list[dict[str, Any]]  # display rows, as the list page and API show them
    raw: dict[str, dict[str, Any]]  # person_id -> the stored entry row (for the profile's risk box)
    boroughs: dict[str, str]  # person_id -> borough of their latest event
    _sorted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: list[dict[str, Any]], borough_of: Callable[[list[str]], dict[str, str]]) -> "CachedList":
        rows = sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0, str(r.get("person_id"))))
        boroughs = borough_of([r["person_id"] for r in rows])
        items = []
        for r in rows:
            it = {k: v for k, v in r.items() if k not in ("list_id", "top_factors")}
            it["factors"] = [factor_text(f) for f in parse_factors(r.get("top_factors"))]
            it["borough"] = boroughs.get(r["person_id"])
            # the one evidence definition (harm/evidence.py): the count always with its outcomes
            it["evidence"] = summary_text(r) if r.get("allegations") is not None else None
            it["outcomes"] = breakdown(r) if r.get("allegations") is not None else None
            it["outcome_text"] = [f"{n} {STATUS_WORDS[k]}" for k, n in (it["outcomes"] or {}).items()]
            # the chance rounded to what validation supports and harm with its unit (features/catalogue.py)
            it["risk_text"] = probability_text(r.get("risk"))
            it["expected_harm_text"] = harm_text(r.get("expected_harm"))
            items.append(it)
        return cls(items=items, raw={r["person_id"]: r for r in rows}, boroughs=boroughs)

    @property
    def n_link_warnings(self) -> int:
        return sum(1 for r in self.items if r.get("link_warning"))

    def ordered(self, sort: str) -> list[dict[str, Any]]:
        """The items in ``sort`` order (computed once per sort and kept)."""
        col = PRIORITY_SORTS.get(sort)
        if col is None:
            return self.items
        hit = self._sorted.get(col)
        if hit is None:
            # items are in rank order and Python's sort is stable (reverse too): ties stay in rank order;
            # (False, ...) for a missing value sorts after every present one when reversed.
            hit = sorted(self.items, key=lambda r: (r.get(col) is not None, r.get(col) if r.get(col) is not None else 0), reverse=True)
            self._sorted[col] = hit
        return hit

    def page(self, *, borough: str | None, band: str | None, sort: str, page: int, size: int) -> tuple[list[dict[str, Any]], int]:
        """(copies of the items on ``page``, number of items matching the filters)."""
        rows = self.ordered(sort)
        if band:
            rows = [r for r in rows if r.get("band") == band]
        if borough:
            rows = [r for r in rows if r.get("borough") == borough]
        start = (max(1, page) - 1) * size
        return [dict(r) for r in rows[start:start + size]], len(rows)
