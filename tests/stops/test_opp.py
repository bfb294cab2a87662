"""Stanford Open Policing Project files through the warehouse: import, analyse, veil of darkness.

Truth for the veil-of-darkness figures comes from an independent computation written here
(pandas + astral + statsmodels GLM with patsy's ``cr`` natural cubic regression spline), not
from harmlens code. ``cr`` with knots at R's ``ns(minute, df = 6)`` places (type-7 quantiles
1/6 .. 5/6 of the stops' minutes, boundary at min and max) and ``constraints='center'``, plus
the intercept, spans the same space as ``ns(minute, df = 6)`` plus intercept. (Patsy's own
``df=`` knots are quantiles of the *distinct* values, which is not what R does.)
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.errors import HarmlensError
from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
from harmlens.stops.importer import import_stops


def _ns_formula(x: pd.Series) -> str:
    """patsy cr() term with R ns(x, df=6)'s knots."""
    q = np.percentile(x.to_numpy(dtype=float), np.linspace(0, 100, 7)[1:-1])  # numpy's default is R's type 7
    return (f"cr(m, knots=[{', '.join(repr(float(v)) for v in q)}], lower_bound={float(x.min())!r}, "
            f"upper_bound={float(x.max())!r}, constraints='center')")


def _independent_vod(df: pd.DataFrame, *, lat: float, lng: float, tz: str, drop_boundary: bool = False,
                     area: str | None = None) -> tuple[int, float]:
    """df: date (YYYY-MM-DD), time (HH:MM), race ('black'/'white'/other). Returns (n in window, dark coef)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from zoneinfo import ZoneInfo

    from astral import Observer
    from astral.sun import dusk, sunset

    d = df[df["race"].isin(["black", "white"])].copy()
    t = d["time"].str.extract(r"^(\d{1,2}):(\d{2})").astype(float)
    d["m"] = t[0] * 60 + t[1]
    d["day"] = pd.to_datetime(d["date"], errors="coerce").dt.date
    d = d.dropna(subset=["m", "day"])
    obs, zone = Observer(lat, lng), ZoneInfo(tz)
    sun = {}
    for day in d["day"].unique():
        a, b = sunset(obs, day, tzinfo=zone), dusk(obs, day, tzinfo=zone)
        sun[day] = (a.hour * 60 + a.minute, b.hour * 60 + b.minute)
    d["ss"] = d["day"].map(lambda x: sun[x][0])
    d["du"] = d["day"].map(lambda x: sun[x][1])
    lo, hi = d["du"].min(), d["du"].max()
    keep = (d["m"] >= lo) & (d["m"] <= hi)
    twilight = ((d["m"] >= d["ss"]) & (d["m"] <= d["du"])) if drop_boundary else ((d["m"] > d["ss"]) & (d["m"] < d["du"]))
    w = d[keep & ~twilight].copy()
    w["dark"] = (w["m"] > w["du"]).astype(int)
    w["y"] = (w["race"] == "black").astype(int)
    formula = "y ~ dark + " + _ns_formula(w["m"]) + (f" + C({area})" if area else "")
    fit = smf.glm(formula, w, family=sm.families.Binomial()).fit()
    return len(w), float(fit.params["dark"])


def _read_rows(path) -> pd.DataFrame:
    """Rows with as many fields as the header (a truncated last line is not a stop record)."""
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        head = next(r)
        rows = [x for x in r if len(x) == len(head)]
    return pd.DataFrame(rows, columns=head)


# ----------------------------------------------------------------------------- real samples



@pytest.fixture(scope="module")
def opp(shared_data, tmp_path_factory):
    from harmlens.warehouse import connect

    con = connect(tmp_path_factory.mktemp("opp") / "wh.duckdb")
    rep = import_stops(con, [shared_data / "stops" / "opp"])
    yield con, rep, shared_data / "stops" / "opp"
    con.close()


@pytest.mark.shared_data
def test_opp_samples_import_every_row_kept_or_quarantined(opp):
    con, rep, _ = opp
    by = {f.file.rsplit("/", 1)[-1]: f for f in rep.files}
    got = {k: (f.format, f.jurisdiction, f.read, f.loaded, f.quarantined) for k, f in by.items()}
    assert got == {
        # 2 rows with date NA (no date: not a stop), 1 row with 26 of 28 fields
        "ca_oakland_2020_04_01_SHORT.csv": ("opp csv", "ca_oakland", 98, 95, 3),
        # already cut to the window by its author: no date column at all
        "ca_san_francisco_2015_vod_window.csv": ("opp csv", "ca_san_francisco", 8746, 0, 8746),
        # the file's last line is truncated (14 of 15 fields)
        "ri_statewide_subset_police.csv": ("opp csv", "ri_statewide", 27918, 27917, 1),
    }
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())
    assert reasons == {"no date: cannot be a stop": 8748, "row has 26 fields, header has 28": 1,
                       "row has 14 fields, header has 15": 1}
    meta = con.execute("""SELECT jurisdiction, tz, source, count(*) FROM stops GROUP BY ALL ORDER BY 1""").fetchall()
    assert meta == [("ca_oakland", "America/Los_Angeles", "opp: ca_oakland_2020_04_01_SHORT.csv", 95),
                    ("ri_statewide", "America/New_York", "opp: ri_statewide_subset_police.csv", 27917)]
    # Vehicular vs pedestrian: Oakland publishes type (54 vehicular, 41 NA); RI's old schema has none.
    types = con.execute("SELECT jurisdiction, stop_type, count(*) FROM stops GROUP BY ALL ORDER BY ALL").fetchall()
    assert types == [("ca_oakland", "vehicular", 54), ("ca_oakland", None, 41), ("ri_statewide", None, 27917)]
    races = dict(con.execute("""SELECT coalesce(race_group, 'Not recorded'), count(*) FROM stops
                                WHERE jurisdiction = 'ri_statewide' GROUP BY 1""").fetchall())
    assert races == {"White": 20893, "Black": 3256, "Hispanic": 1456, "Not recorded": 1454, "Asian": 763, "Other": 95}


@pytest.mark.shared_data
def test_opp_analysis_per_jurisdiction_and_outcome_test(opp):
    con, _, _ = opp
    a = analyse_stops(con, StopFilter(force="ca_oakland"), AnalyseSettings(n_boot=100))
    assert a.jurisdictions == ["ca_oakland"] and a.n_stops == 95
    assert {m["published"]: m["group"] for m in a.race_mapping} == {
        "black": "Black", "hispanic": "Hispanic", "white": "White", "other": "Other", "asian/pacific islander": "Asian"}
    # Searches and finds (contraband_found) by group: 24 searches, 16 of Black people, 5 of Hispanic people.
    assert a.used["outcome_test"]["used"] == 24
    assert a.outcome_test.loc["Black", "searches"] == 16 and a.outcome_test.loc["Hispanic", "searches"] == 5
    assert a.vod is None and "too few" in a.vod_skipped
    assert a.agreement is None  # OPP has one race field: nothing to compare


@pytest.mark.shared_data
def test_veil_of_darkness_san_francisco_agrees_with_independent(opp):
    from harmlens.stops.vod import read_window_file, vod_fit
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    _, _, d = opp
    m = vod_fit(read_window_file(d / "ca_san_francisco_2015_vod_window.csv"))
    sf = pd.read_csv(d / "ca_san_francisco_2015_vod_window.csv")
    sf = sf.assign(y=(sf["subject_race"] == "black").astype(int), dark=(sf["period"] == "night").astype(int), m=sf["minute"])
    ref = smf.glm("y ~ dark + " + _ns_formula(sf["m"]), sf, family=sm.families.Binomial()).fit()
    # Written down from the independent fit: -0.2128 (SE 0.0514) on 8,746 stops.
    assert round(float(ref.params["dark"]), 4) == -0.2128
    assert m.n == 8746 and abs(m.coef - float(ref.params["dark"])) < 0.01
    assert abs(m.coef - float(ref.params["dark"])) < 1e-4  # the same model: the same estimate, not just close


@pytest.mark.shared_data
@pytest.mark.parametrize("drop_boundary, n_expected, coef_expected", [(False, 2774, -0.213), (True, 2763, -0.189)])
def test_veil_of_darkness_rhode_island_warehouse_path_agrees(opp, drop_boundary, n_expected, coef_expected):
    con, _, d = opp
    raw = _read_rows(d / "ri_statewide_subset_police.csv")
    ind = raw.rename(columns={"stop_date": "date", "stop_time": "time"}).assign(race=raw["driver_race"].str.lower())
    n_ind, coef_ind = _independent_vod(ind, lat=41.70, lng=-71.50, tz="America/New_York", drop_boundary=drop_boundary)
    # Figures written down from the independent computation (RI centroid 41.70, -71.50; America/New_York).
    assert (n_ind, round(coef_ind, 3)) == (n_expected, coef_expected)
    a = analyse_stops(con, StopFilter(force="ri_statewide"),
                      AnalyseSettings(area_effects="borough", drop_boundary_minutes=drop_boundary, n_boot=100))
    v = a.vod
    assert v.tz == "America/New_York" and v.window == (16 * 60 + 47, 20 * 60 + 59)
    assert v.n_window == n_ind
    assert abs(v.model("time").coef - coef_ind) < 0.01
    assert abs(v.model("time").coef - coef_ind) < 1e-4  # the same model: the same estimate, not just close
    # District effects ('district' is stored as the stop's area): also within 0.01 of the independent fit.
    if not drop_boundary:
        _, coef_fe = _independent_vod(ind, lat=41.70, lng=-71.50, tz="America/New_York", area="district")
        assert abs(v.model("time+area").coef - coef_fe) < 0.01


@pytest.mark.shared_data
def test_oakland_excerpt_too_small_for_the_test_either_way(opp):
    _, _, d = opp
    raw = _read_rows(d / "ca_oakland_2020_04_01_SHORT.csv")
    raw = raw[raw["date"] != "NA"]
    ok = raw[raw["subject_race"].isin(["black", "white"])]
    lat, lng = ok["lat"].astype(float).median(), ok["lng"].astype(float).median()
    from astral import Observer
    from astral.sun import dusk
    from zoneinfo import ZoneInfo

    dusks = {dusk(Observer(lat, lng), pd.Timestamp(x).date(), tzinfo=ZoneInfo("America/Los_Angeles")).strftime("%H:%M")
             for x in ok["date"].unique()}
    t = ok["time"].str[:5]
    in_window = ((t >= min(dusks)) & (t <= max(dusks))).sum()
    assert in_window <= 1  # three days of April: dusk moves 2 minutes; nothing to compare


# ------------------------------------------------------------------------ small written files


def test_any_subset_of_columns_and_any_release(warehouse, tmp_path):
    (tmp_path / "tx_houston_2023_01_26.csv").write_text(
        "date,time,subject_race\n2017-01-02,18:30:00,black\n2017-01-03,NA,white\nNA,18:00:00,white\n2017-01-04,25:99,hispanic\n")
    with pytest.raises(HarmlensError, match="--tz"):  # Texas spans two zones
        import_stops(warehouse, [tmp_path / "tx_houston_2023_01_26.csv"])
    rep = import_stops(warehouse, [tmp_path / "tx_houston_2023_01_26.csv"], tz="America/Chicago")
    f = rep.files[0]
    assert (f.jurisdiction, f.read, f.loaded, f.quarantined) == ("tx_houston", 4, 3, 1)
    rows = warehouse.execute("""SELECT occurred_at, race_group, json_extract_string(extra, '$.time_recorded'),
        json_extract_string(extra, '$.time_as_published') FROM stops ORDER BY occurred_at""").fetchall()
    assert [(str(r[0]), r[1], r[2]) for r in rows] == [("2017-01-02 18:30:00", "Black", ""),
                                                        ("2017-01-03 00:00:00", "White", "false"),
                                                        ("2017-01-04 00:00:00", "Hispanic", "false")]
    assert rows[2][3] == "25:99"
    with pytest.raises(HarmlensError, match="not a time zone"):
        import_stops(warehouse, [tmp_path / "tx_houston_2023_01_26.csv"], tz="Mars/Olympus")


def test_stops_at_exactly_sunset_or_dusk_are_kept_as_light(monkeypatch):
    """Stanford's pipeline: window [earliest dusk, latest dusk], drop sunset < minute < dusk, dark = minute > dusk."""
    from harmlens.stops import vod

    sun = pd.DataFrame({"date": [1, 2], "sunset_minute": [1000, 1030], "dusk_minute": [1030, 1060]})
    stops = pd.DataFrame({"date": [1, 1, 1, 1, 2, 2, 2], "minute": [1000, 1015, 1030, 1031, 1029, 1030, 1060],
                          "minority": 0, "total": 1})
    w, ex, window = vod.window_counts(stops, sun)
    assert window == (1030, 1060)
    # day 1: 1000 and 1015 outside the window; 1030 (= dusk) light; 1031 dark.
    # day 2: 1029 outside; 1030 (= sunset) light; 1060 (= dusk) light.
    assert list(zip(w["date"], w["minute"], w["dark"])) == [(1, 1030, 0), (1, 1031, 1), (2, 1030, 0), (2, 1060, 0)]
    w2, ex2, _ = vod.window_counts(stops, sun, drop_boundary_minutes=True)
    assert list(zip(w2["date"], w2["minute"], w2["dark"])) == [(1, 1031, 1)]
    assert ex2["twilight"] == 3 and ex["twilight"] == 0


