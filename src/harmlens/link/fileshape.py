"""The shape of a date of birth in someone else's file, read from the ``--map`` keys.

Registers give a date of birth in many shapes: one full date, three columns (year, month, day),
a year only, an age at some event date, or nothing. Each shape becomes the same two columns
the model uses: ``date_of_birth`` (ISO text, only where the whole date is known) and
``birth_year`` (an integer, wherever a year is known or can be estimated). Comparisons and
blocking rules are then built from whichever of the two has values, so a file with years only
never needs an exact-date rule.

Keys (in ``--map``):

- ``dob`` / ``date_of_birth``: a date (ISO, dd/mm/yyyy, yyyymmdd) or a bare year (``1871``);
- ``dob_year`` (or ``birth_year``, ``yob``), optional ``dob_month`` and ``dob_day``;
- ``age`` with ``age_at`` (the date the age was recorded, e.g. an event date): the year of birth
  is estimated as the year of ``age_at`` minus the age (one year early or late for half the people,
  which the "within 2 years" level absorbs).
"""

from __future__ import annotations

from dataclasses import dataclass

from harmlens.errors import HarmlensError
from harmlens.sqlident import quote_ident

YEAR_KEYS = ("dob_year", "birth_year", "yob", "year_of_birth")
MONTH_KEYS = ("dob_month", "birth_month")
DAY_KEYS = ("dob_day", "birth_day")
DATE_KEYS = ("dob", "date_of_birth")
AGE_KEYS = ("age",)
AGE_AT_KEYS = ("age_at", "event_date")
SHAPE_KEYS = frozenset(YEAR_KEYS + MONTH_KEYS + DAY_KEYS + DATE_KEYS + AGE_KEYS + AGE_AT_KEYS)


class FileShapeError(HarmlensError):
    """A date-of-birth mapping that cannot be read (e.g. an age without the date it was recorded)."""


@dataclass(frozen=True)
class DobShape:
    kind: str  # "date", "split", "year", "age", "none"
    date_sql: str  # ISO text or NULL
    year_sql: str  # INTEGER or NULL

    def describe(self) -> str:
        return {"date": "one date column (a bare year is read as a year)",
                "split": "year/month/day columns", "year": "a year column only",
                "age": "an age at a recorded date (year estimated)", "none": "none"}[self.kind]


def _pick(mapping: dict[str, str], keys: tuple[str, ...]) -> str | None:
    found = [k for k in keys if k in mapping]
    if len(found) > 1:
        raise FileShapeError(f"--map gives both {found[0]} and {found[1]}: give one")
    return mapping[found[0]] if found else None


def _int(col: str, lo: int, hi: int) -> str:
    # a year column may come as '1871.0' from a spreadsheet; anything outside the range is missing
    v = f"TRY_CAST(TRY_CAST(trim(CAST({col} AS VARCHAR)) AS DOUBLE) AS INTEGER)"
    return f"(CASE WHEN {v} BETWEEN {lo} AND {hi} THEN {v} END)"


def _date(col: str) -> str:
    c = f"trim(CAST({col} AS VARCHAR))"
    return (f"coalesce(TRY_CAST({c} AS DATE), CAST(try_strptime({c}, '%d/%m/%Y') AS DATE), "
            f"CAST(try_strptime({c}, '%Y%m%d') AS DATE), CAST(try_strptime({c}, '%d-%m-%Y') AS DATE))")


def dob_shape(mapping: dict[str, str], max_year: int = 2100) -> DobShape:
    """The date-of-birth shape of a mapping and SQL (over the raw table's columns) for its two columns."""
    q = quote_ident
    date_col = _pick(mapping, DATE_KEYS)
    year_col, month_col, day_col = _pick(mapping, YEAR_KEYS), _pick(mapping, MONTH_KEYS), _pick(mapping, DAY_KEYS)
    age_col, age_at_col = _pick(mapping, AGE_KEYS), _pick(mapping, AGE_AT_KEYS)
    if date_col and year_col:
        raise FileShapeError("--map gives a date of birth and a year of birth: give one (or the year/month/day columns)")
    if (month_col or day_col) and not year_col:
        raise FileShapeError("--map gives a birth month or day without dob_year")
    if age_col and not age_at_col:
        raise FileShapeError("--map gives an age without age_at (the date the age was recorded)")
    if age_at_col and not age_col:
        raise FileShapeError("--map gives age_at without age")
    if date_col:
        c = q(date_col)
        # a bare year (or a year and nothing else) is a year of birth, not 1 January of it
        bare = f"regexp_full_match(trim(CAST({c} AS VARCHAR)), '[0-9]{{4}}(\\.0)?')"
        d = _date(c)
        date_sql = f"(CASE WHEN {bare} THEN NULL ELSE CAST({c} AS VARCHAR) END)"
        year_sql = f"(CASE WHEN {bare} THEN {_int(c, 1000, max_year)} ELSE year({d}) END)"
        return DobShape("date", date_sql, year_sql)
    if year_col:
        y = _int(q(year_col), 1000, max_year)
        if month_col and day_col:
            m, dd = _int(q(month_col), 1, 12), _int(q(day_col), 1, 31)
            # a valid date only when all three parts make one; the year alone otherwise
            date_sql = (f"strftime(TRY_CAST(printf('%04d-%02d-%02d', {y}, {m}, {dd}) AS DATE), '%Y-%m-%d')")
            return DobShape("split", date_sql, y)
        return DobShape("year", "CAST(NULL AS VARCHAR)", y)
    if age_col:
        a = _int(q(age_col), 0, 130)
        at = _date(q(age_at_col))
        return DobShape("age", "CAST(NULL AS VARCHAR)", f"(year({at}) - {a})")
    return DobShape("none", "CAST(NULL AS VARCHAR)", "CAST(NULL AS INTEGER)")
