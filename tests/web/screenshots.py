"""Screenshots of the main pages for docs/screenshots (run by hand on a demo warehouse).

    .venv/bin/python -m tests.web.screenshots --db /path/to/demo.duckdb --out docs/screenshots

The warehouse is copied first (the app opens its copy), users are made in a throwaway store,
and Debian chromium drives the real server.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tests.web.browser import browser, serve

PW = "screenshot-password"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    from harmlens.web.app import WebSettings, create_app
    from harmlens.web.auth import add_user
    from harmlens.web.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="hl_shots_"))
    wh = tmp / "demo.duckdb"
    shutil.copy(a.db, wh)
    url = f"sqlite:///{tmp / 'ops.sqlite'}"
    s = Store(url)
    for name, role, agency in (("ana", "analyst", None), ("olly", "officer", None), ("aud", "auditor", None)):
        add_user(s, name, PW, role, agency)
    # The list pages open the published lists: publish the newest of each kind, as a supervisor would.
    import duckdb

    from harmlens.web.casework_routes import publish

    con = duckdb.connect(str(wh), read_only=True)
    newest = con.execute("SELECT kind, arg_max(list_id, as_of) FROM priority_lists GROUP BY kind").fetchall()
    con.close()
    for kind, list_id in newest:
        publish(s, list_id, kind, "screenshots")
    s.close()
    app = create_app(WebSettings(warehouse=wh, store_url=url))
    a.out.mkdir(parents=True, exist_ok=True)
    with serve(app) as base, browser() as b:
        page = b.new_page(viewport={"width": 1360, "height": 900})

        def shot(name: str, full: bool = True) -> None:
            page.screenshot(path=str(a.out / f"{name}.png"), full_page=full)

        def sign_in(user: str) -> None:
            page.goto(base + "/login")
            page.fill("#username", user)
            page.fill("#password", PW)
            shot("login", full=False) if user == "ana" else None
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")

        sign_in("ana")
        page.goto(base + "/priority?size=15")
        shot("priority-list")
        first = page.locator("#priority-table tbody tr td a").first
        pid = first.inner_text()
        first.click()
        page.wait_for_selector("text=Why do you need this profile?")
        shot("purpose", full=False)
        page.check("input[value=v100]")
        page.fill("#reference", "V100 review 2025-01")
        page.click("button:has-text('Open profile')")
        page.wait_for_selector("#timeline")
        page.wait_for_timeout(800)  # let the link chart lay out
        shot("person-profile")
        page.goto(base + "/victims?size=15")
        shot("victims")
        page.goto(base + "/models")
        link = page.locator("table.data a").first
        if link.count():
            link.click()
            page.wait_for_load_state("networkidle")
            shot("model-card")
        page.click("button:has-text('Sign out')")
        sign_in("olly")
        page.fill("#f-occurred_at", "2025-01-03T22:40")
        page.fill("#f-legislation", "s163 Road Traffic Act 1988")
        page.select_option("#f-self_defined_ethnicity", "B2")
        page.fill("#f-borough", "Camden")
        page.fill("#f-latitude", "151.5")
        page.click("button:has-text('Save stop')")
        page.wait_for_selector("text=The stop was not saved")
        shot("stop-form-error")
        page.click("button:has-text('Sign out')")
        sign_in("aud")
        page.goto(base + "/stops")
        shot("stop-dashboard")
        page.goto(base + "/audit")
        shot("audit")
        page.goto(base + "/access-log")
        shot("access-log")
    app.state.store.close()
    app.state.warehouse.close()
    print(f"screenshots in {a.out} (profile of {pid})")


if __name__ == "__main__":
    main()
