"""Harm: offence map, harm weights (CCHI and others), and the baseline rankings (V100, RFG, RFH).

Public API (other areas use only these):

- :func:`apply_offence_map` writes ``event_harm``; :func:`offence_harm_frame` computes it without writing;
  :func:`unmapped_offences` lists what the map does not cover.
- :func:`load_weight_table` (``cchi``, ``severity`` or a CSV) and :func:`canonical_code`.
- :func:`v100_scores`, :func:`rfg_scores`, :func:`rfh_scores` return one row per person as of a date;
  :class:`RFGConfig` holds the matrix bands.
- :func:`at_large` says who is in custody or dead on a date.
- :func:`rank` builds a priority list from any registered method; :func:`register_method` adds one.
"""

from harmlens.lazy import lazy_exports

# Lazy exports (PEP 562) so importing harmlens.harm.cli for `harmlens --help` does not load pandas.
_EXPORTS = {
    "RFGConfig": "baselines", "as_of_timestamp": "baselines", "rfg_scores": "baselines", "rfh_scores": "baselines",
    "v100_scores": "baselines", "at_large": "custody", "HarmError": "errors",
    "ApplyResult": "offence_map", "apply_offence_map": "offence_map", "builtin_categories": "offence_map",
    "builtin_map_frame": "offence_map", "offence_harm_frame": "offence_map", "unmapped_offences": "offence_map",
    "RankResult": "ranking", "default_method": "ranking", "get_method": "ranking", "methods": "ranking",
    "rank": "ranking", "register_method": "ranking",
    "BUILTIN_TABLES": "weights", "WeightTable": "weights", "canonical_code": "weights", "load_weight_table": "weights",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
