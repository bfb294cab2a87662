"""Synthetic city: a London-like population with VAWG offending, police records in the data
contract's format, s163 stops, census-like denominators, and the ground truth behind them.

Public API: :class:`SynthConfig`, :class:`NoiseConfig`, :func:`generate`, :data:`OFFENCE_CODES`.
"""

from harmlens.synth.config import NoiseConfig, SynthConfig, SynthError
from harmlens.synth.generate import TABLES, SynthSummary, generate
from harmlens.synth.reference import OFFENCE_CODES, OFFENCES, VAWG_CODES

__all__ = ["NoiseConfig", "SynthConfig", "SynthError", "SynthSummary", "generate", "TABLES", "OFFENCE_CODES", "OFFENCES", "VAWG_CODES"]
