"""Charts for the stop dashboard: vega-lite rendered to SVG on the server (offline, no JS)."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

_cache: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


def _bar(rows: list[dict[str, Any]], x: str, y: str, title: str, *, horizontal: bool = False, temporal: bool = False) -> str:
    import altair as alt
    import pandas as pd

    from harmlens.reports import chart_svg

    df = pd.DataFrame(rows)
    if horizontal:
        enc = dict(y=alt.Y(f"{x}:N", sort="-x", title=None), x=alt.X(f"{y}:Q", title="stops"))
    else:
        enc = dict(x=alt.X(f"{x}:O", title=None), y=alt.Y(f"{y}:Q", title="stops"))
    chart = alt.Chart(df).mark_bar(color="#1f4e79").encode(**enc, tooltip=[x, y]).properties(title=title, width=420, height=220)
    return chart_svg(chart)


def stop_charts(summary: dict[str, Any]) -> dict[str, str]:
    """SVG strings keyed by chart name; cached by the data they draw (the warehouse changes rarely)."""
    key = hashlib.sha256(json.dumps(summary, sort_keys=True, default=str).encode()).hexdigest()
    with _lock:
        if key in _cache:
            return _cache[key]
    out = {
        "by_month": _bar(summary["by_month"], "month", "stops", "Stops per month"),
        "by_ethnicity": _bar(summary["by_ethnicity"], "ethnicity", "stops", "Stops by self-defined ethnicity", horizontal=True),
        "by_legislation": _bar(summary["by_legislation"], "legislation", "stops", "Stops by power used", horizontal=True),
        "by_outcome": _bar(summary["by_outcome"], "outcome", "stops", "Outcomes", horizontal=True),
    }
    with _lock:
        _cache.clear()  # one dashboard's worth is enough
        _cache[key] = out
    return out
