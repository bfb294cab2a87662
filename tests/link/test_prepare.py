"""Standardisation: placeholders never agree, names/dates/postcodes are cleaned."""

from __future__ import annotations

import duckdb
import pandas as pd

from harmlens.link.prepare import Placeholders, prepare


def _prep(rows: list[dict], **kw) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("src_df", pd.DataFrame(rows))
    con.execute("CREATE TABLE src AS SELECT * FROM src_df")
    prepare(con, "src", "out", **kw)
    return con.execute("SELECT * FROM out ORDER BY unique_id").df().set_index("unique_id")


def test_placeholders_become_null():
    rows = [
        {"unique_id": "a", "forename": "UNKNOWN", "surname": "N/A", "date_of_birth": "01/01/1900", "sex": "unknown", "postcode": "NFA"},
        {"unique_id": "b", "forename": "", "surname": "  ", "date_of_birth": "1900-01-01", "sex": "", "postcode": ""},
        {"unique_id": "c", "forename": "Jon", "surname": "O'Brien-Smith", "date_of_birth": "03/04/1985", "sex": "M", "postcode": "se15 4ab"},
    ]
    df = _prep(rows)
    for col in ("fn", "sn", "dob_s", "sex", "pc"):
        assert df.loc["a", col] is None or pd.isna(df.loc["a", col]), col
        assert df.loc["b", col] is None or pd.isna(df.loc["b", col]), col
    assert df.loc["c", "fn"] == "jon" and df.loc["c", "fn_canon"] == "john"
    assert df.loc["c", "sn"] == "obriensmith"
    assert df.loc["c", "dob_s"] == "1985-04-03"  # dd/mm/yyyy read the British way
    assert df.loc["c", "pc"] == "SE154AB" and df.loc["c", "pc_sector"] == "SE154" and df.loc["c", "pc_district"] == "SE15"
    assert df.loc["c", "sex"] == "m"


def test_swapped_day_month_share_a_key():
    df = _prep([
        {"unique_id": "a", "date_of_birth": "1990-03-07"},
        {"unique_id": "b", "date_of_birth": "1990-07-03"},
        {"unique_id": "c", "date_of_birth": "1990-07-04"},
    ])
    assert df.loc["a", "dob_key"] == df.loc["b", "dob_key"] != df.loc["c", "dob_key"]


def test_data_driven_placeholders_custody_postcode_and_default_dob():
    # 40 different people all recorded at one custody suite's postcode and one default date
    rows = [{"unique_id": f"m{i}", "forename": f"x{chr(97 + i % 26)}", "surname": "sur" + chr(97 + i % 26) + chr(97 + i // 26),
             "date_of_birth": "1970-01-01" if i < 30 else f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}", "postcode": "SW1A 2AA"} for i in range(40)]
    rows += [{"unique_id": f"z{i}", "date_of_birth": f"19{50 + i}-0{1 + i % 9}-2{i % 9}", "surname": "other", "postcode": f"E8 {i}AB"} for i in range(5)]
    df = _prep(rows, placeholders=Placeholders(dob_min_count=25, dob_ratio=5, postcode_max_surnames=30))
    assert df.loc[[f"m{i}" for i in range(40)], "pc"].isna().all()
    assert df.loc[[f"m{i}" for i in range(30)], "dob_s"].isna().all()
    assert df.loc["z1", "pc"] == "E81AB"


def test_user_placeholder_postcode():
    df = _prep([{"unique_id": "a", "postcode": "N7 8QT"}, {"unique_id": "b", "postcode": "N7 8QU"}],
               placeholders=Placeholders().with_values(postcodes={"n78qt"}))
    assert pd.isna(df.loc["a", "pc"]) and df.loc["b", "pc"] == "N78QU"


def test_invalid_date_kept_as_text_with_its_year():
    # a keying slip (month 86, 31 September) is still evidence: its year and its near-agreement count
    df = _prep([
        {"unique_id": "a", "date_of_birth": "1855-86-20"},
        {"unique_id": "b", "date_of_birth": "31/09/1629"},
        {"unique_id": "c", "date_of_birth": "not a date"},
        {"unique_id": "d", "date_of_birth": "3024-13-01"},  # implausible year: not kept
    ])
    assert df.loc["a", "dob_s"] == "1855-86-20" and df.loc["a", "dob_y"] == 1855
    assert df.loc["b", "dob_s"] == "1629-09-31" and df.loc["b", "dob_key"] == "1629-9-31"
    for i in ("c", "d"):
        assert pd.isna(df.loc[i, "dob_s"]) and pd.isna(df.loc[i, "dob_y"]), i


def test_title_skipped_and_single_name_offered_as_surname():
    df = _prep([
        {"unique_id": "a", "forename": "Sir Henry", "surname": "Lyte"},
        {"unique_id": "b", "forename": "Mrs", "surname": "Lyte"},
        {"unique_id": "c", "forename": "Lawes", "surname": None},
        {"unique_id": "d", "forename": "Henry", "surname": "Lawes"},
    ])
    assert df.loc["a", "fn"] == "henry" and pd.isna(df.loc["b", "fn"])
    assert df.loc["c", "sn_key"] == "lawes" and pd.isna(df.loc["c", "sn"])
    assert df.loc["d", "sn_key"] == "lawes" and df.loc["a", "sn_key"] == "lyte"


def test_nickname_groups_and_ordinals():
    from harmlens.link.nicknames import forename_groups

    assert set(forename_groups("harry")) == {"harold", "henry"}  # belongs to both
    assert forename_groups("zebedee") == ["zebedee"] and forename_groups(None) is None
    df = _prep([{"unique_id": "a", "forename": "Harry", "surname": "5th Bt."},
                {"unique_id": "b", "forename": "Rt Hon William", "surname": "Pitt"}])
    assert list(df.loc["a", "fn_alts"]) == ["harold", "henry"]
    assert df.loc["a", "sn"] == "bt"  # the ordinal does not become a name "th"
    assert df.loc["b", "fn"] == "william"
