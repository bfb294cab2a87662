"""Stops: record stops with self-defined and officer-perceived ethnicity, and measure
disproportionality the way the Home Office and the Stanford Open Policing Project do.

Public functions (imported lazily so ``harmlens --help`` stays fast):

- ``validate_stop(record) -> (clean_row | None, problems)``: one stop, the same rules as file
  import (the web stop form uses it);
- ``record_stop(con, record) -> (stop_id | None, problems)``: validate and save one stop;
- ``import_stops(con, paths) -> ImportReport``: contract files, police.uk CSV and API JSON;
- ``read_population(path)``: census denominators in contract, TS021 or Nomis shape;
- ``analyse_stops(con, StopFilter, AnalyseSettings, population) -> StopAnalysis``;
- ``veil_of_darkness(frame, latitude=, longitude=)`` and ``vod_fit(counts)``;
- ``render_stops_report(analysis)`` / ``write_stops_report(analysis, out_dir)``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "validate_stop": "harmlens.stops.validate",
    "validate_stop_frame": "harmlens.stops.validate",
    "import_stops": "harmlens.stops.importer",
    "record_stop": "harmlens.stops.importer",
    "read_stop_file": "harmlens.stops.importer",
    "read_population": "harmlens.stops.population",
    "select_area": "harmlens.stops.population",
    "analyse_stops": "harmlens.stops.analyse",
    "StopFilter": "harmlens.stops.analyse",
    "AnalyseSettings": "harmlens.stops.analyse",
    "StopAnalysis": "harmlens.stops.analyse",
    "rate_ratio_ci": "harmlens.stops.analyse",
    "veil_of_darkness": "harmlens.stops.vod",
    "vod_fit": "harmlens.stops.vod",
    "sun_minutes": "harmlens.stops.vod",
    "render_stops_report": "harmlens.stops.report",
    "write_stops_report": "harmlens.stops.report",
    "self_defined_code": "harmlens.stops.codes",
    "officer_defined": "harmlens.stops.codes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'harmlens.stops' has no attribute {name!r}")
