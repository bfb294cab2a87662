"""Playwright driving Debian's chromium: sign in, list, a profile with a purpose, recording a stop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.browser import CHROMIUM, browser, serve
from tests.web.conftest import PASSWORD, make_app


@pytest.fixture
def live(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM}: 'make system-deps' (as root) installs it")
    a = make_app(tmp_path)
    with serve(a) as url:
        yield a, url
    a.state.store.close()
    a.state.warehouse.close()


def _sign_in(page, url, user):
    page.goto(url + "/")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_analyst_list_profile_and_officer_stop(live):
    app, url = live
    with browser() as b:
        page = b.new_page()
        problems: list[str] = []
        # The failed stop submit answers 400 on purpose; any other console error is a problem.
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "status of 400" not in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        # Analyst: sign in lands on the priority list.
        _sign_in(page, url, "ana")
        page.wait_for_url(url + "/priority")
        rows = page.locator("#priority-table tbody tr")
        assert rows.count() == 3 and "P1" in rows.first.inner_text()
        # Filter by band through htmx: the table is replaced without a page load.
        page.select_option("select[name=band]", "medium")
        expect(rows).to_have_count(1)
        assert "P4" in page.locator("#priority-table tbody").inner_text()
        assert "band=medium" in page.url  # hx-push-url keeps the address shareable
        page.select_option("select[name=band]", "")
        expect(rows).to_have_count(3)

        # Profile: a purpose first, then the timeline and the link chart.
        page.click("#priority-table >> text=P1")
        page.wait_for_selector("text=Why do you need this profile?")
        page.check("input[value=matac]")
        page.fill("#reference", "MATAC-2024-07")
        page.click("button:has-text('Open profile')")
        page.wait_for_selector("#timeline")
        assert page.locator("#timeline tbody tr").count() == 3
        page.wait_for_selector("#network canvas")  # cytoscape drew the chart
        assert "MATAC tasking preparation" in page.inner_text("main")

        # Officer: a failed submit keeps everything typed, then the stop is saved.
        page.click("button:has-text('Sign out')")
        page.wait_for_url(url + "/login")
        _sign_in(page, url, "olly")
        page.wait_for_url(url + "/stops/new")
        page.fill("#f-occurred_at", "2024-05-01T21:30")
        page.fill("#f-legislation", "s163 Road Traffic Act 1988")
        page.select_option("#f-self_defined_ethnicity", "B2")
        page.fill("#f-borough", "Camden")
        page.fill("#f-latitude", "123")
        page.click("button:has-text('Save stop')")
        page.wait_for_selector("text=The stop was not saved")
        assert page.input_value("#f-borough") == "Camden" and page.input_value("#f-self_defined_ethnicity") == "B2"
        assert page.get_attribute("#f-latitude", "aria-invalid") == "true"
        page.fill("#f-latitude", "51.54")
        page.click("button:has-text('Save stop')")
        page.wait_for_selector("text=recorded. Thank you")
        assert not problems, problems  # no CSP violation, no missing asset, no script error

    n = app.state.store.fetchone("SELECT count(*) AS n FROM recorded_stops")["n"]
    assert n == 1
    views = app.state.store.fetchall("SELECT purpose FROM access_log WHERE action = 'person.view'")
    assert [v["purpose"] for v in views] == ["matac"]
