"""HTML page shell, tables, offline charts, and PDF output."""

from __future__ import annotations

import hashlib
import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(loader=PackageLoader("harmlens.reports", "templates"), autoescape=select_autoescape(["html", "j2"]))


def chart_svg(chart: Any) -> str:
    """Render an altair chart (or a vega-lite spec dict) to an SVG string, offline."""
    import vl_convert as vlc

    spec = chart.to_dict() if hasattr(chart, "to_dict") else chart
    return vlc.vegalite_to_svg(spec)


def table_html(df: Any, *, max_rows: int = 500, float_format: str = "{:,.3f}", plain: bool = True) -> str:
    """A pandas DataFrame as an escaped HTML table in the report style.

    With ``plain`` (the default) column names are shown in plain words from the catalogue
    (``harmlens.features.catalogue.label``): reports are read by partners and the public.
    """
    import pandas as pd

    if len(df) > max_rows:
        df = df.head(max_rows)
    if plain:
        from harmlens.features.catalogue import plain_columns

        df = plain_columns(df)
    fmt = {c: (lambda v, f=float_format: "" if pd.isna(v) else f.format(v)) for c in df.columns if pd.api.types.is_float_dtype(df[c])}
    return df.to_html(index=False, classes="data", border=0, escape=True, formatters=fmt, na_rep="")


def render_html(
    title: str,
    body_html: str,
    *,
    subtitle: str | None = None,
    meta: Mapping[str, Any] | None = None,
    notice: str | None = "Decision support for human review only. Not a basis for automatic action.",
) -> str:
    """Wrap ``body_html`` (trusted HTML made by harmlens) in the shared page shell.

    ``meta`` is shown as a definition list under the title (as-of date, model version, weight table, ...).
    """
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return _env.get_template("report.html.j2").render(
        title=title, subtitle=subtitle, body=body_html, meta=dict(meta or {}), notice=notice, generated=generated
    )


def write_report(page_html: str, out_dir: str | Path, stem: str, *, pdf: bool = True) -> dict[str, Path]:
    """Write ``<stem>.html`` (and ``<stem>.pdf``) into ``out_dir``; returns the paths and their sha256.

    Files are written to a temporary name and renamed, so a failure never leaves half a report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    html_path = out / f"{stem}.html"
    tmp = html_path.with_suffix(".html.tmp")
    tmp.write_text(page_html, encoding="utf-8")
    tmp.replace(html_path)
    paths["html"] = html_path
    if pdf:
        from weasyprint import HTML

        pdf_path = out / f"{stem}.pdf"
        tmp_pdf = pdf_path.with_suffix(".pdf.tmp")
        HTML(string=page_html, base_url=str(out)).write_pdf(tmp_pdf)
        tmp_pdf.replace(pdf_path)
        paths["pdf"] = pdf_path
    return paths


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def escape(text: Any) -> str:
    return html.escape("" if text is None else str(text))
