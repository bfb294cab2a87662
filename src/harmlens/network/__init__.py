"""Network: persons linked through events (co-suspects, suspect-victim, shared victims, shared
addresses); serial perpetrators, victims with several perpetrators, groups, centrality; exports
for i2 Analyst's Notebook (CSV) and GraphML (Gephi, Neo4j).

Public API: :func:`build_graph`, :func:`ego_graph`, :func:`serial_perpetrators`,
:func:`multi_perpetrator_victims`, :func:`groups`, :func:`centrality`, :func:`write_i2`,
:func:`write_graphml`, :class:`NetworkConfig`.
"""

from harmlens.lazy import lazy_exports

_EXPORTS = {
    "NetworkConfig": "graph", "NetworkError": "graph", "build_graph": "graph", "ego_graph": "graph",
    "serial_perpetrators": "graph", "multi_perpetrator_victims": "graph", "groups": "graph",
    "centrality": "graph", "describe": "graph", "write_i2": "export", "write_graphml": "export",
    "graphml_ready": "export",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
