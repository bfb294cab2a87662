"""The whole pipeline on the synthetic city: the audit flags injected unequal policing, and only then.

The generator's policing-intensity bias multiplies the chance that an offence by a Black
offender is recorded (here 3x, areas equal); offending itself does not depend on ethnicity. So
with the bias on, Black people are over-represented on a V100 list made from recorded
allegations, and the audit must flag "share of the list vs share of residents" for Black people;
with it off, nothing about ethnicity's composition may be flagged. Three seeds each.

Small on purpose (120,000 residents, about 2,200 scored suspects, a list of 500): large enough
that a real 1.5-2x over-representation has a simultaneous 99% interval clear of the 1.25 bound,
small enough to run in seconds. Linking uses the generator's truth (mention -> person), so this
tests the audit, not the linker; harm weights, features, labels and the list are the real stages.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

SEEDS = (1, 2, 3)
PEOPLE = 120_000
TOP = 500
AS_OF = "2024-01-01"


def _city(tmp_path, seed: int, bias: bool, mult: float = 3.0):
    from harmlens.contract.load import ingest
    from harmlens.harm.offence_map import apply_offence_map
    from harmlens.synth import SynthConfig, generate, link_by_truth
    from harmlens.warehouse import connect

    out = tmp_path / f"city{seed}{'on' if bias else 'off'}{mult}"
    cfg = SynthConfig(people=PEOPLE, seed=seed, policing_bias=bias, policing_group_multipliers={"Black": mult},
                      policing_area_multipliers={}, vawg_offender_share_male=0.3, mean_rate=0.03, history_years=4,
                      stops_per_1000=0.0)
    generate(cfg, out)
    con = connect(out / "wh.duckdb")
    ingest(con, out)
    link_by_truth(con, out)
    apply_offence_map(con)
    return con, out


def _composition_flags(con):
    from harmlens.audit.core import audit_scored
    from harmlens.groupmetrics.groups import population_counts
    from harmlens.audit.warehouse import load_scored

    sc, _, src = load_scored(con, as_of=AS_OF, top=TOP)
    assert src.method == "v100" and int(sc["listed"].sum()) == TOP
    res = audit_scored(sc, population=population_counts(con), n_boot=200, dimensions=("ethnicity",))
    return res, res.flagged("ethnicity", "list_vs_population")


@pytest.mark.parametrize("seed", SEEDS)
def test_unequal_policing_flagged_only_when_on(tmp_path, seed):
    con, _ = _city(tmp_path, seed, bias=True)
    try:
        res, flags = _composition_flags(con)
    finally:
        con.close()
    over = [f for f in flags if f["direction"] == "over"]
    assert [f["group"] for f in over] == ["Black"], res.findings()
    assert over[0]["low"] > 1.25

    con, _ = _city(tmp_path, seed, bias=False)
    try:
        res, flags = _composition_flags(con)
    finally:
        con.close()
    # the fair city: Black people are not flagged in any test. Small groups (Other, about 7% of
    # residents) can still be flagged by chance in a fair city on some seeds (seed 3 here: Other
    # 1.57 times its resident share, interval 1.08-2.13); the bench reports how often.
    assert not [f for f in res.flags if f["group"] == "Black"], res.findings()
    ratio = res.dimensions["ethnicity"].shares.compare("list", "population").loc["Black", "value"]
    assert 0.7 < ratio < 1.35


def test_moderate_injected_over_representation_is_flagged(tmp_path):
    """Policing 1.3x for Black offenders: the list ratio's interval is above 1 but its lower end below
    1.25, which the old rule (whole interval above 1.25) did not flag and the current rule does."""
    con, _ = _city(tmp_path, 1, bias=True, mult=1.3)
    try:
        res, flags = _composition_flags(con)
    finally:
        con.close()
    black = [f for f in flags if f["group"] == "Black"]
    assert black and 1 < black[0]["low"] < 1.25 < black[0]["value"], res.findings()
    assert "nothing" not in res.headline()


def test_full_warehouse_audit_and_report(tmp_path):
    """The whole audit (proxies, label bias, outcomes), its CLI, run log and transparency record."""
    from typer.testing import CliRunner

    from harmlens.cli import app

    con, out = _city(tmp_path, 1, bias=True)
    con.close()
    rep = tmp_path / "report"
    res = CliRunner().invoke(app, ["audit", "--db", str(out / "wh.duckdb"), "--as-of", AS_OF, "--top", str(TOP),
                                   "--n-boot", "100", "--out", str(rep), "--print", "none", "--format", "html,json"])
    assert res.exit_code == 0, res.output
    d = json.loads((rep / "audit.json").read_text())
    assert d["list_size"] == TOP and d["as_of"] == AS_OF
    assert any(f["group"] == "Black" and f["test"] == "list_vs_population" for f in d["flags"])
    assert set(d["dimensions"]) == {"ethnicity", "age_band", "sex", "borough"}
    eth = d["dimensions"]["ethnicity"]
    assert set(eth["errors"]) == {"allegation", "charge", "conviction"}
    assert eth["errors"]["allegation"]["by_group"]["White"]["false_positive_rate"] is not None
    # proxy scan ran on the model inputs; ethnicity was never one of them
    assert d["proxy"]["macro_auc"] is not None and 0.3 < d["proxy"]["macro_auc"] < 1.0
    assert all("ethnic" not in r["feature"] for r in d["proxy"]["importance"])
    lb = d["label_bias"]
    assert lb["labels"] == ["allegation", "charge", "conviction"]
    assert set(lb["overlap_with_actual_list"]) == {"allegation", "charge", "conviction"}
    oc = d["outcomes"]
    assert oc["n_matched"] > 0 and oc["follow_up_days"] == 365
    assert {r["outcome"] for r in oc["table"]} >= {"offences", "arrests", "charges", "victims_revictimised"}
    page = (rep / "audit.html").read_text()
    assert page.count("<svg") >= 4 and 'href="transparency.html"' in page
    assert not (rep / "audit.pdf").exists()  # --format html,json: PDF rendering is covered by the COMPAS CLI test
    rec = json.loads((rep / "transparency.json").read_text())
    assert rec["risks_mitigations_and_impact"]["latest_audit"]["flags"]
    assert (rep / "transparency.html").exists() and (rep / "transparency.md").exists()
    from harmlens.warehouse import connect

    con = connect(out / "wh.duckdb")
    try:
        runs = con.execute("SELECT list_id, n_flags FROM audit_runs").fetchall()
        recs = con.execute("SELECT model_version FROM transparency_records").fetchall()
    finally:
        con.close()
    assert len(runs) == 1 and runs[0][1] == len(d["flags"])
    assert recs == [("v100",)]


def test_stored_list_is_the_default_input(tmp_path):
    """A list stored by the rank area (here a V100 list) is what the audit audits when none is named."""
    from harmlens.audit.warehouse import audit_warehouse
    from harmlens.harm.ranking import rank

    con, _ = _city(tmp_path, 2, bias=True)
    try:
        r = rank(con, "v100", AS_OF, top=50)
        ids = list(r.priority["person_id"].astype(str))
        con.execute("INSERT INTO priority_lists VALUES ('offenders:v100:2024-01-01', 'offenders', 'v100', ?, now(), "
                    "now(), now() + INTERVAL 30 DAY, NULL, NULL, ?, NULL)", [pd.Timestamp(AS_OF), len(ids)])
        con.executemany("INSERT INTO priority_entries (list_id, rank, person_id, score) VALUES (?, ?, ?, ?)",
                        [("offenders:v100:2024-01-01", i + 1, pid, 0.0) for i, pid in enumerate(ids)])
        # the scored cohort as rank stores it with a list: everyone scored, not only those listed
        cohort = _v100_cohort(con)
        con.executemany("INSERT INTO rank_cohort VALUES (?, ?, ?, ?, ?)",
                        [("offenders:v100:2024-01-01", pid, pd.Timestamp(AS_OF), s, s) for pid, s in cohort.items()])
        res = audit_warehouse(con, top=100, n_boot=50, proxy=False)
    finally:
        con.close()
    assert res.list_id == "offenders:v100:2024-01-01"
    assert res.list_size == len(ids) and res.as_of == AS_OF
    assert res.model["method"] == "stored list"
    assert res.scored_size == len(cohort)


def _v100_cohort(con) -> pd.Series:
    from harmlens.features import scored_population
    from harmlens.harm.ranking import get_method

    pop = [str(p) for p in scored_population(con, AS_OF)]
    sc = get_method("v100").scorer(con, pd.Timestamp(AS_OF).to_pydatetime())
    return sc.assign(person_id=sc["person_id"].astype(str)).set_index("person_id")["score"].astype(float).reindex(pop).fillna(0.0)


def test_a_stored_list_without_its_cohort_is_a_clear_error(tmp_path):
    """The audit reads the cohort rank stored; it never scores again, so a list stored without one is refused."""
    from harmlens.audit.warehouse import audit_warehouse
    from harmlens.errors import HarmlensError

    con, _ = _city(tmp_path, 2, bias=False)
    try:
        con.execute("INSERT INTO priority_lists VALUES ('offenders:v100:2024-01-01', 'offenders', 'v100', ?, now(), "
                    "now(), now() + INTERVAL 30 DAY, NULL, NULL, 0, NULL)", [pd.Timestamp(AS_OF)])
        with pytest.raises(HarmlensError, match="without its scored cohort"):
            audit_warehouse(con, top=100, n_boot=50, proxy=False)
    finally:
        con.close()


def test_people_acted_on_are_compared_with_similar_people_not_acted_on(tmp_path):
    """Casework actions dated in the 90 days after the list date make the 'acted on' group; an action after the
    window, a decision to take no action, and a person not scored on that date do not count."""
    from harmlens.audit.outcomes import acted_on_monitoring
    from harmlens.audit.warehouse import audit_warehouse, load_scored, warehouse_body

    con, _ = _city(tmp_path, 2, bias=False)
    try:
        sc, _, src = load_scored(con, as_of=AS_OF, top=TOP)
        top = sc.sort_values("score", ascending=False)["person_id"].astype(str).tolist()
        acted, late, declined = top[:40], top[40], top[41]
        actions = pd.DataFrame(
            [{"person_id": p, "action": "marac_referral", "action_date": "2024-02-01"} for p in acted]
            + [{"person_id": late, "action": "arrest", "action_date": "2024-06-01"},
               {"person_id": declined, "action": "no_action", "action_date": "2024-01-15"},
               {"person_id": "not-a-scored-person", "action": "arrest", "action_date": "2024-01-10"}])
        mon = acted_on_monitoring(con, sc, actions, src.as_of, 365, n_boot=50)
        assert mon is not None and mon.n_listed == 40
        assert 0 < mon.n_matched <= 40
        assert set(mon.table["outcome"]) and mon.table[["listed", "comparison"]].notna().all().all()
        assert any("40 scored people" in n and "1 people acted on were not scored" in n for n in mon.notes)
        # through the whole audit: the report has the section, the JSON the numbers
        res = audit_warehouse(con, as_of=AS_OF, top=TOP, n_boot=50, proxy=False, actions=actions)
    finally:
        con.close()
    assert res.acted_on is not None and res.acted_on.n_listed == 40
    assert "People acted on against similar people not acted on" in warehouse_body(res)
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["acted_on"]["n_listed"] == 40
