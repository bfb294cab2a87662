"""Accountability: fairness by group, proxies, label bias, outcome monitoring, transparency record.

Public API (other areas may import these):

- ``GroupFrame``: group metrics with bootstrap CIs and small-group warnings (fairlearn
  ``MetricFrame`` style); also ``GroupFrame.from_rates`` and ``GroupFrame.from_shares``.
- ``BUILTIN_METRICS``, ``Metric``: the metrics ``GroupFrame`` computes quickly.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

# Lazy exports (PEP 562) so importing harmlens.audit.cli for `harmlens --help` does not load pandas.
_EXPORTS = {name: "groupmetrics.groupframe" for name in ("BUILTIN_METRICS", "GroupFrame", "GroupFrameError", "Metric")}

__all__ = ["GroupFrame", "GroupFrameError", "Metric", "BUILTIN_METRICS"]

__getattr__ = lazy_exports("harmlens", _EXPORTS)
