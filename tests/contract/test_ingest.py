"""Contract rules, quarantine, atomicity and idempotence of ingest, on small files with written-down truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from harmlens.contract import ingest
from harmlens.errors import ContractError, UnparseableFileError

EVENTS_HEADER = "event_id,source,event_type,offence_code,occurred_at,ends_at,outcome,domestic,borough,latitude,longitude,crime_ref\n"
PEOPLE_HEADER = "mention_id,event_id,role,forename,surname,date_of_birth,sex,postcode,person_ref,self_defined_ethnicity,officer_defined_ethnicity,relationship_to_suspect\n"


def write(folder: Path, events: str, people: str, **others: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.csv").write_text(EVENTS_HEADER + events)
    (folder / "people.csv").write_text(PEOPLE_HEADER + people)
    for name, text in others.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


GOOD_EVENTS = (
    "e1,crime,offence,008/10,2024-01-02T10:00:00,,nfa,true,Camden,51.55,-0.14,\n"
    "e2,custody,custody,,2024-03-01,2024-06-01,,,,,,\n"
    "e3,crime,arrest,,2024-01-03T09:00:00+00:00,,,,,,,e1\n"
)
GOOD_PEOPLE = (
    "m1,e1,suspect,John,Smith,1980-05-06,male,NW1 2AB,PNC1,W1,IC1,\n"
    "m2,e1,victim,Jane,Doe,1985-01-03,female,NW1 2AB,,B2,IC3,partner\n"
    "m3,e2,subject,John,Smith,1980-05-06,male,,PNC1,,,\n"
)


def quarantine(con) -> pd.DataFrame:
    return con.execute("SELECT table_name, line, column_name, value, reason FROM quarantine ORDER BY table_name, line").df()


def test_clean_extract_loads_everything_with_types_and_extras(tmp_path, warehouse):
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS, GOOD_PEOPLE))
    stats = rep.to_frame().set_index("table")
    assert stats.loc["events", ["read", "loaded", "quarantined"]].tolist() == [3, 3, 0]
    assert stats.loc["people", ["read", "loaded", "quarantined"]].tolist() == [3, 3, 0]
    row = warehouse.execute("SELECT outcome, domestic, latitude, occurred_at FROM events WHERE event_id='e1'").fetchone()
    assert row[0] == "nfa" and row[1] is True and row[2] == pytest.approx(51.55)
    # An offset is converted to London wall time (BST does not apply in January: same clock time).
    assert str(warehouse.execute("SELECT occurred_at FROM events WHERE event_id='e3'").fetchone()[0]) == "2024-01-03 09:00:00"
    # Unknown columns are kept, not an error.
    assert warehouse.execute("SELECT extra->>'crime_ref' FROM events WHERE event_id='e3'").fetchone()[0] == "e1"
    assert warehouse.execute("SELECT outcome FROM events WHERE event_id='e2'").fetchone()[0] == "unknown"


def test_summer_offset_converted_to_bst_wall_time(tmp_path, warehouse):
    ev = "e1,crime,offence,,2024-07-01T09:00:00Z,,,,,,,\n"
    ingest(warehouse, write(tmp_path / "x", ev, ""))
    assert str(warehouse.execute("SELECT occurred_at FROM events").fetchone()[0]) == "2024-07-01 10:00:00"


@pytest.mark.parametrize(
    "event_row, column, reason_part",
    [
        (",crime,offence,,2024-01-01,,,,,,,\n", "event_id", "missing required field event_id"),
        ("e9,,offence,,2024-01-01,,,,,,,\n", "source", "missing required field source"),
        ("e9,crime,offense,,2024-01-01,,,,,,,\n", "event_type", "unknown event_type"),
        ("e9,crime,offence,,2024-02-30,,,,,,,\n", "occurred_at", "unparseable occurred_at"),
        ("e9,crime,offence,,yesterday,,,,,,,\n", "occurred_at", "unparseable occurred_at"),
        ("e9,crime,offence,,,,,,,,,\n", "occurred_at", "missing required field occurred_at"),
        ("e9,crime,order,,2024-05-01,2024-04-01,,,,,,\n", "ends_at", "ends_at is before occurred_at"),
        ("e9,crime,offence,,2024-01-01,,dismissed,,,,,\n", "outcome", "unknown outcome"),
        ("e9,crime,offence,,2024-01-01,,,maybe,,,,\n", "domestic", "domestic is not true/false"),
        ("e9,crime,offence,,2024-01-01,,,,,91,,\n", "latitude", "latitude above 90"),
        ("e9,crime,offence,,2024-01-01,,,,,north,,\n", "latitude", "latitude is not a number"),
        ("e1,crime,offence,,2024-01-01,,,,,,,\n", "event_id", "duplicate event_id (first at line 2)"),
    ],
)
def test_each_event_rule_quarantines_with_reason(tmp_path, warehouse, event_row, column, reason_part):
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS + event_row, GOOD_PEOPLE))
    ev = rep.to_frame().set_index("table").loc["events"]
    assert (ev["read"], ev["loaded"], ev["quarantined"]) == (4, 3, 1)
    q = quarantine(warehouse)
    hit = q[(q.table_name == "events") & (q.line == 5)]
    assert len(hit) >= 1
    assert hit.iloc[0]["column_name"] == column and reason_part in hit.iloc[0]["reason"]
    assert warehouse.execute("SELECT count(*) FROM quarantine WHERE file = ?", [str(tmp_path / "x" / "events.csv")]).fetchone()[0] >= 1


@pytest.mark.parametrize(
    "people_row, column, reason_part",
    [
        ("m9,e404,suspect,,,,,,,,,\n", "event_id", "does not exist in events"),
        ("m9,e1,perp,,,,,,,,,\n", "role", "unknown role"),
        ("m9,e1,suspect,,,1980-13-01,,,,,,\n", "date_of_birth", "unparseable date_of_birth"),
        ("m9,e1,suspect,,,,man,,,,,\n", "sex", "unknown sex"),
        ("m9,e1,suspect,,,,,,,Z9,,\n", "self_defined_ethnicity", "unknown self_defined_ethnicity"),
        ("m9,e1,suspect,,,,,,,,IC7,\n", "officer_defined_ethnicity", "unknown officer_defined_ethnicity"),
        ("m9,e1,victim,,,,,,,,,spouse\n", "relationship_to_suspect", "unknown relationship_to_suspect"),
        ("m1,e1,victim,,,,,,,,,\n", "mention_id", "duplicate mention_id"),
    ],
)
def test_each_people_rule_quarantines_with_reason(tmp_path, warehouse, people_row, column, reason_part):
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS, GOOD_PEOPLE + people_row))
    pe = rep.to_frame().set_index("table").loc["people"]
    assert (pe["read"], pe["loaded"], pe["quarantined"]) == (4, 3, 1)
    q = quarantine(warehouse)
    hit = q[(q.table_name == "people") & (q.line == 5)]
    assert hit.iloc[0]["column_name"] == column and reason_part in hit.iloc[0]["reason"]


def test_people_of_a_quarantined_event_are_quarantined_too(tmp_path, warehouse):
    ev = GOOD_EVENTS + "e9,crime,offence,,not-a-date,,,,,,,\n"
    pe = GOOD_PEOPLE + "m9,e9,suspect,,,,,,,,,\n"
    ingest(warehouse, write(tmp_path / "x", ev, pe))
    q = quarantine(warehouse)
    assert "event_id e9 was quarantined in events (line 5)" in q[q.table_name == "people"].reason.tolist()


def test_row_with_wrong_field_count_is_quarantined_not_fatal(tmp_path, warehouse):
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS + "e9,crime,offence\n", GOOD_PEOPLE))
    ev = rep.to_frame().set_index("table").loc["events"]
    assert (ev["read"], ev["loaded"], ev["quarantined"]) == (4, 3, 1)
    assert "row has 3 fields, header has 12" in quarantine(warehouse).reason.tolist()


def test_optional_tables_validated(tmp_path, warehouse):
    ra = "assessment_id,mention_id,assessed_at,score,level\na1,m2,2024-01-05,15,high\na2,m2,2024-01-06,31,high\na3,m404,2024-01-06,3,standard\n"
    pop = "area,ethnicity_group,population\nCamden,White,100\nCamden,Black,-5\n"
    om = "pattern_type,pattern,category,vawg,violent,sexual,harm_weight\nregex,(unclosed,other,false,false,false,1\ncode,X1,other,false,false,false,2\n"
    rep = ingest(warehouse, write(tmp_path / "x", GOOD_EVENTS, GOOD_PEOPLE, risk_assessments=ra, population=pop, offence_map=om))
    s = rep.to_frame().set_index("table")
    assert s.loc["risk_assessments", "loaded"] == 1 and s.loc["risk_assessments", "quarantined"] == 2
    assert s.loc["population", "loaded"] == 1 and s.loc["offence_map", "loaded"] == 1
    reasons = set(quarantine(warehouse).reason)
    assert {"score above 27", "mention_id m404 does not exist in people", "population below 0",
            "pattern is not a valid regular expression"} <= reasons
    assert warehouse.execute("SELECT tool FROM risk_assessments").fetchone()[0] == "DASH"


def test_reload_is_a_no_op(tmp_path, warehouse):
    folder = write(tmp_path / "x", GOOD_EVENTS + "bad,crime,offence,,nope,,,,,,,\n", GOOD_PEOPLE)
    ingest(warehouse, folder)
    before = {t: warehouse.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("events", "people", "quarantine", "loads", "changes")}
    rep = ingest(warehouse, folder)
    assert rep.load_id is None and not any(t.inserted or t.updated for t in rep.tables)
    after = {t: warehouse.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in before}
    assert before == after


def test_newer_extract_upserts_and_records_changes(tmp_path, warehouse):
    ingest(warehouse, write(tmp_path / "a", GOOD_EVENTS, GOOD_PEOPLE))
    newer = GOOD_EVENTS.replace("e1,crime,offence,008/10,2024-01-02T10:00:00,,nfa", "e1,crime,offence,008/10,2024-01-02T10:00:00,,charged")
    newer += "e4,crime,offence,,2024-04-01,,,,,,,\n"
    rep = ingest(warehouse, write(tmp_path / "b", newer, GOOD_PEOPLE))
    ev = rep.to_frame().set_index("table").loc["events"]
    assert (ev["inserted"], ev["updated"], ev["unchanged"]) == (1, 1, 2)
    assert warehouse.execute("SELECT outcome FROM events WHERE event_id='e1'").fetchone()[0] == "charged"
    ch = warehouse.execute("SELECT row_id, change, before->>'outcome', after->>'outcome' FROM changes WHERE load_id=? AND table_name='events' ORDER BY row_id",
                           [rep.load_id]).fetchall()
    assert ch == [("e1", "update", "nfa", "charged"), ("e4", "insert", None, None)]


def _content_digest(con) -> str:
    h = hashlib.sha256()
    for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='main' ORDER BY 1").fetchall():
        h.update(repr(con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()).encode())
    return h.hexdigest()


@pytest.mark.parametrize(
    "name, payload, where",
    [
        ("people.csv", "mention_id,event_id,role\nm9,e1,suspect\n".encode("utf-16"), "not UTF-8"),
        ("people.csv", b"mention_id,event_id,role\nm9,e1,\x00\x01\x02\n", "NUL byte"),
        ("people.csv", b'mention_id,event_id,role\nm9,e1,"suspect\n', "line 2"),
        ("people.parquet", b"PAR1\x00\x00junk", "not a readable Parquet file"),
    ],
)
def test_unparseable_file_stops_load_and_leaves_warehouse_unchanged(tmp_path, warehouse, name, payload, where):
    ingest(warehouse, write(tmp_path / "a", GOOD_EVENTS, GOOD_PEOPLE))
    digest = _content_digest(warehouse)
    folder = write(tmp_path / "b", GOOD_EVENTS.replace("nfa", "charged") + "e7,crime,offence,,2024-05-01,,,,,,,\n", "")
    (folder / "people.csv").unlink()
    (folder / name).write_bytes(payload)
    with pytest.raises(UnparseableFileError) as exc:
        ingest(warehouse, folder)
    assert name in str(exc.value) and where in str(exc.value) and "\n" not in str(exc.value)
    assert _content_digest(warehouse) == digest


def test_missing_required_table_is_one_clear_error(tmp_path, warehouse):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "events.csv").write_text(EVENTS_HEADER)
    with pytest.raises(ContractError, match="people.csv or people.parquet"):
        ingest(warehouse, folder)


def test_parquet_input_equivalent_to_csv(tmp_path, warehouse):
    src = write(tmp_path / "csv", GOOD_EVENTS, GOOD_PEOPLE)
    pq = tmp_path / "pq"
    pq.mkdir()
    ev = pd.read_csv(src / "events.csv", dtype=str, keep_default_na=False)
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"], format="ISO8601", utc=True).dt.tz_convert("Europe/London").dt.tz_localize(None)
    ev["latitude"] = pd.to_numeric(ev["latitude"])
    ev.to_parquet(pq / "events.parquet")
    pd.read_csv(src / "people.csv", dtype=str, keep_default_na=False).to_parquet(pq / "people.parquet")
    rep = ingest(warehouse, pq)
    assert rep.to_frame()["quarantined"].sum() == 0 and rep.to_frame()["loaded"].tolist() == [3, 3]
    assert str(warehouse.execute("SELECT occurred_at FROM events WHERE event_id='e3'").fetchone()[0]) == "2024-01-03 09:00:00"


def _long_extract(folder: Path) -> Path:
    """23 events and 30 people as Parquet, with written-down faults spread over the file: a
    duplicate event id far from its first line, a person on an unknown event, a bad date."""
    folder.mkdir(parents=True)
    ev = pd.DataFrame({"event_id": [f"e{i}" for i in range(22)] + ["e3"], "source": "crime", "event_type": "offence",
                       "occurred_at": [f"2024-01-{1 + i % 28:02d}T10:00:00" for i in range(23)]})
    ev.loc[9, "occurred_at"] = "not a date"
    ev.to_parquet(folder / "events.parquet")
    ppl = pd.DataFrame({"mention_id": [f"m{i}" for i in range(30)], "event_id": [f"e{i % 22}" for i in range(30)],
                        "role": "suspect", "forename": "Ann", "surname": "Lee", "date_of_birth": "1980-01-01"})
    ppl.loc[25, "event_id"] = "e99"
    ppl.to_parquet(folder / "people.parquet")
    return folder


@pytest.mark.parametrize("part_rows", [4, 7, 1000])
def test_a_long_parquet_file_read_in_parts_loads_as_one(tmp_path, monkeypatch, part_rows):
    """Parts keep every rule that spans the file: duplicates across parts, references to rows
    loaded in an earlier part, line numbers, and read = loaded + quarantined."""
    import harmlens.contract.read as read
    from harmlens.warehouse import connect

    monkeypatch.setattr(read, "PARQUET_PART_ROWS", part_rows)
    con = connect(tmp_path / "wh.duckdb")
    rep = ingest(con, _long_extract(tmp_path / "x")).to_frame().set_index("table")
    assert rep.loc["events", ["read", "loaded", "quarantined"]].tolist() == [23, 21, 2]
    assert rep.loc["people", ["read", "loaded", "quarantined"]].tolist() == [30, 28, 2]
    q = quarantine(con)
    assert q[q.table_name == "events"][["line", "reason"]].values.tolist()[1] == [23, "duplicate event_id (first at line 4)"]
    assert q[q.table_name == "events"]["line"].tolist() == [10, 23]
    # e9 was quarantined, so its person (line 10) is too, saying where e9 was; e99 never existed
    people = q[q.table_name == "people"]
    assert people[["line", "reason"]].values.tolist() == [
        [10, "event_id e9 was quarantined in events (line 10)"], [26, "event_id e99 does not exist in events"]]
    assert con.execute("SELECT count(*) FROM people").fetchone()[0] == 28
    con.close()
