"""A list entry whose linkage may be wrong shows the warning and the other person's id, page and API."""

from __future__ import annotations

import shutil

import duckdb
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, _template, api_login

WARNING = "may be the same person as P9 (in custody; match probability 0.81): settle it in the link review queue"


def test_priority_page_and_api_show_link_warnings(tmp_path):
    from harmlens.web.app import WebSettings, create_app

    tpl = _template(True, True)
    shutil.copy(tpl / "wh.duckdb", tmp_path / "wh.duckdb")
    shutil.copy(tpl / "ops.sqlite", tmp_path / "ops.sqlite")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("UPDATE priority_entries SET link_warning = ? WHERE person_id = 'P4' AND list_id LIKE 'offenders:%'", [WARNING])
    con.close()
    app = create_app(WebSettings(warehouse=tmp_path / "wh.duckdb", store_url=f"sqlite:///{tmp_path / 'ops.sqlite'}"))
    try:
        with TestClient(app) as client:
            api_login(client, "ana", PASSWORD)
            d = client.get("/api/v1/priority").json()
            got = {i["person_id"]: i["link_warning"] for i in d["items"]}
            assert got == {"P1": None, "P4": WARNING, "P5": None}
            assert d["link_warnings"] == 1
            html = client.get("/priority").text
            assert "1 entry may be wrong because of linkage" in html
            assert "Linkage may be wrong:</strong> may be the same person as P9" in html
    finally:
        app.state.store.close()
        app.state.warehouse.close()
