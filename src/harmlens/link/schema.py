"""Tables owned by the link stage.

- ``links``: one row per mention, the interface every later stage reads.
- ``link_models``: Splink models (parameters estimated by EM) saved with the warehouse; the
  active one is reused by later runs until re-estimated on demand (``harmlens link --retrain``).
- ``link_pairs``: scored candidate pairs worth keeping (probability >= the review band's lower end),
  so clustering and explanations need not re-score.
- ``link_runs``: one row per ``harmlens link`` run.
- ``link_history``: every merge and split of persons, with before, after and reason.
- ``link_review``: the clerical review queue (pairs near the threshold).
- ``link_decisions``: reviewers' decisions (same / different person) that later runs respect.
- ``link_records`` (link_002): which record each mention was collapsed into (mentions identical on
  every compared field are scored once, as one record); a later run scores only records that did
  not exist before.
- ``link_tf``, ``link_tf_state`` (link_003): how many mentions carry each standardised forename,
  surname and postcode (keyed by a 128-bit hash of the value, not the value), counted by every
  link run over all of ``people`` with the active model's placeholders, and which model and
  ``people`` contents they count; ``explain-link`` reads them instead of standardising every mention.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "link_001",
        """
        CREATE TABLE links (
            mention_id VARCHAR PRIMARY KEY,
            person_id VARCHAR NOT NULL,
            method VARCHAR,
            linked_at TIMESTAMP
        );
        CREATE TABLE link_models (
            model_id INTEGER PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            n_mentions BIGINT NOT NULL,
            threshold DOUBLE NOT NULL,
            active BOOLEAN NOT NULL,
            model JSON NOT NULL
        );
        CREATE TABLE link_pairs (
            mention_a VARCHAR NOT NULL,
            mention_b VARCHAR NOT NULL,
            match_weight DOUBLE NOT NULL,
            match_probability DOUBLE NOT NULL,
            model_id INTEGER NOT NULL,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (mention_a, mention_b)
        );
        CREATE TABLE link_runs (
            run_id INTEGER PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            mode VARCHAR NOT NULL,
            model_id INTEGER,
            threshold DOUBLE,
            stats JSON
        );
        CREATE TABLE link_history (
            run_id INTEGER NOT NULL,
            changed_at TIMESTAMP NOT NULL,
            change VARCHAR NOT NULL,
            before JSON NOT NULL,
            after JSON NOT NULL,
            mention_ids JSON,
            reason VARCHAR NOT NULL
        );
        CREATE TABLE link_review (
            mention_a VARCHAR NOT NULL,
            mention_b VARCHAR NOT NULL,
            match_probability DOUBLE NOT NULL,
            same_person_now BOOLEAN,
            queued_at TIMESTAMP NOT NULL,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (mention_a, mention_b)
        );
        CREATE TABLE link_decisions (
            mention_a VARCHAR NOT NULL,
            mention_b VARCHAR NOT NULL,
            decision VARCHAR NOT NULL CHECK (decision IN ('same', 'different')),
            decided_by VARCHAR NOT NULL,
            decided_at TIMESTAMP NOT NULL,
            note VARCHAR,
            PRIMARY KEY (mention_a, mention_b)
        );
        """,
    ),
    (
        "link_002",
        # no primary key: written in bulk by the link run only, and an index on 1M+ rows costs seconds
        """
        CREATE TABLE link_records (
            mention_id VARCHAR NOT NULL,
            record_id VARCHAR NOT NULL
        );
        """,
    ),
    (
        "link_003",
        # no primary key: rewritten in bulk by the link run only (as link_records)
        """
        CREATE TABLE link_tf (
            column_name VARCHAR NOT NULL,
            value_key UHUGEINT NOT NULL,
            n BIGINT NOT NULL
        );
        CREATE TABLE link_tf_state (
            model_id INTEGER NOT NULL,
            run_id INTEGER NOT NULL,
            mentions BIGINT NOT NULL,
            people_hash UBIGINT NOT NULL,
            counted_at TIMESTAMP NOT NULL
        );
        """,
    ),
]
