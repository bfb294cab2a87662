"""quote_ident: any name round-trips through DuckDB as a column name and never runs as SQL."""

import duckdb
import pytest
from hypothesis import given, strategies as st

from harmlens.sqlident import UnsafeIdentifier, quote_ident


@given(st.text(min_size=1).filter(lambda s: "\x00" not in s))
def test_any_name_is_one_column_of_that_name(name):
    con = duckdb.connect()
    rel = con.execute(f"SELECT 1 AS {quote_ident(name)}")
    assert [d[0] for d in rel.description] == [name]


def test_nul_and_empty_are_refused():
    with pytest.raises(UnsafeIdentifier, match="NUL"):
        quote_ident("a\x00b")
    with pytest.raises(UnsafeIdentifier, match="empty"):
        quote_ident("")
