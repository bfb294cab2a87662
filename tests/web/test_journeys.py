"""Each role's journey in Debian's chromium, with an axe-core accessibility check of every page it opens.

axe-core is vendored from npm (src/harmlens/web/static/vendor/axe-core-*.min.js, no CDN) and loaded
into each page from the app's own /static, so the Content-Security-Policy stays as it is served.
A page passes when axe finds no serious or critical violation of WCAG 2.0/2.1 A or AA.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.browser import CHROMIUM, browser, serve
from tests.web.conftest import PASSWORD, make_app

AXE = sorted((Path(__file__).resolve().parents[2] / "src/harmlens/web/static/vendor").glob("axe-core-*.min.js"))
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def live(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM}: 'make system-deps' (as root) installs it")
    assert AXE, "axe-core is not vendored under src/harmlens/web/static/vendor"
    from harmlens.web.auth import add_user

    a = make_app(tmp_path)
    add_user(a.state.store, "sam", PASSWORD, "supervisor")
    with serve(a) as url, browser() as b:
        yield a, url, b
    a.state.store.close()
    a.state.warehouse.close()


def axe_check(page) -> None:
    """No serious or critical WCAG 2.1 AA violation on the page as it is now."""
    page.add_script_tag(url="/static/vendor/" + AXE[-1].name)
    res = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    bad = [f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])} e.g. {v['nodes'][0]['target']}"
           for v in res["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def sign_in(b, url, user):
    # Tall enough that every form is on screen: Playwright's scroll into view misses buttons below
    # the sandboxed pack iframe on the referral page.
    ctx = b.new_context(viewport={"width": 1280, "height": 3000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login")
    axe_check(page)
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def test_analyst_reviews_and_assigns(live):
    app, url, b = live
    page = sign_in(b, url, "ana")
    page.wait_for_url(url + "/priority")
    axe_check(page)
    page.select_option("select[name=borough]", "Camden")
    expect(page.locator("#priority-table tbody tr")).to_have_count(1)
    assert "borough=Camden" in page.get_attribute("#export-csv", "href")  # the export follows the screen
    page.goto(url + "/search")
    axe_check(page)
    page.select_option("#s-purpose", "matac")
    page.fill("#s-q", "smith")
    page.click("button:has-text('Search')")
    page.wait_for_selector("#search-results")
    axe_check(page)
    page.click("#search-results >> text=P1")
    page.check("input[value=matac]")
    page.click("button:has-text('Open profile')")
    page.wait_for_selector("#timeline")
    axe_check(page)
    page.click("text=Casework: assign or record an action")
    page.wait_for_selector("#assign-h")
    axe_check(page)
    page.click("button:has-text('Save assignment')")  # nothing chosen: both problems at once
    page.wait_for_selector("text=Please fix 2 problem(s)")
    axe_check(page)
    page.select_option("#a-officer", "olly")
    page.select_option("#a-status", "under review")
    page.click("button:has-text('Save assignment')")
    expect(page.locator("#case-officer")).to_have_text("olly")
    page.goto(url + "/lists")
    axe_check(page)
    assert not page.errors


def test_supervisor_publishes_and_approves(live):
    app, url, b = live
    app.state.store.execute("DELETE FROM list_publications WHERE kind = 'victims'")
    page = sign_in(b, url, "sue")
    page.goto(url + "/victims")
    assert "No victims-at-risk list has been published" in page.inner_text("main")
    page.goto(url + "/lists")
    page.click("button[aria-label='Publish victims:risk:2024-07-01']")
    page.wait_for_url(url + "/lists")
    page.goto(url + "/victims")
    assert "P2" in page.inner_text("main")
    axe_check(page)
    page.goto(url + "/referrals/R1")
    axe_check(page)
    page.click("button:has-text('Approve referral')")
    expect(page.locator("#state")).to_have_text("approved")
    assert page.locator("button:has-text('Approve referral')").count() == 0  # a decision is final
    axe_check(page)
    page.goto(url + "/referrals")
    axe_check(page)
    assert not page.errors


def test_partner_reads_only_approved_packs(live):
    app, url, b = live
    page = sign_in(b, url, "pat")
    page.wait_for_url(url + "/referrals")
    assert "No approved referral packs" in page.inner_text("main")
    axe_check(page)
    sup = sign_in(b, url, "sam")
    sup.goto(url + "/referrals/R1")
    sup.click("button:has-text('Approve referral')")
    expect(sup.locator("#state")).to_have_text("approved")
    page.reload()
    rows = page.locator("#referrals-table tbody tr")
    expect(rows).to_have_count(1)
    assert "R1" in rows.first.inner_text() and "R2" not in page.inner_text("main")
    page.click("#referrals-table >> text=R1")
    page.wait_for_selector("#state")
    assert "sam" in page.inner_text("main") and "History" not in page.inner_text("main")
    axe_check(page)
    assert page.goto(url + "/referrals/R2").status == 404
    assert not page.errors


def test_officer_records_an_action_and_a_stop(live):
    app, url, b = live
    from harmlens.casework import assign

    assign(app.state.store, "P1", "olly", "under review", by="ana", officers=["olly"])
    page = sign_in(b, url, "olly")
    page.goto(url + "/casework")
    axe_check(page)
    page.click("#cases-table >> text=P1")
    page.wait_for_selector("#action-h")
    page.select_option("#x-action", "no_action")
    page.click("button:has-text('Save action')")
    page.wait_for_selector("text=Please fix 2 problem(s)")  # the date and the reason, at once
    axe_check(page)
    page.select_option("#x-action", "safeguarding_visit")
    page.fill("#x-date", date.today().isoformat())
    page.click("button:has-text('Save action')")
    expect(page.locator("#case-status")).to_have_text("actioned")
    assert "Safeguarding visit" in page.inner_text("#case-history")
    page.goto(url + "/stops/new")
    axe_check(page)
    page.fill("#f-occurred_at", "2024-05-01T21:30")
    page.fill("#f-legislation", "s163 Road Traffic Act 1988")
    page.click("button:has-text('Save stop')")
    page.wait_for_selector("text=recorded. Thank you")
    axe_check(page)
    assert not page.errors


def test_auditor_reads_the_log_and_the_decisions(live):
    app, url, b = live
    sup = sign_in(b, url, "sue")
    sup.goto(url + "/referrals/R1")
    sup.fill("#note", "not proportionate")
    sup.click("button:has-text('Reject')")
    expect(sup.locator("#state")).to_have_text("rejected")
    page = sign_in(b, url, "aud")
    page.wait_for_url(url + "/access-log")
    axe_check(page)
    assert "referral.rejected" in page.inner_text("main")
    page.goto(url + "/casework-audit")
    axe_check(page)
    row = page.locator("#referral-states tbody tr").first.inner_text()
    assert "R1" in row and "rejected" in row and "sue" in row and "not proportionate" in row
    assert page.locator("form").count() == 1  # only "Sign out": read only
    assert not page.errors


@pytest.fixture
def live_linked(tmp_path):
    """The app over a warehouse linked by the real link run (tests/web/linked_fixture.py)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium not found at {CHROMIUM}: 'make system-deps' (as root) installs it")
    from tests.web.linked_fixture import linked_app

    a = linked_app(tmp_path)
    with serve(a) as url, browser() as b:
        yield a, url, b, tmp_path / "wh.duckdb"
    a.state.store.close()
    a.state.warehouse.close()


