"""Census denominators for stop rates: read population tables in the shapes they come in.

Accepted (recognised by their columns):

- the contract's ``population`` format: ``area, ethnicity_group, population`` where
  ``ethnicity_group`` is a group (``White``), a 2021 code (``B2``) or a Census category label
  (2021 TS021 ``Black, Black British, Black Welsh, Caribbean or African: African`` or 2011
  ``Black/African/Caribbean/Black British: African``); categories are summed into groups;
- ONS TS021-style long tables: an area column, an ``Ethnic group (20 categories)`` label
  column and an ``Observation`` (or ``Count``) column;
- Nomis wide tables (2011 QS201EW as in ``../shared/data/census``): one row per area, one
  column per category, ``Ethnic Group: Black; measures: Value`` style headers.

Totals ('All usual residents') and 'Does not apply' rows are skipped. The result is always
``area, ethnicity_group, population`` with the five groups of police statistics.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from harmlens.engine import as_engine
from harmlens.errors import HarmlensError
from harmlens.stops.codes import GROUPS, population_group


class PopulationError(HarmlensError):
    """A population table that cannot be used as denominators."""


class NoCategoriesError(PopulationError):
    """The table has no rows at the level asked for (e.g. no 2021 categories, only groups)."""


def _norm_area(a: str) -> str:
    a = re.sub(r"[^a-z0-9 ]", " ", str(a).lower().replace("&", " and "))
    return re.sub(r"\s+", " ", a).strip()


def _code_of(label: str) -> str | None:
    """Population label -> 2021 code, or None for totals and group-only labels ('Black')."""
    from harmlens.stops.codes import self_defined_code

    if population_group(label) is None:
        return None
    try:
        code = self_defined_code(label)
    except ValueError:
        return None  # a group total such as 'Black' or 'Asian/Asian British'
    return code if code != "not_stated" else None


def _from_long(df: pd.DataFrame, area_col: str, group_col: str, value_col: str, path: Path,
               mapper=population_group) -> pd.DataFrame:
    vals = pd.to_numeric(df[value_col].astype(str).str.replace(",", "").str.strip(), errors="coerce")
    bad = vals.isna() | (vals < 0)
    if bad.any():
        i = int(bad.idxmax())
        raise PopulationError(f"{path}: row {i + 2}: population {df[value_col].iloc[i]!r} is not a non-negative number")
    groups = []
    for lab in df[group_col].astype(str):
        try:
            groups.append(mapper(lab))
        except ValueError as exc:
            raise PopulationError(f"{path}: {exc}") from None
    out = pd.DataFrame({"area": df[area_col].astype(str).str.strip(), "ethnicity_group": groups, "population": vals})
    out = out[out["ethnicity_group"].notna()]
    return _finish(out, path)


def _finish(out: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    if out.empty:
        raise NoCategoriesError(f"{path}: no ethnic-group rows found")
    res = out.groupby(["area", "ethnicity_group"], as_index=False)["population"].sum()
    res["population"] = res["population"].round().astype("int64")
    return res.sort_values(["area", "ethnicity_group"]).reset_index(drop=True)


def _from_nomis_wide(df: pd.DataFrame, path: Path, mapper=population_group) -> pd.DataFrame:
    cols = [c for c in df.columns if c.lower().startswith("ethnic group:")]
    area_col = next((c for c in df.columns if c.lower() in ("geography", "pfa16nm", "area", "police force")), df.columns[0])
    inner = {c: re.sub(r";\s*measures:.*$", "", c[len("ethnic group:"):], flags=re.I).strip() for c in cols}
    # Use the sub-categories (they carry a second ':'), so group totals are not double counted;
    # a group with no sub-category columns falls back to its total column.
    sub = {c: lab for c, lab in inner.items() if ":" in lab}
    tops = {c: lab for c, lab in inner.items() if ":" not in lab and not lab.lower().startswith("all")}
    use: dict[str, str] = {}
    covered: set[str] = set()
    for c, lab in sub.items():
        g = mapper(lab)
        if g:
            use[c] = g
            covered.add(population_group(lab))
    for c, lab in tops.items():
        if mapper is not population_group:
            continue  # detail level: group totals are not categories
        g = population_group(lab)
        if g and g not in covered:
            use[c] = g
    if not use:
        raise NoCategoriesError(f"{path}: no 'Ethnic Group: ...' columns recognised")
    parts = []
    for c, g in use.items():
        vals = pd.to_numeric(df[c].astype(str).str.replace(",", ""), errors="coerce")
        if vals.isna().any():
            raise PopulationError(f"{path}: column {c!r} has non-numeric values")
        parts.append(pd.DataFrame({"area": df[area_col].astype(str).str.strip(), "ethnicity_group": g, "population": vals}))
    return _finish(pd.concat(parts, ignore_index=True), path)


def read_population(path: str | Path, *, detail: bool = False) -> pd.DataFrame:
    """Read a population table -> ``area, ethnicity_group, population`` (five groups).

    ``detail=True`` keeps the 2021 categories instead (``ethnicity_group`` holds codes such as
    ``W1``; group-only rows are dropped), e.g. for rates relative to White British (``W1``).
    2011 tables have no Roma category (``W4``).
    """
    if detail:
        try:
            return _read_population(Path(path), _code_of)
        except NoCategoriesError:
            return pd.DataFrame({"area": pd.Series(dtype=str), "ethnicity_group": pd.Series(dtype=str),
                                 "population": pd.Series(dtype="int64")})
    return _read_population(Path(path), population_group)


def _read_population(path: Path, mapper) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise PopulationError(f"{path}: no such file")
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path).astype(str)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # parser errors of several kinds
        raise PopulationError(f"{path}: cannot read as CSV/Parquet ({str(exc).splitlines()[0]})") from None
    lower = {c.lower().strip(): c for c in df.columns}
    if {"area", "ethnicity_group", "population"} <= set(lower):
        return _from_long(df, lower["area"], lower["ethnicity_group"], lower["population"], path, mapper)
    label = [c for c in df.columns if "ethnic group" in c.lower() and "code" not in c.lower()]
    value = [c for c in df.columns if c.lower().strip() in ("observation", "count", "value", "population")]
    if label and value:
        area = [c for c in df.columns if c not in label + value and "code" not in c.lower()]
        if not area:
            raise PopulationError(f"{path}: no area column")
        return _from_long(df, area[0], label[0], value[0], path, mapper)
    if any(c.lower().startswith("ethnic group:") for c in df.columns):
        return _from_nomis_wide(df, path, mapper)
    raise PopulationError(
        f"{path}: not a population table: want columns area, ethnicity_group, population (contract), a TS021-style "
        "long table (ethnic group label + Observation) or a Nomis wide table ('Ethnic Group: ...' columns)"
    )


def population_from_warehouse(con, *, detail: bool = False) -> pd.DataFrame:
    """The contract ``population`` table, normalised as for files (empty frame if none)."""
    eng = as_engine(con)
    df = eng.frame("SELECT area, ethnicity_group, population FROM population")
    if df.empty:
        return df
    try:
        return _from_long(df.astype(str), "area", "ethnicity_group", "population", "warehouse population table",
                          _code_of if detail else population_group)
    except NoCategoriesError:
        if detail:
            return df.iloc[0:0]
        raise


def select_area(pop: pd.DataFrame, areas: list[str] | None) -> tuple[pd.Series, list[str]]:
    """Group totals for the chosen area(s); returns (population by group, area names used).

    ``areas=None`` is allowed only when the table has one area; ``["all"]`` sums every area
    (e.g. all boroughs of a force). Names match ignoring case, punctuation and '&'/'and'.
    """
    all_areas = sorted(pop["area"].unique())
    if areas and [a.strip().lower() for a in areas] == ["all"]:
        areas = all_areas
    if not areas:
        if len(all_areas) != 1:
            shown = ", ".join(all_areas[:8]) + (" ..." if len(all_areas) > 8 else "")
            raise PopulationError(f"the population table has {len(all_areas)} areas ({shown}): choose with --area NAME (repeatable) or --area all")
        areas = all_areas
    lookup = {_norm_area(a): a for a in all_areas}
    chosen = []
    for a in areas:
        key = _norm_area(a)
        if key not in lookup:
            near = [x for k, x in lookup.items() if key in k or k in key][:5]
            hint = f" (did you mean: {', '.join(near)})" if near else ""
            raise PopulationError(f"area {a!r} is not in the population table{hint}")
        chosen.append(lookup[key])
    sel = pop[pop["area"].isin(chosen)].groupby("ethnicity_group")["population"].sum()
    if set(sel.index) <= set(GROUPS):
        return sel.reindex(list(GROUPS)).dropna().astype("int64"), chosen
    return sel.sort_index().astype("int64"), chosen  # detail level (2021 codes)


def borough_populations(pop: pd.DataFrame, boroughs: list[str]) -> dict[str, pd.Series]:
    """Population by group for each borough name that the table has (matched loosely)."""
    lookup = {_norm_area(a): a for a in pop["area"].unique()}
    out = {}
    for b in boroughs:
        a = lookup.get(_norm_area(b))
        if a is not None:
            out[b] = pop[pop["area"] == a].set_index("ethnicity_group")["population"]
    return out
