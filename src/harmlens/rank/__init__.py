"""Protect: priority offenders at large ranked by expected harm, and victims most at risk.

The ``risk`` ranking method is registered with :mod:`harmlens.harm.ranking` (and made the default
of ``harmlens rank``) by :mod:`harmlens.rank.plugin`, which the ranking imports on first lookup;
the v100/rfg/rfh baselines stay available.

Public API:

* :func:`risk_scores` — the registered scorer; :func:`build_offender_list` — score, rank the
  people at large, compare with the previous list and store it; :func:`score_people`.
* :func:`build_victim_list` — women and children most at risk; :func:`validate_victims` — its
  temporal holdout (precision at k); :func:`victim_features`, :func:`victim_labels`.
* :func:`stored_lists`, :func:`list_entries`, :func:`list_changes` — stored lists and churn.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

# Lazy exports (PEP 562) so importing harmlens.rank.cli for `harmlens --help` does not load pandas.
_EXPORTS = {
    "RankError": "lists", "list_changes": "lists", "list_entries": "lists", "stored_lists": "lists",
    "RiskRankSettings": "offenders", "build_offender_list": "offenders", "risk_scores": "offenders", "score_people": "offenders",
    "VictimSettings": "victims", "build_victim_list": "victims", "validate_victims": "victims",
    "victim_features": "victims", "victim_labels": "victims",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
