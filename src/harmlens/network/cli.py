"""Commands: ``harmlens network PERSON_ID`` and ``harmlens network-summary``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harmlens.options import DbOption


def _load_graph(db: Optional[Path], as_of: Optional[str], fmt: str, include_addresses: bool = True):
    """Check --format, then build the person graph from the warehouse (closed again at once)."""
    from harmlens.errors import HarmlensError
    from harmlens.network.graph import NetworkConfig, build_graph
    from harmlens.warehouse import connect

    if fmt not in ("text", "json"):
        raise HarmlensError(f"--format {fmt!r} is not one of text, json")
    con = connect(db, create=False)
    try:
        return build_graph(con, as_of, config=NetworkConfig(include_addresses=include_addresses))
    finally:
        con.close()


def _write_exports(g, i2: Optional[Path], graphml: Optional[Path], **i2_options) -> None:
    from harmlens.network.export import write_graphml, write_i2

    if i2 is not None:
        paths = write_i2(g, i2, **i2_options)
        typer.echo(f"wrote {paths['entities']} and {paths['links']}", err=True)
    if graphml is not None:
        typer.echo(f"wrote {write_graphml(g, graphml)}", err=True)


def network_cmd(
    person_id: str = typer.Argument(..., help="Person id (from 'harmlens link')."),
    depth: int = typer.Option(2, "--depth", help="Steps out from the person."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Only events before this date (YYYY-MM-DD); default all."),
    fmt: str = typer.Option("text", "--format", help="text | json"),
    i2: Optional[Path] = typer.Option(None, "--i2", help="Also write i2 Analyst's Notebook import CSVs into this folder."),
    graphml: Optional[Path] = typer.Option(None, "--graphml", help="Also write GraphML (Gephi, Neo4j) to this file."),
    no_addresses: bool = typer.Option(False, "--no-addresses", help="Leave out shared-address links."),
    db: Optional[Path] = DbOption,
) -> None:
    """A person's network: who they are linked to, how, and on what events (ids only, no names)."""
    from harmlens.network.export import graphml_ready
    from harmlens.network.graph import describe, ego_graph

    g = _load_graph(db, as_of, fmt, include_addresses=not no_addresses)
    sub = ego_graph(g, person_id, depth)
    if fmt == "json":
        import networkx as nx

        typer.echo(json.dumps(nx.node_link_data(graphml_ready(sub), edges="links"), indent=2, default=str))
    else:
        typer.echo(f"network of {person_id}, depth {depth}, as of {as_of or 'all events'}: "
                   f"{sub.number_of_nodes()} people, {sub.number_of_edges()} links")
        typer.echo(describe(sub, focus=person_id))
    _write_exports(sub, i2, graphml, stem=f"network_{person_id}")


def summary_cmd(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Only events before this date; default all."),
    top: int = typer.Option(20, "--top", help="Rows per section."),
    fmt: str = typer.Option("text", "--format", help="text | json"),
    i2: Optional[Path] = typer.Option(None, "--i2", help="Write the whole graph as i2 import CSVs into this folder."),
    graphml: Optional[Path] = typer.Option(None, "--graphml", help="Write the whole graph as GraphML."),
    db: Optional[Path] = DbOption,
) -> None:
    """Serial perpetrators (2+ victims in 3 years), victims with several perpetrators, groups, centrality."""
    from harmlens.network.graph import centrality, groups, multi_perpetrator_victims, serial_perpetrators

    g = _load_graph(db, as_of, fmt)
    sections = {
        "serial_perpetrators": serial_perpetrators(g),
        "multi_perpetrator_victims": multi_perpetrator_victims(g),
        "groups": groups(g).drop(columns=["members"]),
        "centrality": centrality(g, top=top),
    }
    if fmt == "json":
        typer.echo(json.dumps({k: json.loads(v.head(top).to_json(orient="records")) for k, v in sections.items()}
                              | {"as_of": as_of, "people": g.number_of_nodes(), "links": g.number_of_edges()}, indent=2))
    else:
        typer.echo(f"person network as of {as_of or 'all events'}: {g.number_of_nodes()} people, {g.number_of_edges()} links")
        for k, v in sections.items():
            typer.echo(f"\n{k.replace('_', ' ')} ({len(v)}):")
            typer.echo(v.head(top).to_string(index=False) if len(v) else "(none)")
    _write_exports(g, i2, graphml)


def register(app: typer.Typer) -> None:
    app.command("network")(network_cmd)
    app.command("network-summary")(summary_cmd)
