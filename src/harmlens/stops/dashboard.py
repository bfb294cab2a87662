"""The stop dashboard's panels: one per force (police.uk) or jurisdiction (OPP).

Each panel carries what a reader needs before any figure: where the stops come from, the
period, how many stops each analysis used and, by reason, left out, the veil-of-darkness result
and OPP's plot (minority share by clock time, light vs dark). Rates need a census population
and are left to ``harmlens stops analyse``. Results are cached by the state of the ``stops``
table, so the page costs one analysis per force after each import, not per request.
"""

from __future__ import annotations

import threading
from typing import Any

from harmlens.engine import as_engine

_cache: dict[tuple, list[dict[str, Any]]] = {}
_lock = threading.Lock()


def _panel(con, unit: str | None) -> dict[str, Any]:
    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.stops.report import _vod_chart, used_lines, where_from

    a = analyse_stops(con, StopFilter(force=unit), AnalyseSettings(n_boot=200, cell_km=None, area_effects="none"))
    p: dict[str, Any] = {"unit": unit or "force not recorded", "where": where_from(a), "period": [a.period[0][:10], a.period[1][:10]],
                         "stops": a.n_stops, "sources": a.sources, "stop_types": a.stop_types, "used": used_lines(a),
                         "race_mapping": a.race_mapping, "vod": None, "vod_skipped": a.vod_skipped, "vod_svg": None}
    if a.vod is not None:
        from harmlens.reports import chart_svg

        v = a.vod
        m = v.models[0]
        lo, hi = m.ci
        p["vod"] = {"minority": v.minority, "reference": v.reference, "n": v.n_window, "tz": v.tz,
                    "window": v.to_dict()["window_clock"], "coef": m.coef, "se": m.se, "ci": [lo, hi],
                    "share_light": v.share_light, "share_dark": v.share_dark}
        p["vod_svg"] = chart_svg(_vod_chart(v))
    return p


def stops_dashboard(con) -> list[dict[str, Any]]:
    """Panels for every force/jurisdiction in the warehouse (empty list when there are no stops)."""
    eng = as_engine(con)
    state = eng.execute("SELECT count(*), max(load_id) FROM stops").fetchone()
    if not state[0]:
        return []
    with _lock:
        if state in _cache:
            return _cache[state]
    units = [r[0] for r in eng.rows(
        "SELECT DISTINCT coalesce(force, jurisdiction) FROM stops ORDER BY 1 NULLS LAST")]
    named = [u for u in units if u is not None]
    wanted: list[str | None] = (named + ([""] if None in units else [])) if named else [None]
    panels = [_panel(con, u) for u in wanted]
    with _lock:
        _cache.clear()
        _cache[state] = panels
    return panels
