"""A graph of persons linked through events, as counter-terrorism network analysis does it.

Nodes are linked persons (``links.person_id``). Edges, each with the kinds and the events behind
it (only events before the as-of date):

- ``co_suspect``: two people named as suspect/offender on the same offence;
- ``suspect_victim``: a suspect/offender and a victim of the same offence;
- ``shared_victim``: two suspects of (different) offences against the same victim;
- ``shared_address``: two people recorded at the same postcode (placeholders such as ``NFA`` and
  postcodes shared by more than ``max_address_people`` people, e.g. custody suites, are ignored).

Names and dates of birth are never read: nodes carry only ids and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations
from typing import Iterable

import networkx as nx
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.errors import HarmlensError

EDGE_KINDS = ("co_suspect", "suspect_victim", "shared_victim", "shared_address")
PLACEHOLDER_POSTCODES = frozenset({"NFA", "UNKNOWN", "N/A", "NONE", "ZZ99 3VZ", "ZZ99 3WZ"})


class NetworkError(HarmlensError):
    """A person is unknown, or the warehouse is not linked yet."""


@dataclass(frozen=True)
class NetworkConfig:
    serial_victims: int = 2  # MATAC: two or more victims ...
    serial_days: int = 1095  # ... within three years
    max_address_people: int = 12  # a postcode shared by more people is a hostel, station or custody suite
    include_addresses: bool = True


def _ts(as_of: str | date | datetime | None) -> datetime | None:
    if as_of is None:
        return None
    from harmlens.harm.baselines import as_of_timestamp

    return as_of_timestamp(as_of)


def _require_links(con: Engine | DuckDBPyConnection) -> None:
    if not as_engine(con).has_table("links"):
        raise NetworkError("the warehouse has no links table: run 'harmlens link' first")


def _roles(con: Engine | DuckDBPyConnection, t: datetime | None) -> pd.DataFrame:
    cond = "AND e.occurred_at < $t" if t is not None else ""
    return con.execute(
        f"""
        SELECT DISTINCT l.person_id, p.event_id, p.role, e.occurred_at, e.event_type,
               CASE WHEN p.role IN ('suspect', 'offender') THEN 'suspect' ELSE p.role END AS side
        FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
        WHERE e.event_type = 'offence' AND p.role IN ('suspect', 'offender', 'victim') {cond}
        """,
        {"t": t} if t is not None else {},
    ).df()


def _addresses(con: Engine | DuckDBPyConnection, t: datetime | None, cfg: NetworkConfig) -> pd.DataFrame:
    cond = "AND e.occurred_at < $t" if t is not None else ""
    df = con.execute(
        f"""
        SELECT DISTINCT l.person_id, upper(trim(p.postcode)) AS postcode
        FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
        WHERE p.postcode IS NOT NULL AND trim(p.postcode) <> '' AND e.event_type NOT IN ('custody', 'arrest') {cond}
        """,
        {"t": t} if t is not None else {},
    ).df()
    df = df[~df["postcode"].isin(PLACEHOLDER_POSTCODES)]
    sizes = df.groupby("postcode")["person_id"].transform("nunique")
    return df[(sizes >= 2) & (sizes <= cfg.max_address_people)]


def _add(g: nx.Graph, a: str, b: str, kind: str, ref: str, when: object = None) -> None:
    if a == b:
        return
    if g.has_edge(a, b):
        d = g[a][b]
    else:
        g.add_edge(a, b, kinds=set(), refs=set(), first=None, last=None)
        d = g[a][b]
    d["kinds"].add(kind)
    d["refs"].add(ref)
    if when is not None and not pd.isna(when):
        w = pd.Timestamp(when)
        d["first"] = w if d["first"] is None or w < d["first"] else d["first"]
        d["last"] = w if d["last"] is None or w > d["last"] else d["last"]


def build_graph(
    con: Engine | DuckDBPyConnection,
    as_of: str | date | datetime | None = None,
    *,
    config: NetworkConfig | None = None,
) -> nx.Graph:
    """The person graph as of a date (events strictly before it; ``None`` = everything).

    Node attributes: ``offences_as_suspect``, ``offences_as_victim``, ``harm_sum`` (from
    ``event_harm`` when applied, else absent), ``serial`` (2+ victims within 3 years before the
    date), ``victim_of`` (distinct suspects). Edge attributes: ``kinds`` (set of kinds),
    ``refs`` (event ids or postcodes), ``weight`` (number of refs), ``first``/``last`` dates.
    """
    cfg = config or NetworkConfig()
    _require_links(con)
    t = _ts(as_of)
    roles = _roles(con, t)
    g = nx.Graph()
    for pid, grp in roles.groupby("person_id"):
        g.add_node(
            pid,
            offences_as_suspect=int((grp["side"] == "suspect").sum()),
            offences_as_victim=int((grp["side"] == "victim").sum()),
        )
    sus = roles[roles["side"] == "suspect"]
    vic = roles[roles["side"] == "victim"]
    for ev_id, grp in sus.groupby("event_id"):
        ids = sorted(set(grp["person_id"]))
        when = grp["occurred_at"].iloc[0]
        for a, b in combinations(ids, 2):
            _add(g, a, b, "co_suspect", ev_id, when)
    pairs = sus[["event_id", "person_id", "occurred_at"]].merge(
        vic[["event_id", "person_id"]], on="event_id", suffixes=("_s", "_v")
    )
    for r in pairs.itertuples(index=False):
        _add(g, r.person_id_s, r.person_id_v, "suspect_victim", r.event_id, r.occurred_at)
    for v_id, grp in pairs.groupby("person_id_v"):
        events_of = {s: set(e["event_id"]) for s, e in grp.groupby("person_id_s") if s != v_id}
        for a, b in combinations(sorted(events_of), 2):
            # suspects of different offences against the same victim (co-suspects of one offence are co_suspect)
            if len(events_of[a] | events_of[b]) > 1:
                _add(g, a, b, "shared_victim", f"victim:{v_id}", grp["occurred_at"].max())
    if cfg.include_addresses:
        addr = _addresses(con, t, cfg)
        for pc, grp in addr.groupby("postcode"):
            for a, b in combinations(sorted(set(grp["person_id"])), 2):
                _add(g, a, b, "shared_address", f"postcode:{pc}")
    for _a, _b, d in g.edges(data=True):
        d["weight"] = len(d["refs"])
    _mark_serial(g, pairs, t, cfg)
    if t is not None:
        _add_harm(con, g, roles)
    g.graph["as_of"] = t.isoformat() if t is not None else None
    return g


def _mark_serial(g: nx.Graph, pairs: pd.DataFrame, t: datetime | None, cfg: NetworkConfig) -> None:
    nx.set_node_attributes(g, False, "serial")
    nx.set_node_attributes(g, 0, "victim_of")
    if pairs.empty:
        return
    p = pairs[pairs["person_id_s"] != pairs["person_id_v"]]
    if t is not None:
        p = p[p["occurred_at"] >= pd.Timestamp(t) - pd.Timedelta(days=cfg.serial_days)]
    nv = p.groupby("person_id_s")["person_id_v"].nunique()
    for pid, n in nv.items():
        g.nodes[pid]["victims"] = int(n)
        g.nodes[pid]["serial"] = bool(n >= cfg.serial_victims)
    ns = p.groupby("person_id_v")["person_id_s"].nunique()
    for pid, n in ns.items():
        g.nodes[pid]["victim_of"] = int(n)


def _add_harm(con: Engine | DuckDBPyConnection, g: nx.Graph, roles: pd.DataFrame) -> None:
    eng = as_engine(con)
    if not as_engine(con).has_table("event_harm"):
        return
    sus = roles[roles["side"] == "suspect"][["person_id", "event_id"]].drop_duplicates()
    if sus.empty:
        return
    eng.register_frame("_net_sus", sus)
    try:
        h = eng.frame(
            "SELECT s.person_id, sum(h.harm_weight) AS harm FROM _net_sus s JOIN event_harm h USING (event_id) GROUP BY 1"
        )
    finally:
        eng.unregister("_net_sus")
    for r in h.itertuples(index=False):
        if r.person_id in g and not pd.isna(r.harm):
            g.nodes[r.person_id]["harm_sum"] = float(r.harm)


def ego_graph(g: nx.Graph, person_id: str, depth: int = 2) -> nx.Graph:
    """The person and everyone within ``depth`` steps."""
    if person_id not in g:
        raise NetworkError(f"person {person_id!r} has no offence links in the graph (unknown id, or no offences before the date)")
    if depth < 1:
        raise NetworkError("--depth must be at least 1")
    return nx.ego_graph(g, person_id, radius=depth)


def serial_perpetrators(g: nx.Graph) -> pd.DataFrame:
    """Suspects with 2+ distinct victims within the serial window, most victims first."""
    rows = [
        (n, d.get("victims", 0), d.get("offences_as_suspect", 0), d.get("harm_sum"))
        for n, d in g.nodes(data=True)
        if d.get("serial")
    ]
    df = pd.DataFrame(rows, columns=["person_id", "victims", "offences_as_suspect", "harm_sum"])
    return df.sort_values(["victims", "offences_as_suspect", "person_id"], ascending=[False, False, True]).reset_index(drop=True)


def multi_perpetrator_victims(g: nx.Graph, minimum: int = 2) -> pd.DataFrame:
    """Victims harmed by ``minimum`` or more distinct suspects within the window."""
    rows = [(n, d.get("victim_of", 0), d.get("offences_as_victim", 0)) for n, d in g.nodes(data=True) if d.get("victim_of", 0) >= minimum]
    df = pd.DataFrame(rows, columns=["person_id", "suspects", "offences_as_victim"])
    return df.sort_values(["suspects", "offences_as_victim", "person_id"], ascending=[False, False, True]).reset_index(drop=True)


def groups(g: nx.Graph, min_size: int = 3) -> pd.DataFrame:
    """Connected groups of ``min_size`` or more people, largest first, with their serial members."""
    rows = []
    for comp in nx.connected_components(g):
        if len(comp) < min_size:
            continue
        members = sorted(comp)
        sub = g.subgraph(members)
        rows.append((
            members[0], len(members), sub.number_of_edges(),
            sum(1 for m in members if g.nodes[m].get("serial")), ";".join(members),
        ))
    df = pd.DataFrame(rows, columns=["group_id", "people", "links", "serial_members", "members"])
    return df.sort_values(["people", "group_id"], ascending=[False, True]).reset_index(drop=True)


def centrality(g: nx.Graph, *, top: int | None = None, betweenness_k: int | None = 500, seed: int = 0) -> pd.DataFrame:
    """Degree and betweenness centrality (betweenness sampled from ``k`` nodes on large graphs)."""
    if g.number_of_nodes() == 0:
        return pd.DataFrame(columns=["person_id", "degree", "degree_centrality", "betweenness"])
    deg = nx.degree_centrality(g)
    k = None if betweenness_k is None or betweenness_k >= g.number_of_nodes() else betweenness_k
    btw = nx.betweenness_centrality(g, k=k, seed=seed, normalized=True)
    df = pd.DataFrame(
        {"person_id": list(deg), "degree": [g.degree(n) for n in deg], "degree_centrality": list(deg.values()),
         "betweenness": [btw[n] for n in deg]}
    ).sort_values(["betweenness", "degree", "person_id"], ascending=[False, False, True]).reset_index(drop=True)
    return df.head(top) if top else df


def describe(g: nx.Graph, focus: str | None = None) -> str:
    """A plain-text view: one line per person and per link."""
    lines = []
    nodes = sorted(g.nodes, key=lambda n: (n != focus, n))
    for n in nodes:
        d = g.nodes[n]
        tags = []
        if d.get("serial"):
            tags.append(f"serial ({d.get('victims', 0)} victims)")
        if d.get("victim_of", 0) >= 2:
            tags.append(f"victim of {d['victim_of']} suspects")
        harm = f" harm {d['harm_sum']:,.2f}".rstrip("0").rstrip(".") if d.get("harm_sum") is not None else ""
        lines.append(
            f"{'*' if n == focus else ' '} {n}: suspect in {d.get('offences_as_suspect', 0)}, victim in {d.get('offences_as_victim', 0)}"
            f"{harm}{'; ' + ', '.join(tags) if tags else ''}"
        )
    lines.append("links:")
    for a, b, d in sorted(g.edges(data=True), key=lambda e: tuple(sorted((e[0], e[1])))):
        a, b = sorted((a, b))
        last = f", last {d['last'].date().isoformat()}" if d.get("last") is not None else ""
        lines.append(f"  {a} -- {b}: {', '.join(sorted(d['kinds']))} ({d['weight']}{last})")
    return "\n".join(lines)


def subgraph_of(g: nx.Graph, nodes: Iterable[str]) -> nx.Graph:
    return g.subgraph(list(nodes)).copy()