def test_analyst_reviews_a_link(live_linked):
    """Queue -> pair (waterfall, m and u, both records) -> a split without a reason is refused -> with one it is
    recorded -> the person's mentions with the weakest link -> the threshold chart; every page passes axe."""
    import duckdb

    app, url, b, db = live_linked
    page = sign_in(b, url, "ana")
    page.click("nav >> text=Link review")
    page.wait_for_selector("#review-table")
    axe_check(page)
    page.select_option("select[name=sort]", "probability")
    page.click("button:has-text('Sort')")
    page.wait_for_url("**sort=probability**")
    first = page.locator("#review-table tbody tr").first
    pair_text = first.locator("a").first.inner_text()
    a, _, b_ = pair_text.partition(" and ")
    first.locator("a").first.click()
    page.wait_for_selector("#waterfall svg")
    axe_check(page)
    expect(page.locator("#comparisons tbody tr")).to_have_count(7)  # prior, five comparisons, total
    expect(page.locator("#records thead")).to_contain_text(a)
    page.check("input[value=different]")
    page.click("button:has-text('Record decision')")
    page.wait_for_selector("text=Please fix 1 problem(s)")
    axe_check(page)
    page.check("input[value=different]")
    page.fill("#reason", "different dates of birth on the custody record")
    page.click("button:has-text('Record decision')")
    page.wait_for_selector("#decided")
    expect(page.locator("#decision")).to_contain_text("different people, by ana")
    axe_check(page)
    from harmlens.web.snapshot import WAREHOUSE_LOCK

    with WAREHOUSE_LOCK:  # the app in this process may be copying the warehouse it just changed
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT decision, decided_by FROM link_decisions").fetchall() == [("different", "ana")]
        con.close()
    page.locator("#now-linked a").first.click()
    page.wait_for_selector("#mentions")
    axe_check(page)
    # a person held together by scored pairs: the weakest link is marked, and split there
    with WAREHOUSE_LOCK:
        con = duckdb.connect(str(db), read_only=True)
        pid = con.execute("""SELECT la.person_id FROM link_pairs p JOIN links la ON la.mention_id = p.mention_a
                             JOIN links lb ON lb.mention_id = p.mention_b WHERE la.person_id = lb.person_id
                             ORDER BY p.match_probability LIMIT 1""").fetchall()[0][0]
        con.close()
    page.goto(url + f"/link-review/persons/{pid}")
    page.wait_for_selector("#weakest")
    expect(page.locator("#edges tr.weakest")).to_have_count(1)
    axe_check(page)
    page.fill("#split-reason", "two people: the DOBs differ by 20 years")
    page.click("button:has-text('Split: different people')")
    page.wait_for_url(f"**/link-review/persons/{pid}?decided=different")
    page.wait_for_selector("#decided")
    expect(page.locator("main")).to_contain_text("two people: the DOBs differ by 20 years")
    axe_check(page)
    page.goto(url + "/link-review/threshold")
    page.wait_for_selector("#threshold-chart svg")
    axe_check(page)
    assert not page.errors
