"""Tables the rank area owns: stored priority lists (offenders and victims) and their entries.

Every list built is kept with its as-of date, the model version and when it expires, so the
next list can say what changed (new, left, moved up or down, and why), and retention can remove
lists nobody refreshed. Rebuilding a list for the same kind, method and as-of date refreshes it.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "rank_001",
        """
        CREATE TABLE priority_lists (
            list_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            method VARCHAR NOT NULL,
            as_of TIMESTAMP NOT NULL,
            created_at TIMESTAMP NOT NULL,
            refreshed_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            model_version VARCHAR,
            previous_list_id VARCHAR,
            n_entries BIGINT NOT NULL,
            params JSON
        );
        CREATE TABLE priority_entries (
            list_id VARCHAR NOT NULL,
            rank INTEGER NOT NULL,
            person_id VARCHAR NOT NULL,
            score DOUBLE,
            risk DOUBLE,
            expected_harm DOUBLE,
            band VARCHAR,
            top_factors VARCHAR,
            allegations BIGINT,
            charges BIGINT,
            convictions BIGINT,
            distinct_victims BIGINT,
            last_event_at TIMESTAMP,
            linked_suspects VARCHAR,
            model_version VARCHAR,
            PRIMARY KEY (list_id, person_id)
        );
        CREATE TABLE priority_changes (
            list_id VARCHAR NOT NULL,
            previous_list_id VARCHAR NOT NULL,
            person_id VARCHAR NOT NULL,
            change VARCHAR NOT NULL,
            previous_rank INTEGER,
            new_rank INTEGER,
            reason VARCHAR NOT NULL,
            PRIMARY KEY (list_id, person_id)
        );
        """,
    ),
    (
        # The outcome of each counted allegation beside the count (see harm/evidence.py); convicted
        # is the existing ``convictions`` column.
        "rank_evidence_001",
        """
        ALTER TABLE priority_entries ADD COLUMN ev_charged BIGINT;
        ALTER TABLE priority_entries ADD COLUMN ev_acquitted BIGINT;
        ALTER TABLE priority_entries ADD COLUMN ev_nfa BIGINT;
        ALTER TABLE priority_entries ADD COLUMN ev_withdrawn BIGINT;
        ALTER TABLE priority_entries ADD COLUMN ev_ongoing BIGINT;
        ALTER TABLE priority_entries ADD COLUMN ev_cautioned BIGINT;
        """,
    ),
    (
        # Where linkage may be wrong: the entry may be someone in custody, dead or higher on the
        # list (see harm/linkwarn.py); words beside the entry, never a change of rank.
        "rank_linkwarn_001",
        """
        ALTER TABLE priority_entries ADD COLUMN link_warning VARCHAR;
        """,
    ),
    (
        # Everyone scored for a list (not only those on it), with the model's score and what the
        # list sorted by: the audit reads this table instead of scoring the cohort again, so the
        # audit never depends on the rank or risk code, only on what they stored.
        "rank_cohort_001",
        """
        CREATE TABLE rank_cohort (
            list_id VARCHAR NOT NULL,
            person_id VARCHAR NOT NULL,
            as_of TIMESTAMP NOT NULL,
            score DOUBLE,
            rank_value DOUBLE,
            PRIMARY KEY (list_id, person_id)
        );
        """,
    ),
]
