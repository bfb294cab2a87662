"""The web app's address of a pair in the link review queue.

Kept in the link area, free of the web framework, so that list warnings (rank) can link to the
pair's review page without the rank area importing the web app.
"""

from __future__ import annotations

from urllib.parse import quote


def review_path(a: str, b: str) -> str:
    """The review page for the pair of mentions ``a`` and ``b`` (either order: the smaller id first).

    >>> review_path("M2", "M 1")
    '/link-review/pairs/M%201/M2'
    """
    x, y = sorted((str(a), str(b)))
    return f"/link-review/pairs/{quote(x, safe='')}/{quote(y, safe='')}"
