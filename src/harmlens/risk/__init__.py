"""Forecast models, validation, registry, model cards and explanations.

Public API:

* estimators (scikit-learn conventions): :class:`RiskFactorLogit` (penalised logistic regression
  with a statsmodels inference table), :class:`CalibratedBoosting` (HistGradientBoosting or
  LightGBM plus calibration), :class:`TimeToOffenceCox` (lifelines Cox, probability within a horizon);
* metrics: :func:`evaluate_scores`, :func:`compare_with_baselines`, :func:`calibration_table`,
  :func:`expected_calibration_error`, :func:`error_rates_by_group`;
* :func:`explain` (per-person factors in words); table mode :func:`fit_table`;
* pipeline on the warehouse: :func:`train`, :func:`evaluate`, :func:`score`, :func:`score_cohort`;
* registry: :func:`list_models`, :func:`get_model`, :func:`load_bundle`, :func:`promote`.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

# Lazy exports (PEP 562): `harmlens --help` imports harmlens.risk.cli, which must not pay for
# importing scikit-learn, LightGBM and lifelines.
_FROM = {
    "CalibratedBoosting": "estimators", "RiskFactorLogit": "estimators", "TimeToOffenceCox": "estimators",
    "RiskModelError": "estimators",
    "explain": "explain",
    "MetricsError": "metrics", "calibration_table": "metrics", "compare_with_baselines": "metrics",
    "error_rates_by_group": "metrics", "evaluate_scores": "metrics", "expected_calibration_error": "metrics",
    "PipelineError": "pipeline", "TrainSettings": "pipeline", "evaluate": "pipeline", "score": "pipeline",
    "score_cohort": "pipeline", "train": "pipeline",
    "RegistryError": "registry", "RiskBundle": "registry", "get_model": "registry", "list_models": "registry",
    "load_bundle": "registry", "promote": "registry",
    "TableError": "table", "fit_table": "table",
}
__all__ = sorted(_FROM)

__getattr__ = lazy_exports(__name__, _FROM)
