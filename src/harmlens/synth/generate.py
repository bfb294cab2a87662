"""Build the synthetic city and write the extract plus its truth."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from harmlens.synth import reference as ref
from harmlens.synth.writer import make_ids
from harmlens.synth.config import SynthConfig, SynthError
from harmlens.synth.mentions import K_ARREST, K_COURT, K_CRIME, K_CUSTODY, K_DEATH, K_ORDER, make_mentions, pnc_refs
from harmlens.synth.offending import (
    NEVER, STEP_S, YEAR_S, choose_offenders, simulate, stranger_pool, _pick_from_pool,
)
from harmlens.synth.messy import messy_mentions, messy_population
from harmlens.synth.population import DAY, YEAR_DAYS, build_population
from harmlens.synth.stops import generate_stops
from harmlens.synth.truth import true_probabilities
from harmlens.synth.writer import date_array, make_table, ts_array, write_table

log = logging.getLogger(__name__)  # no names or dates of birth are ever logged
TABLES = ["events", "people", "risk_assessments", "stops", "population"]
RELS = np.array(ref.RELATIONSHIPS + [None], dtype=object)  # index -1 -> None


@dataclass
class SynthSummary:
    """What was written: row counts per table, the folder, and timings (seconds)."""

    out_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class _Events:
    """Accumulates event columns block by block; indices are global event numbers."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, n: int, **cols) -> np.ndarray:
        idx = np.arange(self.n, self.n + n)
        full = {
            "source": None, "event_type": None, "code": -1, "desc": None, "occurred": NEVER, "ends_cut": NEVER,
            "ends_fut": NEVER, "reported": NEVER, "outcome_cut": None, "outcome_fut": None, "domestic": -1,
            "borough": -1, "known": NEVER, "crime_ref": -1, "order_type": None, "order_ref": -1, "custody_type": None,
        }
        full.update(cols)
        blk = {}
        for k, v in full.items():
            if np.ndim(v) == 0:
                v = np.full(n, v, dtype=object if (v is None or isinstance(v, str)) else np.asarray(v).dtype)
            blk[k] = np.asarray(v)
        self.blocks.append(blk)
        self.n += n
        return idx

    def cat(self) -> dict[str, np.ndarray]:
        keys = self.blocks[0].keys()
        out = {}
        for k in keys:
            arrs = [b[k] for b in self.blocks]
            if any(a.dtype == object for a in arrs):
                arrs = [a.astype(object) for a in arrs]
            out[k] = np.concatenate(arrs)
        return out


class _Mentions:
    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, ev, person, role, rel, kind, t, role_order) -> None:
        n = len(ev)
        if n == 0:
            return
        self.parts.append((
            np.asarray(ev, dtype=np.int64), np.asarray(person, dtype=np.int64), np.full(n, role, dtype=object) if isinstance(role, str) else role,
            np.asarray(rel, dtype=np.int64) if not np.isscalar(rel) else np.full(n, rel, dtype=np.int64),
            np.full(n, kind, dtype=np.int64), np.asarray(t, dtype=np.int64), np.full(n, role_order, dtype=np.int64),
        ))

    def cat(self):
        if not self.parts:  # a tiny city may record no offence at all
            e = np.zeros(0, dtype=np.int64)
            return [e, e, np.zeros(0, dtype=object), e, e, e, e]
        return [np.concatenate([p[i] for p in self.parts]) for i in range(7)]


