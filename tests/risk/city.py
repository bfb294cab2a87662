"""A small random city written straight into a warehouse, with written-down truth.

Each suspect ``S<k>`` has a latent yearly offending rate (gamma distributed, so a few people
commit most offences) and a share of VAWG offences; offences arrive month by month as a Poisson
process whose rate rises after each offence (persistence). So history predicts the future, and
people with more recent VAWG allegations should score higher: the tests check that the models
recover this, not exact numbers. Victims are separate people; every mention is linked to its
person (as the link stage would) and every offence gets its ``event_harm`` row (as the harm stage
would).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

KINDS = {
    # code: (category, vawg, domestic, sexual, violent, harm)
    "da_assault": ("domestic_violence_with_injury", True, True, False, True, 100.0),
    "stalking": ("stalking", True, False, False, False, 10.0),
    "rape": ("rape", True, False, True, True, 2555.0),
    "assault": ("violence_with_injury", False, False, False, True, 50.0),
    "burglary": ("non_violent", False, False, False, False, 20.0),
}
VAWG_KINDS = ["da_assault", "stalking", "rape"]
OTHER_KINDS = ["assault", "burglary"]
ETHNICITIES = ["W1", "W1", "W1", "B2", "A1", "M1", "O9", "not_stated"]


def make_city(n_suspects: int = 300, start: str = "2017-01-01", months: int = 72, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t0 = datetime.fromisoformat(start)
    rate = rng.gamma(0.6, 1.5, n_suspects)  # offences per year
    vshare = rng.beta(3, 2, n_suspects)
    events, people, harm = [], [], []
    excite = np.zeros(n_suspects)
    e = m = 0
    for month in range(months):
        lam = rate / 12 * (1 + np.minimum(excite, 2.0))
        n_off = rng.poisson(lam)
        excite *= 0.7
        for k in np.flatnonzero(n_off):
            for _ in range(n_off[k]):
                e += 1
                kind = rng.choice(VAWG_KINDS, p=[0.6, 0.3, 0.1]) if rng.random() < vshare[k] else rng.choice(OTHER_KINDS)
                cat, vawg, dom, sex, vio, w = KINDS[kind]
                when = t0 + timedelta(days=month * 30.44 + rng.uniform(0, 30))
                eid = f"E{e}"
                events.append({"event_id": eid, "source": "crime", "event_type": "offence", "offence_code": kind,
                               "occurred_at": when, "reported_at": when + timedelta(days=float(rng.integers(0, 5))),
                               "outcome": "unknown", "domestic": dom})
                harm.append({"event_id": eid, "offence_category": cat, "vawg": vawg, "domestic": dom, "sexual": sex,
                             "violent": vio, "harm_weight": w, "weight_table": "test", "weight_source": "test",
                             "mapped_by": "test", "applied_at": datetime(2024, 1, 1)})
                m += 1
                people.append({"mention_id": f"M{m}", "event_id": eid, "role": "suspect", "person": f"S{k}",
                               "sex": "male", "date_of_birth": datetime(1970 + k % 30, 1 + k % 12, 1 + k % 28).date(),
                               "self_defined_ethnicity": ETHNICITIES[k % len(ETHNICITIES)], "relationship_to_suspect": None})
                m += 1
                people.append({"mention_id": f"M{m}", "event_id": eid, "role": "victim", "person": f"V{k}_{int(rng.integers(0, 3))}",
                               "sex": "female", "date_of_birth": None, "self_defined_ethnicity": None,
                               "relationship_to_suspect": "partner" if dom else "acquaintance"})
                excite[k] += 0.5
    ev = pd.DataFrame(events)
    pe = pd.DataFrame(people)
    links = pd.DataFrame({"mention_id": pe["mention_id"], "person_id": pe["person"], "method": "test", "linked_at": datetime(2024, 1, 1)})
    return {"events": ev, "people": pe.drop(columns=["person"]), "links": links, "event_harm": pd.DataFrame(harm),
            "truth": pd.DataFrame({"person_id": [f"S{k}" for k in range(n_suspects)], "rate": rate, "vawg_share": vshare})}


def load_city(con, city: dict[str, pd.DataFrame]) -> None:
    for table in ("events", "people", "links", "event_harm"):
        df = city[table]
        con.register("_city_tmp", df)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _city_tmp")
        con.unregister("_city_tmp")
