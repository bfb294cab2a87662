"""Reference figures on real public data (../shared/data): Met police.uk files, 2011 Census, Stanford OPP.

The figures (and how they were first obtained) are in docs/stops.md.
"""

from __future__ import annotations

from datetime import date

import pytest

from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
from harmlens.stops.importer import import_stops
from harmlens.stops.population import read_population
from harmlens.stops.vod import read_window_file, vod_fit

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def met(shared_data, tmp_path_factory):
    from harmlens.warehouse import connect

    con = connect(tmp_path_factory.mktemp("met") / "wh.duckdb")
    stops = shared_data / "stops"
    rep = import_stops(con, [stops / "2016-06-metropolitan-stop-and-search.csv", stops / "met_police_uk_api"])
    yield con, rep, shared_data
    con.close()


def test_met_files_import_as_published(met):
    con, rep, _ = met
    by = {f.file.rsplit("/", 1)[-1]: f for f in rep.files}
    csv = by["2016-06-metropolitan-stop-and-search.csv"]
    assert (csv.read, csv.loaded, csv.quarantined) == (10490, 10490, 0)  # PROVENANCE.md: 10,490 rows
    api = [f for name, f in by.items() if name.endswith(".json")]
    assert sum(f.read for f in api) == 33101
    for f in rep.files:
        assert f.read == f.loaded + f.quarantined
    # Every stop is kept: the 7 API records with no legislation are counted as 'not recorded' for it.
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert sum(f.kept_field_not_read.get("legislation", 0) for f in api) == 7
    assert con.execute("SELECT count(*) FROM stops WHERE legislation IS NULL").fetchone()[0] == 7
    # The force comes from the CSV's file name; the API files do not name it.
    assert csv.force == "metropolitan"
    # PROVENANCE.md: 1,028 "Not Stated (NS)" and 104 blank in the June 2016 CSV.
    ns, blank = con.execute("""SELECT count(*) FILTER (self_defined_ethnicity = 'not_stated'),
        count(*) FILTER (self_defined_ethnicity IS NULL) FROM stops WHERE stop_id LIKE 'policeuk-csv:%'""").fetchone()
    assert (ns, blank) == (1028, 104)


def test_june_2016_black_white_rate_ratio(met):
    con, _, shared = met
    pop = read_population(shared / "census" / "force_area_ethnic_groups_census2011.csv")
    a = analyse_stops(con, StopFilter(date(2016, 6, 1), date(2016, 6, 30)),
                      AnalyseSettings(areas=("Metropolitan",), vod=False), pop)
    assert a.n_stops == 10490  # the June 2016 CSV alone
    d = a.disproportionality.loc["Black"]
    assert round(d["ratio_vs_white"], 2) == 3.70
    assert round(d["ratio_low"], 2) == 3.54
    assert round(d["ratio_high"], 2) == 3.88
    assert a.excluded_from_rates == {"Not stated": 1028, "Not recorded": 104}
    # Relative to White British (W1), the comparison the Met's s163 pilot reported.
    det = read_population(shared / "census" / "force_area_ethnic_groups_census2011.csv", detail=True)
    b = analyse_stops(con, StopFilter(date(2016, 6, 1), date(2016, 6, 30)),
                      AnalyseSettings(areas=("Metropolitan",), vod=False), pop, population_detail=det).vs_white_british
    assert b.loc["White British (W1)", "stops"] == 2507
    assert round(b.loc["Black", "ratio_vs_white_british"], 2) == 4.51
    assert round(b.loc["Black", "ratio_low"], 2) == 4.28 and round(b.loc["Black", "ratio_high"], 2) == 4.75


def test_veil_of_darkness_pooled_met(met):
    con, _, _ = met
    a = analyse_stops(con, StopFilter(), AnalyseSettings(cell_km=5.0))
    v = a.vod
    assert 10_400 <= v.n_window <= 10_800  # "about 10,600"
    t = v.model("time")
    assert t.coef == pytest.approx(-0.12, abs=0.015) and t.se == pytest.approx(0.04, abs=0.006)
    fe = v.model("time+area")
    assert abs(fe.coef) < 0.05 and fe.se == pytest.approx(0.05, abs=0.01)  # "near zero" with ~5 km cells
    assert v.excluded["twilight"] > 0 and v.caveats


def test_agreement_matrix_api_months(met):
    con, _, _ = met
    a = analyse_stops(con, StopFilter(date(2022, 1, 1), None), AnalyseSettings(vod=False))
    s = a.agreement_summary
    assert s["n_both_recorded"] > 25_000
    assert 0.85 < s["agreement"] < 0.95 and 0.8 < s["cohens_kappa"] < 0.9
    assert s["by_self_defined_group"]["Black"]["officer_agrees"] > 0.95
    assert s["by_self_defined_group"]["Mixed"]["officer_agrees"] == 0  # police.uk officer groups have no Mixed here


def test_san_francisco_window_file(shared_data):
    c = read_window_file(shared_data / "stops" / "opp" / "ca_san_francisco_2015_vod_window.csv")
    m = vod_fit(c)
    assert m.n == 8746
    assert m.coef == pytest.approx(-0.21, abs=0.015) and m.se == pytest.approx(0.05, abs=0.005)


def test_rhode_island_dated_file(shared_data):
    from harmlens.stops.vod import read_dated_stop_file, veil_of_darkness

    df = read_dated_stop_file(shared_data / "stops" / "opp" / "ri_statewide_subset_police.csv", race_col="driver_race",
                              area_col="district")
    assert len(df) + df.attrs["left_out"] == 27918
    v = veil_of_darkness(df, latitude=41.7, longitude=-71.5, tz="America/New_York", minority="black", reference="white",
                         cell_km=None, area_label="district fixed effects")
    assert v.window == (16 * 60 + 47, 20 * 60 + 59)  # earliest to latest civil dusk in Providence, local clock
    assert v.n_window == 2775
    assert v.models[0].coef == pytest.approx(-0.212, abs=0.005) and v.models[0].se == pytest.approx(0.156, abs=0.005)
    assert v.model("time+area").areas == 6
