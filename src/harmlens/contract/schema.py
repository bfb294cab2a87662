"""Warehouse tables for the data contract (v1): what ingest loads and every later stage reads.

Contract columns keep their contract names. Two bookkeeping columns on each input table:
``extra`` (JSON of unknown columns, passed through, never an error) and ``load_id``
(the load that last wrote the row). Timestamps are stored naive in Europe/London wall time
as the contract says ("naive means Europe/London"); inputs with an offset are converted.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "contract_001",
        """
        CREATE TABLE events (
            event_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            event_type VARCHAR NOT NULL,
            offence_code VARCHAR,
            offence_description VARCHAR,
            occurred_at TIMESTAMP NOT NULL,
            ends_at TIMESTAMP,
            reported_at TIMESTAMP,
            outcome VARCHAR NOT NULL DEFAULT 'unknown',
            domestic BOOLEAN,
            borough VARCHAR,
            latitude DOUBLE,
            longitude DOUBLE,
            extra JSON,
            load_id INTEGER
        );
        CREATE TABLE people (
            mention_id VARCHAR PRIMARY KEY,
            event_id VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            forename VARCHAR,
            surname VARCHAR,
            date_of_birth DATE,
            sex VARCHAR,
            postcode VARCHAR,
            person_ref VARCHAR,
            self_defined_ethnicity VARCHAR,
            officer_defined_ethnicity VARCHAR,
            relationship_to_suspect VARCHAR,
            extra JSON,
            load_id INTEGER
        );
        CREATE TABLE risk_assessments (
            assessment_id VARCHAR PRIMARY KEY,
            mention_id VARCHAR NOT NULL,
            assessed_at TIMESTAMP NOT NULL,
            tool VARCHAR NOT NULL DEFAULT 'DASH',
            score INTEGER,
            level VARCHAR,
            extra JSON,
            load_id INTEGER
        );
        CREATE TABLE stops (
            stop_id VARCHAR PRIMARY KEY,
            occurred_at TIMESTAMP NOT NULL,
            legislation VARCHAR NOT NULL,
            self_defined_ethnicity VARCHAR,
            officer_defined_ethnicity VARCHAR,
            sex VARCHAR,
            age_range VARCHAR,
            borough VARCHAR,
            latitude DOUBLE,
            longitude DOUBLE,
            reason VARCHAR,
            outcome VARCHAR,
            searched BOOLEAN,
            found BOOLEAN,
            extra JSON,
            load_id INTEGER
        );
        CREATE TABLE population (
            area VARCHAR NOT NULL,
            ethnicity_group VARCHAR NOT NULL,
            population BIGINT NOT NULL,
            extra JSON,
            load_id INTEGER,
            PRIMARY KEY (area, ethnicity_group)
        );
        CREATE TABLE offence_map (
            pattern_type VARCHAR NOT NULL,
            pattern VARCHAR NOT NULL,
            category VARCHAR NOT NULL,
            vawg BOOLEAN,
            violent BOOLEAN,
            sexual BOOLEAN,
            harm_weight DOUBLE,
            extra JSON,
            load_id INTEGER,
            PRIMARY KEY (pattern_type, pattern)
        );
        CREATE SEQUENCE load_id_seq START 1;
        CREATE TABLE loads (
            load_id INTEGER PRIMARY KEY,
            folder VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            stats JSON
        );
        CREATE TABLE quarantine (
            load_id INTEGER NOT NULL,
            table_name VARCHAR NOT NULL,
            file VARCHAR NOT NULL,
            line BIGINT,
            column_name VARCHAR,
            value VARCHAR,
            reason VARCHAR NOT NULL,
            row_json JSON
        );
        CREATE TABLE changes (
            load_id INTEGER NOT NULL,
            table_name VARCHAR NOT NULL,
            row_id VARCHAR NOT NULL,
            change VARCHAR NOT NULL,
            before JSON,
            after JSON
        );
        """,
    ),
]

MIGRATIONS.append(
    (
        "contract_002",
        """
        CREATE TABLE load_files (
            load_id INTEGER NOT NULL,
            table_name VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL
        );
        """,
    )
)
