"""The offending process and the criminal-justice path of each recorded offence.

Model (one step = one twelfth of a 365-day year, the "month" grid anchored at the cut date):

* Each offender k has a latent monthly rate ``base_k`` (gamma: few people, most of the
  offences), a career ``[onset_k, end_k)`` (end includes a pre-drawn death), a yearly
  escalation ``esc_k`` of the log-rate, and a gravity index that rises over the career and
  shifts the offence mix towards serious offences.
* Persistence is Hawkes-like: ``rate_m = b_m * (1 + e_m)`` with
  ``b_m = min(base * exp(esc * years_active), max_rate) * active_m * at_large_m`` and
  ``e_m = decay * e_{m-1} + alpha * n_{m-1}``: every offence raises later rates.
* Offences are marked independently: VAWG or not (share ``v_k``), relationship to the victim,
  offence code (mix depends on relationship, victim sex/age and gravity), recorded or not
  (recording probability by code times the policing intensity of the offender's group/area).
* Custody (remand, prison) follows only recorded VAWG offences; non-VAWG offences never lead
  to custody here. That keeps the forecast-year truth exact (``truth.true_probabilities``).
* Career length, death and the whole justice path of an offence are drawn in advance (at the
  start, or when the offence happens); the truth must not read the parts of those draws that
  only come true after the cut (see ``truth.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harmlens.synth import reference as ref
from harmlens.synth.config import SynthConfig
from harmlens.synth.population import DAY, YEAR_DAYS, Population

YEAR_S = YEAR_DAYS * DAY
STEP_S = 365 * DAY / 12  # seconds in one grid month (12 steps = 365 days exactly)
NEVER = np.int64(2**62)
LO_TABLE, HI_TABLE = ref.offence_tables()
N_CODES = len(ref.OFFENCES)
_SERIOUS = np.array([ref.REMAND_SHARE.get(c, 0.0) for c in ref.OFFENCE_CODES])
_CHARGE = {
    "001/01": 1.0, "004/01": 1.0, "005/01": 0.5, "008/06": 0.3, "105/01": 0.2, "009/01": 0.25, "008/10": 0.12,
    "008/71": 0.15, "008/66": 0.1, "019/07": 0.07, "019/08": 0.12, "020/01": 0.12, "022/01": 0.2, "088/10": 0.3,
    "195/12": 0.5, "195/94": 0.5, "028/01": 0.2, "045/01": 0.1, "092/01": 0.5, "058/01": 0.15,
}
CHARGE_SHARE = np.array([_CHARGE[c] for c in ref.OFFENCE_CODES])
IS_VAWG_CODE = np.array([c in ref.VAWG_CODES for c in ref.OFFENCE_CODES])
SEXUAL = np.isin(ref.OFFENCE_CATEGORY, ["rape", "other_sexual"])
HOMICIDE = ref.OFFENCE_INDEX["001/01"]

# Justice-path timing (seconds unless named _DAYS). Named because truth.py / pending.py draw the
# still-undecided part of a path at the cut from the same distributions.
LAG_MIN, LAG_MEAN = 600, 2.0 * DAY          # report lag: LAG_MIN + exponential
LATE_SHARE, LATE_MEAN = 0.3, 120 * DAY      # sexual offences: a share reported months later
ARREST_MIN, ARREST_MEAN = 1800, 1.5 * DAY   # arrest after report
ARREST_OTHER = 0.3                          # arrest share of recorded non-VAWG offences
DECISION_MIN, DECISION_MEAN = 5 * DAY, 45 * DAY  # charge / no-charge decision after report
TRIAL_DAYS = (45, 400)                      # uniform days from charge to trial


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _categorical(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix."""
    c = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * c[:, -1]
    return np.minimum((u[:, None] > c).sum(axis=1), p.shape[1] - 1)


