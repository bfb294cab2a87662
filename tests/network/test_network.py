"""The person network on a small world drawn by hand:

    S1 -(ABH, with S2)-> V1        S1 -(stalking)-> V2 <-(stalking)- S3
    S1 and S4 recorded at the same postcode (an intelligence record)
    S5 -> V5, S5 -> V6 in 2020 (two victims, but more than three years before 2025-01-01)
    X1..X13 all at one postcode (a custody suite / hostel: ignored)
"""

from __future__ import annotations

import networkx as nx
import pytest
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.network import (
    NetworkError,
    build_graph,
    centrality,
    ego_graph,
    groups,
    multi_perpetrator_victims,
    serial_perpetrators,
    write_graphml,
    write_i2,
)
from harmlens.warehouse import connect
from tests.harm.world import World

AS_OF = "2025-01-01"


def _world(con):
    w = World(con)
    w.offence("a", "2024-01-01", "008/06", "S1", "V1", domestic=True)
    w.person("a", "suspect", "S2")
    w.offence("b", "2024-03-01", "008/71", "S1", "V2")
    w.offence("c", "2024-04-01", "008/71", "S3", "V2")
    w.event("i", "intelligence", "2024-01-01")
    w.person("i", "subject", "S1", postcode="AB1 2CD")
    w.person("i", "subject", "S4", postcode="ab1 2cd ")
    w.offence("o1", "2020-01-01", "008/71", "S5", "V5")
    w.offence("o2", "2020-02-01", "008/71", "S5", "V6")
    w.event("h", "intelligence", "2024-01-01")
    for i in range(13):
        w.person("h", "subject", f"X{i}", postcode="ZZ1 1ZZ")
    w.offence("late", "2025-02-01", "008/71", "S1", "V9")  # after the date: not in the graph
    return w


def test_edges_and_kinds(warehouse):
    _world(warehouse)
    g = build_graph(warehouse, AS_OF)
    kinds = {tuple(sorted((a, b))): d["kinds"] for a, b, d in g.edges(data=True)}
    assert kinds[("S1", "S2")] == {"co_suspect"}
    assert kinds[("S1", "S3")] == {"shared_victim"}
    assert kinds[("S1", "S4")] == {"shared_address"}
    assert kinds[("S1", "V1")] == kinds[("S2", "V1")] == {"suspect_victim"}
    assert "V9" not in g and not any(n.startswith("X") for n in g)  # future event; oversized postcode
    assert g["S1"]["V2"]["refs"] == {"b"}


def test_serial_victims_and_groups(warehouse):
    _world(warehouse)
    g = build_graph(warehouse, AS_OF)
    sp = serial_perpetrators(g)
    assert sp["person_id"].tolist() == ["S1"] and sp["victims"].tolist() == [2]  # S5's victims are > 3 years old
    mv = multi_perpetrator_victims(g)
    assert set(mv["person_id"]) == {"V1", "V2"}
    gr = groups(g)
    assert gr.loc[0, "members"] == "S1;S2;S3;S4;V1;V2" and gr.loc[0, "serial_members"] == 1
    # S5 with V5 and V6 is a group of exactly 3 people (the default minimum), not serial now
    assert gr["members"].tolist()[1] == "S5;V5;V6" and gr["serial_members"].tolist()[1] == 0
    assert len(groups(g, min_size=4)) == 1


def test_centrality_and_ego(warehouse):
    _world(warehouse)
    g = build_graph(warehouse, AS_OF)
    c = centrality(g)
    assert c.loc[0, "person_id"] == "S1"
    e1 = ego_graph(g, "S4", 1)
    assert set(e1.nodes) == {"S4", "S1"}
    assert set(ego_graph(g, "S4", 2).nodes) == {"S4", "S1", "S2", "S3", "V1", "V2"}
    with pytest.raises(NetworkError):
        ego_graph(g, "NOBODY", 2)


def test_exports_round_trip(warehouse, tmp_path):
    _world(warehouse)
    g = build_graph(warehouse, AS_OF)
    p = write_graphml(g, tmp_path / "g.graphml")
    h = nx.read_graphml(p)
    assert set(h.nodes) == set(g.nodes) and h.number_of_edges() == g.number_of_edges()
    assert h.nodes["S1"]["serial"] is True
    paths = write_i2(g, tmp_path, "net")
    ents = paths["entities"].read_text().splitlines()
    links = paths["links"].read_text().splitlines()
    assert ents[0].startswith("Entity ID,Entity Type,Label") and len(ents) == g.number_of_nodes() + 1
    assert len(links) == g.number_of_edges() + 1
    assert "S1,S4,shared_address" in "\n".join(links)


def test_cli(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = connect(db)
    _world(con)
    con.close()
    r = CliRunner().invoke(app, ["network", "S1", "--depth", "1", "--as-of", AS_OF, "--db", str(db), "--graphml", str(tmp_path / "s1.graphml")])
    assert r.exit_code == 0, r.output
    assert "S1 -- S4: shared_address" in r.stdout and (tmp_path / "s1.graphml").exists()
    r = CliRunner().invoke(app, ["network-summary", "--as-of", AS_OF, "--db", str(db), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"serial_perpetrators"' in r.stdout
