"""Synthetic registers of people for testing record linkage, with the truth in a column.

Shapes that real registers have and a clean city extract does not:

- whole families at one address sharing a surname and birthplace: fathers and sons of the same
  forename 20-35 years apart, brothers a year or two apart with different forenames, twins;
- names in parts (a second forename or middle name, often only an initial, often missing);
- a date of birth as one date, as year/month/day columns, as a year only, as an age at a
  recorded date, or absent (``DOB_SHAPES``);
- ``profile="link"``: two sources (A and B), each holding a person at most once, overlapping in
  part, with errors in every field and some people moved house between them;
  ``profile="dedupe"``: one file in which a share of the records are duplicates of others.

The column ``person_id`` is the truth. Nothing here is about a real person: names are drawn from
the city generator's pools and from invented surnames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from harmlens.synth import reference as ref
from harmlens.synth.mentions import _typo

DOB_SHAPES = ("full", "split", "year", "age", "none")
PROFILES = ("link", "dedupe")
TOWNS = ["Leeds", "Bristol", "Croydon", "Luton", "Bradford", "Leicester", "Coventry", "Hull", "Derby", "Reading", "Slough", "Ilford",
         "Lagos", "Karachi", "Dhaka", "Kingston", "Warsaw", "Bucharest", "Mogadishu", "Accra", "Lahore", "Dublin", "Glasgow", "Cardiff"]
_PRE = ["Ash", "Brad", "Craw", "Dal", "Eller", "Fen", "Gar", "Hal", "Ing", "Kel", "Lang", "Mar", "Nor", "Oak", "Pen", "Ray", "Stan",
        "Thorn", "Wex", "Brock", "Cald", "Dun", "Fair", "Hart", "Kings", "Lock", "Mill", "Red", "Shep", "Wal"]
_SUF = ["ford", "ley", "ton", "wood", "by", "well", "more", "field", "ham", "worth", "combe", "den", "hurst", "ridge", "stone"]


@dataclass(frozen=True)
class RegisterConfig:
    people: int = 5000
    seed: int = 0
    profile: str = "link"
    dob: str = "year"
    share_a: float = 0.8  # link: chance a person is in source A
    share_b: float = 0.7  # link: chance a person is in source B
    dup_share: float = 0.1  # dedupe: duplicates as a share of the originals
    as_of: date = date(2025, 1, 1)


@dataclass
class Person:
    pid: str
    fn: str
    mid: str
    sn: str
    sex: str
    dob: date
    pc: str
    town: str


def _surnames(rng: np.random.Generator, k: int) -> list[str]:
    pool = sorted({s for v in ref.SURNAMES.values() for s in v})
    invented = sorted({p + s for p in _PRE for s in _SUF})
    return [str(rng.choice(pool)) if rng.random() < 0.5 else str(rng.choice(invented)) for _ in range(k)]


def _forename(rng: np.random.Generator, sex: str, avoid: set[str] = frozenset()) -> str:
    table = ref.FORENAMES_F if sex == "F" else ref.FORENAMES_M
    pool = sorted({n for v in table.values() for n in v} - set(avoid))
    return str(rng.choice(pool))


def _postcode(rng: np.random.Generator) -> str:
    a = "ABCDEFGHJKLMNPRSTUWXYZ"
    return f"{a[rng.integers(0, len(a))]}{a[rng.integers(0, len(a))]}{rng.integers(1, 20)} {rng.integers(1, 10)}{a[rng.integers(0, len(a))]}{a[rng.integers(0, len(a))]}"


def _date(rng: np.random.Generator, year: int) -> date:
    return date(int(year), int(rng.integers(1, 13)), int(rng.integers(1, 29)))


def population(cfg: RegisterConfig, rng: np.random.Generator) -> list[Person]:
    """People in households: half live alone, the rest in families (see the module docstring)."""
    out: list[Person] = []
    n = 0
    while n < cfg.people:
        sn = _surnames(rng, 1)[0]
        pc, town = _postcode(rng), str(rng.choice(TOWNS))
        if rng.random() < 0.5:
            sex = "M" if rng.random() < 0.5 else "F"
            out.append(Person(f"P{n:07d}", _forename(rng, sex), _forename(rng, sex), sn, sex, _date(rng, int(rng.integers(1930, 2005))), pc, town))
            n += 1
            continue
        fy = int(rng.integers(1935, 1975))
        father = Person(f"P{n:07d}", _forename(rng, "M"), _forename(rng, "M"), sn, "M", _date(rng, fy), pc, str(rng.choice(TOWNS)))
        members = [father]
        if rng.random() < 0.7:
            members.append(Person("", _forename(rng, "F"), _forename(rng, "F"), sn, "F", _date(rng, fy + int(rng.integers(-4, 5))), pc, str(rng.choice(TOWNS))))
        y = fy + int(rng.integers(20, 31))
        used = {father.fn}
        for k in range(int(rng.integers(1, 5))):
            sex = "M" if rng.random() < 0.6 else "F"
            if k == 0 and sex == "M" and rng.random() < 0.4:
                fn = father.fn  # a son named after his father
                mid = father.mid if rng.random() < 0.5 else _forename(rng, "M")
            else:
                fn = _forename(rng, sex, used)
                mid = _forename(rng, sex)
            used.add(fn)
            d = _date(rng, y)
            if k and rng.random() < 0.06:  # twins: same date of birth
                d = members[-1].dob
            members.append(Person("", fn, mid, sn, sex, d, pc, town))
            y += int(rng.integers(1, 4))
        for m in members:
            m.pid = f"P{n:07d}"
            n += 1
        out.extend(members)
    return out[: cfg.people]


def _nick(rng: np.random.Generator, fn: str) -> str:
    opts = ref.NICKNAMES.get(fn)
    return str(rng.choice(opts)) if opts else fn


def _observe(p: Person, rng: np.random.Generator, cfg: RegisterConfig, moved: bool) -> dict[str, object]:
    """One record of a person as a register keeps it: errors in every field at realistic rates."""
    r = rng.random
    fn = p.fn
    if r() < 0.06:
        fn = _nick(rng, fn)
    if r() < 0.06:
        fn = _typo(rng, fn)
    if r() < 0.02:
        fn = fn[0]
    mid = p.mid
    u = r()
    mid = "" if u < 0.3 else (mid[0] if u < 0.5 else (_typo(rng, mid) if u < 0.53 else mid))
    sn = _typo(rng, p.sn) if r() < 0.07 else p.sn
    if r() < 0.01:
        sn = ""
    y, m, d = p.dob.year, p.dob.month, p.dob.day
    if r() < 0.12:
        y += int(rng.choice([-1, 1]))
    elif r() < 0.02:
        y += int(rng.choice([-2, 2]))
    if r() < 0.03:
        m, d = (d, m) if d <= 12 else (m, d)
    if r() < 0.04:
        d = int(rng.integers(1, 29))
    dob_missing = r() < 0.08
    pc = _postcode(rng) if moved else p.pc
    if r() < 0.08:
        pc = ""
    town = "" if r() < 0.15 else (_typo(rng, p.town) if r() < 0.04 else p.town)
    rec: dict[str, object] = {"forename": fn.upper() if r() < 0.2 else fn, "middle_name": mid, "surname": sn}
    if cfg.dob == "full":
        rec["dob"] = "" if dob_missing else f"{y:04d}-{m:02d}-{d:02d}"
    elif cfg.dob == "split":
        rec.update(dob_year="" if dob_missing else y, dob_month="" if dob_missing or r() < 0.05 else m,
                   dob_day="" if dob_missing or r() < 0.05 else d)
    elif cfg.dob == "year":
        rec["birth_year"] = "" if dob_missing else y
    elif cfg.dob == "age":
        at = date(cfg.as_of.year - int(rng.integers(0, 8)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        age = at.year - y - ((at.month, at.day) < (m, d))
        rec.update(age="" if dob_missing else age, age_at=at.isoformat())
    rec.update(sex=p.sex if r() > 0.05 else "", postcode=pc, birthplace=town, person_id=p.pid)
    return rec


def registers(cfg: RegisterConfig) -> dict[str, list[dict[str, object]]]:
    """The files of a profile as lists of rows: {"A": ..., "B": ...} or {"records": ...}."""
    if cfg.profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
    if cfg.dob not in DOB_SHAPES:
        raise ValueError(f"dob must be one of {', '.join(DOB_SHAPES)}")
    rng = np.random.default_rng(cfg.seed)
    people = population(cfg, rng)
    if cfg.profile == "link":
        a, b = [], []
        for p in people:
            in_a, in_b = rng.random() < cfg.share_a, rng.random() < cfg.share_b
            if in_a:
                a.append(_observe(p, rng, cfg, moved=False))
            if in_b:
                b.append(_observe(p, rng, cfg, moved=rng.random() < 0.25))
        for rows, s in ((a, "a"), (b, "b")):
            order = rng.permutation(len(rows))
            rows[:] = [rows[i] for i in order]
            for k, row in enumerate(rows):
                row["record_id"] = f"{s}{k:07d}"
        return {"A": a, "B": b}
    recs = [_observe(p, rng, cfg, moved=False) for p in people]
    for i in rng.choice(len(people), size=int(cfg.dup_share * len(people)), replace=True):
        recs.append(_observe(people[int(i)], rng, cfg, moved=rng.random() < 0.2))
    order = rng.permutation(len(recs))
    recs = [recs[i] for i in order]
    for k, row in enumerate(recs):
        row["record_id"] = f"r{k:07d}"
    return {"records": recs}


def link_map(dob: str) -> str:
    """The ``--map`` for link-file on these files."""
    d = {"full": "dob=dob", "split": "dob_year=dob_year,dob_month=dob_month,dob_day=dob_day", "year": "dob=birth_year",
         "age": "age=age,age_at=age_at", "none": ""}[dob]
    return ",".join(x for x in ["forename=forename,middle_name=middle_name,surname=surname", d, "sex=sex,postcode=postcode,birthplace=birthplace"] if x)


def write_registers(cfg: RegisterConfig, out: Path) -> dict[str, Path]:
    """Write the profile's CSV files into ``out``; returns name -> path."""
    from harmlens.csvsafe import write_csv

    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in registers(cfg).items():
        p = out / f"{name}.csv"
        cols = ["record_id"] + [c for c in rows[0] if c != "record_id"] if rows else ["record_id"]
        write_csv(rows, p, columns=cols)
        paths[name] = p
    return paths


__all__ = ["RegisterConfig", "registers", "write_registers", "link_map", "DOB_SHAPES", "PROFILES"]
