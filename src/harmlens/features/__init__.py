"""Point-in-time person features, evidence summaries and labels.

Public API (the interface the risk and rank stages use):

* :func:`build_features` — one row per scored person as of a date, numeric columns only.
* :func:`features_pipeline` and :func:`finish_features` — the same in two parts, for an engine
  that runs the SQL where the data is and the last row-wise step in batches (Spark).
* :data:`FEATURES` — feature name -> plain-English description, in column order.
* :func:`evidence_summary` — allegations, charges, convictions, distinct victims, last event.
* :func:`build_labels` — what happened in the horizon after the date (label, days_to_event, harm_next).
* :func:`snapshot_dataset` — monthly snapshots stacked for training: ``(X, y, meta)``.

Everything is computed in SQL (DuckDB's dialect, translated for other engines) from the warehouse tables ``events``, ``people``,
``links``, ``event_harm`` and (if present) ``risk_assessments``.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

# Lazy exports (PEP 562): `harmlens --help` imports every area's cli, and the names most of them need
# (FEATURES, CATEGORIES, WINDOWS) live in the pandas-free catalogue; core (pandas, DuckDB) loads on first use.
_EXPORTS = {
    "CATEGORIES": "catalogue", "FEATURES": "catalogue", "WINDOWS": "catalogue",
    "THRESHOLDS": "core", "FeatureSettings": "core", "FeaturesError": "core", "build_features": "core",
    "build_labels": "core", "data_end": "core", "features_pipeline": "core", "finish_features": "core", "evidence_summary": "core", "parse_as_of": "core",
    "scored_population": "core", "snapshot_dataset": "core", "snapshot_dates": "core",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
