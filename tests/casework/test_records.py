"""Casework records: every problem reported at once, actions dated, the history kept across lists."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.casework import CaseworkError, actions_frame, add_note, assign, case, history, leave_list, load_vocabulary, record_action


@pytest.fixture
def store(tmp_path):
    from harmlens.web.store import Store

    s = Store(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield s
    s.close()


def test_assign_lists_every_problem_at_once(store):
    with pytest.raises(CaseworkError) as e:
        assign(store, "", "", "done", by="ana", officers=["olly"])
    assert {p["field"] for p in e.value.problems} == {"person_id", "officer", "status"}
    with pytest.raises(CaseworkError) as e:
        assign(store, "P1", "mallory", "new", by="ana", officers=["olly"])
    assert [p["field"] for p in e.value.problems] == ["officer"]
    assert case(store, "P1") is None  # nothing half-written


def test_action_needs_a_date_not_in_the_future_and_a_reason_for_no_action(store):
    with pytest.raises(CaseworkError) as e:
        record_action(store, "P1", "no_action", "2999-01-01", by="olly", today=date(2025, 1, 10))
    assert {p["field"] for p in e.value.problems} == {"action_date", "reason"}
    with pytest.raises(CaseworkError) as e:
        record_action(store, "P1", "teleport", "yesterday", by="olly")
    assert {p["field"] for p in e.value.problems} == {"action", "action_date"}


def test_history_across_lists_and_actions(store):
    assign(store, "P1", "olly", "under review", by="ana", list_id="offenders:risk:2024-07-01", officers=["olly"])
    record_action(store, "P1", "marac_referral", "2024-07-03", by="olly", today=date(2025, 1, 1))
    add_note(store, "P1", "victim moved to a refuge", by="ana")
    record_action(store, "P1", "dvpn_dvpo", "2024-08-01", by="olly", list_id="offenders:risk:2024-08-01", today=date(2025, 1, 1))
    leave_list(store, "P1", "in custody", by="sue", list_id="offenders:risk:2024-09-01")
    h = history(store, "P1")
    assert [e["kind"] for e in h] == ["assigned", "action", "note", "action", "left_list"]
    assert {e["list_id"] for e in h} >= {"offenders:risk:2024-07-01", "offenders:risk:2024-08-01", "offenders:risk:2024-09-01"}
    c = case(store, "P1")
    assert c["status"] == "closed" and c["assigned_to"] == "olly"
    # Outcome monitoring reads the actions with the dates they were taken.
    assert [(a["action"], a["action_date"]) for a in actions_frame(store)] == [("marac_referral", "2024-07-03"), ("dvpn_dvpo", "2024-08-01")]
    with pytest.raises(CaseworkError):
        leave_list(store, "P1", "other", by="sue")  # 'other' needs a note


def test_vocabulary_extends_from_a_file(tmp_path):
    f = tmp_path / "actions.toml"
    f.write_text('[[action]]\ncode = "drive_programme"\nlabel = "Referral to the Drive programme"\n')
    v = load_vocabulary(f)
    assert v.get("drive_programme").label == "Referral to the Drive programme" and v.get("shpo") is not None
    f.write_text('[[action]]\ncode = "arrest"\nlabel = "Arrest (local)"\n')
    from harmlens.errors import HarmlensError

    with pytest.raises(HarmlensError, match="already defined"):
        load_vocabulary(f)


@settings(max_examples=40, deadline=None)
@given(action=st.text(max_size=20), day=st.text(max_size=12), reason=st.one_of(st.none(), st.text(max_size=20)))
def test_any_input_is_recorded_or_refused_with_reasons(tmp_path_factory, action, day, reason):
    from harmlens.web.store import Store

    s = Store(f"sqlite:///{tmp_path_factory.mktemp('h') / 'ops.sqlite'}")
    try:
        record_action(s, "P9", action, day, by="olly", reason=reason, today=date(2025, 1, 1))
        rows = actions_frame(s)
        assert len(rows) == 1 and date.fromisoformat(rows[0]["action_date"]) <= date(2025, 1, 1)
    except CaseworkError as exc:
        assert exc.problems and all(p["reason"] for p in exc.problems)
        assert actions_frame(s) == []
    finally:
        s.close()
