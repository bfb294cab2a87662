"""Average-linkage clustering: one wrong pair does not glue two people together."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.link.average import average_linkage
from harmlens.link.cluster import cluster


def _groups(rep: dict[str, str]) -> set[frozenset[str]]:
    out: dict[str, set[str]] = {}
    for m, r in rep.items():
        out.setdefault(r, set()).add(m)
    return {frozenset(g) for g in out.values()}


def test_one_wrong_pair_does_not_bridge_two_people():
    a = [f"a{i}" for i in range(5)]
    b = [f"b{i}" for i in range(5)]
    edges = [(x, y, 0.99) for g in (a, b) for i, x in enumerate(g) for y in g[i + 1:]]
    edges.append(("a0", "b0", 0.97))  # a misspelt record scored as a match with one of the other's
    single, _ = cluster(a + b, edges, threshold=0.95)
    assert len(_groups(single)) == 1  # single linkage chains them
    avg = average_linkage(a + b, edges, min_mean=0.2, threshold=0.95)
    assert _groups(avg) == {frozenset(a), frozenset(b)}


def test_a_record_matching_most_of_a_person_joins_it():
    a = [f"a{i}" for i in range(6)]
    edges = [(x, y, 0.99) for i, x in enumerate(a) for y in a[i + 1:]]
    edges += [("s", "a0", 0.96), ("s", "a1", 0.7), ("s", "a2", 0.6)]  # mean over 6 pairs 0.38
    rep = average_linkage(a + ["s"], edges, min_mean=0.2, threshold=0.95)
    assert _groups(rep) == {frozenset(a + ["s"])}
    # without a pair at the threshold nothing joins, whatever the mean
    rep = average_linkage(["x", "y"], [("x", "y", 0.9)], min_mean=0.2, threshold=0.95)
    assert _groups(rep) == {frozenset(["x"]), frozenset(["y"])}


def test_a_lone_record_with_one_strong_pair_attaches_but_does_not_bridge():
    a = [f"a{i}" for i in range(5)]
    b = [f"b{i}" for i in range(5)]
    edges = [(x, y, 0.99) for g in (a, b) for i, x in enumerate(g) for y in g[i + 1:]]
    edges += [("s", "a0", 0.97), ("s", "b0", 0.96), ("a1", "b1", 0.97)]  # mean 0.19 to each group
    rep = average_linkage(a + b + ["s"], edges, min_mean=0.2, threshold=0.5)
    assert _groups(rep) == {frozenset(a), frozenset(b), frozenset(["s"])}
    rep = average_linkage(a + b + ["s"], edges, min_mean=0.2, threshold=0.5, attach=0.95)
    assert _groups(rep) == {frozenset(a + ["s"]), frozenset(b)}  # its strongest pair; the groups stay apart
    rep = average_linkage(a + b + ["s"], edges, min_mean=0.2, threshold=0.5, attach=0.98)
    assert frozenset(["s"]) in _groups(rep)


def test_bad_min_mean():
    with pytest.raises(ValueError):
        average_linkage(["a"], [], min_mean=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.floats(0.5, 1.0)), max_size=40),
       st.floats(0.05, 1.0))
def test_average_linkage_refines_single_linkage(raw, min_mean):
    # every group is inside one single-linkage component at the same threshold, and every group's
    # internal pairs could have been joined (a group of two has its pair at the threshold)
    ids = [f"r{i:02d}" for i in range(12)]
    edges = [(f"r{a:02d}", f"r{b:02d}", p) for a, b, p in raw if a != b]
    rep = average_linkage(ids, edges, min_mean=min_mean, threshold=0.9, attach=0.95)
    single, _ = cluster(ids, edges, threshold=0.9)
    assert set(rep) == set(ids)
    for g in _groups(rep):
        assert len({single[m] for m in g}) == 1
        assert min(g) == rep[next(iter(g))]
    best = {}
    for a, b, p in edges:
        k = frozenset((a, b))
        best[k] = max(best.get(k, 0.0), p)
    for g in _groups(rep):
        if len(g) == 2:
            assert best.get(g, 0.0) >= 0.9 and sum(p for a, b, p in edges if frozenset((a, b)) == g) >= min_mean


def test_cannot_link_keeps_two_groups_apart_whatever_their_mean():
    from harmlens.link.average import average_linkage

    # f1-f2 and s1-s2 are two people; x matches both sides strongly; f1 and s1 must stay apart
    edges = [("f1", "f2", 0.99), ("s1", "s2", 0.99), ("f1", "x", 0.97), ("s1", "x", 0.96), ("f2", "s2", 0.9), ("f2", "s1", 0.9)]
    free = average_linkage(["f1", "f2", "s1", "s2", "x"], edges, min_mean=0.2, threshold=0.5)
    assert len(set(free.values())) == 1  # without the constraint everything chains
    kept = average_linkage(["f1", "f2", "s1", "s2", "x"], edges, min_mean=0.2, threshold=0.5, cannot_link=[("f1", "s1")])
    assert kept["f1"] == kept["f2"] and kept["s1"] == kept["s2"] and kept["f1"] != kept["s1"]
