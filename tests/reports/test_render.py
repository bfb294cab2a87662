import altair as alt
import pandas as pd

from harmlens.reports import chart_svg, render_html, table_html, write_report


def test_report_html_and_pdf_written_with_escaped_table(tmp_path):
    df = pd.DataFrame({"group": ["<script>x</script>", "B"], "rate": [1.5, 2.25]})
    svg = chart_svg(alt.Chart(df).mark_bar().encode(x="group", y="rate"))
    assert svg.lstrip().startswith("<svg")
    page = render_html("Title", table_html(df) + svg, meta={"as of": "2025-01-01"})
    assert "&lt;script&gt;" in page and "<script>x" not in page
    assert "2.250" in page and "as of" in page
    paths = write_report(page, tmp_path, "r")
    assert paths["html"].read_text().startswith("<!doctype html>")
    assert paths["pdf"].read_bytes()[:4] == b"%PDF"
    assert not list(tmp_path.glob("*.tmp"))
