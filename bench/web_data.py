"""Synthetic warehouse at scale for the web benchmark: generated in DuckDB SQL (seconds, not hours).

Shape: ``persons`` people; 1.5 events per person, each event with a suspect and a victim mention
(3 mentions per person on average), event_harm for every event, and a stored offenders list of
1,000 entries and a victims list of 500 as the rank area stores them.
"""

from __future__ import annotations

from pathlib import Path


def build(path: Path, persons: int) -> Path:
    from harmlens.warehouse import connect

    if path.exists():
        path.unlink()
    con = connect(path)
    n_ev = int(persons * 1.5)
    boroughs = "['Barnet','Brent','Camden','Croydon','Ealing','Enfield','Hackney','Haringey','Lambeth','Lewisham','Newham','Southwark']"
    con.execute(f"""
        INSERT INTO events (event_id, source, event_type, offence_code, offence_description, occurred_at, outcome, domestic, borough)
        SELECT 'E' || i, 'crime', CASE WHEN i % 11 = 0 THEN 'conviction' WHEN i % 7 = 0 THEN 'charge' ELSE 'offence' END,
               '8N', 'Assault', TIMESTAMP '2019-01-01' + to_minutes((hash(i) % 3000000)::BIGINT),
               CASE WHEN i % 3 = 0 THEN 'nfa' ELSE 'unknown' END, i % 2 = 0, {boroughs}[1 + (i % 12)::INT]
        FROM range({n_ev}) t(i)""")
    # Suspect = person (i % persons), victim = a pseudo-random other person.
    con.execute(f"""
        INSERT INTO people (mention_id, event_id, role, forename, surname, sex)
        SELECT 'M' || i || 's', 'E' || i, 'suspect', 'F' || (i % 997), 'S' || (i % 1999), 'male' FROM range({n_ev}) t(i)
        UNION ALL
        SELECT 'M' || i || 'v', 'E' || i, 'victim', 'G' || (i % 991), 'T' || (i % 1997), 'female' FROM range({n_ev}) t(i)""")
    con.execute(f"""
        INSERT INTO links (mention_id, person_id, method, linked_at)
        SELECT 'M' || i || 's', 'P' || (i % {persons}), 'bench', now() FROM range({n_ev}) t(i)
        UNION ALL
        SELECT 'M' || i || 'v', 'P' || ((hash(i) % {persons})::BIGINT), 'bench', now() FROM range({n_ev}) t(i)""")
    con.execute(f"""
        INSERT INTO event_harm (event_id, offence_category, vawg, domestic, sexual, violent, harm_weight, weight_table, weight_source,
                                mapped_by, applied_at)
        SELECT 'E' || i, 'violence with injury', true, i % 2 = 0, false, true, 365, 'cchi', 'bench', 'code', now() FROM range({n_ev}) t(i)""")
    con.execute("""INSERT INTO priority_lists VALUES
        ('offenders:risk:2025-01-01','offenders','risk','2025-01-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,1000,'{}'),
        ('victims:risk:2025-01-01','victims','risk','2025-01-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,500,'{}')""")
    con.execute("""
        INSERT INTO priority_entries (list_id, rank, person_id, score, risk, expected_harm, band, top_factors, allegations, charges,
                                      convictions, distinct_victims, last_event_at, linked_suspects, model_version)
        SELECT 'offenders:risk:2025-01-01', i + 1, 'P' || i, 1000 - i, 0.9 - i / 2000.0, 1000 - i,
               CASE WHEN i < 100 THEN 'high' WHEN i < 400 THEN 'medium' ELSE 'low' END,
               'prior VAWG allegations; recent escalation; multiple victims', 3, 1, 1, 2, TIMESTAMP '2024-12-01', NULL, 'v1'
        FROM range(1000) t(i)
        UNION ALL
        SELECT 'victims:risk:2025-01-01', i + 1, 'P' || (500000 + i), 0.5, 0.5 - i / 2000.0, NULL, NULL, 'repeat victim', NULL, NULL,
               NULL, NULL, TIMESTAMP '2024-12-01', NULL, 'v1'
        FROM range(500) t(i)""")
    con.execute("CHECKPOINT")
    con.close()
    return path
