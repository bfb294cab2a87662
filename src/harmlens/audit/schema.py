"""Tables the audit owns.

``audit_runs``: one row per warehouse audit (which list, when, what was flagged, the whole
result as JSON) so an oversight panel can see every audit ever run and what it said.
``transparency_records``: the latest ATRS-style record per model version (``v100`` for the
rule), which lists and the web pages link to.
``audit_report_pages``: the HTML report written for a run, so the web audit page can link the
full report without reading files from wherever the analyst wrote them.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "audit_001",
        """
        CREATE TABLE audit_runs (
            run_id VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            list_id VARCHAR NOT NULL,
            as_of DATE,
            model_version VARCHAR,
            n_flags INTEGER NOT NULL,
            flags JSON NOT NULL,
            result JSON NOT NULL
        );
        CREATE TABLE transparency_records (
            model_version VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            record JSON NOT NULL,
            record_md VARCHAR NOT NULL,
            html_path VARCHAR
        );
        """,
    ),
    (
        "audit_002",
        """
        CREATE TABLE audit_report_pages (
            run_id VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            html VARCHAR NOT NULL,
            html_sha256 VARCHAR NOT NULL
        );
        """,
    ),
]
