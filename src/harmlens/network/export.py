"""Exports for the tools analysts already use.

- **i2 Analyst's Notebook**: two CSV files for its import wizard, ``<stem>_entities.csv`` (one row
  per person: ``Entity ID, Entity Type, Label, ...attributes``) and ``<stem>_links.csv`` (one row
  per link: ``From Entity ID, To Entity ID, Link Type, Label, Strength (refs), First Date, Last Date, References``).
  Map the columns once in an i2 import specification (entity type "Person", link type from ``Link Type``).
- **GraphML** for Gephi, Neo4j (APOC ``apoc.import.graphml``), yEd and networkx.

Only person ids and counts are exported: never names or dates of birth.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd

from harmlens.csvsafe import write_csv

ENTITY_COLUMNS = ["Entity ID", "Entity Type", "Label", "Offences As Suspect", "Offences As Victim", "Victims", "Serial", "Victim Of", "Harm Sum"]
LINK_COLUMNS = ["From Entity ID", "To Entity ID", "Link Type", "Label", "Strength", "First Date", "Last Date", "References"]


def _date(v) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def write_i2(g: nx.Graph, out_dir: str | Path, stem: str = "network") -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ents, links = out / f"{stem}_entities.csv", out / f"{stem}_links.csv"
    ent_rows = []
    for n in sorted(g.nodes):
        d = g.nodes[n]
        harm = d.get("harm_sum")
        ent_rows.append([n, "Person", n, d.get("offences_as_suspect", 0), d.get("offences_as_victim", 0), d.get("victims", 0),
                         "yes" if d.get("serial") else "no", d.get("victim_of", 0), "" if harm is None else f"{harm:g}"])
    write_csv(ent_rows, ents, columns=ENTITY_COLUMNS)
    link_rows = []
    for a, b, d in sorted(g.edges(data=True), key=lambda e: tuple(sorted((e[0], e[1])))):
        a, b = sorted((a, b))
        kinds = sorted(d["kinds"])
        link_rows.append([a, b, kinds[0] if len(kinds) == 1 else "multiple", " + ".join(kinds), d["weight"],
                          _date(d.get("first")), _date(d.get("last")), ";".join(sorted(d["refs"]))])
    write_csv(link_rows, links, columns=LINK_COLUMNS)
    return {"entities": ents, "links": links}


def graphml_ready(g: nx.Graph) -> nx.Graph:
    """A copy with only GraphML-storable attribute values (str, int, float, bool)."""
    h = nx.Graph()
    for k, v in g.graph.items():
        if v is not None:
            h.graph[k] = str(v)
    for n, d in g.nodes(data=True):
        h.add_node(n, **{k: v for k, v in d.items() if v is not None and isinstance(v, (str, int, float, bool))}, label=n)
    for a, b, d in g.edges(data=True):
        attrs = {
            "kinds": ";".join(sorted(d["kinds"])), "refs": ";".join(sorted(d["refs"])), "weight": int(d["weight"]),
        }
        if d.get("first") is not None:
            attrs["first"] = _date(d["first"])
        if d.get("last") is not None:
            attrs["last"] = _date(d["last"])
        h.add_edge(a, b, **attrs)
    return h


def write_graphml(g: nx.Graph, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(graphml_ready(g), p)
    return p
