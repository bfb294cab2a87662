"""Clustering scored pairs into persons: greedy, strongest evidence first, with constraints.

Plain connected components at a threshold let one weak bridge glue two people together. Here
edges are taken in order of decreasing match probability and two groups are joined only if
nothing forbids it: two different strong ids (person_ref), a reviewer's "not the same
person" decision between any of their members, or dates of birth with nothing in common (no
date of one group is equal to, a day/month swap of, or one slip away from a date of the other:
a father and son of the same name at one address, one of them recorded without a date, must
not be chained together through the undated mention). Must-link edges (same person_ref,
reviewer "same person") are applied first and are not subject to the date check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


def dob_compatible(p: tuple[int, int, int], q: tuple[int, int, int]) -> bool:
    """Could two recorded dates of birth be the same person's? Equal, day/month swapped, or one slip
    (year off by one with the same day and month, or same year with the same day or the same month)."""
    if p == q:
        return True
    (y1, m1, d1), (y2, m2, d2) = p, q
    if y1 == y2 and (m1, d1) == (d2, m2):
        return True
    if abs(y1 - y2) <= 1 and (m1, d1) == (m2, d2):
        return True
    return y1 == y2 and (m1 == m2 or d1 == d2)


@dataclass
class UnionFind:
    """Union-find over string ids with per-group constraint bookkeeping."""

    parent: dict[str, str] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    refs: dict[str, frozenset[str]] = field(default_factory=dict)
    cannot: dict[str, set[str]] = field(default_factory=dict)  # root -> members having a cannot-link partner
    dobs: dict[str, frozenset] = field(default_factory=dict)  # root -> dates of birth (y, m, d) seen

    def add(self, x: str, ref: str | None = None) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.size[x] = 1
            self.refs[x] = frozenset([ref]) if ref else frozenset()

    def find(self, x: str) -> str:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size.pop(rb)
        self.refs[ra] = self.refs[ra] | self.refs.pop(rb)
        db = self.dobs.pop(rb, None)
        if db:
            da = self.dobs.get(ra, frozenset())
            self.dobs[ra] = da | db if len(da) < 50 else da
        cb = self.cannot.pop(rb, None)
        if cb:
            self.cannot.setdefault(ra, set()).update(cb)
        return ra


def _greedy(
    ids: Iterable[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    threshold: float,
    refs: dict[str, str] | None = None,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    start: dict[str, str] | None = None,
    dobs: dict[str, tuple[int, int, int]] | None = None,
    presorted: bool = False,
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Group ``ids`` into clusters.

    Parameters
    ----------
    ids : every record id (singletons included).
    edges : (a, b, match_probability); only those >= ``threshold`` can join groups.
    refs : strong id per record; records with the same ref are joined, different refs never are.
    must_link / cannot_link : reviewer decisions.
    start : an existing grouping (record -> group key) to start from (incremental linking).
    dobs : date of birth per record as (year, month, day); groups whose dates are all incompatible
        are never joined by a probabilistic edge.
    presorted : ``edges`` are already those >= ``threshold``, strongest first, ties by (a, b)
        (``cluster_indexed`` sorts them with numpy: a Python sort of a million tuples took a second).

    Returns
    -------
    (record -> representative record, blocked) where ``blocked`` lists (a, b, reason) for edges
    above the threshold that a constraint refused.
    """
    refs = refs or {}
    uf = UnionFind()
    for i in ids:
        uf.add(i, refs.get(i))
    partners: dict[str, set[str]] = {}
    for a, b in cannot_link:
        if a in uf.parent and b in uf.parent:
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
            uf.cannot.setdefault(a, set()).add(a)
            uf.cannot.setdefault(b, set()).add(b)
    for i, d in (dobs or {}).items():
        if i in uf.parent and d is not None:
            uf.dobs[i] = frozenset([tuple(d)])
    blocked: list[tuple[str, str, str]] = []

    def allowed(a: str, b: str, check_dob: bool = True) -> str | None:
        return allowed_roots(uf.find(a), uf.find(b), check_dob)

    def allowed_roots(ra: str, rb: str, check_dob: bool = True) -> str | None:
        if ra == rb:
            return None
        fa, fb = uf.refs[ra], uf.refs[rb]
        if fa and fb and not (fa & fb):
            return "different person_ref"
        ca, cb = uf.cannot.get(ra), uf.cannot.get(rb)
        if ca and cb:
            small, other = (ca, rb) if len(ca) <= len(cb) else (cb, ra)
            for m in small:
                for p in partners.get(m, ()):
                    if uf.find(p) == other:
                        return "reviewer decided (or recorded in one event in two roles): not the same person"
        if check_dob:
            xa, xb = uf.dobs.get(ra), uf.dobs.get(rb)
            if xa and xb and not any(dob_compatible(p, q) for p in xa for q in xb):
                return "dates of birth conflict"
        return None

    if start:
        groups: dict[str, str] = {}
        for rec, g in start.items():
            if rec not in uf.parent:
                continue
            if g in groups:
                uf.union(groups[g], rec)
            else:
                groups[g] = rec
    by_ref: dict[str, str] = {}
    for i, r in refs.items():
        if r and i in uf.parent:
            if r in by_ref:
                uf.union(by_ref[r], i)
            else:
                by_ref[r] = i
    for a, b in must_link:
        if a in uf.parent and b in uf.parent:
            why = allowed(a, b, check_dob=False)
            if why:
                blocked.append((a, b, why))
            else:
                uf.union(a, b)
    ordered = edges if presorted else sorted((e for e in edges if e[2] >= threshold), key=lambda e: (-e[2], e[0], e[1]))
    find = uf.find
    for a, b, p in ordered:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        why = allowed_roots(ra, rb)
        if why:
            blocked.append((a, b, why))
            continue
        uf.union(a, b)
    rep: dict[str, str] = {}
    # representative = smallest id in the group, so results do not depend on edge order ties
    members: dict[str, list[str]] = {}
    for i in uf.parent:
        members.setdefault(uf.find(i), []).append(i)
    for ms in members.values():
        m0 = min(ms)
        for m in ms:
            rep[m] = m0
    return rep, blocked


