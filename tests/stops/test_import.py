"""harmlens stops import: contract files, police.uk CSV and API JSON exactly as published."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.errors import ContractError, UnparseableFileError
from harmlens.stops.importer import import_stops

POLICE_UK_HEADER = ("Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,"
                    "Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,"
                    "Outcome linked to object of search,Removal of more than just outer clothing")
POLICE_UK_ROWS = [
    # 1: good, 16+1 code, UTC in summer -> 01:05 London
    "Person search,2016-06-01T00:05:00+00:00,False,,51.455989,-0.043536,Male,10-17,Black or Black British - African (B2),Black,"
    "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Nothing found - no further action,,",
    # 2: good, not stated, arrest -> found
    "Person and Vehicle search,2016-06-01T20:05:00+00:00,False,,51.475561,-0.075330,Male,,Not Stated (NS),White,"
    "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Suspect arrested,,",
    # 3: an identical copy of row 2 (two people, same place and time): a separate stop
    "Person and Vehicle search,2016-06-01T20:05:00+00:00,False,,51.475561,-0.075330,Male,,Not Stated (NS),White,"
    "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Suspect arrested,,",
    # 4: unknown ethnicity label: kept, ethnicity not recorded
    "Person search,2016-06-02T10:00:00+00:00,False,,51.5,-0.1,Female,18-24,Purple (P1),White,"
    "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Nothing found - no further action,,",
    # 5: no legislation: kept, legislation not recorded
    "Vehicle search,2016-06-03T10:00:00+00:00,False,,,,,,,,,,Nothing found - no further action,,",
    # 6: good, blank self-defined (not recorded), Chinese 16+1 goes to Asian
    "Person search,2016-06-04T12:00:00+00:00,False,,51.5,-0.1,Male,over 34,Chinese or other ethnic group - Chinese (O1),Asian,"
    "Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Offender cautioned,,",
]

API_RECORDS = [
    {"age_range": "over 34", "outcome": "A no further action disposal", "involved_person": True,
     "self_defined_ethnicity": "White - English/Welsh/Scottish/Northern Irish/British", "gender": "Male",
     "legislation": "Police and Criminal Evidence Act 1984 (section 1)", "outcome_linked_to_object_of_search": False,
     "datetime": "2024-12-27T09:45:00+00:00", "removal_of_more_than_outer_clothing": False,
     "outcome_object": {"id": "bu-no-further-action", "name": "A no further action disposal"},
     "location": {"latitude": "51.452468", "street": {"id": 1, "name": "On or near Waterside"}, "longitude": "0.178992"},
     "operation": False, "officer_defined_ethnicity": "White", "type": "Person and Vehicle search", "operation_name": None,
     "object_of_search": "Stolen goods", "borough": "Bexley"},
    {"age_range": "25-34", "outcome": "Arrest", "involved_person": True,
     "self_defined_ethnicity": "Other ethnic group - Not stated", "gender": "Female",
     "legislation": "Misuse of Drugs Act 1971 (section 23)", "outcome_linked_to_object_of_search": False,
     "datetime": "2024-12-27T18:50:00+00:00", "removal_of_more_than_outer_clothing": True,
     "outcome_object": {"id": "bu-arrest", "name": "Arrest"}, "location": None, "operation": False,
     "officer_defined_ethnicity": "Black", "type": "Person search", "operation_name": None,
     "object_of_search": "Controlled drugs", "borough": ""},
    {"age_range": None, "outcome": "Arrest", "involved_person": True, "self_defined_ethnicity": None, "gender": None,
     "legislation": None, "outcome_linked_to_object_of_search": False, "datetime": "2024-12-28T18:50:00+00:00",
     "location": None, "officer_defined_ethnicity": None, "type": "Person search", "object_of_search": None},
]

CONTRACT = (
    "stop_id,occurred_at,legislation,self_defined_ethnicity,officer_defined_ethnicity,sex,age_range,borough,latitude,longitude,"
    "reason,outcome,searched,found,vehicle\n"
    "c1,2021-01-05T17:30:00,s163 Road Traffic Act 1988,B1,IC3,male,25-34,Lambeth,51.46,-0.11,Routine check,,false,,Ford\n"
    "c2,2021-01-05T18:30:00,s163 Road Traffic Act 1988,not_stated,IC1,female,18-24,Lambeth,51.46,-0.11,Routine check,,false,,\n"
    "c3,2021-01-06,s163 Road Traffic Act 1988,W1,IC1,male,over 34,Lambeth,,,Speeding,,true,true,\n"
    "c4,not a date,s163 Road Traffic Act 1988,W1,IC1,male,over 34,Lambeth,,,Speeding,,,,\n"
    "c1,2021-01-07T10:00:00,s163 Road Traffic Act 1988,W1,IC1,male,over 34,Lambeth,,,Speeding,,,,\n"
)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "puk.csv").write_text(POLICE_UK_HEADER + "\n" + "\n".join(POLICE_UK_ROWS) + "\n")
    (tmp_path / "api.json").write_text(json.dumps(API_RECORDS))
    (tmp_path / "stops.csv").write_text(CONTRACT)
    return tmp_path


def _q(con):
    return con.execute("SELECT file, line, column_name, value, reason, row_json FROM quarantine ORDER BY file, line").fetchall()


def test_police_uk_csv(warehouse, files):
    rep = import_stops(warehouse, [files / "puk.csv"])
    f = rep.files[0]
    assert f.format == "police.uk csv"
    # Nothing here fails to be a stop: every row is kept, two with a field not recorded.
    assert (f.read, f.loaded, f.quarantined) == (6, 6, 0)
    assert f.kept_field_not_read == {"legislation": 1, "self_defined_ethnicity": 1}
    rows = warehouse.execute("""SELECT occurred_at, self_defined_ethnicity, officer_defined_ethnicity,
        json_extract_string(extra, '$.officer_defined_group'), searched, found, sex, legislation,
        json_extract_string(extra, '$.not_read.self_defined_ethnicity'), json_extract_string(extra, '$.arrest')
        FROM stops ORDER BY occurred_at, stop_id""").fetchall()
    assert [str(r[0]) for r in rows] == ["2016-06-01 01:05:00", "2016-06-01 21:05:00", "2016-06-01 21:05:00",
                                         "2016-06-02 11:00:00", "2016-06-03 11:00:00", "2016-06-04 13:00:00"]
    assert [r[1] for r in rows] == ["B2", "not_stated", "not_stated", None, None, "A4"]
    assert rows[3][8] == "Purple (P1)" and rows[4][7] is None
    assert all(r[2] is None for r in rows)
    assert [r[3] for r in rows] == ["Black", "White", "White", "White", "", "Asian"]
    # Home Office find: linked AND not NFA; with the link blank (as here) the find is not recorded.
    assert [r[5] for r in rows] == [None] * 6
    assert [r[9] for r in rows] == ["false", "true", "true", "false", "false", "false"]
    assert all(r[4] is True for r in rows) and rows[0][6] == "male"
    assert _q(warehouse) == []


def test_api_json(warehouse, files):
    rep = import_stops(warehouse, [files / "api.json"])
    f = rep.files[0]
    assert (f.format, f.read, f.loaded, f.quarantined) == ("police.uk api json", 3, 3, 0)
    rows = warehouse.execute("SELECT occurred_at, self_defined_ethnicity, borough, latitude, found, legislation FROM stops "
                             "ORDER BY occurred_at").fetchall()
    assert str(rows[0][0]) == "2024-12-27 09:45:00"  # GMT in December
    assert rows[0][1] == "W1" and rows[1][1] == "not_stated"
    assert rows[0][2] == "Bexley" and rows[1][2] is None and rows[1][3] is None
    # An arrest whose outcome is not linked to the object of the search is not a find.
    assert [r[4] for r in rows] == [False, False, False]
    assert rows[2][5] is None and f.kept_field_not_read == {"legislation": 1}
    assert _q(warehouse) == []


def test_contract_file_and_pass_through(warehouse, files):
    rep = import_stops(warehouse, [files / "stops.csv"])
    f = rep.files[0]
    assert (f.format, f.read, f.loaded, f.quarantined) == ("contract", 5, 3, 2)
    extra = warehouse.execute("SELECT extra FROM stops WHERE stop_id = 'c1'").fetchone()[0]
    assert json.loads(extra)["vehicle"] == "Ford"
    assert warehouse.execute("SELECT json_extract_string(extra, '$.time_recorded') FROM stops WHERE stop_id = 'c3'").fetchone()[0] == "false"
    reasons = [r[4] for r in _q(warehouse)]
    assert any("occurred_at" in r for r in reasons) and any("duplicate stop_id" in r for r in reasons)


def test_folder_import_is_idempotent_and_counts_add_up(warehouse, files):
    rep = import_stops(warehouse, [files])
    t = rep.totals()
    assert t["read"] == t["loaded"] + t["quarantined"] == 14
    assert rep.load_id is not None
    n_stops = warehouse.execute("SELECT count(*) FROM stops").fetchone()[0]
    n_q = warehouse.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    n_loads = warehouse.execute("SELECT count(*) FROM loads").fetchone()[0]
    assert n_stops == t["loaded"] == 12 and n_q == 2
    again = import_stops(warehouse, [files])
    assert again.load_id is None
    assert again.totals()["unchanged"] == t["loaded"] and again.totals()["inserted"] == 0
    assert warehouse.execute("SELECT count(*) FROM stops").fetchone()[0] == n_stops
    assert warehouse.execute("SELECT count(*) FROM quarantine").fetchone()[0] == n_q
    assert warehouse.execute("SELECT count(*) FROM loads").fetchone()[0] == n_loads


def test_a_newer_extract_updates_by_id(warehouse, tmp_path):
    (tmp_path / "stops.csv").write_text("stop_id,occurred_at,legislation,outcome\nx1,2021-01-01T10:00,s163,\n")
    import_stops(warehouse, [tmp_path / "stops.csv"])
    (tmp_path / "stops.csv").write_text("stop_id,occurred_at,legislation,outcome\nx1,2021-01-01T10:00,s163,Arrest\n")
    rep = import_stops(warehouse, [tmp_path / "stops.csv"])
    assert rep.files[0].updated == 1
    assert warehouse.execute("SELECT outcome FROM stops").fetchone()[0] == "Arrest"
    assert warehouse.execute("SELECT count(*) FROM changes WHERE change = 'update'").fetchone()[0] == 1


def test_unparseable_file_stops_the_load_and_changes_nothing(warehouse, files):
    (files / "broken.json").write_text('[{"datetime": "2024-01-01T10:00:00+00:00"')
    with pytest.raises(UnparseableFileError, match="broken.json"):
        import_stops(warehouse, [files])
    assert warehouse.execute("SELECT count(*) FROM stops").fetchone()[0] == 0
    assert warehouse.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_not_a_stop_file(warehouse, tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ContractError, match="not a stop file"):
        import_stops(warehouse, [tmp_path / "x.csv"])
    with pytest.raises(ContractError, match="no such file"):
        import_stops(warehouse, [tmp_path / "missing.csv"])


ROW_VALUE = st.one_of(
    st.sampled_from(["", "B2", "W1", "not_stated", "Martian", "IC3", "IC8", "2021-01-01T10:00", "x", "51.5", "95", "true"]),
    st.text(alphabet="abc019-:T ", max_size=12),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ROW_VALUE, ROW_VALUE, ROW_VALUE, ROW_VALUE, ROW_VALUE), min_size=1, max_size=12))
def test_read_equals_loaded_plus_quarantined(tmp_path_factory, rows):
    from harmlens.warehouse import connect

    d = tmp_path_factory.mktemp("h")
    lines = ["stop_id,occurred_at,legislation,self_defined_ethnicity,officer_defined_ethnicity,latitude"]
    for i, (a, b, c, e, lat) in enumerate(rows):
        sid = f"s{i % 5}"  # some duplicate ids
        lines.append(",".join([sid, b, c, a, e, lat]))
    (d / "stops.csv").write_text("\n".join(lines) + "\n")
    con = connect(":memory:")
    rep = import_stops(con, [d / "stops.csv"])
    f = rep.files[0]
    assert f.read == len(rows) == f.loaded + f.quarantined
    assert con.execute("SELECT count(*) FROM stops").fetchone()[0] == f.loaded
    bad_lines = {r[0] for r in con.execute("SELECT DISTINCT line FROM quarantine").fetchall()}
    assert len(bad_lines) == f.quarantined
    con.close()


def test_contract_folder_ignores_other_tables_and_subfolders(warehouse, tmp_path):
    (tmp_path / "stops.csv").write_text("stop_id,occurred_at,legislation\nx1,2021-01-01T10:00,s163\n")
    (tmp_path / "population.csv").write_text("area,ethnicity_group,population\nA,White,1\n")
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "stops.csv").write_text("stop_id,ethnicity_group\nx1,White\n")
    rep = import_stops(warehouse, [tmp_path])
    assert [f.file.rsplit("/", 1)[-1] for f in rep.files] == ["stops.csv"] and rep.totals()["loaded"] == 1
    assert any(i.endswith("population.csv") for i in rep.ignored) and any(i.endswith("truth/") for i in rep.ignored)
