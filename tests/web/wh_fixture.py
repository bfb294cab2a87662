"""A small warehouse with written-down truth for the web tests.

Truth:
- P1 (suspect) appears in events E1 (offence, nfa), E2 (offence, charged), E3 (conviction); victims
  in those events are P2 (E1, E2) and P3 (E3). So P1's network is {P2: 2 events, P3: 1 event}.
- Priority list (rank area tables): P1 rank 1 (Camden, high), P4 rank 2 (Hackney, medium), P5 rank 3 (borough from
  their latest event: Hackney, as P5 is the victim in E4).
- Victims list: P2 rank 1.
- Stops: 6 stops over two months.
- Referral packs: R1 to Probation, R2 to Housing.
- Model v1 (candidate) with a model card.
"""

from __future__ import annotations

from pathlib import Path

def build_warehouse(path: Path, *, stops: bool = True, lists: bool = True) -> Path:
    from harmlens.warehouse import connect

    con = connect(path)
    con.execute("""INSERT INTO events (event_id, source, event_type, offence_code, offence_description, occurred_at, outcome, domestic, borough) VALUES
        ('E1','crime','offence','8L','Controlling or coercive behaviour','2024-01-05 21:00','nfa',true,'Camden'),
        ('E2','crime','offence','8N','Assault occasioning ABH','2024-03-10 23:10','charged',true,'Camden'),
        ('E3','court','conviction','8N','Assault occasioning ABH','2024-06-01 10:00','convicted',true,'Camden'),
        ('E4','crime','offence','8Q','Stalking','2024-05-01 12:00','ongoing',false,'Hackney')""")
    con.execute("""INSERT INTO people (mention_id, event_id, role, forename, surname, sex) VALUES
        ('M1','E1','suspect','Jon','Smyth','male'), ('M2','E1','victim','Ann','Jones','female'),
        ('M3','E2','suspect','John','Smith','male'), ('M4','E2','victim','Ann','Jones','female'),
        ('M5','E3','offender','John','Smith','male'), ('M6','E3','victim','Bea','Khan','female'),
        ('M7','E4','suspect','Carl','Ode','male'), ('M8','E4','victim','Dee','Roe','female')""")
    con.execute("""INSERT INTO links VALUES ('M1','P1','splink',now()),('M2','P2','splink',now()),('M3','P1','splink',now()),
        ('M4','P2','splink',now()),('M5','P1','splink',now()),('M6','P3','splink',now()),('M7','P4','splink',now()),('M8','P5','splink',now())""")
    con.execute("""INSERT INTO event_harm (event_id, offence_category, vawg, domestic, sexual, violent, harm_weight, weight_table,
        weight_source, mapped_by, applied_at) VALUES
        ('E1','coercive control',true,true,false,false,140,'cchi','test','code',now()),
        ('E2','violence with injury',true,true,false,true,365,'cchi','test','code',now()),
        ('E3','violence with injury',true,true,false,true,365,'cchi','test','code',now()),
        ('E4','stalking',true,false,false,false,10,'cchi','test','code',now())""")
    if lists:
        con.execute("""INSERT INTO priority_lists VALUES
            ('offenders:risk:2024-07-01','offenders','risk','2024-07-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,3,'{}'),
            ('victims:risk:2024-07-01','victims','risk','2024-07-01',now(),now(),now() + INTERVAL 90 DAY,'v1',NULL,1,'{}')""")
        con.execute("""INSERT INTO priority_entries (list_id, rank, person_id, score, risk, expected_harm, band, top_factors, allegations,
            charges, convictions, distinct_victims, last_event_at, linked_suspects, model_version,
            ev_charged, ev_acquitted, ev_nfa, ev_withdrawn, ev_ongoing, ev_cautioned) VALUES
            ('offenders:risk:2024-07-01',1,'P1',412.5,0.62,412.5,'high','3 VAWG allegations in 12 months; charged ABH 2024-03; 2 victims',2,1,0,1,'2024-06-01',NULL,'v1',1,0,1,0,0,0),
            ('offenders:risk:2024-07-01',2,'P4',55.0,0.31,55.0,'medium','prior stalking allegation',1,0,0,1,'2024-05-01',NULL,'v1',0,0,0,0,1,0),
            ('offenders:risk:2024-07-01',3,'P5',2.0,0.05,2.0,'low',NULL,0,0,0,0,'2024-05-01',NULL,'v1',0,0,0,0,0,0),
            ('victims:risk:2024-07-01',1,'P2',0.44,0.44,NULL,NULL,'repeat victim; suspect charged',NULL,NULL,NULL,NULL,'2024-03-10','P1','v1',NULL,NULL,NULL,NULL,NULL,NULL)""")
        import hashlib

        for pack, partner, person in (("R1", "Probation", "P1"), ("R2", "Housing", "P2")):
            html = f"<h1>Pack {pack}</h1>".encode()
            f = path.parent / f"{pack}.html"
            f.write_bytes(html)
            con.execute("INSERT INTO referral_packs (pack_id, person_id, partner, purpose, made_by, made_at, as_of, fields, html_path,"
                        " html_sha256, refreshed_at) VALUES (?, ?, ?, 'MATAC tasking', 'ana', '2024-07-02', '2024-07-01', '{}', ?, ?, now())",
                        [pack, person, partner, str(f), hashlib.sha256(html).hexdigest()])
        con.execute("""INSERT INTO risk_scores VALUES ('v1','2024-07-01','P1',0.62,412.5,'["3 VAWG allegations in 12 months"]','2024-07-01')""")
        con.execute("""INSERT INTO models (version, created_at, status, primary_model, target, data_window, data_hash, params, metrics,
            features, artifact_path, artifact_sha256, card_html) VALUES ('v1','2024-07-01','candidate','logit','{}','{}','abc','{}','{}','[]',
            '/nonexistent','x','<h1>Model card v1</h1><p>AUC 0.71</p>')""")
    if stops:
        con.execute("""INSERT INTO stops (stop_id, occurred_at, legislation, self_defined_ethnicity, sex, borough, outcome, searched, found) VALUES
            ('S1','2024-01-03 22:00','s163 Road Traffic Act 1988','W1','male','Camden','A no further action disposal',false,NULL),
            ('S2','2024-01-04 13:00','s163 Road Traffic Act 1988','B2','male','Camden','Arrest',true,true),
            ('S3','2024-01-09 09:00','s1 PACE','A1','female','Hackney','A no further action disposal',true,false),
            ('S4','2024-02-01 17:00','s163 Road Traffic Act 1988','W1','male','Hackney','A no further action disposal',false,NULL),
            ('S5','2024-02-11 23:30','s163 Road Traffic Act 1988','not_stated','female','Camden','Arrest',true,true),
            ('S6','2024-02-20 08:00','s1 PACE','B1','male','Camden','A no further action disposal',true,false)""")
    con.close()
    return path
