"""police.uk files as they arrive: re-saved by Excel, from other forces, with fields left empty.

Fixtures are written the way the real files look (see docs/stops.md, 'Quirks handled'); the
truth for each is written down beside it.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.errors import HarmlensError
from harmlens.stops.importer import import_stops
from harmlens.stops.quirks import age_band, force_from_filename, force_key

runner = CliRunner()

# The newer police.uk schema (no 'Policing operation'), as Excel (UK locale) re-saves it: BOM, CRLF,
# dd/mm/yyyy hh:mm dates, TRUE/FALSE, the 10-17 band turned into a date, trailing spaces.
EXCEL_HEADER = ("\ufeffType,Date,Part of a policing operation,Latitude,Longitude,Gender,Age range ,Self-defined ethnicity,"
                "Officer-defined ethnicity,Legislation,Object of search,Outcome,Outcome linked to object of search,"
                "Removal of more than just outer clothing")
EXCEL_ROWS = [
    # 1: 10-17 as Oct-17; linked TRUE but NFA -> not a find (Home Office); 01/07/2024 18:30 UTC = 19:30 BST
    "Person search,01/07/2024 18:30,FALSE,53.19,-2.89,Male,Oct-17,Black/African/Caribbean/Black British - African,Black,"
    "Misuse of Drugs Act 1971 (section 23),Controlled drugs,A no further action disposal,TRUE,FALSE",
    # 2: 10-17 as 17-Oct; linked TRUE and arrest -> a find
    "Person search,02/07/2024 09:00,FALSE,53.19,-2.89,Male,17-Oct,White - English/Welsh/Scottish/Northern Irish/British ,White,"
    "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,TRUE,FALSE",
    # 3: arrest but linked FALSE -> not a find, still an arrest; empty legislation -> kept, not recorded
    "Person and Vehicle search,03/07/2024 22:15,FALSE,,,Female,18-24,Black/African/Caribbean/Black British - Caribbean,Black,"
    ",Stolen goods,Arrest,FALSE,FALSE",
    # 4: linked blank -> find not recorded; trailing spaces everywhere
    "Person search ,15/07/2024 12:00 ,FALSE,53.2,-2.9,Male ,over 34 ,White - Irish,White ,"
    "Police and Criminal Evidence Act 1984 (section 1) ,Stolen goods ,Community resolution ,,FALSE",
]


def _write(path, header, rows, crlf=True):
    nl = "\r\n" if crlf else "\n"
    path.write_bytes((header + nl + nl.join(rows) + nl).encode("utf-8"))


def test_excel_resaved_police_uk_file(warehouse, tmp_path):
    f = tmp_path / "2024-07-cheshire-stop-and-search.csv"
    _write(f, EXCEL_HEADER, EXCEL_ROWS)
    rep = import_stops(warehouse, [f])
    s = rep.files[0]
    assert (s.format, s.read, s.loaded, s.quarantined) == ("police.uk csv", 4, 4, 0)
    assert s.force == "cheshire" and s.kept_field_not_read == {"legislation": 1}
    rows = warehouse.execute("""SELECT occurred_at, age_range, self_defined_ethnicity, found, json_extract_string(extra, '$.arrest'),
        legislation, force, sex FROM stops ORDER BY occurred_at""").fetchall()
    assert [str(r[0]) for r in rows] == ["2024-07-01 19:30:00", "2024-07-02 10:00:00", "2024-07-03 23:15:00", "2024-07-15 13:00:00"]
    assert [r[1] for r in rows] == ["10-17", "10-17", "18-24", "over 34"]
    assert [r[2] for r in rows] == ["B2", "W1", "B1", "W2"]
    assert [r[3] for r in rows] == [False, True, False, None]
    assert [r[4] for r in rows] == ["false", "true", "true", "false"]
    assert rows[2][5] is None and rows[3][5] == "Police and Criminal Evidence Act 1984 (section 1)"
    assert {r[6] for r in rows} == {"cheshire"} and rows[3][7] == "male"


def test_month_first_excel_dates(warehouse, tmp_path):
    # A US-locale Excel writes month first; a day above 12 in the second field gives it away.
    f = tmp_path / "2024-07-cheshire-stop-and-search.csv"
    _write(f, EXCEL_HEADER, [EXCEL_ROWS[0].replace("01/07/2024", "07/01/2024"), EXCEL_ROWS[3].replace("15/07/2024", "07/15/2024")])
    import_stops(warehouse, [f])
    got = [str(r[0]) for r in warehouse.execute("SELECT occurred_at FROM stops ORDER BY 1").fetchall()]
    assert got == ["2024-07-01 19:30:00", "2024-07-15 13:00:00"]


@given(st.sampled_from(["Oct-17", "17-Oct", "oct-17", "17-Oct-24", "October-17", "17/10/2024", "10/17/2024", "2024-10-17",
                        "17 Oct", " Oct-17 "]))
def test_every_excel_rendering_of_10_17_is_read_back(v):
    assert age_band(pd.Series([v])).iloc[0] == "10-17"


@given(st.sampled_from(["under 10", "18-24", "25-34", "over 34", "", "Oct-18", "17-Nov", "11/10/2024"]))
def test_other_bands_are_left_alone(v):
    assert age_band(pd.Series([v])).iloc[0] == v.strip()


def test_force_names():
    assert force_from_filename("2024-09-avon-and-somerset-stop-and-search.csv") == "avon-and-somerset"
    assert force_from_filename("stops.csv") is None
    assert force_key("avon-and-somerset") == force_key("Avon and Somerset Constabulary")
    assert force_key("metropolitan") == force_key("Metropolitan Police Service")
    assert force_key("cheshire") != force_key("merseyside")


# --------------------------------------------------------------------------------- two forces

HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,Self-defined ethnicity,"
          "Officer-defined ethnicity,Legislation,Object of search,Outcome,Outcome linked to object of search,"
          "Removal of more than just outer clothing")


def _force_rows(n_black, n_white, n_no_leg):
    rows = []
    for i in range(n_black + n_white):
        eth = "Black or Black British - African (B2)" if i < n_black else "White - White British (W1)"
        leg = "" if i < n_no_leg else "Misuse of Drugs Act 1971 (section 23)"
        rows.append(f"Person search,2024-07-{1 + i % 28:02d}T1{i % 10}:00:00+00:00,False,,53.2,-2.9,Male,18-24,{eth},,{leg},"
                    "Controlled drugs,A no further action disposal,False,False")
    return rows


@pytest.fixture
def two_forces(tmp_path):
    """Cheshire: 30 Black, 60 White stops (10 with no legislation); Merseyside: 10 Black, 90 White.
    Populations: Cheshire 1,000 Black / 10,000 White (ratio (30/1000)/(60/10000) = 5.00);
    Merseyside 1,000 / 10,000 (ratio 1.11)."""
    d = tmp_path / "downloads"
    d.mkdir()
    _write(d / "2024-07-cheshire-stop-and-search.csv", HEADER, _force_rows(30, 60, 10), crlf=False)
    _write(d / "2024-07-merseyside-stop-and-search.csv", HEADER, _force_rows(10, 90, 0), crlf=False)
    (tmp_path / "pop.csv").write_text("area,ethnicity_group,population\nCheshire,Black,1000\nCheshire,White,10000\n"
                                      "Merseyside,Black,1000\nMerseyside,White,10000\n")
    return tmp_path


def test_two_force_folder_per_force_and_area_check(two_forces):
    db = str(two_forces / "wh.duckdb")
    r = runner.invoke(app, ["stops", "import", str(two_forces / "downloads"), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert {f["force"]: f["loaded"] for f in rep["files"]} == {"cheshire": 90, "merseyside": 100}
    pop = str(two_forces / "pop.csv")
    # Both forces' stops against Cheshire's population: refused in one line.
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--area", "Cheshire", "--no-vod"])
    assert isinstance(r.exception, HarmlensError) and "give --force" in str(r.exception)
    assert "\n" not in str(r.exception)
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--area", "Cheshire", "--force", "merseyside", "--no-vod"])
    assert isinstance(r.exception, HarmlensError) and "does not match the stops' force 'merseyside'" in str(r.exception)
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--area", "Cheshire", "--force", "Cheshire",
                            "--no-vod", "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.stdout)
    assert a["n_stops"] == 90 and a["forces"] == ["cheshire"]
    black = next(x for x in a["disproportionality"] if x["group"] == "Black")
    assert round(black["ratio_vs_white"], 2) == 5.00
    assert a["used"]["rates"] == {"used": 90, "left_out": {}}
    # Default: each force in turn, each against its own population rows.
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--no-vod", "--json"])
    out = json.loads(r.stdout)
    assert [x["population_areas"] for x in out] == [["Cheshire"], ["Merseyside"]]
    ratios = [next(g["ratio_vs_white"] for g in x["disproportionality"] if g["group"] == "Black") for x in out]
    assert [round(v, 2) for v in ratios] == [5.00, round((10 / 1000) / (90 / 10000), 2)]
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--area", "all", "--no-vod"])
    assert isinstance(r.exception, HarmlensError) and "--force all" in str(r.exception)
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", pop, "--area", "all", "--force", "all", "--no-vod", "--json"])
    assert json.loads(r.stdout)["n_stops"] == 190
    # Default without a population: each force in turn.
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--no-vod", "--json"])
    out = json.loads(r.stdout)
    assert [x["forces"] for x in out] == [["cheshire"], ["merseyside"]] and [x["n_stops"] for x in out] == [90, 100]
    # Legislation left empty is a breakdown row of its own, not a dropped stop.
    leg = {x["legislation"]: x["total"] for x in out[0]["breakdowns"]["legislation"]}
    assert leg == {"Misuse of Drugs Act 1971 (section 23)": 80, "(not recorded)": 10}


def test_group_names_any_case_and_synonyms(two_forces):
    from harmlens.stops.codes import group_label

    assert [group_label(v) for v in ("BLACK", "black", "African-American", "Caucasian", "WHITE ", "Latino", "Purple")] == \
        ["Black", "Black", "Black", "White", "White", "Hispanic", None]
    db = str(two_forces / "wh.duckdb")
    runner.invoke(app, ["stops", "import", str(two_forces / "downloads"), "--db", db])
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--force", "cheshire", "--reference", "CAUCASIAN",
                            "--minority", "african-american", "--population", str(two_forces / "pop.csv"), "--area", "cheshire",
                            "--no-vod", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["reference_group"] == "White"


def test_synonyms_in_officer_groups_and_population_tables():
    from harmlens.stops.codes import officer_defined, population_group

    assert officer_defined("CAUCASIAN") == (None, "White") and officer_defined("African-American") == (None, "Black")
    assert officer_defined("black") == (None, "Black") and officer_defined("WHITE") == (None, "White")
    assert [population_group(v) for v in ("BLACK", "african american", "Caucasian", "white")] == ["Black", "Black", "White", "White"]
    with pytest.raises(ValueError):
        officer_defined("Martian")
