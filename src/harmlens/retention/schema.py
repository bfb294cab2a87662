"""Tables owned by the retention area: what each run did, and a copy of every row that went."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "retention_001",
        """
        CREATE TABLE retention_runs (
            run_id VARCHAR PRIMARY KEY,
            run_at TIMESTAMP NOT NULL,
            run_by VARCHAR NOT NULL,
            as_of TIMESTAMP NOT NULL,
            policy JSON NOT NULL,
            counts JSON NOT NULL
        );
        CREATE TABLE retention_log (
            run_id VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            table_name VARCHAR NOT NULL,
            row_id VARCHAR NOT NULL,
            reason VARCHAR NOT NULL
        );
        CREATE TABLE retention_archive (
            run_id VARCHAR NOT NULL,
            archived_at TIMESTAMP NOT NULL,
            table_name VARCHAR NOT NULL,
            row_id VARCHAR NOT NULL,
            row_json VARCHAR NOT NULL
        );
        """,
    ),
]
