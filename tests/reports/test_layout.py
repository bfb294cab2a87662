"""Report layout: every PDF page has body content and nothing runs off the page.

Every report harmlens writes (audit, stops, transparency record, referral packs, lists, model
card) goes through the shared shell (``render_html``), so its paged CSS is tested here with the
shapes that broke before: a stops-style table of many long column names, a chart taller than a
page, a heading that would fall at the foot of a page, and a body that ends where only the
footer would be left. The checker itself is shown to catch each fault. ``make demo`` runs the
same check on every PDF it writes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmlens.reports import chart_svg, render_html, table_html, write_report
from harmlens.reports.layout import problems

pytest.importorskip("pdfplumber", reason="pdfplumber is a test dependency (pip install -e '.[test]')")


def _pdf(tmp_path: Path, body: str, stem: str = "r") -> Path:
    return write_report(render_html("Layout test", body, meta={"as of": "2025-01-01"}), tmp_path, stem)["pdf"]


def _wide_table(cols: int = 16, rows: int = 40) -> str:
    groups = ["Asian", "Black", "Mixed", "White", "Other", "Not_stated", "Chinese", "Arab"]
    names = [f"{groups[i % len(groups)]}_per_1000_residents_{i}" for i in range(cols)]
    df = pd.DataFrame([[1234567.891 * (r + 1) / (c + 1) for c in range(cols)] for r in range(rows)], columns=names)
    df.insert(0, "borough", [f"Hammersmith and Fulham {r}" for r in range(rows)])
    return table_html(df)


def _tall_chart(n: int = 60) -> str:
    import altair as alt

    df = pd.DataFrame({"borough": [f"Borough number {i}" for i in range(n)], "share": [i / n for i in range(n)]})
    chart = alt.Chart(df).mark_bar().encode(x="share:Q", y=alt.Y("borough:N", sort=None)).properties(width=700, height=1400)
    return f'<div class="chart">{chart_svg(chart)}</div>'


def test_wide_tables_stay_on_the_page(tmp_path):
    assert problems(_pdf(tmp_path, "<h2>By borough</h2>" + _wide_table())) == []


def test_a_chart_taller_than_a_page_is_scaled_whole(tmp_path):
    pdf = _pdf(tmp_path, "<h2>Composition</h2><p>Share by borough.</p>" + _tall_chart())
    assert problems(pdf) == []


def test_headings_keep_with_their_content_and_the_footer_never_stands_alone(tmp_path):
    # paragraphs that fill most of a page, then a heading and a table: the heading must move with the table
    filler = "".join(f"<p>Paragraph {i}: " + "words " * 60 + "</p>" for i in range(9))
    body = filler + "<h2>A heading near the foot of the page</h2>" + _wide_table(6, 30) + "<h2>Last</h2><p>End.</p>"
    for n in range(6, 12):  # several lengths, so one of them ends right where the footer would fall
        body_n = "".join(f"<p>Paragraph {i}: " + "words " * 60 + "</p>" for i in range(n)) + body
        assert problems(_pdf(tmp_path, body_n, f"r{n}")) == [], n


def test_the_checker_catches_each_fault(tmp_path):
    from weasyprint import HTML

    def raw(html: str, name: str) -> Path:
        p = tmp_path / f"{name}.pdf"
        HTML(string=html).write_pdf(p)
        return p

    wide = raw("<style>@page{size:A4}</style><table><tr>" + "".join(f"<td>column_name_{i}</td>" for i in range(30)) + "</tr></table>", "wide")
    assert any("wider than the page" in x for x in problems(wide))
    heading = raw("<style>@page{size:A4} h2{font-size:16pt; page-break-after: always}</style><h2>Alone</h2><p>body</p>", "heading")
    assert "page 1: no body content (only a heading)" in problems(heading)
    footer = raw("<style>@page{size:A4} .f{font-size:8pt; page-break-before: always}</style><p>body</p><p class=f>report, generated now</p>", "footer")
    assert "page 2: no body content (only the footer)" in problems(footer)
    tall = raw('<style>@page{size:A4;margin:0}</style><svg width="500" height="1400"><rect x="0" y="0" width="500" height="1400"/></svg>', "tall")
    assert any("below the page's bottom edge" in x for x in problems(tall))


def test_pdfs_of_a_demo_run(demo_out):
    """Every PDF ``make demo`` wrote (a small demo run, or HARMLENS_DEMO_OUT's folder)."""
    out = demo_out
    pdfs = sorted(Path(out).rglob("*.pdf"))
    assert pdfs
    bad = {str(p): problems(p) for p in pdfs}
    assert {k: v for k, v in bad.items() if v} == {}
