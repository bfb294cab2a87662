"""The one CSV writer: no text cell a spreadsheet would run as a formula, numbers left numeric."""

import csv
import io
from datetime import date

import pandas as pd
from hypothesis import given, strategies as st

from harmlens.csvsafe import FORMULA_LEAD, csv_text, neutralise, write_csv


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@given(st.text())
def test_no_written_text_cell_starts_with_a_formula_character(s):
    rows = _cells(csv_text([{"a": s, "b": "x" + s}]))
    for cell in rows[1]:
        if cell and cell[0] in FORMULA_LEAD:
            float(cell)  # only a plain number may start with + or -


@given(st.text())
def test_neutralising_only_adds_a_leading_quote(s):
    out = neutralise(s)
    assert out == s or out == "'" + s


def test_numbers_stay_numbers_and_hostile_text_is_quoted():
    df = pd.DataFrame({"n": [-3, 2], "x": [-1.5, 0.25], "s": ["=HYPERLINK(\"http://x\")", "\tcmd"], "d": [date(2024, 1, 2), None]})
    rows = _cells(csv_text(df, date_format="%Y-%m-%d"))
    assert rows[0] == ["n", "x", "s", "d"]
    assert rows[1] == ["-3", "-1.5", "'=HYPERLINK(\"http://x\")", "2024-01-02"]
    assert rows[2] == ["2", "0.25", "'\tcmd", ""]


def test_header_from_a_user_file_is_neutralised_and_files_are_written(tmp_path):
    p = tmp_path / "o.csv"
    write_csv([["-1", "@x"]], p, columns=["=evil", "ok"])
    assert _cells(p.read_text()) == [["'=evil", "ok"], ["-1", "'@x"]]


def test_lists_are_joined_then_neutralised():
    assert _cells(csv_text([{"refs": ["+a", "b"]}]))[1] == ["'+a; b"]
