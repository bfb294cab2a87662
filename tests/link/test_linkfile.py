"""link-file on public benchmark data (small ones) and on bad input."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from .cliapp import app
from harmlens.link.linkfile import LinkFileError, link_file, parse_mapping


def test_fake_1000_quality(shared_data):
    d = shared_data / "linkage"
    r = link_file([d / "fake_1000.csv"], "unique_id", parse_mapping("forename=first_name,surname=surname,dob=dob,city=city,email=email"),
                  truth="cluster", threshold=0.9)
    s = r.scores
    assert s.true_pairs == 2031  # as PROVENANCE.md says
    assert s.precision >= 0.97 and s.recall >= 0.65 and s.f1 >= 0.80, s.text()
    assert s.blocking_recall is not None and 0.5 < s.blocking_recall <= 1
    assert len(r.assignments) == 1000 and len({m for m, _ in r.assignments}) == 1000


def test_febrl3_subset_quality(shared_data, tmp_path):
    # a subset (entities 0-699, about a third of the file) keeps the test fast; the full file is in bench/
    df = pd.read_csv(shared_data / "linkage" / "febrl" / "dataset3.csv", dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    df = df[df["rec_id"].str.extract(r"rec-(\d+)")[0].astype(int) < 700]
    p = tmp_path / "febrl3_subset.csv"
    df.to_csv(p, index=False)
    ent = df["rec_id"].str.extract(r"rec-(\d+)")[0].value_counts()
    r = link_file([p], "rec_id",
                  parse_mapping("forename=given_name,surname=surname,dob=date_of_birth,postcode=postcode,soc_sec_id=soc_sec_id,suburb=suburb,street_number=street_number,address_1=address_1,state=state"),
                  truth="rec_id", truth_pattern=r"rec-(\d+)")
    assert r.scores.true_pairs == int((ent * (ent - 1) // 2).sum())
    assert r.scores.f1 >= 0.98, r.scores.text()


def test_cli_writes_mention_person_and_scores(shared_data, tmp_path):
    out = tmp_path / "links.csv"
    res = CliRunner().invoke(app, ["link-file", str(shared_data / "linkage" / "fake_1000.csv"), "--id", "unique_id",
                                   "--map", "forename=first_name,surname=surname,dob=dob,email=email", "--truth", "cluster", "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, dtype=str)
    assert list(df.columns) == ["mention_id", "person_id"] and len(df) == 1000
    assert "pairwise precision" in res.output and "blocking recall" in res.output


def _csv(tmp_path, rows):
    p = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_same_people_in_a_tiny_list(tmp_path):
    rows = []
    for i, (fn, sn, dob) in enumerate([("john", "smith", "1980-02-03"), ("jon", "smith", "1980-03-02"), ("john", "smyth", "1980-02-03"),
                                       ("mary", "jones", "1975-06-07"), ("mary", "jones", "1975-06-07"), ("ahmed", "khan", "1990-01-15")] * 1):
        rows.append({"id": f"r{i}", "f": fn, "s": sn, "d": dob, "p": "SE15 4AB" if i < 3 else "N1 1AA"})
    # padding so the model has something to estimate u from
    for i in range(60):
        rows.append({"id": f"x{i}", "f": ["paul", "rita", "sam", "omar", "lucy", "tariq"][i % 6] + chr(97 + i % 26),
                     "s": "pad" + chr(97 + i % 26) + chr(97 + i // 26), "d": f"19{60 + i % 30}-0{1 + i % 9}-1{i % 9}", "p": f"E{i % 20} 1AB"})
    r = link_file([_csv(tmp_path, rows)], "id", parse_mapping("forename=f,surname=s,dob=d,postcode=p"), threshold=0.5)
    pid = dict(r.assignments)
    assert pid["r3"] == pid["r4"]
    assert pid["r0"] != pid["r3"] and pid["r5"] not in {pid["r0"], pid["r3"]}


@pytest.mark.parametrize("mapping, msg", [("forename", "KEY=COLUMN"), ("forename=nope", "not in the file"), ("", "empty"),
                                          ("forename=f,forename=s", "twice")])
def test_bad_mapping(tmp_path, mapping, msg):
    p = _csv(tmp_path, [{"id": "1", "f": "a", "s": "b"}])
    with pytest.raises(LinkFileError, match=msg):
        link_file([p], "id", parse_mapping(mapping))


def test_duplicate_ids_and_missing_file_are_one_line_errors(tmp_path):
    p = _csv(tmp_path, [{"id": "1", "f": "a"}, {"id": "1", "f": "b"}])
    with pytest.raises(LinkFileError, match="unique"):
        link_file([p], "id", {"forename": "f"})
    r = CliRunner().invoke(app, ["link-file", str(tmp_path / "missing.csv"), "--id", "id", "--map", "forename=f"])
    assert r.exit_code == 1 or "no such file" in str(r.exception)


def test_result_does_not_depend_on_truth(shared_data):
    # --truth keeps every candidate pair for blocking recall; the clustering must use the same pairs either way
    d = shared_data / "linkage"
    m = parse_mapping("forename=first_name,surname=surname,dob=dob,city=city,email=email")
    a = link_file([d / "fake_1000.csv"], "unique_id", m, truth="cluster")
    b = link_file([d / "fake_1000.csv"], "unique_id", m)
    assert a.assignments == b.assignments and b.scores is None
    assert a.scores.f1 >= 0.85 and a.scores.precision >= 0.97, a.scores.text()  # average linkage at 0.5 (docs/link.md)


def test_wide_rules_skip_keys_with_huge_blocks():
    import duckdb

    from harmlens.link.model import affordable_rules

    con = duckdb.connect()
    # 300 rows share one occupation and birth year (a huge block); surnames are all different
    con.execute("""CREATE TABLE t AS SELECT 'r' || i AS unique_id, 'painter' AS "x_occ", 1850 AS dob_y, 'sur' || i AS sn_key
                   FROM range(300) r(i)""")
    rules = affordable_rules(con, "t", [('"x_occ"', "dob_y"), ('"x_occ"', "sn_key")], max_pairs=1000)
    assert rules == ['l."x_occ" = r."x_occ" AND l.sn_key = r.sn_key']


def test_bad_threshold_is_a_one_line_error(tmp_path):
    p = _csv(tmp_path, [{"id": "1", "f": "a"}, {"id": "2", "f": "b"}])
    with pytest.raises(LinkFileError, match="threshold"):
        link_file([p], "id", {"forename": "f"}, threshold=1.5)


def test_rule_sql_prefixes_columns_inside_expressions():
    from harmlens.link.model import rule_sql

    assert rule_sql(("sn_key", "substr(dob_s, 6)")) == "l.sn_key = r.sn_key AND substr(l.dob_s, 6) = substr(r.dob_s, 6)"
    assert rule_sql(('"x_fn_place"', "left(fn, 1)")) == 'l."x_fn_place" = r."x_fn_place" AND left(l.fn, 1) = left(r.fn, 1)'
