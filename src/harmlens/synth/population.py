"""The residents of the synthetic city, built household by household (so partners, children and
shared addresses exist), all vectorised with numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmlens.synth import reference as ref

DAY = 86_400
YEAR_DAYS = 365.25
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


@dataclass
class Population:
    """Column arrays, one entry per resident (index = person number)."""

    household: np.ndarray
    borough: np.ndarray
    code: np.ndarray        # index into ref.CODES
    group: np.ndarray       # index into ref.GROUPS
    female: np.ndarray      # bool
    dob_days: np.ndarray    # days since 1970-01-01
    age_at_cut: np.ndarray  # years (float)
    adult_pos: np.ndarray   # bool: an adult member of the household (not a child)
    partner: np.ndarray     # person index of the household partner, -1 if none
    forename: np.ndarray
    surname: np.ndarray
    postcode: np.ndarray       # current postcode
    postcode_prev: np.ndarray  # postcode before the move
    move_s: np.ndarray         # when the household moved to `postcode` (seconds); earlier mentions use postcode_prev
    household_members: tuple[np.ndarray, np.ndarray]  # (start, size) per household in person order

    @property
    def n(self) -> int:
        return len(self.borough)


def _sample_ages(rng: np.random.Generator, n: int, lo_age: float, hi_age: float) -> np.ndarray:
    bands = []
    for a, b, wt in ref.AGE_BANDS:
        lo, hi = max(a, lo_age), min(b, hi_age)
        if hi > lo:
            bands.append((lo, hi, wt * (hi - lo) / (b - a)))
    w = np.array([b[2] for b in bands])
    w = w / w.sum()
    k = rng.choice(len(bands), size=n, p=w)
    lo = np.array([b[0] for b in bands])[k]
    hi = np.array([b[1] for b in bands])[k]
    return lo + rng.random(n) * (hi - lo)


def postcodes(rng: np.random.Generator, borough: np.ndarray) -> np.ndarray:
    """A random postcode in a district of each borough (outward code real, inward code random)."""
    n = len(borough)
    out = np.empty(n, dtype=object)
    pick = rng.random(n)
    digit = rng.integers(1, 10, n)
    l1 = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), n)]
    l2 = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), n)]
    for b in np.unique(borough):
        m = borough == b
        d = np.array(ref.DISTRICTS[b], dtype=object)
        out[m] = d[(pick[m] * len(d)).astype(int)]
    return out + " " + digit.astype(str).astype(object) + l1.astype(object) + l2.astype(object)


def build_population(rng: np.random.Generator, n_people: int, cut_s: int, history_s: int) -> Population:
    """Residents in households: singles, couples, families with children, sharers."""
    # household types: single, couple, couple+kids, single parent, multi-adult
    type_p = np.array([0.30, 0.22, 0.24, 0.10, 0.14])
    n_hh = int(n_people / 2.3 * 1.15) + 10
    htype = rng.choice(5, size=n_hh, p=type_p)
    kids = np.where(np.isin(htype, (2, 3)), rng.choice([1, 2, 3], size=n_hh, p=[0.5, 0.4, 0.1]), 0)
    adults = np.select([htype == 0, htype == 1, htype == 2, htype == 3], [1, 2, 2, 1], default=rng.integers(2, 5, n_hh))
    size = adults + kids
    csum = np.cumsum(size)
    last = int(np.searchsorted(csum, n_people))  # household index that reaches n_people
    n_hh = last + 1
    htype, kids, adults, size = htype[:n_hh], kids[:n_hh], adults[:n_hh], size[:n_hh].copy()
    overflow = int(csum[last] - n_people)
    size[last] -= overflow  # trim the last household (children first, then adults)
    cut_kids = min(overflow, int(kids[last]))
    kids[last] -= cut_kids
    adults[last] -= overflow - cut_kids
    if adults[last] <= 0:
        adults[last] = 1
        kids[last] = size[last] - 1
    if adults[last] < 2 and htype[last] in (1, 2):
        htype[last] = 0 if kids[last] == 0 else 3
    # borough and ethnicity per household
    bp = ref.BOROUGH_POP / ref.BOROUGH_POP.sum()
    hb = rng.choice(len(bp), size=n_hh, p=bp)
    cd = ref.code_distribution()
    cum = np.cumsum(cd, axis=1)
    u = rng.random(n_hh)
    hcode = (u[:, None] > cum[hb]).sum(axis=1)
    hcode = np.minimum(hcode, len(ref.CODES) - 1)

    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    hh = np.repeat(np.arange(n_hh), size)
    pos = np.arange(n_people) - start[hh]
    n = n_people
    borough = hb[hh]
    # 10% of members carry a different code from the household's (mixed households)
    code = hcode[hh].copy()
    redraw = rng.random(n) < 0.10
    ur = rng.random(n)
    code_r = np.minimum((ur[:, None] > cum[borough]).sum(axis=1), len(ref.CODES) - 1)
    code[redraw] = code_r[redraw]
    group = ref.CODE_GROUP_INDEX[code]

    is_adult = pos < adults[hh]
    t = htype[hh]
    female = rng.random(n) < 0.5
    # couples: first adult male, second female (98%); single parents mostly women
    couple = np.isin(t, (1, 2))
    first = couple & (pos == 0)
    second = couple & (pos == 1)
    female[first] = False
    female[second] = rng.random(int(second.sum())) < 0.98
    sp = (t == 3) & (pos == 0)
    female[sp] = rng.random(int(sp.sum())) < 0.85
    # ages at the cut date
    age = np.zeros(n)
    parent = is_adult & np.isin(t, (2, 3))
    age[parent] = _sample_ages(rng, int(parent.sum()), 22, 58)
    other_adult = is_adult & ~parent
    age[other_adult] = _sample_ages(rng, int(other_adult.sum()), 18, 91)
    # partner ages close to the first adult's
    idx2 = np.flatnonzero(second | ((t == 2) & (pos == 1)))
    idx2 = np.unique(idx2)
    age[idx2] = np.clip(age[idx2 - 1] + rng.normal(-2, 3, len(idx2)), 18, 95)
    child = ~is_adult
    first_adult_age = age[start[hh]]
    max_kid = np.clip(first_adult_age - 18, 1, 18)
    age[child] = rng.random(int(child.sum())) * max_kid[child]
    dob_days = np.floor(cut_s / DAY - age * YEAR_DAYS).astype(np.int64)

    partner = np.full(n, -1, dtype=np.int64)
    pairs = np.flatnonzero(couple & (pos == 0) & (adults[hh] >= 2))
    partner[pairs] = pairs + 1
    partner[pairs + 1] = pairs

    # names: pool per person from their code; surname shared in the household (80% for partners)
    pool_p = np.array([ref.CODE_POOL[c] for c in ref.CODES], dtype=float)
    pool_p = pool_p / pool_p.sum(axis=1, keepdims=True)
    hpool = np.minimum((rng.random(n_hh)[:, None] > np.cumsum(pool_p, axis=1)[hcode]).sum(axis=1), len(ref.POOLS) - 1)
    ppool = hpool[hh].copy()
    ppool[redraw] = np.minimum((rng.random(int(redraw.sum()))[:, None] > np.cumsum(pool_p, axis=1)[code[redraw]]).sum(axis=1), len(ref.POOLS) - 1)
    hsur = np.empty(n_hh, dtype=object)
    ur = rng.random(n_hh)
    for pi, pool in enumerate(ref.POOLS):
        m = hpool == pi
        arr = np.array(ref.SURNAMES[pool], dtype=object)
        hsur[m] = arr[(ur[m] * len(arr)).astype(int)]
    surname = hsur[hh].copy()
    own = (second & (rng.random(n) < 0.2)) | (other_adult & (pos > 0) & (t == 4) & (rng.random(n) < 0.7))
    us = rng.random(n)
    for pi, pool in enumerate(ref.POOLS):
        m = own & (ppool == pi)
        arr = np.array(ref.SURNAMES[pool], dtype=object)
        surname[m] = arr[(us[m] * len(arr)).astype(int)]
    forename = np.empty(n, dtype=object)
    uf = rng.random(n)
    for pi, pool in enumerate(ref.POOLS):
        for fem, table in ((True, ref.FORENAMES_F), (False, ref.FORENAMES_M)):
            m = (ppool == pi) & (female == fem)
            arr = np.array(table[pool], dtype=object)
            # skewed choice so some names are common (collisions make linking non-trivial)
            k = np.minimum((uf[m] ** 1.6 * len(arr)).astype(int), len(arr) - 1)
            forename[m] = arr[k]

    # addresses: 30% of households moved during the history window
    pc = postcodes(rng, hb)
    moved = rng.random(n_hh) < 0.30
    prev_b = np.where(rng.random(n_hh) < 0.7, hb, rng.integers(0, len(ref.BOROUGHS), n_hh))
    pc_prev = np.where(moved, postcodes(rng, prev_b), pc)
    move = np.where(moved, cut_s - (rng.random(n_hh) * history_s).astype(np.int64), np.int64(-(2**62)))
    return Population(
        household=hh, borough=borough, code=code, group=group, female=female, dob_days=dob_days, age_at_cut=age,
        adult_pos=is_adult, partner=partner, forename=forename, surname=surname, postcode=pc[hh], postcode_prev=pc_prev[hh],
        move_s=move[hh], household_members=(start, size),
    )
