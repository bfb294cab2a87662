"""validate_stop: the one row rule set shared by file import and the web stop form."""

from __future__ import annotations

from datetime import datetime

from harmlens.stops.validate import validate_stop

GOOD = {
    "stop_id": "s1", "occurred_at": "2021-03-04T22:15:00", "legislation": "s163 Road Traffic Act 1988",
    "self_defined_ethnicity": "B2", "officer_defined_ethnicity": "IC3", "sex": "male", "age_range": "25-34",
    "borough": "Lambeth", "latitude": 51.46, "longitude": -0.11, "reason": "Routine check",
    "outcome": "A no further action disposal", "searched": False, "found": None,
}


def test_good_stop_is_typed():
    row, problems = validate_stop(GOOD)
    assert problems == []
    assert row["occurred_at"] == datetime(2021, 3, 4, 22, 15)
    assert row["self_defined_ethnicity"] == "B2" and row["officer_defined_ethnicity"] == "IC3"
    assert row["searched"] is False and row["found"] is None
    assert row["latitude"] == 51.46 and row["extra"] == {}


def test_both_ethnicities_are_kept_and_labels_are_mapped():
    row, problems = validate_stop(GOOD | {"self_defined_ethnicity": "Black/African/Caribbean/Black British - African",
                                          "officer_defined_ethnicity": "Black"})
    assert problems == []
    assert row["self_defined_ethnicity"] == "B2"
    assert row["officer_defined_ethnicity"] is None
    assert row["extra"]["officer_defined_group"] == "Black"
    assert row["extra"]["self_defined_ethnicity_as_published"].startswith("Black/African")


def test_not_stated_is_a_value():
    row, problems = validate_stop(GOOD | {"self_defined_ethnicity": "not_stated"})
    assert problems == [] and row["self_defined_ethnicity"] == "not_stated"
    row, _ = validate_stop(GOOD | {"self_defined_ethnicity": ""})
    assert row["self_defined_ethnicity"] is None


def test_offset_times_become_london_wall_time_and_date_only_is_flagged():
    row, _ = validate_stop(GOOD | {"occurred_at": "2016-06-01T21:30:00+00:00"})
    assert row["occurred_at"] == datetime(2016, 6, 1, 22, 30)  # BST
    row, _ = validate_stop(GOOD | {"occurred_at": "2016-12-01T21:30:00+00:00"})
    assert row["occurred_at"] == datetime(2016, 12, 1, 21, 30)  # GMT
    row, _ = validate_stop(GOOD | {"occurred_at": "2016-12-01"})
    assert row["extra"]["time_recorded"] == "false"


def test_every_problem_of_a_bad_row_is_reported():
    row, problems = validate_stop(GOOD | {"stop_id": "", "occurred_at": "2021-02-30T10:00", "legislation": "",
                                          "self_defined_ethnicity": "Martian", "officer_defined_ethnicity": "IC8",
                                          "latitude": 95, "searched": "perhaps", "age_range": "35-44"})
    assert row is None
    cols = sorted(p["column"] for p in problems)
    assert cols == sorted(["stop_id", "occurred_at", "legislation", "self_defined_ethnicity", "officer_defined_ethnicity",
                           "latitude", "searched", "age_range"])
    assert all(p["reason"] for p in problems)


def test_unknown_fields_pass_through_in_extra():
    row, problems = validate_stop(GOOD | {"vehicle_make": "Ford"})
    assert problems == [] and row["extra"] == {"vehicle_make": "Ford"}


def test_record_stop_saves_valid_and_rejects_invalid(warehouse):
    from harmlens.stops.importer import record_stop

    sid, problems = record_stop(warehouse, {k: v for k, v in GOOD.items() if k != "stop_id"})
    assert problems == [] and sid.startswith("form:")
    row = warehouse.execute("SELECT self_defined_ethnicity, officer_defined_ethnicity, json_extract_string(extra, '$.source_format') "
                            "FROM stops WHERE stop_id = ?", [sid]).fetchone()
    assert row == ("B2", "IC3", "form")
    sid2, problems = record_stop(warehouse, GOOD | {"stop_id": "", "self_defined_ethnicity": "Martian", "legislation": ""})
    assert sid2 is None and {p["column"] for p in problems} == {"self_defined_ethnicity", "legislation"}
    assert warehouse.execute("SELECT count(*) FROM stops").fetchone()[0] == 1
    # same id again with a change: an update, recorded in changes
    sid3, _ = record_stop(warehouse, GOOD | {"stop_id": sid, "outcome": "Arrest"})
    assert sid3 == sid and warehouse.execute("SELECT outcome FROM stops WHERE stop_id = ?", [sid]).fetchone()[0] == "Arrest"
    assert warehouse.execute("SELECT count(*) FROM changes WHERE row_id = ? AND change = 'update'", [sid]).fetchone()[0] == 1
