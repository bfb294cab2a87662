"""A small, seeded set of person mentions with written-down truth, for link tests.

Each true person gets 2-7 mentions with the kinds of error police records have: typos,
nicknames, day/month swapped, missing fields, old postcodes. Two people share a common
name on purpose (namesakes with different dates of birth).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

FORENAMES = ["james", "robert", "michael", "william", "david", "thomas", "daniel", "matthew", "andrew", "christopher",
             "mary", "sarah", "emma", "laura", "rebecca", "jessica", "catherine", "elizabeth", "margaret", "samantha",
             "ahmed", "mohammed", "oluwaseun", "chinedu", "priya", "anil", "kwame", "tomasz", "marek", "ioana"]
SURNAMES = ["smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel", "khan", "okafor",
            "adeyemi", "nowak", "kowalski", "murphy", "kelly", "obrien", "walsh", "campbell", "stewart", "hussain",
            "begum", "ali", "mensah", "osei", "clarke", "wright", "green", "hall", "wood", "harris", "martin",
            "thompson", "white", "hughes", "edwards", "roberts", "evans", "turner", "hill"]
NICK = {"james": "jim", "robert": "bob", "michael": "mick", "william": "bill", "david": "dave", "thomas": "tom",
        "daniel": "danny", "matthew": "matt", "andrew": "andy", "christopher": "chris", "rebecca": "becky",
        "jessica": "jess", "catherine": "kate", "elizabeth": "liz", "margaret": "maggie", "samantha": "sam"}
DISTRICTS = ["SE15", "SE5", "SW9", "E8", "N17", "CR0", "E15", "W10", "NW10", "SE1"]


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    k = rng.random()
    if k < 0.33:
        return s[:i] + s[i + 1:]
    if k < 0.66:
        return s[:i] + rng.choice("aeioulnrst") + s[i + 1:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:] if i + 2 <= len(s) else s


def _postcode(rng: random.Random) -> str:
    return f"{rng.choice(DISTRICTS)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def make_people(n_persons: int = 120, seed: int = 7) -> list[dict]:
    """Mention rows: mention_id, event_id, role, forename, surname, date_of_birth, sex, postcode, person_ref, truth."""
    rng = random.Random(seed)
    rows = []
    persons = []
    for p in range(n_persons):
        fi = rng.randrange(len(FORENAMES))
        persons.append({
            "truth": f"T{p:04d}",
            "forename": FORENAMES[fi],
            "surname": rng.choice(SURNAMES),
            "dob": date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40)),
            "sex": "female" if 10 <= fi < 20 else "male",
            "postcodes": [_postcode(rng) for _ in range(2)],
            "ref": f"PNC{p:05d}" if rng.random() < 0.3 else None,
        })
    # a namesake pair: same name, different date of birth and address
    persons[1].update(forename=persons[0]["forename"], surname=persons[0]["surname"], sex=persons[0]["sex"])
    k = 0
    for per in persons:
        for j in range(rng.randint(2, 7)):
            fn, sn, dob, pc = per["forename"], per["surname"], per["dob"], per["postcodes"][0 if rng.random() < 0.7 else 1]
            r = rng.random()
            if r < 0.08 and fn in NICK:
                fn = NICK[fn]
            elif r < 0.14:
                fn = _typo(rng, fn)
            if rng.random() < 0.06:
                sn = _typo(rng, sn)
            dob_s = dob.isoformat()
            r = rng.random()
            if r < 0.05 and dob.day <= 12:
                dob_s = date(dob.year, dob.day, dob.month).isoformat()
            elif r < 0.09:
                dob_s = None
            if rng.random() < 0.08:
                pc = None
            rows.append({
                "mention_id": f"M{k:05d}", "event_id": f"E{k:05d}", "role": rng.choice(["suspect", "victim", "subject"]),
                "forename": fn.upper() if rng.random() < 0.3 else fn.title(), "surname": sn.title(), "date_of_birth": dob_s,
                "sex": per["sex"], "postcode": pc, "person_ref": per["ref"] if rng.random() < 0.6 else None, "truth": per["truth"],
            })
            k += 1
    rng.shuffle(rows)
    return rows


def load_into(con, rows: list[dict]) -> None:
    """Insert rows into the warehouse's people and events tables (one event per mention)."""
    import pandas as pd

    df = pd.DataFrame(rows)
    con.register("__rows", df)
    con.execute("""INSERT INTO events (event_id, source, event_type, occurred_at)
                   SELECT event_id, 'crime', 'offence', TIMESTAMP '2024-01-01 10:00:00' FROM __rows""")
    con.execute("""INSERT INTO people (mention_id, event_id, role, forename, surname, date_of_birth, sex, postcode, person_ref)
                   SELECT mention_id, event_id, role, forename, surname, CAST(date_of_birth AS DATE), sex, postcode, person_ref FROM __rows""")
    con.unregister("__rows")
