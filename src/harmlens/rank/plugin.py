"""Registers the ``risk`` ranking method with :mod:`harmlens.harm.ranking` (made the default of
``harmlens rank``). ``harmlens.harm.ranking`` imports this module when a method is looked up, so
the registration happens on first use, not when ``harmlens --help`` imports the rank commands."""

from __future__ import annotations

from harmlens.harm.ranking import register_method
from harmlens.rank.offenders import risk_scores

register_method(
    "risk",
    risk_scores,
    description="Forecast model: expected harm = P(offending in the horizon) x expected harm of that offending",
    options=("version",),
    default=True,
)
