"""No raw column or feature names in what a partner or the public reads.

On a small synthetic city (``harmlens synth``; the truth is in its ``truth/`` folder, none needed
here) this trains a model, builds its list, and renders the reports the demo writes: the audit
report, the transparency record, the model card and the stops report. The visible text of each
(tags, styles and scripts removed; chart text kept) must hold no snake_case identifier such as
``age_band``, ``stops_per_1000``, ``too_few``, ``Black_per_1000``, ``ratio_low`` or ``n_any_3y``:
labels come from the one catalogue (features/catalogue.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmlens.cli import app

RAW = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
# names seen in partner-facing reports before they went through the catalogue: each must match RAW
KNOWN_RAW = ["age_band", "stops_per_1000", "too_few", "Black_per_1000", "ratio_low", "n_any_3y", "contraband_found",
             "harm_share", "vawg_offences", "victims_revictimised", "outside_window"]


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in ("style", "script"):
            self.hidden += 1

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in ("style", "script"):
            self.hidden -= 1

    def handle_data(self, data):  # noqa: ANN001
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return " ".join(p.parts)


def raw_names(html: str) -> list[str]:
    return sorted(set(RAW.findall(visible_text(html))))


def test_the_check_catches_raw_names():
    assert all(RAW.fullmatch(n) for n in KNOWN_RAW)
    page = "<style>.a_b{}</style><p>ratio_low 1.2</p><svg><text>stops_per_1000</text></svg><p>stops per 1,000</p>"
    assert raw_names(page) == ["ratio_low", "stops_per_1000"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from harmlens.contract.load import ingest
    from harmlens.harm.offence_map import apply_offence_map
    from harmlens.synth import SynthConfig, generate, link_by_truth
    from harmlens.warehouse import connect

    out = tmp_path_factory.mktemp("plain")
    generate(SynthConfig(people=15_000, seed=3, history_years=4), out)
    con = connect(out / "wh.duckdb")
    ingest(con, out)
    link_by_truth(con, out)
    apply_offence_map(con)
    con.close()
    db, rep, run = str(out / "wh.duckdb"), out / "rep", CliRunner()
    for args in (["train", "--db", db, "--models", "logit,boosting", "--freq-months", "6", "--n-boot", "20",
                  "--models-dir", str(out / "models")],
                 ["rank", "--db", db, "--as-of", "2024-01-01", "--top", "20"],
                 ["audit", "--db", db, "--n-boot", "30", "--out", str(rep), "--print", "none", "--format", "html,json"],
                 ["stops", "import", str(next(out.glob("stops.*"))), "--db", db],
                 ["stops", "analyse", "--db", db, "--population", str(next(out.glob("population.*"))), "--area", "all",
                  "--report", str(rep), "--no-pdf"]):
        r = run.invoke(app, args)
        assert r.exit_code == 0, (args[0], r.output[-2000:])
    return {"audit report": rep / "audit.html", "transparency record": rep / "transparency.html",
            "model card": next((out / "models").glob("*/model_card.html")), "stops report": rep / "stops_report.html"}


@pytest.mark.parametrize("name", ["audit report", "transparency record", "model card", "stops report"])
def test_no_raw_names_in_what_partners_and_the_public_read(reports, name):
    html = Path(reports[name]).read_text(encoding="utf-8")
    assert len(visible_text(html)) > 1000, "the report has content"
    assert raw_names(html) == [], name
