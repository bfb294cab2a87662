"""Property: whatever the extract, every row is loaded or quarantined with a reason, never both, never neither."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.contract import ingest
from harmlens.warehouse import connect

ids = st.sampled_from(["e1", "e2", "e3", "e4", "", " e5 "])
mids = st.sampled_from(["m1", "m2", "m3", "m4", "m5", ""])
dates = st.one_of(
    st.sampled_from(["2024-01-01", "2024-02-30", "", "2024-13-01", "2024-05-05T10:00:00", "2024-05-05T10:00:00+01:00", "x"]),
    st.dates().map(str),
)
junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
event_row = st.fixed_dictionaries({
    "event_id": ids,
    "source": st.sampled_from(["crime", "", "custody"]),
    "event_type": st.sampled_from(["offence", "custody", "order", "bogus", ""]),
    "occurred_at": dates,
    "ends_at": st.sampled_from(["", "2023-01-01", "2025-01-01", "nope"]),
    "outcome": st.sampled_from(["", "nfa", "Charged", "lost"]),
    "domestic": st.sampled_from(["", "true", "0", "perhaps"]),
    "latitude": st.sampled_from(["", "51.5", "200", "abc"]),
    "note": junk,
})
people_row = st.fixed_dictionaries({
    "mention_id": mids,
    "event_id": st.sampled_from(["e1", "e2", "e3", "e9", ""]),
    "role": st.sampled_from(["suspect", "victim", "Witness", "boss", ""]),
    "date_of_birth": dates,
    "sex": st.sampled_from(["", "male", "F", "female"]),
    "forename": junk,
})


def to_csv(rows: list[dict], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


_CON = None


def _fresh_warehouse():
    """One migrated in-memory warehouse for the whole property run, emptied between examples
    (migrating a new one per example costs more than the example)."""
    global _CON
    if _CON is None:
        _CON = connect(":memory:")
    for t in ("people", "events", "quarantine", "changes", "loads", "load_files"):
        _CON.execute(f"DELETE FROM {t}")
    return _CON


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(event_row, max_size=12), st.lists(people_row, max_size=12))
def test_every_row_loaded_or_quarantined_exactly_once(tmp_path_factory, events, people):
    folder = tmp_path_factory.mktemp("x")
    (folder / "events.csv").write_text(to_csv(events, ["event_id", "source", "event_type", "occurred_at", "ends_at", "outcome", "domestic", "latitude", "note"]))
    (folder / "people.csv").write_text(to_csv(people, ["mention_id", "event_id", "role", "date_of_birth", "sex", "forename"]))
    con = _fresh_warehouse()
    rep = ingest(con, folder)
    for t in rep.tables:
        n_rows = len(events) if t.table == "events" else len(people)
        assert t.read == n_rows
        assert t.read == t.loaded + t.quarantined
        qlines = {r[0] for r in con.execute("SELECT DISTINCT line FROM quarantine WHERE table_name=?", [t.table]).fetchall()}
        assert len(qlines) == t.quarantined  # one distinct line per quarantined row
        assert con.execute("SELECT count(*) FROM quarantine WHERE table_name=? AND (reason IS NULL OR reason='')", [t.table]).fetchone()[0] == 0
        assert con.execute(f"SELECT count(*) FROM {t.table}").fetchone()[0] == t.loaded
    # Loaded people always point at a loaded event.
    assert con.execute("SELECT count(*) FROM people p ANTI JOIN events e USING (event_id)").fetchone()[0] == 0
