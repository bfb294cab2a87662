"""Referral packs: each partner gets exactly its documented fields, never names, and every pack is recorded."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.referral import FIELD_LABELS, PARTNER_FIELDS, make_pack, packs, person_facts
from harmlens.referral.pack import ReferralError
from harmlens.warehouse import connect
from tests.harm.world import World

AS_OF = "2025-01-01"
# Values that identify a field when they appear in a pack (each unique to one field).
MARKERS = {
    "postcode_district": "ZX9",
    "victim_relationships": "ex_partner (1)",
    "latest_dash_date": "2024-11-30",
    "suspect_categories": "stalking (1)",
    "custody_status": "at large",
    "active_orders": "Restraining order from 2024-09-01",
}


def _world(con):
    w = World(con)
    w.offence("a", "2024-06-01", "008/71", "P1", None)
    v = w.person("a", "victim", "V1", sex="female")
    con.execute("UPDATE people SET relationship_to_suspect = 'ex_partner' WHERE mention_id = ?", [v])
    w.offence("b", "2024-08-01", "008/06", "P1", None, domestic=True)
    v2 = w.person("b", "victim", "V1", sex="female")
    con.execute("UPDATE people SET relationship_to_suspect = 'partner' WHERE mention_id = ?", [v2])
    w.event("cb", "charge", "2024-09-01", crime_ref="b"); w.person("cb", "subject", "P1")
    w.event("o", "order", "2024-09-01", desc="Restraining order", ends_at="2026-09-01"); w.person("o", "subject", "P1")
    w.event("i", "intelligence", "2024-10-01")
    m = w.person("i", "subject", "P1", postcode="ZX9 8QQ")
    con.execute("UPDATE people SET forename = 'Zebedee', surname = 'Quillfeather', date_of_birth = DATE '1981-07-13' WHERE mention_id = ?", [m])
    con.execute("INSERT INTO risk_assessments (assessment_id, mention_id, assessed_at, tool, score, level) VALUES ('d1', ?, '2024-11-30', 'DASH', 15, 'high')", [v2])


def test_facts_by_hand(warehouse):
    _world(warehouse)
    f = person_facts(warehouse, "P1", AS_OF)
    assert (f["suspect_charges"], f["distinct_victims"]) == (1, 1)
    assert f["suspect_allegations"] == (  # the count every screen shows, with what became of each allegation
        "2 VAWG allegations in the last 3 years (0 convicted; 1 charged, awaiting trial; 0 acquitted; "
        "0 no further action; 0 victim withdrew; 1 ongoing)")
    assert f["harm_sum_365d"] == 375.0  # stalking 10 + domestic ABH 365
    assert f["victim_relationships"] == "ex_partner (1), partner (1)" and f["postcode_district"] == "ZX9"
    assert f["active_orders"] == "Restraining order from 2024-09-01 to 2026-09-01" and f["custody_status"] == "at large"
    v = person_facts(warehouse, "V1", AS_OF)
    assert (v["victim_offences"], v["victim_suspects"], v["latest_dash_level"], v["latest_dash_date"]) == (2, 1, "high", "2024-11-30")
    assert f["model_card"] == "no model trained"


@pytest.mark.parametrize("partner", sorted(PARTNER_FIELDS))
@pytest.mark.parametrize("person", ["P1", "V1"])
def test_pack_holds_only_the_partner_fields(warehouse, tmp_path, partner, person):
    _world(warehouse)
    from harmlens.referral.fields import has_content

    if not has_content(partner, person_facts(warehouse, person, AS_OF)):
        # e.g. P1 is never a victim, V1 never a suspect: such a pack is refused (test_pack_with_nothing_needed_is_refused).
        with pytest.raises(ReferralError, match="nothing to refer"):
            make_pack(warehouse, person, partner, "MARAC", made_by="analyst7", out_dir=tmp_path, as_of=AS_OF, pdf=False)
        assert (person, partner) in {("P1", "health"), ("V1", "probation")}
        return
    pack = make_pack(warehouse, person, partner, "MARAC safety planning", made_by="analyst7", out_dir=tmp_path, as_of=AS_OF, pdf=False)
    html = pack.paths["html"].read_text()
    assert "analyst7" not in html and "docs/" not in html  # no login, no developer documentation
    allowed = set(PARTNER_FIELDS[partner])
    for field, label in FIELD_LABELS.items():
        assert (label in html) is (field in allowed), (partner, field)
    if person == "P1":
        for field, marker in MARKERS.items():
            if field not in allowed:
                assert marker not in html, (partner, field)
    for secret in ("Zebedee", "Quillfeather", "1981-07-13", "1981"):
        assert secret not in html
    assert "MARAC safety planning" in html and "no model trained" in html and "2025-01-01" in html


def test_pack_is_recorded_with_hashes_and_pdf(warehouse, tmp_path):
    _world(warehouse)
    pack = make_pack(warehouse, "P1", "probation", "MATAC tasking", made_by="analyst7", out_dir=tmp_path, as_of=AS_OF)
    rec = packs(warehouse, "P1")
    assert len(rec) == 1 and rec.loc[0, "made_by"] == "analyst7" and rec.loc[0, "purpose"] == "MATAC tasking"
    for kind in ("html", "pdf"):
        assert hashlib.sha256(pack.paths[kind].read_bytes()).hexdigest() == rec.loc[0, f"{kind}_sha256"]
    assert pack.paths["pdf"].read_bytes()[:5] == b"%PDF-"
    fields = json.loads(warehouse.execute("SELECT fields FROM referral_packs").fetchall()[0][0])
    assert tuple(fields) == PARTNER_FIELDS["probation"]


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"partner": "police"}, "unknown partner"),
        ({"purpose": "  "}, "purpose"),
        ({"person_id": "NOBODY"}, "unknown person"),
    ],
)
def test_bad_requests(warehouse, tmp_path, kw, msg):
    _world(warehouse)
    args = {"person_id": "P1", "partner": "idva", "purpose": "x"} | kw
    with pytest.raises(ReferralError, match=msg):
        make_pack(warehouse, args["person_id"], args["partner"], args["purpose"], made_by="a", out_dir=tmp_path, as_of=AS_OF, pdf=False)
    assert warehouse.execute("SELECT count(*) FROM referral_packs").fetchall()[0][0] == 0


def test_cli(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = connect(db)
    _world(con)
    con.close()
    r = CliRunner().invoke(app, ["referral", "V1", "--partner", "health", "--purpose", "GP safeguarding", "--by", "dc42",
                                 "--out", str(tmp_path / "out"), "--as-of", AS_OF, "--no-pdf", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "for health: 7 fields" in r.stdout and len(list((tmp_path / "out").glob("*.html"))) == 1


def test_pack_with_nothing_needed_is_refused(warehouse, tmp_path):
    _world(warehouse)
    with pytest.raises(ReferralError) as e:
        make_pack(warehouse, "P1", "health", "MARAC", made_by="analyst7", out_dir=tmp_path, as_of=AS_OF, pdf=False)
    msg = str(e.value)
    # P1 is a suspect with allegations and an order: probation and children's social care would need a pack.
    assert "nothing to refer" in msg and "Probation Service" in msg and "Children's social care" in msg and "\n" not in msg
    assert not list(tmp_path.glob("*.html"))  # nothing written
    from harmlens.referral.fields import nothing_needed_message

    assert nothing_needed_message("X", "idva", {"victim_offences": 0, "victim_last_offence": "none", "victim_suspects": 0,
                                                "latest_dash_level": "no assessment", "latest_dash_date": "none",
                                                "active_orders": "none"}) is not None
    assert nothing_needed_message("X", "idva", {"victim_offences": 1}) is None
