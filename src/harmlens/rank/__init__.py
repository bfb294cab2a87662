"""Protect: priority offenders at large ranked by expected harm, and victims most at risk (issue 6).

Importing this package registers the ``risk`` ranking method with :mod:`harmlens.harm.ranking`
and makes it the default of ``harmlens rank``; the v100/rfg/rfh baselines stay available.

Public API:

* :func:`risk_scores` — the registered scorer; :func:`build_offender_list` — score, rank the
  people at large, compare with the previous list and store it; :func:`score_people`.
* :func:`build_victim_list` — women and children most at risk; :func:`validate_victims` — its
  temporal holdout (precision at k); :func:`victim_features`, :func:`victim_labels`.
* :func:`stored_lists`, :func:`list_entries`, :func:`list_changes` — stored lists and churn.
"""

from __future__ import annotations

from harmlens.harm.ranking import register_method
from harmlens.rank.lists import RankError, list_changes, list_entries, stored_lists
from harmlens.rank.offenders import RiskRankSettings, build_offender_list, risk_scores, score_people
from harmlens.rank.victims import (
    VictimSettings,
    build_victim_list,
    validate_victims,
    victim_features,
    victim_labels,
)

register_method(
    "risk",
    risk_scores,
    description="Forecast model: expected harm = P(offending in the horizon) x expected harm of that offending",
    options=("version",),
    default=True,
)

__all__ = [
    "RankError", "RiskRankSettings", "VictimSettings",
    "build_offender_list", "build_victim_list", "list_changes", "list_entries", "risk_scores", "score_people",
    "stored_lists", "validate_victims", "victim_features", "victim_labels",
]