def _outcome_at(view: int, c: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    charged = c["charge"][idx] < NEVER
    final = c["final_outcome"][idx]
    out = np.where(
        charged,
        np.where(c["court"][idx] <= view, final, np.where(c["charge"][idx] <= view, "charged", "ongoing")),
        np.where(c["decision"][idx] <= view, final, "ongoing"),
    )
    return out.astype(object)


def _ref(values: np.ndarray, idx: np.ndarray, missing=None) -> np.ndarray:
    """values[idx] where idx >= 0, else ``missing`` (safe when values is empty)."""
    out = np.full(len(idx), missing, dtype=object)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _seconds(d) -> int:
    return int((np.datetime64(d, "s") - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64))


def generate(config: SynthConfig, out_dir: str | Path) -> SynthSummary:
    """Generate the synthetic city described by ``config`` into ``out_dir``.

    Writes ``events``, ``people``, ``risk_assessments``, ``stops`` and ``population`` (one file
    each, Parquet or CSV) and a ``truth/`` folder (``mentions``, ``persons``, ``offences``,
    ``future_events``, ``future_people``, ``future_risk_assessments``, ``stops``,
    ``population_codes`` and ``params.json``). Same config, same bytes.
    """
    cfg = config.validate()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SynthError(f"output path {out} exists and is not a folder")
    try:
        (out / "truth").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthError(f"cannot create output folder {out}: {exc.strerror}") from None
    # a folder written earlier in the other format must not leave stale tables beside the new ones
    other = "csv" if cfg.fmt == "parquet" else "parquet"
    for stale in [*(out / f"{t}.{other}" for t in TABLES), *(out / "truth").glob(f"*.{other}")]:
        if stale.is_file():
            stale.unlink()
    summary = SynthSummary(out_dir=out)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        summary.timings[name] = round(now - clock, 3)
        clock = now

    ss = np.random.SeedSequence(cfg.seed)
    # a ninth stream for the truth's Monte Carlo: the first eight (and so the city) are unchanged
    r_pop, r_off, r_sim, r_ev, r_men, r_stop, r_ids, r_fut, r_truth = [np.random.default_rng(s) for s in ss.spawn(9)]
    cut_s = _seconds(cfg.cut_date)
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * STEP_S
    t_end = cut_s + 12 * STEP_S
    horizon = cut_s + 365 * DAY
    pop = build_population(r_pop, cfg.people, cut_s, int(n_hist * STEP_S))
    # the messy profile's own stream (a tenth child): the clean city's nine are unchanged
    r_messy = np.random.default_rng(ss.spawn(1)[0])
    if cfg.profile == "messy":
        pop = messy_population(r_messy, pop, cfg.messy)
    lap("population")
    off = choose_offenders(r_off, pop, cfg, t0, t_end)
    hist = simulate(r_sim, pop, off, cfg, t0, n_hist)
    truth_p = true_probabilities(pop, off, cfg, hist, cut_s, r_truth)
    lap("offending")

    c = hist.cols
    n_off = len(c.get("k", []))
    if n_off == 0:
        raise SynthError("the settings produced no offences at all; raise --people or the offending shares")
    c_person = off.person[c["k"]]
    t_int = np.floor(c["t"]).astype(np.int64)
    ev = _Events()
    men = _Mentions()
    rng = r_ev
    # --- offences ---
    ri = np.flatnonzero(c["recorded"])
    code = c["code"][ri]
    rel = c["rel"][ri]
    vawg = c["vawg"][ri]
    person = c_person[ri]
    victim = c["victim"][ri]
    domestic = vawg & np.isin(rel, (0, 1, 2))
    desc = ref.OFFENCE_DESC[code].copy()
    honour = domestic & (rel == 2) & np.isin(code, [ref.OFFENCE_INDEX[x] for x in ref.HONOUR_ELIGIBLE]) & (rng.random(len(ri)) < 0.06)
    desc[honour] = desc[honour] + " (so-called honour-based abuse)"
    borough = pop.borough[person]
    off_ev = ev.add(
        len(ri), source="crime", event_type="offence", code=code, desc=desc, occurred=t_int[ri], reported=c["reported"][ri],
        outcome_cut=_outcome_at(cut_s, c, ri), outcome_fut=_outcome_at(horizon, c, ri), domestic=domestic.astype(np.int64),
        borough=borough, known=c["reported"][ri],
    )
    rep = c["reported"][ri]
    men.add(off_ev, person, "suspect", -1, K_CRIME, rep, 0)
    hv = victim >= 0
    men.add(off_ev[hv], victim[hv], "victim", rel[hv], K_CRIME, rep[hv], 1)
    # witnesses: an adult living in the same borough
    skey, smem = stranger_pool(pop, cfg.history_years)
    wsel = rng.random(len(ri)) < cfg.witness_share
    wit = _pick_from_pool(rng, skey, smem, borough[wsel] * 2 + (rng.random(int(wsel.sum())) < 0.5))
    ok = wit >= 0
    men.add(off_ev[wsel][ok], wit[ok], "witness", -1, K_CRIME, rep[wsel][ok], 2)
    # children of the household present at domestic offences at home
    start, size = pop.household_members
    home = domestic & np.isin(rel, (0, 2))
    hh = pop.household[person]
    for slot in range(int(size.max())):
        member = start[hh] + slot
        cand = home & (slot < size[hh])
        member = np.where(cand, member, 0)
        age_days = t_int[ri] / DAY - pop.dob_days[member]
        cand &= (member != person) & (member != victim) & (age_days >= 0) & (age_days < 18 * YEAR_DAYS)
        cand &= rng.random(len(ri)) < cfg.child_witness_share
        men.add(off_ev[cand], member[cand], "witness", -1, K_CRIME, rep[cand], 3)

    # --- arrests, charges, convictions, custody ---
    def follow(mask, occurred, **kw):
        idx = ri[mask]
        return idx, ev.add(int(mask.sum()), code=code[mask], desc=desc[mask], occurred=occurred[mask], known=occurred[mask],
                           borough=borough[mask], crime_ref=off_ev[mask], domestic=domestic[mask].astype(np.int64), **kw)

    arrest = c["arrest"][ri]
    m = arrest < NEVER
    _, e_arr = follow(m, arrest, source="custody", event_type="arrest")
    men.add(e_arr, person[m], "subject", -1, K_ARREST, arrest[m], 0)
    first_arrest = np.full(pop.n, np.inf)
    np.minimum.at(first_arrest, person[m], arrest[m].astype(float))
    charge = c["charge"][ri]
    m = charge < NEVER
    _, e_ch = follow(m, charge, source="crime", event_type="charge", outcome_cut="charged", outcome_fut="charged")
    men.add(e_ch, person[m], "subject", -1, K_COURT, charge[m], 0)
    court = c["court"][ri]
    m = c["convicted"][ri]
    _, e_cv = follow(m, court, source="court", event_type="conviction", outcome_cut="convicted", outcome_fut="convicted")
    men.add(e_cv, person[m], "offender", -1, K_COURT, court[m], 0)
    m = c["remanded"][ri] & c["vawg"][ri]
    ends = court[m]
    _, e_rm = follow(m, charge, source="custody", event_type="custody", custody_type="remand",
                     ends_cut=np.where(ends <= cut_s, ends, NEVER), ends_fut=np.where(ends <= horizon, ends, NEVER))
    men.add(e_rm, person[m], "subject", -1, K_CUSTODY, charge[m], 0)
    m = c["custodial"][ri]
    _, e_pr = follow(m, court, source="prison", event_type="custody", custody_type="prison",
                     ends_cut=c["release"][ri][m], ends_fut=c["release"][ri][m])
    men.add(e_pr, person[m], "subject", -1, K_CUSTODY, court[m], 0)

    # --- orders ---
    orders = []  # (mask over ri, type, start, end, source, description)
    dom_pe = vawg & np.isin(rel, (0, 1))
    m = dom_pe & (arrest < NEVER) & (rng.random(len(ri)) < cfg.dvpo_share)
    s = arrest + DAY
    orders.append((m, "DVPO", s, s + 28 * DAY, "crime", "Domestic Violence Protection Order"))
    m = dom_pe & (rng.random(len(ri)) < cfg.non_molestation_share)
    s = rep + (rng.uniform(14, 60, len(ri)) * DAY).astype(np.int64)
    orders.append((m, "non_molestation_order", s, s + (rng.uniform(180, 365, len(ri)) * DAY).astype(np.int64), "court", "Non-molestation order"))
    m = c["convicted"][ri] & vawg & np.isin(rel, (0, 1, 2, 3)) & (rng.random(len(ri)) < 0.6)
    orders.append((m, "restraining_order", court, court + (rng.uniform(1, 3, len(ri)) * YEAR_DAYS * DAY).astype(np.int64), "court", "Restraining order"))
    m = vawg & (code == ref.OFFENCE_INDEX["008/71"]) & (rng.random(len(ri)) < 0.15)
    s = rep + (rng.uniform(30, 90, len(ri)) * DAY).astype(np.int64)
    orders.append((m, "stalking_protection_order", s, s + 2 * int(YEAR_DAYS * DAY), "court", "Stalking protection order"))
    ord_rows = []
    for m, otype, s, e, src, d in orders:
        idx = ev.add(int(m.sum()), source=src, event_type="order", desc=d, occurred=s[m], known=s[m],
                     ends_cut=e[m], ends_fut=e[m], borough=borough[m], crime_ref=off_ev[m], order_type=otype,
                     domestic=domestic[m].astype(np.int64))
        men.add(idx, person[m], "subject", -1, K_ORDER, s[m], 0)
        pv = m & hv
        men.add(idx[pv[m]], victim[pv], "victim", rel[pv], K_ORDER, s[pv], 1)
        if otype in ("restraining_order", "non_molestation_order"):
            ord_rows.append(pd.DataFrame({"k": c["k"][ri][pv], "victim": victim[pv], "start": s[pv], "end": e[pv], "order_ev": idx[pv[m]],
                                          "otype": otype}))
    # --- breaches: a recorded offence against the protected person while the order is in force ---
    if ord_rows:
        od = pd.concat(ord_rows, ignore_index=True)
        cand = pd.DataFrame({"pos": np.arange(len(ri)), "k": c["k"][ri], "victim": victim, "t": t_int[ri]})[vawg & hv]
        j = cand.merge(od, on=["k", "victim"], how="inner")
        j = j[(j["start"] <= j["t"]) & (j["t"] < j["end"])].sort_values(["pos", "start"], kind="stable").drop_duplicates("pos")
        j = j[rng.random(len(j)) < 0.8]
        pos = j["pos"].to_numpy()
        bcode = np.where(j["otype"].to_numpy() == "restraining_order", ref.OFFENCE_INDEX["195/12"], ref.OFFENCE_INDEX["195/94"])
        b_ev = ev.add(len(pos), source="crime", event_type="offence", code=bcode, desc=ref.OFFENCE_DESC[bcode], occurred=t_int[ri][pos],
                      reported=rep[pos], outcome_cut=_outcome_at(cut_s, c, ri[pos]), outcome_fut=_outcome_at(horizon, c, ri[pos]),
                      domestic=np.ones(len(pos), dtype=np.int64), borough=borough[pos], known=rep[pos], order_ref=j["order_ev"].to_numpy())
        men.add(b_ev, person[pos], "suspect", -1, K_CRIME, rep[pos], 0)
        men.add(b_ev, victim[pos], "victim", rel[pos], K_CRIME, rep[pos], 1)
    # --- intelligence: some unrecorded VAWG offences still reach police as intelligence reports ---
    ui = np.flatnonzero(~c["recorded"] & c["vawg"])
    ui = ui[rng.random(len(ui)) < cfg.intelligence_share]
    it = t_int[ui] + (rng.uniform(1, 60, len(ui)) * DAY).astype(np.int64)
    dom_i = np.isin(c["rel"][ui], (0, 1, 2))
    sexual_i = np.isin(ref.OFFENCE_CATEGORY[c["code"][ui]], ["rape", "other_sexual"])
    idesc = np.where(sexual_i, "Intelligence: concern about sexual offending",
                     np.where(dom_i, "Intelligence: concern about domestic abuse", "Intelligence: concern about harassment or violence"))
    i_ev = ev.add(len(ui), source="intelligence", event_type="intelligence", desc=idesc.astype(object), occurred=it, known=it,
                  domestic=dom_i.astype(np.int64), borough=pop.borough[c_person[ui]])
    men.add(i_ev, c_person[ui], "subject", -1, K_CRIME, it, 0)
    # --- deaths ---
    dm = np.isfinite(off.death) & (off.death < t_end)
    dt = np.floor(off.death[dm]).astype(np.int64)
    d_ev = ev.add(int(dm.sum()), source="coroner", event_type="death", desc="Death (natural causes)", occurred=dt, known=dt,
                  borough=pop.borough[off.person[dm]])
    men.add(d_ev, off.person[dm], "subject", -1, K_DEATH, dt, 0)
    mm = (code == ref.OFFENCE_INDEX["001/01"]) & hv
    mt = t_int[ri][mm] + 3600
    h_ev = ev.add(int(mm.sum()), source="coroner", event_type="death", desc="Death (homicide)", occurred=mt, known=mt,
                  borough=borough[mm], crime_ref=off_ev[mm])
    men.add(h_ev, victim[mm], "subject", -1, K_DEATH, mt, 0)
    lap("events")

    # --- DASH assessments of victims of domestic, stalking and harassment offences ---
    E = ev.cat()
    M_ev, M_person, M_role, M_rel, M_kind, M_t, M_order = men.cat()
    # order events chronologically, then mentions by event and role
    ev_order = np.lexsort((np.arange(ev.n), E["occurred"]))
    ev_rank = np.empty(ev.n, dtype=np.int64)
    ev_rank[ev_order] = np.arange(ev.n)
    ev_ids = make_ids("E", (ev_rank + 1), 9)
    m_order = np.lexsort((M_person, M_order, ev_rank[M_ev]))
    M_ev, M_person, M_role, M_rel, M_kind, M_t, M_order = (a[m_order] for a in (M_ev, M_person, M_role, M_rel, M_kind, M_t, M_order))
    mention_ids = make_ids("M", np.arange(1, len(M_ev) + 1), 9)

    # victims' mentions on offence events (not breaches) for DASH
    is_off_victim = (M_role == "victim") & (E["event_type"][M_ev] == "offence")
    vm = np.flatnonzero(is_off_victim)
    ecode = E["code"][M_ev[vm]]
    eligible = (E["domestic"][M_ev[vm]] == 1) | np.isin(ecode, [ref.OFFENCE_INDEX["008/71"], ref.OFFENCE_INDEX["008/10"]])
    vm = vm[eligible & (r_ev.random(len(vm)) < cfg.dash_share)]
    # the suspect's latent danger drives the score: rate and gravity at the time
    suspect_of_event = np.full(ev.n, -1, dtype=np.int64)
    sm = M_role == "suspect"
    suspect_of_event[M_ev[sm]] = M_person[sm]
    kidx = np.full(pop.n, -1, dtype=np.int64)
    kidx[off.person] = np.arange(off.k)
    ks = kidx[suspect_of_event[M_ev[vm]]]
    at = E["reported"][M_ev[vm]] + (r_ev.uniform(0, 2, len(vm)) * DAY).astype(np.int64)
    z = np.log(off.base[ks] + 1e-3) + off.g0[ks] + off.gesc[ks] * np.maximum(at - off.onset[ks], 0) / YEAR_S
    z = (z - z.mean()) / (z.std() + 1e-9) if len(z) else z
    p = 1 / (1 + np.exp(-(-0.6 + 0.9 * z)))
    score = r_ev.binomial(27, p)
    level = np.where(score >= 14, "high", np.where(score >= 10, "medium", "standard")).astype(object)
    upgrade = (score < 14) & (r_ev.random(len(vm)) < 0.04)
    level[upgrade] = "high"
    ra = {"mention": vm, "at": at, "score": score, "level": level}
    lap("assessments")

    # --- mentions with noise ---
    pnc = pnc_refs(r_ids, first_arrest)
    cols = make_mentions(r_men, pop, cfg.noise, M_person, M_t, M_kind, M_role, pnc, first_arrest)
    if cfg.profile == "messy":
        cols = messy_mentions(r_messy, cols, pop, M_person, M_t, M_role, cfg.messy)
    lap("mentions")

    # --- split: extract (known by the cut) and the future year ---
    known = E["known"]
    in_ext = known <= cut_s
    in_fut = (known > cut_s) & (known <= horizon)
    person_ids = make_ids("P", np.arange(1, pop.n + 1), 8)
    names = np.array(ref.BOROUGH_NAMES + [None], dtype=object)

    def events_table(mask: np.ndarray, view: str) -> pa.Table:
        i = np.flatnonzero(mask)
        i = i[np.argsort(ev_rank[i], kind="stable")]
        b = E["borough"][i]
        lat = np.where(b >= 0, ref.CENTROIDS[np.maximum(b, 0), 0] + r_ev.normal(0, 0.01, len(i)), np.nan)
        lon = np.where(b >= 0, ref.CENTROIDS[np.maximum(b, 0), 1] + r_ev.normal(0, 0.015, len(i)), np.nan)
        codes = np.array(ref.OFFENCE_CODES + [None], dtype=object)
        dom = E["domestic"][i]
        cref = E["crime_ref"][i]
        oref = E["order_ref"][i]
        return make_table({
            "event_id": ev_ids[i],
            "source": E["source"][i],
            "event_type": E["event_type"][i],
            "offence_code": codes[E["code"][i]],
            "offence_description": E["desc"][i],
            "occurred_at": ts_array(E["occurred"][i]),
            "ends_at": ts_array(E["ends_cut" if view == "cut" else "ends_fut"][i]),
            "reported_at": ts_array(E["reported"][i]),
            "outcome": E["outcome_cut" if view == "cut" else "outcome_fut"][i],
            "domestic": pa.array(dom == 1, mask=dom < 0),
            "borough": names[b],
            "latitude": pa.array(np.round(lat, 5), mask=np.isnan(lat)),
            "longitude": pa.array(np.round(lon, 5), mask=np.isnan(lon)),
            "crime_ref": _ref(ev_ids, cref),
            "order_type": E["order_type"][i],
            "order_ref": _ref(ev_ids, oref),
            "custody_type": E["custody_type"][i],
        })

    def people_table(mask_ev: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        i = np.flatnonzero(mask_ev[M_ev])
        return make_table({
            "mention_id": mention_ids[i],
            "event_id": ev_ids[M_ev[i]],
            "role": M_role[i],
            "forename": cols["forename"][i],
            "surname": cols["surname"][i],
            "date_of_birth": date_array(cols["date_of_birth"][i], cols["dob_missing"][i]),
            "sex": cols["sex"][i],
            "postcode": cols["postcode"][i],
            "person_ref": cols["person_ref"][i],
            "self_defined_ethnicity": cols["self_defined_ethnicity"][i],
            "officer_defined_ethnicity": cols["officer_defined_ethnicity"][i],
            "relationship_to_suspect": RELS[M_rel[i]],
            "household_id": cols["household_id"][i],
        }), i

    def ra_table(mask: np.ndarray) -> pa.Table:
        i = np.flatnonzero(mask)
        return make_table({
            "assessment_id": make_ids("A", (i + 1), 8),
            "mention_id": mention_ids[ra["mention"][i]],
            "assessed_at": ts_array(ra["at"][i]),
            "tool": np.full(len(i), "DASH", dtype=object),
            "score": ra["score"][i].astype(np.int64),
            "level": ra["level"][i],
        })

    fmt = cfg.fmt
    tdir = out / "truth"
    ev_tbl = events_table(in_ext, "cut")
    write_table(ev_tbl, out, "events", fmt)
    ppl_tbl, ext_m = people_table(in_ext)
    write_table(ppl_tbl, out, "people", fmt)
    ra_in = in_ext[M_ev[ra["mention"]]] & (ra["at"] <= cut_s)
    ra_fut = ~ra_in & (ra["at"] <= horizon) & (in_ext | in_fut)[M_ev[ra["mention"]]]
    ra_tbl = ra_table(ra_in)
    write_table(ra_tbl, out, "risk_assessments", fmt)
    st = generate_stops(r_stop, pop, cfg, cut_s)
    st_tbl = make_table({k: (ts_array(v) if k == "occurred_at" else v) for k, v in st.items() if not k.startswith("_")})
    write_table(st_tbl, out, "stops", fmt)
    counts = np.zeros((len(ref.BOROUGHS), len(ref.GROUPS)), dtype=np.int64)
    np.add.at(counts, (pop.borough, pop.group), 1)
    bi, gi = np.meshgrid(np.arange(len(ref.BOROUGHS)), np.arange(len(ref.GROUPS)), indexing="ij")
    pop_tbl = make_table({
        "area": np.array(ref.BOROUGH_NAMES, dtype=object)[bi.ravel()],
        "ethnicity_group": np.array(ref.GROUPS, dtype=object)[gi.ravel()],
        "population": counts.ravel(),
    })
    write_table(pop_tbl, out, "population", fmt)
    lap("write_extract")

    # --- truth ---
    fut_ev = events_table(in_fut, "future")
    write_table(fut_ev, tdir, "future_events", fmt)
    fut_ppl, fut_m = people_table(in_fut)
    write_table(fut_ppl, tdir, "future_people", fmt)
    write_table(ra_table(ra_fut), tdir, "future_risk_assessments", fmt)
    all_m = np.concatenate([ext_m, fut_m])
    write_table(make_table({"mention_id": mention_ids[all_m], "person_id": person_ids[M_person[all_m]],
                            "in_extract": np.concatenate([np.ones(len(ext_m), bool), np.zeros(len(fut_m), bool)])}), tdir, "mentions", fmt)
    _write_persons(pop, off, truth_p, person_ids, cut_s, hist, tdir, fmt)
    # every committed offence (recorded or not) with its event id when recorded
    rec_ev = np.full(n_off, -1, dtype=np.int64)
    rec_ev[ri] = off_ev
    codes = np.array(ref.OFFENCE_CODES, dtype=object)
    vic = c["victim"]
    write_table(make_table({
        "person_id": person_ids[c_person],
        "occurred_at": ts_array(t_int),
        "offence_code": codes[c["code"]],
        "vawg": c["vawg"],
        "relationship_to_suspect": RELS[c["rel"]],
        "victim_person_id": _ref(person_ids, vic),
        "recorded": c["recorded"],
        "reported_at": ts_array(np.where(c["recorded"], c["reported"], NEVER)),
        "event_id": _ref(ev_ids, rec_ev),
        "in_extract": _ref(in_ext, rec_ev, False).astype(bool),
        "after_cut": t_int > cut_s,
        "harm_days": ref.HARM_DAYS[c["code"]],
    }), tdir, "offences", fmt)
    write_table(make_table({"stop_id": st["stop_id"], "self_defined_ethnicity": st["_code"], "ethnicity_group": st["_group"],
                            "sun_elevation": st["_sun_elevation"], "daylight": st["_daylight"]}), tdir, "stops", fmt)
    cc = np.zeros((len(ref.BOROUGHS), len(ref.CODES)), dtype=np.int64)
    np.add.at(cc, (pop.borough, pop.code), 1)
    bi, ci = np.meshgrid(np.arange(len(ref.BOROUGHS)), np.arange(len(ref.CODES)), indexing="ij")
    write_table(make_table({"area": np.array(ref.BOROUGH_NAMES, dtype=object)[bi.ravel()],
                            "self_defined_ethnicity": np.array(ref.CODES, dtype=object)[ci.ravel()], "population": cc.ravel()}),
                tdir, "population_codes", fmt)
    noise_applied = {
        "mentions": int(len(M_ev)),
        "nickname": float(cols["_nick"].mean()) if len(M_ev) else 0.0,
        "dob_swap": float(cols["_swap"].mean()) if len(M_ev) else 0.0,
        "dob_placeholder": float(cols["_placeholder"].mean()) if len(M_ev) else 0.0,
    }
    if cfg.profile == "messy" and len(M_ev):
        noise_applied["messy_name_swap"] = float(cols["_messy_name_swap"].mean())
        noise_applied["messy_dob_missing"] = float(cols["_messy_dob_missing"].mean())
    params = {
        "generator": "harmlens.synth",
        "format_version": 1,
        "config": cfg.to_dict(),
        "derived": {
            "history_start": str(np.datetime64(int(t0), "s")),
            "cut": str(np.datetime64(cut_s, "s")),
            "forecast_end": str(np.datetime64(horizon, "s")),
            "month_days": 365 / 12,
            "policing_intensity_by_group": {g: (cfg.policing_group_multipliers.get(g, 1.0) if cfg.policing_bias else 1.0) for g in ref.GROUPS},
            "policing_intensity_by_area": {b: (cfg.policing_area_multipliers.get(b, 1.0) if cfg.policing_bias else 1.0) for b in ref.BOROUGH_NAMES},
            "stop_multiplier_by_group": {g: (cfg.stop_disparity if g == "Black" else 1.0) for g in ref.GROUPS},
            "darkness_effect_applies_to": "odds of a non-White driver when the sun is above the horizon (elevation > -0.833 deg)",
            "base_recording_probability": dict(zip(ref.OFFENCE_CODES, ref.BASE_RECORDING.tolist())),
            "generator_harm_days": dict(zip(ref.OFFENCE_CODES, ref.HARM_DAYS.tolist())),
            "vawg_codes": ref.VAWG_CODES,
            "noise_applied": noise_applied,
        },
    }
    (tdir / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    lap("write_truth")
    summary.counts = {
        "events": ev_tbl.num_rows, "people": ppl_tbl.num_rows, "risk_assessments": ra_tbl.num_rows, "stops": st_tbl.num_rows,
        "population": pop_tbl.num_rows, "future_events": fut_ev.num_rows, "offences_committed": int(n_off), "persons": pop.n,
    }
    log.info("synthetic city written to %s: %s", out, summary.counts)
    return summary


def _write_persons(pop, off, truth_p, person_ids, cut_s, hist, tdir, fmt) -> None:
    n = pop.n
    kidx = off.person

    def full(v, fill=0.0):
        a = np.full(n, fill, dtype=float)
        a[kidx] = v
        return a

    is_off = np.zeros(n, bool)
    is_off[kidx] = True
    is_v = np.zeros(n, bool)
    is_v[kidx] = off.vawg_share > 0
    cs, ce = hist.snapshot["cs"], hist.snapshot["ce"]
    in_custody = np.zeros(n, bool)
    in_custody[kidx] = (cs <= cut_s) & (cut_s < ce)
    dead = np.zeros(n, bool)
    dead[kidx] = off.death <= cut_s
    write_table(make_table({
        "person_id": person_ids,
        "sex": np.where(pop.female, "female", "male").astype(object),
        "date_of_birth": date_array(pop.dob_days.astype("datetime64[D]")),
        "self_defined_ethnicity": np.array(ref.CODES, dtype=object)[pop.code],
        "ethnicity_group": np.array(ref.GROUPS, dtype=object)[pop.group],
        "borough": np.array(ref.BOROUGH_NAMES, dtype=object)[pop.borough],
        "household_id": make_ids("H", pop.household, 8),
        "offender": is_off,
        "vawg_offender": is_v,
        "propensity": full(off.base),
        "vawg_share": full(off.vawg_share),
        "policing_intensity": np.where(is_off, full(off.intensity), np.nan),
        "in_custody_at_cut": in_custody,
        "dead_at_cut": dead,
        "rate_at_cut": full(truth_p["rate_at_cut"]),
        "p_vawg_365": full(truth_p["p_vawg_365"]),
        "p_vawg_recorded_365": full(truth_p["p_vawg_recorded_365"]),
        "expected_vawg_offences_365": full(truth_p["expected_vawg_offences_365"]),
        "expected_harm_365": full(truth_p["expected_harm_365"]),
    }), tdir, "persons", fmt)
