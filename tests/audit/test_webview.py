"""The web audit page's content from a stored run: tables and charts, headline, no raw JSON."""

from __future__ import annotations

import json

from harmlens.audit.core import audit_scored
from harmlens.audit.webview import audit_page_context
from tests.audit.test_core import POP, _scored


def _stored(res):
    d = res.to_dict()
    return {"run_id": "r1", "list_id": d["list_id"], "flags": json.dumps(d["flags"]), "result": json.dumps(d, allow_nan=False)}


def test_page_context_has_tables_and_charts():
    res = audit_scored(_scored(), population=POP, n_boot=100, dimensions=("ethnicity",))
    a = audit_page_context(_stored(res))
    assert a["headline"] == res.headline() and "flagged" in a["headline"]
    assert any(r["group"] == "Black" and r["test"] == "share of list / residents" for r in a["flag_rows"])
    assert a["forest_svg"].lstrip().startswith("<svg")
    assert a["calibration_svg"].lstrip().startswith("<svg")
    assert a["error_metrics"][:3] == ["selection rate", "false positive rate", "false negative rate"]
    black = next(r for r in a["error_rows"] if r["group"] == "Black")
    assert black["n"] == 1000 and black["cells"][0]["value"].endswith("%") and " to " in black["cells"][0]["ci"]


def test_page_context_without_outcomes_and_old_runs():
    s = _scored().drop(columns=["outcome_allegation", "outcome_charge"])
    res = audit_scored(s, population=POP, n_boot=50, dimensions=("ethnicity",))
    a = audit_page_context(_stored(res))
    assert "error_rows" not in a and "calibration_svg" not in a
    # a run stored before near-misses and comparisons existed: flags only
    old = {"run_id": "r0", "flags": json.dumps([{"text": "ethnicity Black: 25% of the list"}]), "result": "{}"}
    a = audit_page_context(old)
    assert a["headline"].startswith("1 disparity flagged") and a["flag_rows"][0]["text"].startswith("ethnicity Black")
    assert audit_page_context(None) == {}


def test_web_audit_page_and_full_report(tmp_path):
    """The page shows tables and charts from the newest run (no raw JSON) and links the stored report."""
    import shutil

    from fastapi.testclient import TestClient

    from harmlens.audit.warehouse import record_report_page, record_run
    from harmlens.warehouse import connect
    from harmlens.web.app import WebSettings, create_app
    from tests.web.conftest import _template, api_login

    tpl = _template(True, True)
    wh = tmp_path / "wh.duckdb"
    shutil.copy(tpl / "wh.duckdb", wh)
    shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
    res = audit_scored(_scored(), population=POP, n_boot=100, dimensions=("ethnicity",))
    report = tmp_path / "audit.html"
    report.write_text("<html><body><h1>Full audit</h1><script>alert(1)</script></body></html>", encoding="utf-8")
    con = connect(wh)
    try:
        run_id = record_run(con, res)
        record_report_page(con, run_id, report)
    finally:
        con.close()
    app = create_app(WebSettings(warehouse=wh, store_url=f"sqlite:///{tmp_path / 'ops.sqlite'}"))
    try:
        with TestClient(app) as c:
            api_login(c, "aud")
            page = c.get("/audit").text
            assert "Flagged disparities" in page and "Near-misses" in page and "<svg" in page
            assert "Error rates by ethnicity" in page and 'href="/audit/report"' in page
            assert '"dimensions"' not in page  # no raw JSON
            full = c.get("/audit/report")
            assert full.status_code == 200 and "Full audit" in full.text
            assert full.headers["content-security-policy"].startswith("sandbox")
    finally:
        app.state.store.close()
        app.state.warehouse.close()
