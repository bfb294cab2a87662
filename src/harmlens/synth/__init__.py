"""Synthetic city: a London-like population with VAWG offending, police records in the data
contract's format, s163 stops, census-like denominators, and the ground truth behind them.

Public API: :class:`SynthConfig`, :class:`NoiseConfig`, :func:`generate`, :data:`OFFENCE_CODES`.
Exports are lazy so `harmlens --help` does not import numpy and pandas.
"""

from __future__ import annotations

from harmlens.lazy import lazy_exports

_FROM = {
    "NoiseConfig": "config", "SynthConfig": "config", "SynthError": "config",
    "TABLES": "generate", "SynthSummary": "generate", "generate": "generate",
    "OFFENCE_CODES": "reference", "OFFENCES": "reference", "VAWG_CODES": "reference",
    "link_by_truth": "truthlinks",
}
__all__ = sorted(_FROM)

__getattr__ = lazy_exports(__name__, _FROM)