def test_report_shows_jurisdiction_mapping_counts_and_vod_plot(warehouse, tmp_path):
    from harmlens.stops.report import render_stops_report

    rng = np.random.default_rng(3)
    days = pd.date_range("2019-01-01", "2019-12-31", freq="D")
    lines = ["date,time,lat,lng,subject_race,type,search_conducted,contraband_found"]
    for _ in range(3000):
        d = days[rng.integers(len(days))].date()
        m = int(rng.integers(16 * 60 + 30, 21 * 60))
        race = rng.choice(["black", "white", "hispanic", "unknown"], p=[0.3, 0.5, 0.15, 0.05])
        s = rng.random() < 0.2
        lines.append(f"{d},{m // 60:02d}:{m % 60:02d}:00,41.82,-71.41,{race},vehicular,{str(s).upper()},"
                     f"{str(s and rng.random() < 0.3).upper() if s else 'NA'}")
    (tmp_path / "ri_providence_2020_04_01.csv").write_text("\n".join(lines) + "\n")
    import_stops(warehouse, [tmp_path / "ri_providence_2020_04_01.csv"])
    a = analyse_stops(warehouse, StopFilter(), AnalyseSettings(n_boot=100, cell_km=None, area_effects="none"))
    html = render_stops_report(a)
    for text in ("jurisdiction ri_providence", "OPP race categories", "hispanic", "Stops used and left out",
                 "Veil-of-darkness test", "veil of darkness: ", "Outcome (hit-rate) test", "vehicular 3,000"):
        assert text in html, text
    assert "<svg" in html
    assert json.dumps(a.to_dict())  # serialisable


