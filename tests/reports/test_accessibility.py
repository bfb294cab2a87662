"""HTML reports pass an axe-core accessibility check (WCAG 2.1 A and AA rules) in chromium.

axe-core is looked for where the web app vendors it (``src/harmlens/web/static/vendor/axe*.js``),
else at ``HARMLENS_AXE_JS`` (e.g. ``npm install axe-core --prefix /tmp/axe`` and point it at
``/tmp/axe/node_modules/axe-core/axe.min.js``). Without it or without chromium the test skips and
says why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from harmlens.reports import chart_svg, render_html, table_html

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe() -> Path:
    vendored = sorted((REPO / "src/harmlens/web/static/vendor").glob("axe*.js"))
    if vendored:
        return vendored[-1]
    env = os.environ.get("HARMLENS_AXE_JS")
    if env and Path(env).is_file():
        return Path(env)
    pytest.skip("axe-core not found: not vendored under src/harmlens/web/static/vendor and HARMLENS_AXE_JS not set")


def violations(html: str) -> list[str]:
    axe = _axe()
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True)
        try:
            page = b.new_page()
            page.set_content(html)
            page.add_script_tag(path=str(axe))
            res = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        finally:
            b.close()
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:80]})" for v in res["violations"]]


def _report() -> str:
    import altair as alt

    df = pd.DataFrame({"group": ["Asian", "Black", "White"], "share": [0.12, 0.35, 0.41], "ratio": [0.9, 1.69, 1.0]})
    chart = alt.Chart(df).mark_bar().encode(x="share:Q", y="group:N").properties(width=300, height=120, title="Share of the list")
    body = ("<h2>Composition</h2><p>Share of the list by group.</p>" + table_html(df)
            + f'<div class="chart" role="img" aria-label="bar chart of the share of the list by group">{chart_svg(chart)}</div>')
    return render_html("Audit of the priority list", body, subtitle="as of 2025-01-01", meta={"list": "offenders:risk:2025-01-01"})


def test_report_shell_with_table_and_chart_passes_axe():
    assert violations(_report()) == []


def test_lists_export_passes_axe(warehouse, tmp_path):
    from harmlens.rank import build_offender_list
    from harmlens.rank.report import export_lists
    from tests.rank.helpers import register_model
    from tests.rank.test_offenders import AS_OF, make_world

    make_world().load(warehouse)
    register_model(warehouse, tmp_path / "models")
    build_offender_list(warehouse, AS_OF)
    paths = export_lists(warehouse, tmp_path / "lists", top=10)
    for p in paths.values():
        if str(p).endswith(".html"):
            assert violations(Path(p).read_text()) == [], p


def test_html_of_a_demo_run_passes_axe(demo_out):
    out = demo_out
    bad = {}
    for p in sorted(Path(out).rglob("*.html")):
        v = violations(p.read_text())
        if v:
            bad[str(p)] = v
    assert bad == {}
