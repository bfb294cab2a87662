"""The offence map and weight tables: every shared code, refinements, user maps, unmapped handling."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.harm import (
    HarmError,
    apply_offence_map,
    canonical_code,
    load_weight_table,
    offence_harm_frame,
    unmapped_offences,
)
from tests.harm.world import World

# The shared code list from issue 4 (the synthetic city uses exactly these), with the category
# and the CCHI weight harmlens must give each when the event is not flagged domestic.
SHARED = [
    ("001/01", "Murder", "homicide", 5475.0),
    ("004/01", "Attempted murder", "homicide", 5475.0),
    ("005/01", "Wounding with intent to do grievous bodily harm", "violence_with_injury", 365.0),
    ("008/06", "Assault occasioning actual bodily harm", "violence_with_injury", 365.0),
    ("105/01", "Common assault and battery", "violence_without_injury", 10.0),
    ("009/01", "Threats to kill", "threats_to_kill", 10.0),
    ("008/10", "Harassment", "harassment", 10.0),
    ("008/71", "Stalking", "stalking", 10.0),
    ("008/66", "Controlling or coercive behaviour in an intimate or family relationship", "coercive_control", 10.0),
    ("019/07", "Rape of a female aged 16 or over", "rape", 2555.0),
    ("019/08", "Rape of a female child under 16", "rape", 2555.0),
    ("020/01", "Sexual assault on a female aged 13 and over", "other_sexual", 182.25),
    ("022/01", "Sexual activity involving a child under 16", "other_sexual", 182.25),
    ("088/10", "Female genital mutilation", "fgm", 365.0),
    ("195/12", "Breach of a restraining order", "breach_of_order", 10.0),
    ("195/94", "Breach of a non-molestation order", "breach_of_order", 10.0),
    ("028/01", "Burglary in a dwelling", "non_violent", 273.5),
    ("045/01", "Theft from a vehicle", "non_violent", 5.0),
    ("092/01", "Possession of a controlled drug", "non_violent", 3.0),
    ("058/01", "Criminal damage to a dwelling", "non_violent", 2.0),
]


def _one(con, code, desc=None, *, domestic=None, victim_sex="female", weights="cchi"):
    w = World(con)
    w.offence("e1", "2024-01-01", code, "P1", "V1", desc=desc, domestic=domestic, victim_sex=victim_sex)
    return offence_harm_frame(con, weights).set_index("event_id").loc["e1"]


@pytest.mark.parametrize("code,desc,category,weight", SHARED)
def test_every_shared_code_maps(warehouse, code, desc, category, weight):
    row = _one(warehouse, code, desc)
    assert row.offence_category == category
    assert row.harm_weight == weight
    assert row.weight_table == "cchi-subgroup-2026-v1"
    assert row.mapped_by == "builtin_code"


@pytest.mark.parametrize("code,desc,category,weight", SHARED)
def test_every_shared_description_maps_without_its_code(warehouse, code, desc, category, weight):
    # Extracts lose codes; the description patterns must land on the same category.
    row = _one(warehouse, None, desc)
    assert row.offence_category == category
    assert row.mapped_by == "builtin_regex"


def test_code_spellings_are_one_code():
    assert canonical_code("008/06") == canonical_code("8/6") == "8/6"
    assert canonical_code(" 19c ") == "19C"
    assert canonical_code("") is None and canonical_code(None) is None and canonical_code(float("nan")) is None


@pytest.mark.parametrize(
    "code,domestic,category,vawg,weight",
    [
        ("008/06", True, "domestic_violence_with_injury", True, 365.0),
        ("008/06", False, "violence_with_injury", False, 365.0),
        ("105/01", True, "domestic_violence_without_injury", True, 10.0),
        ("105/01", None, "violence_without_injury", False, 10.0),
        ("009/01", True, "threats_to_kill", True, 10.0),
        ("009/01", False, "threats_to_kill", False, 10.0),
        ("028/01", True, "non_violent", True, 273.5),
        ("028/01", False, "non_violent", False, 273.5),
    ],
)
def test_domestic_flag_refines_category_and_vawg(warehouse, code, domestic, category, vawg, weight):
    row = _one(warehouse, code, domestic=domestic)
    assert (row.offence_category, bool(row.vawg), row.harm_weight) == (category, vawg, weight)
    assert bool(row.domestic) == bool(domestic)


def test_honour_based_abuse_from_description(warehouse):
    row = _one(warehouse, "105/01", "Common assault (so-called honour-based abuse)", domestic=True)
    assert row.offence_category == "honour_based_abuse"
    assert bool(row.vawg) and bool(row.domestic)
    assert row.harm_weight == 10.0  # weight of the underlying code's subgroup, not a new number


def test_fgm_from_poisoning_or_fgm_code(warehouse):
    row = _one(warehouse, "8K", "Female genital mutilation")
    assert row.offence_category == "fgm" and bool(row.vawg)


@pytest.mark.parametrize("sex,domestic,vawg", [("female", False, True), ("male", False, False), ("male", True, True)])
def test_homicide_is_vawg_when_domestic_or_victim_female(warehouse, sex, domestic, vawg):
    row = _one(warehouse, "001/01", domestic=domestic, victim_sex=sex)
    assert bool(row.vawg) is vawg


def test_coercive_control_and_non_molestation_are_always_domestic(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-01-01", "008/66", "P1", "V1")
    w.offence("b", "2024-01-01", "195/94", "P1", "V1")
    w.offence("c", "2024-01-01", "195/12", "P1", "V1")
    df = offence_harm_frame(warehouse).set_index("event_id")
    assert bool(df.loc["a", "domestic"]) and bool(df.loc["b", "domestic"]) and not bool(df.loc["c", "domestic"])


def test_unmapped_are_listed_with_counts_and_never_weighted_zero(warehouse):
    w = World(warehouse)
    w.offence("a", "2024-01-01", "ZZ9", "P1", "V1", desc="Obscure local byelaw")
    w.offence("b", "2024-02-01", "ZZ9", "P2", "V1", desc="Obscure local byelaw")
    w.offence("c", "2024-02-01", "019/07", "P2", "V1")
    res = apply_offence_map(warehouse)
    assert (res.events, res.mapped, res.unmapped) == (3, 1, 2)
    rows = warehouse.execute("SELECT event_id, offence_category, harm_weight, weight_source FROM event_harm ORDER BY 1").fetchall()
    assert rows[0][1:] == ("unmapped", None, "none") and rows[1][1:] == ("unmapped", None, "none")
    un = unmapped_offences(warehouse)
    assert un[["status", "offence_code", "events"]].values.tolist() == [["unmapped", "ZZ9", 2]]
    assert res.by_category.set_index("offence_category").loc["unmapped", "harm_days"] is None or math.isnan(
        res.by_category.set_index("offence_category").loc["unmapped", "harm_days"]
    )


def test_apply_is_idempotent_and_records_runs(warehouse):
    World(warehouse).offence("a", "2024-01-01", "019/07", "P1", "V1")
    apply_offence_map(warehouse)
    first = warehouse.execute("SELECT * EXCLUDE (applied_at) FROM event_harm").fetchall()
    apply_offence_map(warehouse)
    assert warehouse.execute("SELECT * EXCLUDE (applied_at) FROM event_harm").fetchall() == first
    assert warehouse.execute("SELECT count(*) FROM harm_runs").fetchall()[0][0] == 2


def test_event_harm_has_the_interface_columns(warehouse):
    cols = [r[0] for r in warehouse.execute("SELECT column_name FROM information_schema.columns WHERE table_name='event_harm' ORDER BY ordinal_position").fetchall()]
    assert cols[:8] == ["event_id", "offence_category", "vawg", "domestic", "sexual", "violent", "harm_weight", "weight_table"]


# ---------------------------------------------------------------- user maps

def _user_map(con, rows):
    for r in rows:
        con.execute(
            "INSERT INTO offence_map (pattern_type, pattern, category, vawg, violent, sexual, harm_weight) VALUES (?, ?, ?, ?, ?, ?, ?)", r
        )


def test_user_map_in_warehouse_maps_another_code_system(warehouse):
    _user_map(warehouse, [
        ("code", "US-13A", "violence_with_injury", None, None, None, 400.0),
        ("regex", r"aggravated\s+menacing", "threats_to_kill", True, True, False, None),
        ("code", "LOCAL-1", "trespass", False, False, False, 3.0),
    ])
    w = World(warehouse)
    w.offence("a", "2024-01-01", "US-13A", "P1", "V1")
    w.offence("b", "2024-01-01", None, "P1", "V1", desc="Aggravated menacing of a partner")
    w.offence("c", "2024-01-01", "LOCAL-1", "P1", "V1")
    df = offence_harm_frame(warehouse).set_index("event_id")
    assert (df.loc["a", "offence_category"], df.loc["a", "harm_weight"], df.loc["a", "weight_source"]) == ("violence_with_injury", 400.0, "offence_map")
    assert (df.loc["b", "offence_category"], bool(df.loc["b", "vawg"]), df.loc["b", "harm_weight"]) == ("threats_to_kill", True, 10.0)
    assert (df.loc["c", "offence_category"], df.loc["c", "harm_weight"], bool(df.loc["c", "vawg"])) == ("trespass", 3.0, False)
    # Under a table in other units the user's day weight is not mixed in: the category weight applies.
    sev = offence_harm_frame(warehouse, "severity").set_index("event_id")
    assert sev.loc["a", "harm_weight"] == 35 and sev.loc["a", "weight_source"] == "category"
    assert pd.isna(sev.loc["c", "harm_weight"])  # unknown category, no weight: reported as unweighted


def test_user_map_overrides_builtin_code(warehouse, tmp_path):
    p = tmp_path / "map.csv"
    p.write_text("pattern_type,pattern,category,vawg,violent,sexual,harm_weight\ncode,8/71,stalking,true,false,false,365\n")
    World(warehouse).offence("a", "2024-01-01", "008/71", "P1", "V1")
    res = apply_offence_map(warehouse, offence_map=p)
    row = warehouse.execute("SELECT harm_weight, mapped_by FROM event_harm").fetchall()[0]
    assert row == (365.0, "user_code") and "map.csv" in res.map_source


@pytest.mark.parametrize(
    "body,msg",
    [
        ("pattern_type,pattern,category\nsql,x,rape\n", "not code or regex"),
        ("pattern_type,pattern,category\nregex,(unclosed,rape\n", "does not compile"),
        ("pattern_type,pattern,category,harm_weight\ncode,X,rape,-3\n", ">= 0"),
        ("pattern_type,pattern,category,vawg\ncode,X,rape,maybe\n", "not a boolean"),
        ("pattern,category\nX,rape\n", "missing column"),
    ],
)
def test_bad_user_map_is_one_clear_error(warehouse, tmp_path, body, msg):
    p = tmp_path / "map.csv"
    p.write_text(body)
    World(warehouse).offence("a", "2024-01-01", "008/71", "P1", "V1")
    with pytest.raises(HarmError, match=msg):
        apply_offence_map(warehouse, offence_map=p)


# ---------------------------------------------------------------- weight tables

def test_builtin_tables_are_named_and_versioned():
    assert load_weight_table("cchi").name == "cchi-subgroup-2026-v1"
    assert load_weight_table("severity").name == "harmlens-severity-v1"


def test_known_cchi_weakness_and_the_severity_alternative(warehouse):
    """CCHI weighs stalking, harassment and coercive control at 10 days against 2,555 for rape."""
    w = World(warehouse)
    for i, code in enumerate(["008/71", "008/10", "008/66", "019/07"]):
        w.offence(f"e{i}", "2024-01-01", code, "P1", "V1")
    c = offence_harm_frame(warehouse, "cchi").set_index("offence_category")["harm_weight"]
    s = offence_harm_frame(warehouse, "severity").set_index("offence_category")["harm_weight"]
    assert c["stalking"] == c["harassment"] == c["coercive_control"] == 10.0 and c["rape"] == 2555.0
    assert c["stalking"] / c["rape"] < 0.005
    assert s["stalking"] / s["rape"] > 0.4 and s["coercive_control"] / s["rape"] > 0.4


def test_user_weight_table_is_named_by_content(warehouse, tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("offence_code,weight\n008/71,500\n")
    t = load_weight_table(p)
    assert t.name.startswith("user:w.csv@") and len(t.name.split("@")[1]) == 12
    World(warehouse).offence("a", "2024-01-01", "8/71", "P1", "V1").offence("b", "2024-01-01", "019/07", "P1", "V1")
    df = offence_harm_frame(warehouse, p).set_index("event_id")
    assert df.loc["a", "harm_weight"] == 500.0 and df.loc["a", "weight_source"] == "code"
    assert pd.isna(df.loc["b", "harm_weight"])  # not in the user table: no weight, never zero
    p.write_text("offence_code,weight\n008/71,501\n")
    assert load_weight_table(p).name != t.name


@pytest.mark.parametrize("body", ["a,b\n1,2\n", "offence_code,weight\nX,-1\n", "key_type,key,weight\nplanet,X,1\n", "offence_code,weight\n"])
def test_bad_weight_table_is_one_clear_error(tmp_path, body):
    p = tmp_path / "w.csv"
    p.write_text(body)
    with pytest.raises(HarmError):
        load_weight_table(p)


def test_unknown_weight_table_name():
    with pytest.raises(HarmError, match="unknown weight table"):
        load_weight_table("cchi2")


@pytest.mark.shared_data
def test_cchi_table_equals_shared_subgroup_medians(shared_data):
    ref = pd.read_csv(shared_data / "harm_weights" / "cchi_weights_by_prc_subgroup.csv")
    t = load_weight_table("cchi")
    ours = {k: v for (kt, k), v in t.weights.items() if kt == "subgroup"}
    assert ours == dict(zip(ref["prc_subgroup"], ref["cchi_days"].astype(float)))


# ---------------------------------------------------------------- invariants

_codes = st.sampled_from([c for c, *_ in SHARED] + ["8L", "19C", "XX1", "", None])
_descs = st.sampled_from([d for _, d, *_ in SHARED] + ["honour-based assault", "weird thing", None])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_codes, _descs, st.sampled_from([True, False, None])), min_size=1, max_size=12))
def test_every_offence_gets_one_row_and_weights_are_never_negative_or_silent_zero(tmp_path_factory, rows):
    from harmlens.warehouse import connect

    con = connect(":memory:")
    w = World(con)
    for i, (code, desc, dom) in enumerate(rows):
        w.offence(f"e{i}", "2024-01-01", code, "P1", "V1", desc=desc, domestic=dom)
    w.event("x", "arrest", "2024-01-02")
    res = apply_offence_map(con)
    df = con.execute("SELECT * FROM event_harm").df()
    assert res.events == len(rows) == len(df) and df["event_id"].is_unique
    assert (df["harm_weight"].dropna() > 0).all()
    # with the built-in map and CCHI every mapped offence has a weight; only unmapped ones lack one
    assert (df["harm_weight"].isna() == (df["offence_category"] == "unmapped")).all()
    con.close()
