"""Forecast models, validation, registry, model cards and explanations (issue 5, risk part).

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

from harmlens.risk.estimators import CalibratedBoosting, RiskFactorLogit, RiskModelError, TimeToOffenceCox
from harmlens.risk.explain import explain
from harmlens.risk.metrics import (
    MetricsError,
    calibration_table,
    compare_with_baselines,
    error_rates_by_group,
    evaluate_scores,
    expected_calibration_error,
)
from harmlens.risk.pipeline import PipelineError, TrainSettings, evaluate, score, score_cohort, train
from harmlens.risk.registry import RegistryError, RiskBundle, get_model, list_models, load_bundle, promote
from harmlens.risk.table import TableError, fit_table

__all__ = [
    "CalibratedBoosting", "RiskFactorLogit", "TimeToOffenceCox", "RiskModelError",
    "evaluate_scores", "compare_with_baselines", "calibration_table", "expected_calibration_error", "error_rates_by_group", "MetricsError",
    "explain", "fit_table", "TableError",
    "train", "evaluate", "score", "score_cohort", "TrainSettings", "PipelineError",
    "RiskBundle", "get_model", "list_models", "load_bundle", "promote", "RegistryError",
]
