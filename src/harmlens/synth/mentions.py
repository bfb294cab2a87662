"""How a person is written down in one record: the noisy mention."""

from __future__ import annotations

import numpy as np

from harmlens.synth import reference as ref
from harmlens.synth.writer import make_ids
from harmlens.synth.config import NoiseConfig
from harmlens.synth.population import Population

# source kinds of a mention (drive strong-id and custody-postcode rates)
KINDS = ["crime", "arrest", "court", "custody", "order", "death"]
K_CRIME, K_ARREST, K_COURT, K_CUSTODY, K_ORDER, K_DEATH = range(6)
_ALPHA = "abcdefghijklmnopqrstuvwxyz"


def custody_suite_postcode(borough: np.ndarray) -> np.ndarray:
    """One custody suite per borough: every detainee given it shares that postcode."""
    suites = np.array([f"{d[0]} 0PS" for d in ref.DISTRICTS], dtype=object)
    return suites[borough]


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s + "e"
    i = int(rng.integers(1, len(s) - 1))
    op = int(rng.integers(0, 4))
    if op == 0:  # swap neighbours
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op == 1:  # drop a letter
        return s[:i] + s[i + 1:]
    if op == 2:  # replace a letter
        c = _ALPHA[int(rng.integers(0, 26))]
        return s[:i] + c + s[i + 1:]
    return s[:i] + s[i] + s[i:]  # double a letter


def pnc_refs(rng: np.random.Generator, first_arrest_s: np.ndarray) -> np.ndarray:
    """PNC-like id 'YY/NNNNNNL' (year of first arrest) for people ever arrested, else None."""
    n = len(first_arrest_s)
    out = np.full(n, None, dtype=object)
    has = np.isfinite(first_arrest_s)
    idx = np.flatnonzero(has)
    if len(idx):
        yy = (np.array(first_arrest_s[idx], dtype="int64").astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970) % 100
        num = rng.permutation(900_000)[: len(idx)] + 100_000 if len(idx) <= 900_000 else rng.integers(100_000, 999_999, len(idx))
        letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))[rng.integers(0, 23, len(idx))]
        out[idx] = [f"{a:02d}/{b:06d}{c}" for a, b, c in zip(yy.tolist(), num.tolist(), letters.tolist())]
    return out


def make_mentions(
    rng: np.random.Generator,
    pop: Population,
    noise: NoiseConfig,
    person: np.ndarray,
    t: np.ndarray,
    kind: np.ndarray,
    role: np.ndarray,
    pnc: np.ndarray,
    first_arrest_s: np.ndarray,
) -> dict[str, np.ndarray]:
    """Column arrays of the contract's people table (minus ids) for each mention."""
    n = len(person)
    fore = pop.forename[person].copy()
    sur = pop.surname[person].copy()
    # nicknames
    has_nick = np.array([f in ref.NICKNAMES for f in fore], dtype=bool) if n else np.zeros(0, bool)
    nick = has_nick & (rng.random(n) < noise.nickname)
    for i in np.flatnonzero(nick):
        opts = ref.NICKNAMES[fore[i]]
        fore[i] = opts[int(rng.integers(0, len(opts)))]
    for i in np.flatnonzero(rng.random(n) < noise.forename_typo):
        fore[i] = _typo(rng, fore[i])
    for i in np.flatnonzero(rng.random(n) < noise.surname_typo):
        sur[i] = _typo(rng, sur[i])
    fore[rng.random(n) < noise.forename_empty] = ""
    sur[rng.random(n) < noise.surname_unknown] = "UNKNOWN"

    # dates of birth
    dob = pop.dob_days[person].astype("datetime64[D]")
    y = dob.astype("datetime64[Y]")
    mo = dob.astype("datetime64[M]")
    month = (mo - y.astype("datetime64[M]")).astype(int) + 1
    day = (dob - mo.astype("datetime64[D]")).astype(int) + 1
    u = rng.random(n)
    swap = (u < noise.dob_swap) & (day <= 12) & (day != month)
    swapped = y.astype("datetime64[M]") + (day - 1)
    swapped = swapped.astype("datetime64[D]") + (month - 1)
    dob = np.where(swap, swapped, dob)
    typo = (u >= noise.dob_swap) & (u < noise.dob_swap + noise.dob_typo)
    dob = np.where(typo, dob + np.where(rng.random(n) < 0.5, 365, -365).astype("timedelta64[D]"), dob)
    u = rng.random(n)
    placeholder = u < noise.dob_placeholder
    dob = np.where(placeholder, np.datetime64("1900-01-01"), dob)
    dob_missing = (u >= noise.dob_placeholder) & (u < noise.dob_placeholder + noise.dob_missing)

    sex = np.where(pop.female[person], "female", "male").astype(object)
    sex[rng.random(n) < noise.sex_unknown] = "unknown"

    # addresses: where the person lived at the time; placeholders and custody suites
    pc = np.where(t < pop.move_s[person], pop.postcode_prev[person], pop.postcode[person]).astype(object)
    u = rng.random(n)
    suite = np.isin(kind, (K_ARREST, K_CUSTODY)) & (u < noise.custody_postcode)
    pc[suite] = custody_suite_postcode(pop.borough[person[suite]])
    u = rng.random(n)
    pc[u < noise.postcode_nfa] = "NFA"
    pc[(u >= noise.postcode_nfa) & (u < noise.postcode_nfa + noise.postcode_missing)] = None

    # strong id: only after the first arrest, at a source-dependent rate, never for victims/witnesses
    rate = np.array([noise.ref_crime, noise.ref_arrest, noise.ref_court, noise.ref_custody, noise.ref_order, noise.ref_crime])[kind]
    offender_role = np.isin(role, ("suspect", "offender", "subject"))
    has_ref = offender_role & (t >= first_arrest_s[person]) & (rng.random(n) < rate)
    person_ref = np.where(has_ref, pnc[person], None)

    code = np.array(ref.CODES, dtype=object)[pop.code[person]]
    self_eth = code.copy()
    self_eth[rng.random(n) < noise.ethnicity_not_stated] = "not_stated"
    agree = rng.random(n) < noise.officer_ethnicity_agree
    main = np.array([ref.IC_MAIN[c] for c in ref.CODES], dtype=object)[pop.code[person]]
    alt_idx = rng.random(n)
    alts = [ref.IC_ALT[c] for c in ref.CODES]
    alt = np.array([alts[c][int(a * len(alts[c]))] for c, a in zip(pop.code[person].tolist(), alt_idx.tolist())], dtype=object) if n else np.zeros(0, object)
    officer = np.where(agree, main, alt)

    hh_known = np.isin(kind, (K_CRIME, K_CUSTODY, K_ARREST)) & (rng.random(n) < noise.household_known)
    household = np.where(hh_known, make_ids("H", pop.household[person], 8), None)
    return {
        "forename": fore, "surname": sur, "date_of_birth": dob, "dob_missing": dob_missing, "sex": sex, "postcode": pc,
        "person_ref": person_ref, "self_defined_ethnicity": self_eth, "officer_defined_ethnicity": officer,
        "household_id": household,
        # what was applied, for the noise-rate tests and the truth
        "_nick": nick, "_swap": swap, "_placeholder": placeholder,
    }

