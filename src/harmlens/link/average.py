"""Average-linkage clustering of scored pairs (used by ``link-file``).

Joining every pair above a threshold (single linkage) lets one wrong pair glue two people
together: a misspelt "Hrrbert Leaf" scored as a match with one of Walter Leaf's records chains
all of Herbert's records to all of Walter's. Here two groups are joined only when their members
agree *on average*: the score of two groups is the sum of the match probabilities of all
pairs between them divided by the number of such pairs (pairs never scored count as 0), and
groups are joined best score first while it is at least ``min_mean``. Two single records are
joined exactly when their pair reaches ``min_mean``, so for singletons it is a threshold as
usual; a record that matches only one of nine records of a person, and that person's other
records not at all, stays apart.

Then, with ``attach``, a record still alone joins the group of its strongest pair when that pair
reaches ``attach`` (0.95, the single-linkage threshold, in link-file): a lone record cannot chain
two groups together (it joins one), and its strong pair is what single linkage would have used.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def average_linkage(ids: Iterable[str], edges: Iterable[tuple[str, str, float]], *, min_mean: float,
                    threshold: float = 0.0, attach: float | None = None,
                    cannot_link: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Group ``ids`` by average linkage over ``edges`` (a, b, match probability; each pair once): two groups are
    joined when the mean over all pairs between them is at least ``min_mean`` and at least one of
    those pairs reaches ``threshold`` (so nothing is joined without one strong pair). ``attach``:
    see the module docstring. ``cannot_link``: pairs of records never put in one group (two groups
    holding such a pair are not joined, whatever their mean; a lone record does not attach to a
    group holding its pair).

    Returns record -> representative (the smallest id of its group), like ``cluster.cluster``.
    """
    if not 0.0 < min_mean <= 1.0:
        raise ValueError(f"min_mean must be in (0, 1], not {min_mean}")
    parent: dict[str, str] = {}
    size: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    for i in ids:
        parent[i] = i
        size[i] = 1
        members[i] = [i]
    # nb[g][h]: (sum, max) of probabilities of pairs between groups g and h (groups with a scored pair)
    nb: dict[str, dict[str, tuple[float, float]]] = {i: {} for i in parent}
    edges = list(edges)
    cannot: dict[str, set[str]] = {}
    for a, b in cannot_link:
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    def clash(g: str, h: str) -> bool:
        return any(parent.get(c) == h for m in members[g] for c in cannot.get(m, ()))
    for a, b, p in edges:
        if a == b or a not in parent or b not in parent or p <= 0:
            continue
        s0, m0 = nb[a].get(b, (0.0, 0.0))
        nb[a][b] = nb[b][a] = (s0 + p, max(m0, p))
    version = {i: 0 for i in parent}
    heap = []
    for a, d in nb.items():
        for b, (s, mx) in d.items():
            if a < b and s >= min_mean and mx >= threshold:
                heap.append((-s, a, b, 0, 0))
    heapq.heapify(heap)
    while heap:
        neg, a, b, va, vb = heapq.heappop(heap)
        if version.get(a) != va or version.get(b) != vb:
            continue  # a group changed since this score was computed
        if cannot and clash(b if size[a] >= size[b] else a, a if size[a] >= size[b] else b):
            continue  # the groups hold two records that must stay apart
        # merge the smaller group into the larger
        if size[a] < size[b]:
            a, b = b, a
        for m in members[b]:
            parent[m] = a
        members[a].extend(members.pop(b))
        size[a] += size.pop(b)
        version.pop(b)
        version[a] += 1
        db = nb.pop(b)
        da = nb[a]
        da.pop(b, None)
        db.pop(a, None)
        for h, (s, mx) in db.items():
            s0, m0 = da.get(h, (0.0, 0.0))
            da[h] = (s0 + s, max(m0, mx))
            nb[h].pop(b)
            nb[h][a] = da[h]
        for h, (s, mx) in da.items():
            mean = s / (size[a] * size[h])
            if mean >= min_mean and mx >= threshold:
                x, y = (a, h) if a < h else (h, a)
                heapq.heappush(heap, (-mean, x, y, version[x], version[y]))
    if attach is not None:
        best: dict[str, tuple[float, str]] = {}
        for a, b, p in edges:
            if p < attach or a not in parent or b not in parent:
                continue
            for x, y in ((a, b), (b, a)):
                # groups as average linkage left them: attached records do not chain among themselves
                if (size[parent[x]] == 1 and size[parent[y]] > 1 and (p, parent[y]) > best.get(x, (0.0, ""))
                        and not (cannot and clash(x, parent[y]))):
                    best[x] = (p, parent[y])
        for x, (_, g) in best.items():
            members[g].append(x)
            members.pop(x)
            parent[x] = g
    rep: dict[str, str] = {}
    for g, ms in members.items():
        m0 = min(ms)
        for m in ms:
            rep[m] = m0
    return rep
