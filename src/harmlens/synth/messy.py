"""The ``messy`` profile: records that are not the linkage model's mirror.

The ``clean`` city's errors are the ones the linkage model was designed around. ``messy`` adds
what real police records hold and a model tuned on ``clean`` has not seen (rates in
``MessyConfig``, reasons in docs/link.md):

- victims and witnesses often recorded without a date of birth;
- small name pools: a share of households carry one of a few very common surnames and a share
  of people one of a few very common forenames, so names alone identify less;
- a son named after his father (same forename, surname and address, different date of birth):
  the classic false merge;
- more nicknames, forename and surname transposed, more typos, dates of birth a year out or
  with day and month swapped;
- postcodes that change over time: an old address recorded after a move, or a temporary one.

It draws from its own random stream, so the ``clean`` city is byte-identical with or without it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from harmlens.synth import reference as ref
from harmlens.synth.config import PROFILES, MessyConfig  # noqa: F401 (re-exported)
from harmlens.synth.mentions import _typo
from harmlens.synth.population import Population, postcodes

COMMON_SURNAMES = ("Smith", "Jones", "Williams", "Brown", "Taylor", "Khan", "Patel", "Ali")


def messy_population(rng: np.random.Generator, pop: Population, mc: MessyConfig) -> Population:
    """A copy of ``pop`` with common names and sons named after their fathers."""
    start, size = pop.household_members
    n = pop.n
    fore = pop.forename.copy()
    sur = pop.surname.copy()
    hh = pop.household
    # common surnames, per household (members sharing the first member's surname keep sharing it)
    pick = rng.random(len(start)) < mc.common_surname
    new = np.array(COMMON_SURNAMES, dtype=object)[rng.integers(0, len(COMMON_SURNAMES), len(start))]
    head_sur = sur[start]
    m = pick[hh] & (sur == head_sur[hh])
    sur[m] = new[hh][m]
    # common forenames, per person
    u = rng.random(n)
    k = rng.integers(0, 5, n)
    for fem, table in ((True, ref.FORENAMES_F["british"]), (False, ref.FORENAMES_M["british"])):
        sel = (u < mc.common_forename) & (pop.female == fem)
        fore[sel] = np.array(table[:5], dtype=object)[k[sel]]
    # juniors: a male member after the first, when the first member is a man, takes his forename
    pos = np.arange(n) - start[hh]
    father = start[hh]
    cand = (pos >= 1) & ~pop.female & ~pop.female[father] & (pop.partner != father) & (pop.dob_days > pop.dob_days[father] + 365 * 16)
    jr = cand & (rng.random(n) < mc.junior)
    fore[jr] = fore[father[jr]]
    sur[jr] = sur[father[jr]]
    return dataclasses.replace(pop, forename=fore, surname=sur)


def messy_mentions(rng: np.random.Generator, cols: dict[str, np.ndarray], pop: Population, person: np.ndarray, t: np.ndarray,
                   role: np.ndarray, mc: MessyConfig) -> dict[str, np.ndarray]:
    """More mess on the clean mentions' columns (returned as a new dict)."""
    n = len(person)
    out = dict(cols)
    fore, sur = cols["forename"].copy(), cols["surname"].copy()
    for i in np.flatnonzero(rng.random(n) < mc.nickname):
        name = pop.forename[person[i]]
        if name in ref.NICKNAMES and fore[i] == name:
            opts = ref.NICKNAMES[name]
            fore[i] = opts[int(rng.integers(0, len(opts)))]
    for arr in (fore, sur):
        for i in np.flatnonzero(rng.random(n) < mc.typo):
            if arr[i] and arr[i] != "UNKNOWN":
                arr[i] = _typo(rng, arr[i])
    swap = rng.random(n) < mc.name_swap
    fore[swap], sur[swap] = sur[swap], fore[swap].copy()
    out["forename"], out["surname"] = fore, sur

    dob = cols["date_of_birth"].copy()
    u = rng.random(n)
    year = u < mc.dob_year
    dob = np.where(year, dob + np.where(rng.random(n) < 0.5, 365, -365).astype("timedelta64[D]"), dob)
    y = dob.astype("datetime64[Y]")
    mo = dob.astype("datetime64[M]")
    month = (mo - y.astype("datetime64[M]")).astype(int) + 1
    day = (dob - mo.astype("datetime64[D]")).astype(int) + 1
    sw = (u >= mc.dob_year) & (u < mc.dob_year + mc.dob_swap) & (day <= 12) & (day != month) & (y > np.datetime64("1900", "Y"))
    swapped = (y.astype("datetime64[M]") + (day - 1)).astype("datetime64[D]") + (month - 1)
    out["date_of_birth"] = np.where(sw, swapped, dob)
    u = rng.random(n)
    missing = ((role == "victim") & (u < mc.dob_missing_victim)) | ((role == "witness") & (u < mc.dob_missing_witness))
    out["dob_missing"] = cols["dob_missing"] | missing

    pc = cols["postcode"].copy()
    home = np.where(t < pop.move_s[person], pop.postcode_prev[person], pop.postcode[person])
    at_home = pc == home  # not a placeholder, custody suite or missing
    u = rng.random(n)
    moved = pop.postcode_prev[person] != pop.postcode[person]
    stale = at_home & moved & (t >= pop.move_s[person]) & (u < mc.postcode_stale)
    pc[stale] = pop.postcode_prev[person[stale]]
    other = at_home & ~stale & (rng.random(n) < mc.postcode_other)
    if other.any():
        pc[other] = postcodes(rng, pop.borough[person[other]])
    out["postcode"] = pc
    out["_messy_name_swap"] = swap
    out["_messy_dob_missing"] = missing & ~cols["dob_missing"]
    return out