@dataclass
class Offenders:
    person: np.ndarray
    vawg_share: np.ndarray
    base: np.ndarray
    onset: np.ndarray
    end: np.ndarray
    death: np.ndarray
    esc: np.ndarray
    g0: np.ndarray
    gesc: np.ndarray
    rel_p: np.ndarray       # (K, 5) relationship mix
    victims: np.ndarray     # (K, 4): partner, ex_partner, family, acquaintance person ids (-1 none)
    opp_female: np.ndarray  # victims of partner/ex/acq/stranger are female
    prec: np.ndarray        # (K, codes) recording probability
    intensity: np.ndarray

    @property
    def k(self) -> int:
        return len(self.person)


@dataclass
class History:
    """Every committed offence (recorded or not), with its justice path."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)
    snapshot: dict[str, np.ndarray] = field(default_factory=dict)


def _pick_from_pool(rng: np.random.Generator, pool_key: np.ndarray, pool_members: np.ndarray, want_key: np.ndarray) -> np.ndarray:
    """For each wanted key, a uniformly random member of the pool with that key (-1 if empty)."""
    if len(pool_members) == 0:
        return np.full(len(want_key), -1, dtype=np.int64)
    if np.all(pool_key[:-1] <= pool_key[1:]):
        sk, sm = pool_key, pool_members  # already sorted (see stranger_pool)
    else:
        order = np.argsort(pool_key, kind="stable")
        sk, sm = pool_key[order], pool_members[order]
    lo = np.searchsorted(sk, want_key, side="left")
    hi = np.searchsorted(sk, want_key, side="right")
    cnt = hi - lo
    pick = lo + np.floor(rng.random(len(want_key)) * np.maximum(cnt, 1)).astype(np.int64)
    out = np.where(cnt > 0, sm[np.minimum(pick, len(sm) - 1)], -1)
    return out


def stranger_pool(pop: Population, history_years: int) -> tuple[np.ndarray, np.ndarray]:
    """Adults (adult throughout the history) keyed by borough*2 + female."""
    adult = pop.age_at_cut >= 18 + history_years + 1
    members = np.flatnonzero(adult)
    key = pop.borough[members] * 2 + pop.female[members].astype(np.int64)
    order = np.argsort(key, kind="stable")  # sorted once, so picks need no sort
    return key[order], members[order]


def choose_offenders(rng: np.random.Generator, pop: Population, cfg: SynthConfig, t0: float, t_end: float) -> Offenders:
    age = pop.age_at_cut
    elig = (age >= 18) & (age <= 80)
    af = np.select([age < 20, age < 45, age < 60], [1.0, 1.4, 0.8], default=0.3)
    p_vawg = np.where(pop.female, cfg.vawg_offender_share_female, cfg.vawg_offender_share_male) * af * elig
    u = rng.random(pop.n)
    is_v = u < p_vawg
    p_other = cfg.other_offender_share * np.where(pop.female, 0.5, 1.5) * af * elig
    is_o = (~is_v) & (rng.random(pop.n) < p_other)
    person = np.flatnonzero(is_v | is_o)
    kk = len(person)
    v_off = is_v[person]
    vawg_share = np.where(v_off, rng.beta(6 * cfg.vawg_share_of_mixed, 6 * (1 - cfg.vawg_share_of_mixed) + 1e-9, kk), 0.0)
    base = np.minimum(rng.gamma(cfg.rate_shape, cfg.mean_rate / cfg.rate_shape, kk), cfg.max_rate)
    dob_s = pop.dob_days[person].astype(float) * DAY
    onset = t0 - 8 * YEAR_S + rng.random(kk) * (t_end - t0 + 7 * YEAR_S)
    onset = np.maximum(onset, dob_s + 18 * YEAR_S)
    career = rng.exponential(cfg.career_years_mean, kk) * YEAR_S + YEAR_S
    death = np.where(rng.random(kk) < 1 - np.exp(-cfg.death_rate * (t_end - t0) / YEAR_S), t0 + rng.random(kk) * (t_end - t0), np.inf)
    end = np.minimum(onset + career, death)
    esc = rng.normal(cfg.escalation_mean, cfg.escalation_sd, kk)
    # gravity starts higher for high-rate offenders: harm concentrates on few people
    g0 = -7.5 + 2.8 * np.clip(np.log(base / cfg.mean_rate), -3, 2.5) + rng.normal(0, 0.5, kk)
    gesc = cfg.gravity_growth * rng.exponential(1.0, kk)

    # relationship profile: domestic, stalker, sexual, family
    typ = rng.choice(4, size=kk, p=[0.6, 0.15, 0.12, 0.13])
    profiles = np.array([
        [0.62, 0.15, 0.12, 0.06, 0.05],
        [0.05, 0.6, 0.0, 0.28, 0.07],
        [0.15, 0.05, 0.0, 0.42, 0.38],
        [0.2, 0.0, 0.75, 0.05, 0.0],
    ])
    rel_p = profiles[typ].copy()
    fem = pop.female[person]
    opp_female = ~fem
    partner = pop.partner[person]
    # ex-partner and acquaintance: fixed people of the opposite sex in the same borough
    key, members = stranger_pool(pop, cfg.history_years)
    want = pop.borough[person] * 2 + opp_female.astype(np.int64)
    ex = _pick_from_pool(rng, key, members, want)
    acq = _pick_from_pool(rng, key, members, want)
    # family: another member of the household
    start, size = pop.household_members
    h = pop.household[person]
    pos = person - start[h]
    sz = size[h]
    fam = np.where(sz > 1, start[h] + (pos + 1 + np.floor(rng.random(kk) * np.maximum(sz - 1, 1)).astype(np.int64)) % sz, -1)
    # a female partner for a female offender etc. is not modelled: partners are opposite sex
    partner = np.where((partner >= 0) & (pop.female[np.maximum(partner, 0)] == opp_female), partner, -1)
    # unavailable relationships pass their weight on
    no_p = partner < 0
    rel_p[no_p, 1] += rel_p[no_p, 0]
    rel_p[no_p, 0] = 0
    no_e = ex < 0
    rel_p[no_e, 4] += rel_p[no_e, 1]
    rel_p[no_e, 1] = 0
    no_f = fam < 0
    rel_p[no_f, 3] += rel_p[no_f, 2]
    rel_p[no_f, 2] = 0
    no_a = acq < 0
    rel_p[no_a, 4] += rel_p[no_a, 3]
    rel_p[no_a, 3] = 0
    rel_p = rel_p / rel_p.sum(axis=1, keepdims=True)
    victims = np.stack([partner, ex, fam, acq], axis=1)

    intensity = np.ones(kk)
    if cfg.policing_bias:
        gm = np.array([cfg.policing_group_multipliers.get(g, 1.0) for g in ref.GROUPS])
        am = np.array([cfg.policing_area_multipliers.get(b, 1.0) for b in ref.BOROUGH_NAMES])
        intensity = gm[pop.group[person]] * am[pop.borough[person]]
    prec = recording_probability(intensity)
    return Offenders(person, vawg_share, base, onset, end, death, esc, g0, gesc, rel_p, victims, opp_female, prec, intensity)


def recording_probability(intensity: np.ndarray) -> np.ndarray:
    """(K, codes): base recording probability times intensity, capped at 0.95 (homicide kept as is)."""
    b = ref.BASE_RECORDING[None, :]
    return np.where(b >= 0.95, b, np.minimum(b * intensity[:, None], 0.95))


def victim_class(pop: Population, victim: np.ndarray, t: np.ndarray, opp_female: np.ndarray) -> np.ndarray:
    """0 F adult, 1 M adult, 2 F child (<16), 3 M child at time t (seconds)."""
    v = np.maximum(victim, 0)
    fem = np.where(victim >= 0, pop.female[v], opp_female)
    child = (victim >= 0) & ((t / DAY - pop.dob_days[v]) < 16 * YEAR_DAYS)
    return np.where(child, np.where(fem, 2, 3), np.where(fem, 0, 1))


def code_probs(rel: np.ndarray, vclass: np.ndarray, h: np.ndarray) -> np.ndarray:
    return LO_TABLE[rel, vclass] * (1 - h)[:, None] + HI_TABLE[rel, vclass] * h[:, None]


def gravity(off: Offenders, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    years = np.maximum(t - off.onset[idx], 0) / YEAR_S
    return _sigmoid(off.g0[idx] + off.gesc[idx] * years)


def trend(off: Offenders, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
    years = np.maximum(t - off.onset[idx], 0) / YEAR_S
    return np.minimum(np.exp(off.esc[idx] * years), 4.0)


def simulate(rng: np.random.Generator, pop: Population, off: Offenders, cfg: SynthConfig, t0: float, n_hist: int,
             start: dict[str, np.ndarray] | None = None) -> History:
    """Run the month-by-month process over history and the forecast year.

    With ``start`` (``e``, ``cs``, ``ce`` per offender: a state at the cut) only the 12 forecast
    months run, from that state: the tests replay the future with fresh draws this way.
    """
    kk = off.k
    n_months = n_hist + 12
    e = np.zeros(kk)
    cs = np.full(kk, np.inf)   # current/next custody interval of each offender
    ce = np.full(kk, -np.inf)
    first = 0
    if start is not None:
        e, cs, ce = (np.asarray(start[x], dtype=float).copy() for x in ("e", "cs", "ce"))
        first = n_hist
    alpha, decay = cfg.excitation, cfg.excitation_decay
    skey, smembers = stranger_pool(pop, cfg.history_years)
    out: dict[str, list[np.ndarray]] = {}
    hist = History()
    allk = np.arange(kk)
    for m in range(first, n_months):
        ts, te = t0 + m * STEP_S, t0 + (m + 1) * STEP_S
        mid = ts + STEP_S / 2
        if m == n_hist:
            hist.snapshot = {"e": e.copy(), "cs": cs.copy(), "ce": ce.copy()}
        at_large = ~((cs <= mid) & (mid < ce))
        active = (off.onset <= mid) & (mid < off.end) & at_large
        b = np.minimum(off.base * trend(off, allk, np.full(kk, mid)), cfg.max_rate) * active
        lam = b * (1 + e)
        n = rng.poisson(lam)
        e = decay * e + alpha * n
        k = np.repeat(allk, n)
        if len(k) == 0:
            continue
        # at-large part of this month containing its midpoint (custody or death may cut it)
        lo = np.where((ce[k] > ts) & (ce[k] <= mid), ce[k], ts)
        hi = np.where((cs[k] < te) & (cs[k] > mid), cs[k], te)
        hi = np.minimum(hi, off.death[k])
        t = lo + rng.random(len(k)) * (hi - lo)
        nn = len(k)
        vawg = rng.random(nn) < off.vawg_share[k]
        rel = _categorical(rng, off.rel_p[k])
        victim = np.full(nn, -1, dtype=np.int64)
        fixed = rel < 4
        victim[fixed] = off.victims[k[fixed], rel[fixed]]
        strangers = ~fixed
        want = pop.borough[off.person[k[strangers]]] * 2 + off.opp_female[k[strangers]].astype(np.int64)
        victim[strangers] = _pick_from_pool(rng, skey, smembers, want)
        tm = np.full(nn, mid)
        vclass = victim_class(pop, np.where(rel == 2, victim, -1), tm, off.opp_female[k])
        h = gravity(off, k, tm)
        code = _categorical(rng, code_probs(rel, vclass, h))
        nv = ~vawg
        code[nv] = np.array([ref.OFFENCE_INDEX[c] for c in ref.NON_VAWG_CODES])[
            _categorical(rng, np.broadcast_to(ref.NON_VAWG_PROBS, (int(nv.sum()), 4)))
        ]
        victim[nv] = -1
        rel[nv] = -1
        recorded = rng.random(nn) < off.prec[k, code]
        path = _justice_path(rng, cfg, k, t, code, rel, recorded, vawg, te)
        # custody follows recorded VAWG offences only; merge into the offender's interval
        cust = path["cust_start"] < NEVER
        if cust.any():
            ck = k[cust]
            s_new = path["cust_start"][cust].astype(float)
            e_new = path["cust_end"][cust].astype(float)
            over = ce[ck] < ts  # previous interval finished: replace it
            cs[ck[over]] = np.inf
            ce[ck[over]] = -np.inf
            np.minimum.at(cs, ck, s_new)
            np.maximum.at(ce, ck, e_new)
        cols = {"k": k, "t": t, "vawg": vawg, "rel": rel, "victim": victim, "code": code, "recorded": recorded, "month": np.full(nn, m)}
        cols.update(path)
        for name, arr in cols.items():
            out.setdefault(name, []).append(arr)
    hist.cols = {name: np.concatenate(v) for name, v in out.items()} if out else {}
    if not hist.snapshot:
        hist.snapshot = {"e": e.copy(), "cs": cs.copy(), "ce": ce.copy()}
    return hist


def arrest_share(cfg: SynthConfig, vawg: np.ndarray) -> np.ndarray:
    """Chance that a recorded, uncharged offence still leads to an arrest."""
    return np.where(vawg, cfg.arrest_share * 0.8, ARREST_OTHER)


def trial_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Whole seconds from charge to trial."""
    return (rng.uniform(*TRIAL_DAYS, n) * DAY).astype(np.int64)


