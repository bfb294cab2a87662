"""End to end through the CLI: import, analyse (text, JSON), report (HTML, PDF), errors."""

from __future__ import annotations

import json
from datetime import date
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from harmlens.cli import app

runner = CliRunner()


def _contract_stops(path, rows):
    lines = ["stop_id,occurred_at,legislation,self_defined_ethnicity,officer_defined_ethnicity,borough,latitude,longitude,searched,found"]
    lines += [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def city(tmp_path):
    """Lambeth: 1,000 White and 500 Black residents; 10 White, 15 Black and 3 not-stated stops in 2021,
    2 stops under another power, 1 stop in 2019. Truth: rates 10 and 30 per 1,000, ratio 3."""
    rows = []
    i = 0
    for grp, code, ic, n in (("W", "W1", "IC1", 10), ("B", "B2", "IC3", 15), ("N", "not_stated", "IC3", 3)):
        for k in range(n):
            i += 1
            searched = "true" if k < 4 else "false"
            found = ("true" if k < (1 if grp == "B" else 2) else "false") if k < 4 else ""
            rows.append((f"s{i}", f"2021-0{1 + k % 9}-1{k % 9}T1{k % 10}:15:00", "s163 Road Traffic Act 1988", code, ic, "Lambeth",
                         51.46, -0.11, searched, found))
    rows.append(("p1", "2021-03-03T10:00:00", "s1 PACE", "B2", "IC3", "Lambeth", 51.46, -0.11, "true", "false"))
    rows.append(("p2", "2021-03-03T11:00:00", "s1 PACE", "B2", "IC1", "Lambeth", 51.46, -0.11, "true", "false"))
    rows.append(("old", "2019-03-03T11:00:00", "s163 Road Traffic Act 1988", "W1", "IC1", "Lambeth", 51.46, -0.11, "false", ""))
    _contract_stops(tmp_path / "stops.csv", rows)
    (tmp_path / "pop.csv").write_text("area,ethnicity_group,population\nLambeth,White,1000\nLambeth,Black,500\n")
    return tmp_path


def test_import_analyse_report(city):
    db = str(city / "wh.duckdb")
    r = runner.invoke(app, ["stops", "import", str(city / "stops.csv"), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["totals"]["read"] == rep["totals"]["loaded"] == 31
    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", str(city / "pop.csv"), "--from", "2021-01-01",
                            "--to", "2021-12-31", "--legislation", "s163", "--no-vod", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["n_stops"] == 28
    d = {row["group"]: row for row in out["disproportionality"]}
    assert d["White"]["rate_per_1000"] == pytest.approx(10.0)
    assert d["Black"]["rate_per_1000"] == pytest.approx(30.0)
    assert d["Black"]["ratio_vs_white"] == pytest.approx(3.0)
    assert d["Black"]["ratio_low"] < 3 < d["Black"]["ratio_high"]
    assert out["excluded_from_rates"] == {"Not stated": 3}
    counts = {row["group"]: row["stops"] for row in out["counts"]}
    assert counts == {"Black": 15, "White": 10, "Not stated": 3}
    hits = {row["group"]: row for row in out["outcome_test"]}
    assert hits["White"]["searches"] == 4 and hits["White"]["found"] == 2 and hits["Black"]["found"] == 1
    assert out["agreement_summary"]["agreement"] == 1.0
    assert out["caveats"]["outcome_test"] and out["caveats"]["rates"]

    r = runner.invoke(app, ["stops", "analyse", "--db", db, "--population", str(city / "pop.csv"), "--report", str(city / "rep")])
    assert r.exit_code == 0, r.output
    assert "ratio" in r.stdout and "veil of darkness" in r.stdout
    html = (city / "rep" / "stops_report.html").read_text()
    assert "<svg" in html and "Disproportionality" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert (city / "rep" / "stops_report.pdf").read_bytes()[:4] == b"%PDF"


def test_user_mistakes_are_one_line_errors(city):
    db = str(city / "wh.duckdb")
    runner.invoke(app, ["stops", "import", str(city / "stops.csv"), "--db", db])
    cases = [
        (["stops", "analyse", "--db", db, "--from", "2021-13-01"], "not a date"),
        (["stops", "analyse", "--db", db, "--population", str(city / "pop.csv"), "--area", "Camden"], "not in the population table"),
        (["stops", "analyse", "--db", db, "--legislation", "no such power"], "no stops match"),
        (["stops", "analyse", "--db", db, "--minority", "Martian"], "unknown group"),
        (["stops", "import", str(city / "nope.csv"), "--db", db], "no such file"),
    ]
    from harmlens.errors import HarmlensError

    for args, msg in cases:
        r = runner.invoke(app, args)
        assert isinstance(r.exception, HarmlensError), (args, r.exception)
        assert msg in str(r.exception) and "\n" not in str(r.exception)
    # Through the real entry point: one line on stderr, exit code 1, no traceback.
    p = subprocess.run([sys.executable, "-m", "harmlens.cli", *cases[1][0]], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("error: ") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_population_from_warehouse_borough_rates_and_borough_effects(city, warehouse):
    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.stops.importer import import_stops
    from harmlens.stops.population import population_from_warehouse

    import_stops(warehouse, [city / "stops.csv"])
    warehouse.execute("INSERT INTO population (area, ethnicity_group, population) VALUES "
                      "('Lambeth', 'White', 1000), ('Lambeth', 'B1', 200), ('Lambeth', 'B2', 300)")
    pop = population_from_warehouse(warehouse)
    a = analyse_stops(warehouse, StopFilter(legislation=("s163",)), AnalyseSettings(area_effects="borough"), pop)
    assert a.population_areas == ["Lambeth"]
    assert a.disproportionality.loc["Black", "population"] == 500
    b = a.borough_rates.loc["Lambeth"]
    assert b["Black_stops"] == 15 and b["White_stops"] == 11 and bool(b["too_few"]) is True
    assert b["ratio"] == pytest.approx((15 / 500) / (11 / 1000))
    assert a.vod is None and a.vod_skipped  # 26 stops: no window with both light and dark, said so


def test_officer_basis_and_golden_summary(city, warehouse):
    from pathlib import Path

    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.stops.importer import import_stops
    from harmlens.stops.population import read_population
    from harmlens.stops.report import render_stops_report, text_summary

    import_stops(warehouse, [city / "stops.csv"])
    pop = read_population(city / "pop.csv")
    a = analyse_stops(warehouse, StopFilter(legislation=("s163",)), AnalyseSettings(ethnicity="officer"), pop)
    # Officer-perceived: the 3 not-stated people were perceived IC3 (Black), so Black has 18 stops.
    assert a.counts.loc["Black", "stops"] == 18 and "Not stated" not in a.counts.index
    assert a.disproportionality.loc["Black", "rate_per_1000"] == pytest.approx(36.0)

    s = analyse_stops(warehouse, StopFilter(date(2021, 1, 1), date(2021, 12, 31), ("s163",)), AnalyseSettings(), pop)
    golden = Path(__file__).parent / "golden" / "summary_small_city.txt"
    got = text_summary(s)
    # GroupFrame's small-group warnings are worded by the audit area: checked for content, not text.
    own = "\n".join(ln for ln in got.splitlines() if not ln.startswith("warning:"))
    assert own == golden.read_text().rstrip("\n"), own
    warnings = [ln for ln in got.splitlines() if ln.startswith("warning: hit rate")]
    assert warnings and all("Black" in w or "White" in w for w in warnings)
    html = render_stops_report(s)
    for section in ("Stops by ethnic group", "Rates and disproportionality", "Self-defined vs officer-perceived",
                    "Veil-of-darkness test", "Outcome (hit-rate) test", "Breakdowns", "Notes and caveats"):
        assert section in html
