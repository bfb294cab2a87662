"""An incremental run clusters only the persons it can regroup (``warehouse._touched_records``):
what it must still see, and that its person count is the whole warehouse's."""

from __future__ import annotations

from harmlens.link.warehouse import link_warehouse

from .smallcity import load_into, make_people


def _persons(con) -> int:
    return con.execute("SELECT count(DISTINCT person_id) FROM links").fetchall()[0][0]


def test_incremental_run_joins_by_person_ref_and_counts_every_person(warehouse):
    con = warehouse
    rows = make_people(80)
    first = [r for r in rows if r["mention_id"] < "M00200"]
    load_into(con, first)
    s1 = link_warehouse(con)
    assert s1.persons == _persons(con)
    # a new mention nothing but its person_ref ties to an existing person: no name, date or
    # postcode in common, so no blocking rule pairs it; the shared ref alone must join it
    ref, pid = con.execute("""SELECT p.person_ref, l.person_id FROM people p JOIN links l USING (mention_id)
                              WHERE p.person_ref IS NOT NULL ORDER BY p.mention_id LIMIT 1""").fetchall()[0]
    load_into(con, [{"mention_id": "M99999", "event_id": "E99999", "role": "suspect", "forename": "Zebedee",
                     "surname": "Quaxworthy", "date_of_birth": "1901-02-03", "sex": "M", "postcode": "ZE1 0AA",
                     "person_ref": ref}])
    s2 = link_warehouse(con)
    assert s2.mode == "incremental"
    assert con.execute("SELECT person_id FROM links WHERE mention_id = 'M99999'").fetchall()[0][0] == pid
    # the count covers the persons the run did not touch as well as those it did
    assert s2.persons == _persons(con) == s1.persons


def test_incremental_run_with_the_rest_of_the_city_counts_every_person(warehouse):
    con = warehouse
    rows = make_people(80)
    load_into(con, [r for r in rows if r["mention_id"] < "M00200"])
    link_warehouse(con)
    load_into(con, [r for r in rows if r["mention_id"] >= "M00200"])
    s2 = link_warehouse(con)
    assert s2.mode == "incremental" and s2.persons == _persons(con)
    # a run with nothing new: no person touched, the same count
    s3 = link_warehouse(con)
    assert s3.new_mentions == 0 and s3.persons == s2.persons
