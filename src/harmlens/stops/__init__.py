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

from harmlens.lazy import lazy_exports

_EXPORTS = {
    "validate_stop": "validate",
    "validate_stop_frame": "validate",
    "import_stops": "importer",
    "record_stop": "importer",
    "read_stop_file": "importer",
    "read_population": "population",
    "select_area": "population",
    "analyse_stops": "analyse",
    "StopFilter": "analyse",
    "AnalyseSettings": "analyse",
    "StopAnalysis": "analyse",
    "rate_ratio_ci": "analyse",
    "veil_of_darkness": "vod",
    "vod_fit": "vod",
    "sun_minutes": "vod",
    "render_stops_report": "report",
    "write_stops_report": "report",
    "self_defined_code": "codes",
    "officer_defined": "codes",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
