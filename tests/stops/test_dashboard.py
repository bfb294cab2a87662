"""The stop dashboard (web /stops): one panel per force or jurisdiction with period, stops used and
left out, and the veil-of-darkness result and plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmlens.stops.dashboard import stops_dashboard
from harmlens.stops.importer import import_stops


def _opp_city(path, n=3000, seed=5):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2019-01-01", "2019-12-31", freq="D")
    lines = ["date,time,lat,lng,subject_race,type,search_conducted,contraband_found"]
    for _ in range(n):
        d = days[rng.integers(len(days))].date()
        m = int(rng.integers(16 * 60 + 30, 21 * 60))
        race = rng.choice(["black", "white", "hispanic", "unknown"], p=[0.3, 0.5, 0.15, 0.05])
        s = rng.random() < 0.2
        found = str(bool(rng.random() < 0.3)).upper() if s else "NA"
        lines.append(f"{d},{m // 60:02d}:{m % 60:02d}:00,41.82,-71.41,{race},{rng.choice(['vehicular', 'pedestrian'])},"
                     f"{str(s).upper()},{found}")
    path.write_text("\n".join(lines) + "\n")


def test_one_panel_per_jurisdiction_and_force(warehouse, tmp_path):
    _opp_city(tmp_path / "ri_providence_2020_04_01.csv")
    (tmp_path / "2024-07-cheshire-stop-and-search.csv").write_text(
        "Type,Date,Part of a policing operation,Latitude,Longitude,Gender,Age range,Self-defined ethnicity,"
        "Officer-defined ethnicity,Legislation,Object of search,Outcome,Outcome linked to object of search,"
        "Removal of more than just outer clothing\n"
        "Person search,2024-07-01T18:30:00+00:00,False,53.19,-2.89,Male,18-24,White - Irish,White,,Stolen goods,Arrest,True,False\n")
    import_stops(warehouse, [tmp_path])
    panels = stops_dashboard(warehouse)
    assert [p["unit"] for p in panels] == ["cheshire", "ri_providence"]
    ches, prov = panels
    assert ches["stops"] == 1 and ches["vod"] is None and ches["vod_skipped"]
    assert prov["stops"] == 3000 and prov["period"][0].startswith("2019-01")
    assert prov["vod"]["tz"] == "America/New_York" and prov["vod"]["n"] > 1000
    assert "<svg" in prov["vod_svg"]
    assert any(line.startswith("outcome test:") for line in prov["used"])
    assert any(line.startswith("veil of darkness:") for line in prov["used"])
    assert {m["published"] for m in prov["race_mapping"]} == {"black", "white", "hispanic", "unknown"}
    assert set(prov["stop_types"]) == {"vehicular", "pedestrian"}
    assert stops_dashboard(warehouse) is panels  # cached until the stops change


def test_web_stops_page_shows_the_panels(tmp_path):
    from fastapi.testclient import TestClient

    from harmlens.web.app import WebSettings, create_app
    from harmlens.web.auth import add_user
    from harmlens.web.store import Store
    from harmlens.warehouse import connect
    from tests.web.conftest import PASSWORD, api_login

    con = connect(tmp_path / "wh.duckdb")
    _opp_city(tmp_path / "ri_providence_2020_04_01.csv", seed=9)
    import_stops(con, [tmp_path / "ri_providence_2020_04_01.csv"])
    con.close()
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    s = Store(url)
    add_user(s, "aud", PASSWORD, "auditor", None)
    s.close()
    client = TestClient(create_app(WebSettings(warehouse=tmp_path / "wh.duckdb", store_url=url)))
    api_login(client, "aud")
    html = client.get("/stops").text
    for text in ("ri_providence", "jurisdiction ri_providence", "Stops used and left out", "inter-twilight window",
                 "America/New_York", "OPP race categories to groups"):
        assert text in html, text
    api = client.get("/api/v1/stops/summary").json()
    assert api["by_force"][0]["unit"] == "ri_providence" and api["by_force"][0]["vod"]["n"] > 1000
