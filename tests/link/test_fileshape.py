"""Date-of-birth shapes from --map keys: each becomes (date_of_birth, birth_year) or a one-line error."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.link.fileshape import FileShapeError, dob_shape


def _eval(shape, rows: list[dict]) -> list[tuple]:
    con = duckdb.connect()
    cols = sorted({k for r in rows for k in r})
    con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" VARCHAR' for c in cols) + ")")
    for r in rows:
        con.execute("INSERT INTO t VALUES (" + ", ".join("?" for _ in cols) + ")", [r.get(c) for c in cols])
    return con.execute(f"SELECT {shape.date_sql}, {shape.year_sql} FROM t").fetchall()


def test_split_columns_make_a_date_or_only_a_year():
    s = dob_shape({"dob_year": "y", "dob_month": "m", "dob_day": "d"})
    assert s.kind == "split"
    got = _eval(s, [{"y": "1984", "m": "2", "d": "29"}, {"y": "1985", "m": "2", "d": "29"}, {"y": "1990", "m": "", "d": "3"},
                    {"y": "x", "m": "1", "d": "1"}, {"y": "1871.0", "m": "12", "d": "1"}])
    assert got == [("1984-02-29", 1984), (None, 1985), (None, 1990), (None, None), ("1871-12-01", 1871)]


def test_one_column_with_dates_and_bare_years():
    s = dob_shape({"dob": "born"})
    got = _eval(s, [{"born": "1871"}, {"born": "1980-03-04"}, {"born": "04/03/1980"}, {"born": None}])
    assert [g[1] for g in got] == [1871, 1980, 1980, None]
    assert got[0][0] is None and got[1][0] == "1980-03-04"


def test_age_at_a_date_estimates_the_year():
    s = dob_shape({"age": "a", "age_at": "when"})
    assert _eval(s, [{"a": "30", "when": "2020-06-01"}, {"a": "", "when": "2020-06-01"}, {"a": "200", "when": "2020-01-01"}]) == [
        (None, 1990), (None, None), (None, None)]


def test_no_date_of_birth_at_all():
    s = dob_shape({"forename": "f"})
    assert s.kind == "none" and _eval(s, [{"f": "x"}]) == [(None, None)]


@pytest.mark.parametrize("mapping, msg", [({"age": "a"}, "age_at"), ({"age_at": "w"}, "without age"), ({"dob_month": "m"}, "dob_year"),
                                          ({"dob": "d", "dob_year": "y"}, "give one"), ({"dob_year": "y", "birth_year": "z"}, "both")])
def test_impossible_shapes_are_one_line_errors(mapping, msg):
    with pytest.raises(FileShapeError, match=msg):
        dob_shape(mapping)


@settings(max_examples=60, deadline=None)
@given(st.integers(-5, 3000), st.integers(-2, 14), st.integers(-2, 33))
def test_split_date_is_the_parts_or_nothing(y, m, d):
    (date, year), = _eval(dob_shape({"dob_year": "y", "dob_month": "m", "dob_day": "d"}), [{"y": str(y), "m": str(m), "d": str(d)}])
    assert year == (y if 1000 <= y <= 2100 else None)
    import datetime

    try:
        valid = 1000 <= y <= 2100 and datetime.date(y, m, d) is not None
    except ValueError:
        valid = False
    assert (date is not None) == valid
    if valid:
        assert (int(date[:4]), int(date[5:7]), int(date[8:])) == (y, m, d)
