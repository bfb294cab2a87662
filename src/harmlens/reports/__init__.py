"""Report rendering shared by every area: one page style, offline charts, HTML and PDF.

Nothing here loads from the network: charts are vega-lite specs rendered to SVG by vl-convert,
the stylesheet is inline, and PDFs are made by WeasyPrint from the same HTML.
"""

from harmlens.reports.render import chart_svg, render_html, table_html, write_report

__all__ = ["chart_svg", "render_html", "table_html", "write_report"]
