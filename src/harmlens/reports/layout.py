"""Layout checks for the PDFs harmlens writes (pdfplumber boxes), used by the report tests and by the demo on every PDF it writes (pdfplumber is a test dependency).

A page must carry body content: words in the body font below a heading, a table row or a chart,
not only a heading or only the footer. Nothing (a word, a chart, a table rule) may reach past the
page's right or bottom edge.
"""

from __future__ import annotations

from pathlib import Path

EDGE_PT = 0.5  # rounding slack when comparing boxes with the page edge
BODY_MAX_PT = 11.5  # body, table and footnote text are at most 10.5 pt (headings 11-18 pt)
FOOTER_PT = 8.6  # the footer line is 8.5 pt


def problems(path: str | Path) -> list[str]:
    """Every layout problem in a PDF, one line each ("page 3: ..."); empty when it lays out right."""
    import pdfplumber

    out: list[str] = []
    with pdfplumber.open(str(path)) as pdf:
        for i, page in enumerate(pdf.pages, start=1):
            w, h = float(page.width), float(page.height)
            words = page.extract_words(extra_attrs=["size"])
            body = [x for x in words if x["size"] <= BODY_MAX_PT and not (x["size"] <= FOOTER_PT and "generated" in _line(words, x))]
            graphics = [g for g in (page.images + page.curves + page.rects) if (g["x1"] - g["x0"]) * (g["bottom"] - g["top"]) > 400]
            if not body and not graphics:
                what = "only a heading" if words and any(x["size"] > BODY_MAX_PT for x in words) else "only the footer" if words else "nothing"
                out.append(f"page {i}: no body content ({what})")
            for kind, objs in (("text", words), ("image", page.images), ("drawing", page.rects + page.curves + page.lines)):
                for o in objs:
                    if o["x1"] > w + EDGE_PT or o["x0"] < -EDGE_PT:
                        out.append(f"page {i}: {kind} wider than the page (x {o['x0']:.0f}-{o['x1']:.0f} of {w:.0f} pt)"
                                   + (f": {o.get('text', '')[:30]!r}" if kind == "text" else ""))
                        break
                for o in objs:
                    if o["bottom"] > h + EDGE_PT:
                        out.append(f"page {i}: {kind} below the page's bottom edge")
                        break
    return out


def _line(words: list[dict], w: dict) -> str:
    return " ".join(x["text"] for x in words if abs(x["top"] - w["top"]) < 2)
