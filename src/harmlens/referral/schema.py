"""Tables owned by the referral area: every pack made is recorded (who, when, partner, purpose, hashes)."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "referral_001",
        """
        CREATE TABLE referral_packs (
            pack_id VARCHAR PRIMARY KEY,
            person_id VARCHAR NOT NULL,
            partner VARCHAR NOT NULL,
            purpose VARCHAR NOT NULL,
            made_by VARCHAR NOT NULL,
            made_at TIMESTAMP NOT NULL,
            as_of TIMESTAMP NOT NULL,
            fields JSON NOT NULL,
            model_card VARCHAR,
            html_path VARCHAR NOT NULL,
            html_sha256 VARCHAR NOT NULL,
            pdf_path VARCHAR,
            pdf_sha256 VARCHAR,
            refreshed_at TIMESTAMP NOT NULL
        );
        """,
    ),
]
