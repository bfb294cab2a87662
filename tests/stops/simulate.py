"""A small stop generator with written-down truth, for tests that need many seeds quickly.

Stops are drawn over ``days`` days in London, clock times uniform over 15:00-23:00. In the
dark (after civil dusk) a stop is of a Black person with log-odds ``base_logit``; in daylight
(before sunset) the log-odds are ``base_logit + log(daylight_odds)``. So the veil-of-darkness
coefficient (dark vs light) is ``-log(daylight_odds)`` by construction, and 0 when
``daylight_odds = 1``. Stops during twilight get the dark odds (they are dropped anyway).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from harmlens.stops.vod import sun_minutes

LAT, LON = 51.5074, -0.1278


def stop_frame(seed: int, n: int = 20_000, daylight_odds: float = 1.0, base_logit: float = -0.5,
               days: int = 365, start: date = date(2023, 1, 1)) -> pd.DataFrame:
    """Columns ``date, minute, group, total`` (one row per stop) plus ``cell`` (4 areas)."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, days, n)
    dates = [start + timedelta(days=int(d)) for d in range(days)]
    sun = sun_minutes(dates, LAT, LON).set_index("date")
    d = np.array(dates, dtype=object)[day]
    minute = rng.integers(15 * 60, 23 * 60, n)
    sunset = sun.loc[list(d), "sunset_minute"].to_numpy()
    light = minute <= sunset
    logit = base_logit + np.where(light, np.log(daylight_odds), 0.0)
    black = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"date": d, "minute": minute, "group": np.where(black, "Black", "White"), "total": 1,
                         "cell": rng.integers(0, 4, n).astype(str)})
