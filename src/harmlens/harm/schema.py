"""Tables the harm area owns.

``event_harm`` is the cross-area interface (read by features, rank and audit): one row per
offence event, written whole by ``harmlens harm apply``. ``harm_runs`` records every apply
(which weight table and map, how many events were mapped, unmapped and unweighted).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "harm_001",
        """
        CREATE TABLE event_harm (
            event_id VARCHAR PRIMARY KEY,
            offence_category VARCHAR NOT NULL,
            vawg BOOLEAN,
            domestic BOOLEAN,
            sexual BOOLEAN,
            violent BOOLEAN,
            harm_weight DOUBLE,
            weight_table VARCHAR NOT NULL,
            base_category VARCHAR,
            harm_subgroup VARCHAR,
            gravity INTEGER,
            weight_source VARCHAR NOT NULL,
            mapped_by VARCHAR NOT NULL,
            map_pattern VARCHAR,
            applied_at TIMESTAMP NOT NULL
        );
        CREATE TABLE harm_runs (
            applied_at TIMESTAMP NOT NULL,
            weight_table VARCHAR NOT NULL,
            map_source VARCHAR NOT NULL,
            events BIGINT NOT NULL,
            mapped BIGINT NOT NULL,
            unmapped BIGINT NOT NULL,
            unweighted BIGINT NOT NULL
        );
        """,
    ),
    (
        "harm_002",
        "ALTER TABLE harm_runs ADD COLUMN weight_unit VARCHAR;",
    ),
]
