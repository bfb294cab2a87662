"""Entity resolution: link every person mention to one person.

Public interface (what other stages and the CLI use):

- ``link_warehouse(con, ...)``: link the warehouse's ``people`` mentions and write ``links``.
- ``link_file(files, id_col, mapping, ...)``: deduplicate any CSV/Parquet list.
- ``decide(con, a, b, decision, by)``: a reviewer's decision that later runs respect.
- ``explain_link(con, a, b)``: match weight per field for a pair.

Tables (see ``schema.py``): ``links(mention_id, person_id, method, linked_at)`` and the link stage's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["link_warehouse", "link_file", "decide", "explain_link", "LinkRunSummary"]

if TYPE_CHECKING:
    from harmlens.link.explain import explain_link
    from harmlens.link.linkfile import link_file
    from harmlens.link.warehouse import LinkRunSummary, decide, link_warehouse


def __getattr__(name: str) -> Any:  # lazy: keep `import harmlens.link` light for the CLI
    if name in ("link_warehouse", "decide", "LinkRunSummary"):
        from harmlens.link import warehouse

        return getattr(warehouse, name)
    if name == "link_file":
        from harmlens.link.linkfile import link_file

        return link_file
    if name == "explain_link":
        from harmlens.link.explain import explain_link

        return explain_link
    raise AttributeError(name)
