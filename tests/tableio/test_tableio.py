"""The shared table reader: missing markers, declared types, top-coded counts, booleans.

Fixtures are written the way R's write.csv writes them (unquoted NA for missing, TRUE/FALSE,
quoted strings), by hand, so the expected values are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.tableio import MISSING_MARKERS, TableReadError, parse_numbers, read_table, read_types

R_CSV = '''"id","age","priors","region","juv","flag","score_text","y"
"1",25,"10 or more","01",NA,TRUE,"Low",1
"2",NA,"3","12",0,FALSE,"N/A",0
"3",41,NA,"01",2,NA,"High",1
"4",33,"10+","07",NULL,FALSE,NA,0
"5",. ,"0","12",N/A,TRUE,"Low",0
'''


@pytest.fixture
def rfile(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(R_CSV, encoding="utf-8")
    return p


def test_r_style_na_is_missing_and_numbers_stay_numbers(rfile):
    df = read_table(rfile)
    assert df["age"].dtype == float and df["age"].isna().tolist() == [False, True, False, False, True]
    assert df["juv"].dtype == float and df["juv"].tolist()[1] == 0 and df["juv"].isna().sum() == 3
    assert df["priors"].tolist()[:2] == [10.0, 3.0] and df["priors"].tolist()[3] == 10.0
    assert df["flag"].tolist()[:2] == [1.0, 0.0] and np.isnan(df["flag"][2])
    info = df.attrs["tableio"]
    assert info["topcoded"] == {"priors": 2}
    assert info["missing"]["age"] == 2 and info["missing"]["score_text"] == 2


def test_keep_value_and_extra_marker(rfile):
    df = read_table(rfile, keep=["N/A"], na=["Low"])
    assert df["score_text"].iloc[1] == "N/A"
    assert df["score_text"].isna().tolist() == [True, False, False, True, True]


def test_declared_types(rfile, tmp_path):
    auto = read_table(rfile)
    assert auto["region"].dtype == float  # codes look like numbers unless declared
    df = read_table(rfile, categorical=["region"], ordinal=["priors"])
    assert df["region"].tolist() == ["01", "12", "01", "07", "12"]
    t = tmp_path / "types.toml"
    t.write_text('region = "categorical"\nid = "ignore"\n')
    df2 = read_table(rfile, types=read_types(t))
    assert "id" not in df2.columns and df2["region"].iloc[0] == "01"
    with pytest.raises(TableReadError, match="declared numeric"):
        read_table(rfile, types={"score_text": "numeric"})
    t.write_text('region = "colour"\n')
    with pytest.raises(TableReadError, match="a type is one of"):
        read_types(t)
    with pytest.raises(TableReadError, match="unknown column"):
        read_table(rfile, categorical=["nope"])
    with pytest.raises(TableReadError, match="no such file"):
        read_table(tmp_path / "none.csv")


@pytest.mark.parametrize("text,value", [("10 or more", 10), ("10+", 10), (">=10", 10), ("more than 5", 5),
                                        ("<1", 1), ("1,234", 1234), ("-3.5", -3.5), ("2 or over", 2)])
def test_topcoded_and_formatted_numbers(text, value):
    num, _ = parse_numbers(pd.Series([text]))
    assert num.iloc[0] == value


def test_text_that_is_not_a_number_stays_text():
    num, top = parse_numbers(pd.Series(["1,2", "ten", "10 apples"]))
    assert num.isna().all() and top == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-10**6, 10**6), st.sampled_from(MISSING_MARKERS)), min_size=2, max_size=30))
def test_numbers_with_any_marker_read_back(vals):
    """Whatever mix of integers and markers is written, the integers come back and the markers are missing."""
    raw = pd.DataFrame({"x": [str(v) for v in vals]})
    df = read_table(raw)
    want = [float(v) if isinstance(v, int) else np.nan for v in vals]
    got = df["x"].astype(float).tolist()
    assert all((np.isnan(a) and np.isnan(b)) or a == b for a, b in zip(got, want))
