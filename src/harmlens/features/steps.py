"""The point-in-time feature query as named steps (an :class:`~harmlens.engine.SQLPipeline`).

One SELECT per step, each reading earlier steps by name, so the query can run whole (one ``WITH``
query, planned as one) or step by step in a test that checks each step's rows. The steps and
their meaning are documented in :mod:`harmlens.features.core`; only our own constants are pasted
into the SQL, and the date is a bound parameter (``$as_of`` in the text, see :func:`_binder`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from harmlens.engine import SQLPipeline
from harmlens.features.catalogue import CATEGORIES, DESISTANCE_HAZARD, RECENCY_CAP_DAYS, SENTENCE_CUSTODY_TYPES, WINDOWS

SUSPECT_ROLES = "('suspect', 'offender')"
NOT_SUBJECT_ROLES = "('victim', 'witness')"
# A date of birth before this is a placeholder (1900-01-01, 1800-...), never a real person's.
MIN_PLAUSIBLE_DOB = "1910-01-01"
CRIME_REF_FROM_EXTRA = "json_extract_string(extra, '$.crime_ref')"
CUSTODY_TYPE_FROM_EXTRA = "json_extract_string(extra, '$.custody_type')"

Adder = Callable[..., None]


def _binder(p: SQLPipeline, at: datetime | None) -> Adder:
    """``step(name, sql)`` adding to ``p``: with a date, every ``$as_of`` becomes a ``?`` bound to it.

    Without a date the text keeps ``$as_of`` for a caller that binds it by name (the evidence
    and label queries reuse the base steps inside their own SQL).
    """

    def step(name: str, sql: str, *, materialized: bool = False) -> None:
        if at is None:
            p.add(name, sql, materialized=materialized)
        else:
            n = sql.count("$as_of")
            p.add(name, sql.replace("$as_of", "?"), *([at] * n), materialized=materialized)

    return step


def _win(days: int | None, col: str = "occurred_at") -> str:
    return "TRUE" if days is None else f"{col} >= $as_of - INTERVAL {int(days)} DAY"


def base_steps(
    p: SQLPipeline,
    *,
    outcome_lag_days: int,
    at: datetime | None = None,
    crime_ref: str = CRIME_REF_FROM_EXTRA,
    ids: str | None = None,
    custody_type: str = CUSTODY_TYPE_FROM_EXTRA,
) -> None:
    """Known events, linked mentions on them, offences per suspect and evidence of charges.

    ``ids``: a registered relation of ``person_id`` to restrict to from the start (only for
    per-person results that never look at other people: evidence, labels; not network features).
    """
    step = _binder(p, at)
    lag = int(outcome_lag_days)
    only = f"WHERE CAST(l.person_id AS VARCHAR) IN (SELECT person_id FROM {ids})" if ids else ""
    step("ev", f"""
        SELECT event_id, event_type, occurred_at, ends_at, outcome, domestic,
               {crime_ref} AS crime_ref, {custody_type} AS custody_type
        FROM events
        WHERE occurred_at < $as_of AND (reported_at IS NULL OR reported_at < $as_of)""", materialized=True)
    step("pm", f"""
        SELECT CAST(l.person_id AS VARCHAR) AS person_id, p.mention_id, p.event_id, p.role,
               p.date_of_birth, ev.event_type, ev.occurred_at, ev.ends_at, ev.custody_type
        FROM people p
        JOIN links l ON l.mention_id = p.mention_id
        JOIN ev ON ev.event_id = p.event_id
        {only}""", materialized=True)
    step("pop", f"""
        SELECT person_id, min(occurred_at) AS first_suspect_at
        FROM pm WHERE role IN {SUSPECT_ROLES}
        GROUP BY person_id""", materialized=True)
    step("off", f"""
        SELECT s.person_id, s.event_id, ev.occurred_at, ev.outcome,
               coalesce(h.vawg, FALSE) AS vawg,
               coalesce(h.sexual, FALSE) AS sexual,
               coalesce(h.domestic, ev.domestic, FALSE) AS domestic,
               coalesce(h.violent, FALSE) AS violent,
               coalesce(h.harm_weight, 0.0) AS harm,
               coalesce(h.offence_category, '') AS cat
        FROM (SELECT DISTINCT person_id, event_id FROM pm
              WHERE role IN {SUSPECT_ROLES} AND event_type = 'offence') s
        JOIN ev ON ev.event_id = s.event_id
        LEFT JOIN event_harm h ON h.event_id = s.event_id""", materialized=True)
    step("evid", f"""
        -- charges and convictions: (person, crime, kind), one crime counted once however it is recorded
        SELECT pm.person_id, coalesce(ev.crime_ref, ev.event_id) AS crime_key, ev.event_id AS own_id,
               ev.event_type AS kind
        FROM pm JOIN ev ON ev.event_id = pm.event_id
        WHERE ev.event_type IN ('charge', 'conviction') AND pm.role NOT IN {NOT_SUBJECT_ROLES}
        UNION ALL
        -- a charge/conviction event naming nobody is attributed to the suspects of its offence
        SELECT o.person_id, ev.crime_ref, ev.event_id, ev.event_type
        FROM ev JOIN off o ON o.event_id = ev.crime_ref
        WHERE ev.event_type IN ('charge', 'conviction')
          AND NOT EXISTS (SELECT 1 FROM people q WHERE q.event_id = ev.event_id AND q.role NOT IN {NOT_SUBJECT_ROLES})
        UNION ALL
        -- an undated outcome on the offence row, trusted once the offence is {lag} days old
        SELECT person_id, event_id, event_id,
               CASE WHEN outcome = 'convicted' THEN 'conviction' ELSE 'charge' END
        FROM off
        WHERE outcome IN ('charged', 'convicted') AND occurred_at <= $as_of - INTERVAL {lag} DAY""", materialized=True)
    step("evid_cat", f"""
        SELECT e.person_id, e.crime_key, e.kind,
               coalesce(hc.vawg, ho.vawg, FALSE) AS vawg,
               coalesce(hc.sexual, ho.sexual, FALSE) AS sexual,
               coalesce(hc.domestic, ho.domestic, FALSE) AS domestic,
               coalesce(hc.violent, ho.violent, FALSE) AS violent
        FROM evid e
        -- the charged crime's flags only if that offence itself is known (a charge record can
        -- arrive before the crime report is loaded; the later report must not change the past)
        LEFT JOIN (SELECT h.* FROM event_harm h SEMI JOIN ev ON ev.event_id = h.event_id) hc
               ON hc.event_id = e.crime_key
        LEFT JOIN event_harm ho ON ho.event_id = e.own_id""", materialized=True)
    step("vic", f"""
        SELECT o.person_id, o.event_id, o.occurred_at, o.vawg, o.sexual, o.domestic, o.violent,
               coalesce(CAST(lv.person_id AS VARCHAR), 'mention:' || pv.mention_id) AS victim_id,
               pv.relationship_to_suspect AS rel,
               pv.date_of_birth AS vdob
        FROM off o
        JOIN people pv ON pv.event_id = o.event_id AND pv.role = 'victim'
        LEFT JOIN links lv ON lv.mention_id = pv.mention_id
        WHERE coalesce(CAST(lv.person_id AS VARCHAR), '') <> o.person_id""", materialized=True)


def features_pipeline(
    at: datetime, *, outcome_lag_days: int, with_dash: bool, crime_ref: str, custody_type: str, ids: str | None = None
) -> SQLPipeline:
    """The whole feature query as of ``at``; its last step is one row per scored person.

    ``ids``: a registered relation of ``person_id``; the last step then keeps only those persons
    (the features themselves still look at everyone, for the network counts).
    """
    p = SQLPipeline()
    base_steps(p, outcome_lag_days=outcome_lag_days, at=at, crime_ref=crime_ref, custody_type=custody_type)
    step = _binder(p, at)
    cap = RECENCY_CAP_DAYS
    counts = []
    for cat, pred in CATEGORIES.items():
        for win, days in WINDOWS.items():
            counts.append(f"count(*) FILTER (WHERE {pred} AND {_win(days)}) AS n_{cat}_{win}")
    for win, days in WINDOWS.items():
        counts.append(f"coalesce(sum(harm) FILTER (WHERE vawg AND {_win(days)}), 0) AS harm_vawg_{win}")
    sentence_types = ", ".join(f"'{t}'" for t in SENTENCE_CUSTODY_TYPES)
    step("oagg", f"""
        SELECT person_id,
               {", ".join(counts)},
               coalesce(sum(harm) FILTER (WHERE {_win(365)}), 0) AS harm_any_365d,
               coalesce(sum(harm), 0) AS harm_any_ever,
               max(occurred_at) AS last_off,
               max(occurred_at) FILTER (WHERE vawg) AS last_vawg,
               coalesce(sum(harm) FILTER (WHERE vawg AND {_win(730)} AND NOT {_win(365)}), 0) AS harm_vawg_prev_365d,
               coalesce(max(harm) FILTER (WHERE {_win(365)}), 0) AS max_harm_365d,
               coalesce(max(harm) FILTER (WHERE NOT {_win(365)}), 0) AS max_harm_before_365d,
               count(*) FILTER (WHERE cat LIKE 'breach%' AND {_win(365)}) AS n_breach_365d,
               count(*) FILTER (WHERE cat LIKE 'breach%') AS n_breach_ever
        FROM off GROUP BY person_id""")
    step("vagg", f"""
        SELECT person_id,
               count(DISTINCT victim_id) AS distinct_victims_ever,
               count(DISTINCT victim_id) FILTER (WHERE {_win(1095)}) AS distinct_victims_3y,
               count(DISTINCT victim_id) FILTER (WHERE rel IN ('partner', 'ex_partner')) AS distinct_partner_victims_ever,
               count(DISTINCT victim_id) FILTER (
                   WHERE vdob >= DATE '{MIN_PLAUSIBLE_DOB}' AND vdob <= CAST(occurred_at AS DATE)
                     AND vdob > CAST(occurred_at AS DATE) - INTERVAL 18 YEAR) AS distinct_child_victims_ever
        FROM vic GROUP BY person_id""")
    step("vrep", f"""
        SELECT person_id, max(n) AS max_offences_same_victim, count(*) FILTER (WHERE n >= 2) AS repeat_victims
        FROM (SELECT person_id, victim_id, count(DISTINCT event_id) AS n FROM vic GROUP BY person_id, victim_id)
        GROUP BY person_id""")
    if with_dash:
        step("ra_p", """
        SELECT coalesce(CAST(l.person_id AS VARCHAR), 'mention:' || r.mention_id) AS victim_id, r.score, r.level
        FROM risk_assessments r LEFT JOIN links l ON l.mention_id = r.mention_id
        WHERE r.assessed_at < $as_of""")
        step("dash", """
        SELECT v.person_id,
               count(DISTINCT v.victim_id) FILTER (WHERE r.level = 'high' OR r.score >= 14) AS dash_high_victims,
               coalesce(max(r.score), 0) AS max_dash_score
        FROM (SELECT DISTINCT person_id, victim_id FROM vic) v JOIN ra_p r ON r.victim_id = v.victim_id
        GROUP BY v.person_id""")
    else:
        step("dash", "SELECT NULL::VARCHAR AS person_id, 0 AS dash_high_victims, 0 AS max_dash_score WHERE FALSE")
    step("subj", f"""
        SELECT DISTINCT person_id, event_id, event_type, occurred_at, ends_at
        FROM pm WHERE role NOT IN {NOT_SUBJECT_ROLES}
          AND event_type IN ('custody', 'order', 'arrest', 'intelligence')""")
    step("dead", f"""
        -- the same rule as harm.at_large: a death event naming the person in any role but witness
        SELECT DISTINCT person_id FROM pm WHERE event_type = 'death' AND role <> 'witness'""")
    step("sent", f"""
        -- a prison sentence's release date is set when it is passed, so (unlike the end of remand or
        -- of an order) it may be read from the sentence's start on
        SELECT person_id, least({cap}, max(epoch(ends_at) - epoch($as_of)) / 86400.0) AS days_to_release
        FROM pm WHERE role NOT IN {NOT_SUBJECT_ROLES} AND event_type = 'custody'
          AND ends_at > $as_of AND lower(trim(custody_type)) IN ({sentence_types})
        GROUP BY person_id""")
    step("sagg", f"""
        SELECT person_id,
               count(*) FILTER (WHERE event_type = 'order') AS n_orders_ever,
               count(*) FILTER (WHERE event_type = 'order' AND (ends_at IS NULL OR ends_at > $as_of)) AS active_orders,
               coalesce(sum(greatest(0, epoch(least(coalesce(ends_at, $as_of), $as_of)) - epoch(occurred_at)))
                   FILTER (WHERE event_type = 'custody'), 0) / 86400.0 AS days_in_custody_ever,
               coalesce(sum(greatest(0, epoch(least(coalesce(ends_at, $as_of), $as_of))
                                        - epoch(greatest(occurred_at, $as_of - INTERVAL 365 DAY))))
                   FILTER (WHERE event_type = 'custody'), 0) / 86400.0 AS days_in_custody_365d,
               count(*) FILTER (WHERE event_type = 'custody' AND (ends_at IS NULL OR ends_at > $as_of)) AS custody_open,
               count(*) FILTER (WHERE event_type = 'arrest' AND {_win(365)}) AS n_arrests_365d,
               count(*) FILTER (WHERE event_type = 'arrest') AS n_arrests_ever,
               count(*) FILTER (WHERE event_type = 'intelligence' AND {_win(365)}) AS n_intel_365d
        FROM subj GROUP BY person_id""")
    step("eagg", f"""
        SELECT person_id,
               count(DISTINCT crime_key) AS charges_ever,
               count(DISTINCT crime_key) FILTER (WHERE vawg) AS charges_vawg_ever,
               count(DISTINCT crime_key) FILTER (WHERE kind = 'conviction') AS convictions_ever,
               count(DISTINCT crime_key) FILTER (WHERE kind = 'conviction' AND vawg) AS convictions_vawg_ever
        FROM evid_cat GROUP BY person_id""")
    step("vict", f"""
        SELECT person_id, count(DISTINCT event_id) AS times_victim_ever
        FROM pm WHERE role = 'victim' GROUP BY person_id""")
    step("dobs", f"""
        SELECT person_id, date_of_birth AS dob, count(*) AS n
        FROM pm
        WHERE date_of_birth >= DATE '{MIN_PLAUSIBLE_DOB}'
          AND date_of_birth <= CAST(occurred_at AS DATE)
          AND date_of_birth > CAST(occurred_at AS DATE) - INTERVAL 100 YEAR
          AND (role NOT IN {SUSPECT_ROLES} OR date_of_birth <= CAST(occurred_at AS DATE) - INTERVAL 10 YEAR)
        GROUP BY person_id, date_of_birth""")
    step("dob", f"""
        SELECT person_id, dob FROM (
            SELECT person_id, dob, row_number() OVER (PARTITION BY person_id ORDER BY n DESC, dob) AS rn FROM dobs
        ) WHERE rn = 1""")
    step("co", f"""
        SELECT a.person_id, count(DISTINCT b.person_id) AS n_co_suspects
        FROM off a JOIN off b ON a.event_id = b.event_id AND a.person_id <> b.person_id
        GROUP BY a.person_id""")
    step("co_v", f"""
        SELECT c.person_id, sum(coalesce(o.n_vawg_ever, 0)) AS co_suspects_vawg_allegations
        FROM (SELECT DISTINCT a.person_id, b.person_id AS other
              FROM off a JOIN off b ON a.event_id = b.event_id AND a.person_id <> b.person_id) c
        LEFT JOIN oagg o ON o.person_id = c.other
        GROUP BY c.person_id""")
    step("shv", f"""
        SELECT a.person_id, count(DISTINCT b.person_id) AS n_shared_victim_suspects
        FROM vic a
        JOIN vic b ON a.victim_id = b.victim_id AND a.person_id <> b.person_id AND a.event_id <> b.event_id
        GROUP BY a.person_id""")
    step("cust", f"""
        -- custody periods clipped at the date (a later end is never read)
        SELECT person_id, occurred_at AS cs, least(coalesce(ends_at, $as_of), $as_of) AS ce
        FROM subj WHERE event_type = 'custody'""")
    step("cagg", f"""
        SELECT c.person_id,
               sum(greatest(0, epoch(c.ce) - epoch(greatest(c.cs, $as_of - INTERVAL 1095 DAY)))) / 86400.0 AS cust_3y,
               coalesce(sum(greatest(0, epoch(c.ce) - epoch(greatest(c.cs, o.last_off)))) / 86400.0, 0) AS cust_since_last
        FROM cust c LEFT JOIN oagg o USING (person_id)
        GROUP BY c.person_id""")
    step("dec", f"""
        SELECT person_id,
               sum(exp(-ln(2) * (epoch($as_of) - epoch(occurred_at)) / 86400.0 / 90)) AS w90,
               sum(exp(-ln(2) * (epoch($as_of) - epoch(occurred_at)) / 86400.0 / 365)) AS w365
        FROM off WHERE vawg GROUP BY person_id""")
    step("ex", f"""
        SELECT pop.person_id,
               greatest(30.0, 1095 - coalesce(cagg.cust_3y, 0)) AS al_3y,
               greatest(0.0, coalesce((epoch($as_of) - epoch(oagg.last_off)) / 86400.0, {cap})
                             - coalesce(cagg.cust_since_last, 0)) AS al_since_last,
               (epoch($as_of) - epoch(pop.first_suspect_at)) / 86400.0 / 365.0 + 1 AS career_years_1,
               least({cap}, coalesce((epoch($as_of) - epoch(oagg.last_off)) / 86400.0, {cap})) / 365.0 AS silence_years,
               coalesce(oagg.n_any_ever, 0) + 0.5 AS n_any_prior,
               coalesce(oagg.n_vawg_ever, 0) + 0.5 AS n_vawg_prior
        FROM pop LEFT JOIN cagg USING (person_id) LEFT JOIN oagg USING (person_id)""")
    step("des", f"""
        -- still offending? A career that ends at a constant yearly hazard h = {DESISTANCE_HAZARD}, offences at
        -- the person's own rate r while it lasts: P(active | no offence for s years) =
        -- a / (a + h/(h+r) (1 - a)) with a = exp(-(h+r) s)
        SELECT person_id, a / (a + {DESISTANCE_HAZARD} / ({DESISTANCE_HAZARD} + r) * (1 - a)) AS p_active
        FROM (SELECT person_id, r, exp(-({DESISTANCE_HAZARD} + r) * silence_years) AS a
              FROM (SELECT person_id, silence_years, n_any_prior / career_years_1 AS r FROM ex))""")
    step("sig", f"""
        -- signs of activity: events naming the person as suspect/offender, intelligence reports about them
        SELECT DISTINCT person_id, event_id, occurred_at FROM pm WHERE role IN {SUSPECT_ROLES}
        UNION
        SELECT person_id, event_id, occurred_at FROM subj WHERE event_type = 'intelligence'""")
    step("sg", f"""
        SELECT person_id, count(*) AS n_sig, min(occurred_at) AS first_sig, max(occurred_at) AS last_sig
        FROM sig GROUP BY person_id""")
    step("sgc", f"""
        -- years at large since the first sign, and of the silence since the last one
        SELECT sg.person_id, sg.n_sig,
               greatest(1.0 / 12, (epoch($as_of) - epoch(sg.first_sig)) / 86400.0 / 365.25
                   - coalesce(sum(greatest(0, epoch(c.ce) - epoch(greatest(c.cs, sg.first_sig)))), 0) / 86400.0 / 365.25)
                   AS sig_years_at_large,
               greatest(0.0, (epoch($as_of) - epoch(sg.last_sig)) / 86400.0 / 365.25
                   - coalesce(sum(greatest(0, epoch(c.ce) - epoch(greatest(c.cs, sg.last_sig)))), 0) / 86400.0 / 365.25)
                   AS silence_years_at_large
        FROM sg LEFT JOIN cust c USING (person_id)
        GROUP BY sg.person_id, sg.n_sig, sg.first_sig, sg.last_sig""")
    step("features", f"""
    SELECT pop.person_id,
           {", ".join(f"coalesce(oagg.n_{c}_{w}, 0) AS n_{c}_{w}" for c in CATEGORIES for w in WINDOWS)},
           {", ".join(f"coalesce(oagg.harm_vawg_{w}, 0) AS harm_vawg_{w}" for w in WINDOWS)},
           coalesce(oagg.harm_any_365d, 0) AS harm_any_365d,
           coalesce(oagg.harm_any_ever, 0) AS harm_any_ever,
           least({cap}, coalesce((epoch($as_of) - epoch(oagg.last_off)) / 86400.0, {cap})) AS days_since_last_offence,
           least({cap}, coalesce((epoch($as_of) - epoch(oagg.last_vawg)) / 86400.0, {cap})) AS days_since_last_vawg,
           coalesce(oagg.harm_vawg_prev_365d, 0) AS harm_vawg_prev_365d,
           coalesce(oagg.harm_vawg_365d, 0) - coalesce(oagg.harm_vawg_prev_365d, 0) AS escalation_vawg_harm,
           coalesce(oagg.max_harm_365d, 0) AS max_harm_365d,
           coalesce(oagg.max_harm_before_365d, 0) AS max_harm_before_365d,
           CASE WHEN coalesce(oagg.max_harm_365d, 0) > coalesce(oagg.max_harm_before_365d, 0)
                 AND coalesce(oagg.max_harm_before_365d, 0) > 0 THEN 1 ELSE 0 END AS escalating_severity,
           coalesce(vagg.distinct_victims_ever, 0) AS distinct_victims_ever,
           coalesce(vagg.distinct_victims_3y, 0) AS distinct_victims_3y,
           coalesce(vagg.distinct_partner_victims_ever, 0) AS distinct_partner_victims_ever,
           coalesce(vagg.distinct_child_victims_ever, 0) AS distinct_child_victims_ever,
           coalesce(vrep.max_offences_same_victim, 0) AS max_offences_same_victim,
           coalesce(vrep.repeat_victims, 0) AS repeat_victims,
           coalesce(dash.dash_high_victims, 0) AS dash_high_victims,
           coalesce(dash.max_dash_score, 0) AS max_dash_score,
           coalesce(oagg.n_breach_365d, 0) AS n_breach_365d,
           coalesce(oagg.n_breach_ever, 0) AS n_breach_ever,
           coalesce(sagg.n_orders_ever, 0) AS n_orders_ever,
           coalesce(sagg.active_orders, 0) AS active_orders,
           coalesce(sagg.days_in_custody_365d, 0) AS days_in_custody_365d,
           coalesce(sagg.days_in_custody_ever, 0) AS days_in_custody_ever,
           CASE WHEN coalesce(sagg.custody_open, 0) > 0 THEN 1 ELSE 0 END AS in_custody_now,
           coalesce(sent.days_to_release, 0) AS days_to_sentence_release,
           CASE WHEN dead.person_id IS NULL THEN 0 ELSE 1 END AS recorded_dead,
           coalesce(sagg.n_arrests_365d, 0) AS n_arrests_365d,
           coalesce(sagg.n_arrests_ever, 0) AS n_arrests_ever,
           coalesce(eagg.charges_ever, 0) AS charges_ever,
           coalesce(eagg.charges_vawg_ever, 0) AS charges_vawg_ever,
           coalesce(eagg.convictions_ever, 0) AS convictions_ever,
           coalesce(eagg.convictions_vawg_ever, 0) AS convictions_vawg_ever,
           CASE WHEN coalesce(oagg.n_any_ever, 0) > 0
                THEN least(1.0, coalesce(eagg.charges_ever, 0) / oagg.n_any_ever) ELSE 0 END AS charge_ratio,
           coalesce(sagg.n_intel_365d, 0) AS n_intel_365d,
           coalesce(vict.times_victim_ever, 0) AS times_victim_ever,
           coalesce((epoch($as_of) - epoch(CAST(dob.dob AS TIMESTAMP))) / 86400.0 / 365.25, 0) AS age,
           coalesce(greatest(0, (epoch(pop.first_suspect_at) - epoch(CAST(dob.dob AS TIMESTAMP))) / 86400.0 / 365.25), 0)
               AS age_at_first_record,
           CASE WHEN dob.dob IS NULL THEN 1 ELSE 0 END AS dob_unknown,
           (epoch($as_of) - epoch(pop.first_suspect_at)) / 86400.0 / 365.25 AS years_since_first_record,
           coalesce(co.n_co_suspects, 0) AS n_co_suspects,
           coalesce(co_v.co_suspects_vawg_allegations, 0) AS co_suspects_vawg_allegations,
           coalesce(shv.n_shared_victim_suspects, 0) AS n_shared_victim_suspects,
           coalesce(oagg.n_vawg_3y, 0) * 365.0 / ex.al_3y AS vawg_allegations_per_year_at_large_3y,
           CASE WHEN coalesce(oagg.n_any_ever, 0) > 0 THEN coalesce(oagg.n_vawg_ever, 0) * 1.0 / oagg.n_any_ever ELSE 0 END
               AS vawg_share_of_allegations,
           least({cap}, ex.al_since_last) AS days_at_large_without_allegations,
           coalesce(dec.w90, 0) AS recency_weighted_vawg_allegations_90d,
           coalesce(dec.w365, 0) AS recency_weighted_vawg_allegations_365d,
           des.p_active AS p_still_offending_given_allegations,
           des.p_active * ex.n_vawg_prior / ex.career_years_1 AS expected_vawg_allegations_per_year,
           des.p_active * ex.n_any_prior / ex.career_years_1 AS expected_allegations_per_year,
           coalesce(sgc.n_sig, 1) AS _n_sig,
           coalesce(sgc.sig_years_at_large, 1.0 / 12) AS _sig_years_at_large,
           coalesce(sgc.silence_years_at_large, 0) AS _silence_years_at_large
    FROM pop
    LEFT JOIN sgc USING (person_id)
    LEFT JOIN des USING (person_id)
    LEFT JOIN ex USING (person_id)
    LEFT JOIN dec USING (person_id)
    LEFT JOIN oagg USING (person_id)
    LEFT JOIN vagg USING (person_id)
    LEFT JOIN vrep USING (person_id)
    LEFT JOIN dash USING (person_id)
    LEFT JOIN sagg USING (person_id)
    LEFT JOIN sent USING (person_id)
    LEFT JOIN dead USING (person_id)
    LEFT JOIN eagg USING (person_id)
    LEFT JOIN vict USING (person_id)
    LEFT JOIN dob USING (person_id)
    LEFT JOIN co USING (person_id)
    LEFT JOIN co_v USING (person_id)
    LEFT JOIN shv USING (person_id)""")
    if ids:
        step("features_of_ids", f"SELECT q.* FROM features q SEMI JOIN {ids} i ON i.person_id = q.person_id")
    return p