def trial_outcome(rng: np.random.Generator, code: np.ndarray, vawg: np.ndarray, charged: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convicted, custodial (VAWG only) and days served if custodial, decided at the trial."""
    n = len(code)
    convicted = charged & (rng.random(n) < np.where(code <= 1, 0.9, 0.65))
    custodial = convicted & vawg & (rng.random(n) < ref.CUSTODIAL_SHARE[code])
    sentence_days = np.maximum(ref.HARM_DAYS[code] * rng.lognormal(0, 0.4, n), 30)
    served = np.where(code == HOMICIDE, rng.uniform(15, 25, n) * YEAR_DAYS, sentence_days / 2)
    return convicted, custodial, served


def _justice_path(rng, cfg: SynthConfig, k, t, code, rel, recorded, vawg, month_end) -> dict[str, np.ndarray]:
    """Dates (int seconds, NEVER when it does not happen) of report, arrest, charge, court, custody."""
    nn = len(k)
    sexual = SEXUAL[code]
    lag = rng.exponential(LAG_MEAN, nn) + LAG_MIN
    late = sexual & (rng.random(nn) < LATE_SHARE)
    lag[late] += rng.exponential(LATE_MEAN, int(late.sum()))
    reported = (t + lag).astype(np.int64)
    charged = recorded & (rng.random(nn) < CHARGE_SHARE[code])
    arrested = recorded & (charged | (rng.random(nn) < arrest_share(cfg, vawg)))
    arrest = np.where(arrested, reported + (rng.exponential(ARREST_MEAN, nn) + ARREST_MIN).astype(np.int64), NEVER)
    decision = reported + (rng.exponential(DECISION_MEAN, nn) + DECISION_MIN).astype(np.int64)
    remanded = charged & vawg & (rng.random(nn) < _SERIOUS[code])
    charge = np.where(charged, decision, NEVER)
    charge = np.where(remanded, np.maximum(charge, np.int64(np.ceil(month_end))), charge)
    # trial / final hearing
    court = np.where(charged, charge + trial_delay(rng, nn), NEVER)
    convicted, custodial, served = trial_outcome(rng, code, vawg, charged)
    life = code == HOMICIDE
    release = np.where(custodial, court + (served * DAY).astype(np.int64), NEVER)
    cust_start = np.where(remanded, charge, np.where(custodial, court, NEVER))
    cust_end = np.where(custodial, release, np.where(remanded, court, NEVER))
    # outcome when everything is known
    u = rng.random(nn)
    no_charge = np.where(vawg & (u < 0.47), "victim_withdrew", "nfa")
    caution = ~charged & (rng.random(nn) < np.where(vawg, 0.03, 0.12))
    outcome = np.where(charged, np.where(convicted, "convicted", "acquitted"), np.where(caution, "caution", no_charge))
    outcome = np.where(life & ~charged, "ongoing", outcome)
    return {
        "reported": reported, "arrest": arrest, "decision": decision, "charge": charge, "court": court,
        "convicted": convicted, "remanded": remanded, "custodial": custodial, "release": release,
        "cust_start": np.where(recorded, cust_start, NEVER), "cust_end": np.where(recorded, cust_end, NEVER),
        "final_outcome": outcome.astype(object),
    }