def cluster_indexed(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    p: np.ndarray,
    *,
    threshold: float,
    refs: dict[int, str] | None = None,
    must_link: Sequence[tuple[int, int]] = (),
    cannot_link: Sequence[tuple[int, int]] = (),
    start: np.ndarray | None = None,
    dobs: dict[int, tuple[int, int, int]] | None = None,
) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """The same grouping as the greedy algorithm, fast on millions of records and edges.

    Records are 0..n-1 (index order is the tie-break order). Connected components are computed
    with every edge at or above the threshold and every forced union (start grouping, same ref,
    must-link); a component in which no constraint can bite (one ref at most, no cannot-link pair
    inside, dates of birth all compatible) is exactly what the greedy would produce, so only the
    remaining components are re-clustered greedily. Returns (label per record, refused edges) where
    a label is the smallest record index of its group.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.empty(0, dtype=np.int64), []
    refs = refs or {}
    keep = p >= threshold
    a, b, p = a[keep].astype(np.int64), b[keep].astype(np.int64), p[keep]
    fa: list[int] = []
    fb: list[int] = []
    by_ref: dict[str, int] = {}
    for i, r in refs.items():
        if r in by_ref:
            fa.append(by_ref[r])
            fb.append(i)
        else:
            by_ref[r] = i
    for x, y in must_link:
        fa.append(x)
        fb.append(y)
    sa = sb = np.empty(0, dtype=np.int64)
    if start is not None:
        # every record of a start group is tied to the group's first record (vectorised: a
        # million records in the start grouping of an incremental run)
        import pandas as pd

        codes, _ = pd.factorize(pd.Series(start, dtype=object), use_na_sentinel=True)
        idx = np.flatnonzero(codes >= 0)
        if len(idx):
            c = codes[idx]
            o = np.argsort(c, kind="stable")
            idx, c = idx[o], c[o]
            firsts = np.r_[True, c[1:] != c[:-1]]
            first_of = idx[firsts][np.cumsum(firsts) - 1]
            sa, sb = first_of[~firsts], idx[~firsts]
    ea = np.concatenate([a, np.asarray(fa, dtype=np.int64), sa])
    eb = np.concatenate([b, np.asarray(fb, dtype=np.int64), sb])
    g = coo_matrix((np.ones(len(ea), dtype=np.int8), (ea, eb)), shape=(n, n))
    _, comp = connected_components(g, directed=False)

    dirty: set[int] = set()
    comp_ref: dict[int, str] = {}
    for i, r in refs.items():
        c = comp[i]
        if comp_ref.setdefault(c, r) != r:
            dirty.add(c)
    for x, y in cannot_link:
        if comp[x] == comp[y]:
            dirty.add(comp[x])
    if dobs:
        # only components with more than one distinct date need the pairwise check (found with numpy)
        di = np.fromiter(dobs.keys(), dtype=np.int64, count=len(dobs))
        dv = np.array(list(dobs.values()), dtype=np.int64).reshape(-1, 3)
        u = np.unique(np.column_stack([comp[di], dv]), axis=0)
        cc, cnt = np.unique(u[:, 0], return_counts=True)
        multi = set(cc[cnt > 1].tolist())
        comp_dobs: dict[int, list] = {}
        for row in u[np.isin(u[:, 0], list(multi))].tolist() if multi else []:
            comp_dobs.setdefault(row[0], []).append(tuple(row[1:]))
        for c, dl in comp_dobs.items():
            if c not in dirty and any(not dob_compatible(dl[i], dl[j]) for i in range(len(dl)) for j in range(i + 1, len(dl))):
                dirty.add(c)

    # label = smallest index in the component
    order = np.argsort(comp, kind="stable")
    labels = np.empty(n, dtype=np.int64)
    cs = comp[order]
    starts = np.r_[0, np.flatnonzero(np.diff(cs)) + 1]
    mins = np.minimum.reduceat(order, starts)
    labels[order] = np.repeat(mins, np.diff(np.r_[starts, n]))
    blocked: list[tuple[int, int, str]] = []
    if dirty:
        dmask = np.isin(comp, np.fromiter(dirty, dtype=comp.dtype))
        nodes = np.flatnonzero(dmask)
        emask = dmask[a]
        ea, eb, ep = a[emask], b[emask], p[emask]
        o = np.lexsort((eb, ea, -ep))  # strongest first, ties by (a, b): the greedy's own order
        sub_edges = list(zip(ea[o].tolist(), eb[o].tolist(), ep[o].tolist()))
        node_set = set(nodes.tolist())
        rep, blocked = _greedy(
            nodes.tolist(),
            sub_edges,
            threshold=threshold,
            refs={i: r for i, r in refs.items() if i in node_set},
            must_link=[(x, y) for x, y in must_link if x in node_set],
            cannot_link=[(x, y) for x, y in cannot_link if x in node_set],
            start=None if start is None else {i: start[i] for i in node_set if start[i] is not None},
            dobs=None if dobs is None else {i: d for i, d in dobs.items() if i in node_set},
            presorted=True,
        )
        for i, r in rep.items():
            labels[i] = r
    return labels, blocked


def cluster(
    ids: Iterable[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    threshold: float,
    refs: dict[str, str] | None = None,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    start: dict[str, str] | None = None,
    dobs: dict[str, tuple[int, int, int]] | None = None,
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Group ``ids`` into clusters (see ``_greedy`` for the rules); returns (record -> smallest id
    of its group, refused edges (a, b, reason))."""
    names = sorted(set(ids))
    idx = {x: i for i, x in enumerate(names)}
    el = [(idx[x], idx[y], q) for x, y, q in edges if x in idx and y in idx]
    a = np.fromiter((e[0] for e in el), dtype=np.int64, count=len(el))
    b = np.fromiter((e[1] for e in el), dtype=np.int64, count=len(el))
    p = np.fromiter((e[2] for e in el), dtype=np.float64, count=len(el))
    st = None
    if start:
        st = np.array([start.get(x) for x in names], dtype=object)
    labels, blocked = cluster_indexed(
        len(names), a, b, p, threshold=threshold,
        refs={idx[x]: r for x, r in (refs or {}).items() if x in idx and r},
        must_link=[(idx[x], idx[y]) for x, y in must_link if x in idx and y in idx],
        cannot_link=[(idx[x], idx[y]) for x, y in cannot_link if x in idx and y in idx],
        start=st,
        dobs=None if dobs is None else {idx[x]: d for x, d in dobs.items() if x in idx and d is not None},
    )
    rep = {x: names[labels[i]] for i, x in enumerate(names)}
    return rep, [(names[x], names[y], w) for x, y, w in blocked]