OPP_COLUMNS = ["date", "time", "lat", "lng", "subject_race", "subject_sex", "subject_age", "type", "search_conducted",
               "contraband_found", "outcome", "reason_for_stop"]
OPP_VALUE = st.sampled_from(["", "NA", "2017-01-02", "2017-13-40", "18:30:00", "25:99", "black", "WHITE", "martian",
                             "male", "F", "34", "-3", "vehicular", "pedestrian", "TRUE", "FALSE", "41.8", "-71.4", "citation",
                             "x,y", '"'])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(OPP_COLUMNS), min_size=1, max_size=8, unique=True),
       st.lists(st.lists(OPP_VALUE, min_size=8, max_size=8), min_size=1, max_size=10))
def test_every_opp_row_kept_or_quarantined_with_a_reason(tmp_path_factory, cols, rows):
    from harmlens.warehouse import connect

    if "subject_race" not in cols:
        cols = cols + ["subject_race"]
    if "date" not in cols and "time" not in cols:  # a race column alone is not a stop file (refused, tested elsewhere)
        cols = cols + ["time"]
    d = tmp_path_factory.mktemp("o")
    f = d / "wa_seattle_2020_04_01.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow(r[: len(cols)] + [""] * max(0, len(cols) - len(r)))
    con = connect(":memory:")
    rep = import_stops(con, [f])
    s = rep.files[0]
    assert s.read == len(rows) == s.loaded + s.quarantined
    reasons = {r[0] for r in con.execute("SELECT reason FROM quarantine").fetchall()}
    assert all(r for r in reasons)
    # A stop is quarantined only when it has no date that parses.
    dates = [r[cols.index("date")] if "date" in cols else "" for r in rows]
    good = sum(1 for x in dates if x == "2017-01-02")
    assert s.loaded == good
    con.close()
