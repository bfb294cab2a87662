"""Tables owned by the risk area: the model registry, evaluations and stored scores."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "risk_001",
        """
        CREATE TABLE models (
            version VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'candidate',
            primary_model VARCHAR NOT NULL,
            target JSON NOT NULL,
            data_window JSON NOT NULL,
            data_hash VARCHAR NOT NULL,
            params JSON NOT NULL,
            metrics JSON,
            features JSON NOT NULL,
            artifact_path VARCHAR NOT NULL,
            artifact_sha256 VARCHAR NOT NULL,
            card_md VARCHAR,
            card_html VARCHAR,
            promoted_at TIMESTAMP
        );
        CREATE TABLE model_evaluations (
            version VARCHAR NOT NULL,
            as_of TIMESTAMP NOT NULL,
            created_at TIMESTAMP NOT NULL,
            n_people BIGINT NOT NULL,
            positives BIGINT NOT NULL,
            metrics JSON NOT NULL,
            differences JSON,
            PRIMARY KEY (version, as_of)
        );
        CREATE TABLE risk_scores (
            version VARCHAR NOT NULL,
            as_of TIMESTAMP NOT NULL,
            person_id VARCHAR NOT NULL,
            risk DOUBLE NOT NULL,
            expected_harm DOUBLE,
            top_factors VARCHAR,
            scored_at TIMESTAMP NOT NULL,
            PRIMARY KEY (version, as_of, person_id)
        );
        """,
    ),
]
