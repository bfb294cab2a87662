"""Point-in-time person features, evidence summaries and labels (issue 5, features part).

Public API (the interface the risk and rank stages use):

* :func:`build_features` — one row per scored person as of a date, numeric columns only.
* :data:`FEATURES` — feature name -> plain-English description, in column order.
* :func:`evidence_summary` — allegations, charges, convictions, distinct victims, last event.
* :func:`build_labels` — what happened in the horizon after the date (label, days_to_event, harm_next).
* :func:`snapshot_dataset` — monthly snapshots stacked for training: ``(X, y, meta)``.

Everything is computed in DuckDB SQL from the warehouse tables ``events``, ``people``,
``links``, ``event_harm`` and (if present) ``risk_assessments``.
"""

from __future__ import annotations

from harmlens.features.catalogue import CATEGORIES, FEATURES, WINDOWS
from harmlens.features.core import (
    THRESHOLDS,
    FeatureSettings,
    FeaturesError,
    build_features,
    build_labels,
    data_end,
    evidence_summary,
    parse_as_of,
    scored_population,
    snapshot_dataset,
    snapshot_dates,
)

__all__ = [
    "CATEGORIES",
    "FEATURES",
    "THRESHOLDS",
    "WINDOWS",
    "FeatureSettings",
    "FeaturesError",
    "build_features",
    "build_labels",
    "data_end",
    "evidence_summary",
    "parse_as_of",
    "scored_population",
    "snapshot_dataset",
    "snapshot_dates",
]
