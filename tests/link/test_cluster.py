"""Clustering: constraints hold, and without constraints it is connected components."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.link.cluster import cluster


def test_different_person_refs_never_joined_even_by_strong_pairs():
    rep, blocked = cluster(["a", "b", "c"], [("a", "b", 0.999), ("b", "c", 0.99)], threshold=0.9, refs={"a": "R1", "c": "R2"})
    assert rep["a"] == rep["b"] and rep["c"] != rep["a"]
    assert blocked == [("b", "c", "different person_ref")]


def test_same_person_ref_joined_without_any_pair():
    rep, _ = cluster(["a", "b", "c"], [], threshold=0.9, refs={"a": "R1", "c": "R1"})
    assert rep["a"] == rep["c"] != rep["b"]


def test_reviewer_decisions():
    edges = [("a", "b", 0.97), ("b", "c", 0.96), ("c", "d", 0.5)]
    rep, blocked = cluster("abcd", edges, threshold=0.9, cannot_link=[("a", "c")], must_link=[("c", "d")])
    assert rep["a"] == rep["b"] and rep["c"] == rep["d"] and rep["a"] != rep["c"]
    assert blocked and blocked[0][2].startswith("reviewer")


def test_start_grouping_is_kept_and_extended():
    rep, _ = cluster("abcde", [("d", "e", 0.99)], threshold=0.9, start={"a": "P1", "b": "P1", "c": "P2"})
    assert rep["a"] == rep["b"] != rep["c"] and rep["d"] == rep["e"]


def test_below_threshold_ignored():
    rep, _ = cluster("ab", [("a", "b", 0.89)], threshold=0.9)
    assert rep["a"] != rep["b"]


ids = st.lists(st.sampled_from([f"m{i}" for i in range(12)]), min_size=2, max_size=12, unique=True)


@settings(max_examples=60, deadline=None)
@given(ids.flatmap(lambda xs: st.tuples(st.just(xs), st.lists(st.tuples(st.sampled_from(xs), st.sampled_from(xs), st.floats(0, 1)), max_size=30))))
def test_unconstrained_equals_connected_components(data):
    xs, edges = data
    edges = [(a, b, p) for a, b, p in edges if a != b]
    rep, blocked = cluster(xs, edges, threshold=0.5)
    assert set(rep) == set(xs) and not blocked
    g = nx.Graph()
    g.add_nodes_from(xs)
    g.add_edges_from((a, b) for a, b, p in edges if p >= 0.5)
    want = {frozenset(c) for c in nx.connected_components(g)}
    got: dict[str, set] = {}
    for m, r in rep.items():
        got.setdefault(r, set()).add(m)
    assert {frozenset(v) for v in got.values()} == want
    # order of edges does not matter
    rep2, _ = cluster(list(reversed(xs)), list(reversed(edges)), threshold=0.5)
    assert rep2 == rep


@settings(max_examples=60, deadline=None)
@given(ids.flatmap(lambda xs: st.tuples(st.just(xs), st.lists(st.tuples(st.sampled_from(xs), st.sampled_from(xs), st.floats(0.5, 1)), max_size=30),
                                        st.dictionaries(st.sampled_from(xs), st.sampled_from(["R1", "R2", "R3"])))))
def test_no_cluster_holds_two_refs(data):
    xs, edges, refs = data
    rep, _ = cluster(xs, [(a, b, p) for a, b, p in edges if a != b], threshold=0.5, refs=refs)
    by: dict[str, set] = {}
    for m, r in rep.items():
        if m in refs:
            by.setdefault(r, set()).add(refs[m])
    assert all(len(v) == 1 for v in by.values())
    for a in refs:
        for b in refs:
            if refs[a] == refs[b]:
                assert rep[a] == rep[b]


def test_father_and_son_not_chained_through_an_undated_mention():
    # father (1970) and son (1995) of one name at one address; a mention without a date matches both
    dobs = {"f1": (1970, 3, 4), "f2": (1970, 4, 3), "s1": (1995, 6, 7)}
    edges = [("f1", "f2", 0.99), ("u", "f1", 0.98), ("u", "s1", 0.97)]
    rep, blocked = cluster(["f1", "f2", "s1", "u"], edges, threshold=0.9, dobs=dobs)
    assert rep["f1"] == rep["f2"] == rep["u"] != rep["s1"]  # day/month swap is compatible
    assert blocked == [("u", "s1", "dates of birth conflict")]
    # a reviewer can still join them
    rep, _ = cluster(["f1", "s1"], [], threshold=0.9, dobs=dobs, must_link=[("f1", "s1")])
    assert rep["f1"] == rep["s1"]


def test_dob_compatibility():
    from harmlens.link.cluster import dob_compatible

    assert dob_compatible((1980, 2, 3), (1980, 3, 2))
    assert dob_compatible((1980, 2, 3), (1981, 2, 3))
    assert dob_compatible((1980, 2, 3), (1980, 2, 13))
    assert not dob_compatible((1980, 2, 3), (1990, 5, 6))


@settings(max_examples=80, deadline=None)
@given(ids.flatmap(lambda xs: st.tuples(
    st.just(xs),
    st.lists(st.tuples(st.sampled_from(xs), st.sampled_from(xs), st.floats(0, 1)), max_size=30),
    st.dictionaries(st.sampled_from(xs), st.sampled_from(["R1", "R2"]), max_size=3),
    st.lists(st.tuples(st.sampled_from(xs), st.sampled_from(xs)), max_size=2),
    st.dictionaries(st.sampled_from(xs), st.sampled_from([(1980, 1, 2), (1980, 2, 1), (1995, 7, 8), (1981, 1, 2)]), max_size=6),
)))
def test_fast_path_equals_plain_greedy(data):
    from harmlens.link.cluster import _greedy

    xs, edges, refs, cannot, dobs = data
    edges = [(a, b, p) for a, b, p in edges if a != b]
    cannot = [(a, b) for a, b in cannot if a != b]
    got, _ = cluster(xs, edges, threshold=0.4, refs=refs, cannot_link=cannot, dobs=dobs)
    want, _ = _greedy(sorted(xs), edges, threshold=0.4, refs=refs, cannot_link=cannot, dobs=dobs)
    assert got == want


@settings(max_examples=80, deadline=None)
@given(ids.flatmap(lambda xs: st.tuples(
    st.just(xs),
    st.lists(st.tuples(st.sampled_from(xs), st.sampled_from(xs), st.floats(0, 1)), max_size=30),
    st.dictionaries(st.sampled_from(xs), st.sampled_from(["P1", "P2", "P3"]), max_size=8),
    st.dictionaries(st.sampled_from(xs), st.sampled_from([(1980, 1, 2), (1995, 7, 8)]), max_size=6),
)))
def test_fast_path_with_a_start_grouping_equals_plain_greedy(data):
    """The vectorised start grouping (incremental runs) gives what the plain greedy gives."""
    from harmlens.link.cluster import _greedy

    xs, edges, start, dobs = data
    edges = [(a, b, p) for a, b, p in edges if a != b]
    got, _ = cluster(xs, edges, threshold=0.4, start=start, dobs=dobs)
    want, _ = _greedy(sorted(xs), edges, threshold=0.4, start=start, dobs=dobs)
    assert got == want
    for a in start:
        for b in start:
            if start[a] == start[b]:
                assert got[a] == got[b]
