"""Entity resolution: link every person mention to one person.

Public interface (what other stages and the CLI use):

- ``link_warehouse(con, ...)``: link the warehouse's ``people`` mentions and write ``links``.
- ``link_file(files, id_col, mapping, ...)``: deduplicate any CSV/Parquet list, or link two (``files_b``).
- ``decide(con, a, b, decision, by)``: a reviewer's decision that later runs respect.
- ``explain_link(con, a, b)``: match weight per field for a pair.

Tables (see ``schema.py``): ``links(mention_id, person_id, method, linked_at)`` and the link stage's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmlens.lazy import lazy_exports

__all__ = ["link_warehouse", "link_file", "decide", "explain_link", "LinkRunSummary"]

if TYPE_CHECKING:
    from harmlens.link.explain import explain_link
    from harmlens.link.linkfile import link_file
    from harmlens.link.warehouse import LinkRunSummary, decide, link_warehouse

__getattr__ = lazy_exports(__name__, {"link_warehouse": "warehouse", "decide": "warehouse", "LinkRunSummary": "warehouse",
                                       "link_file": "linkfile", "explain_link": "explain"})
