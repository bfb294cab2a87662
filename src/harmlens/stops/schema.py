"""Stops columns beyond the contract's ``stops`` table (the contract migration is never edited).

- ``legislation`` may be empty: police.uk publishes stops with no legislation, and dropping them
  biases every rate; such a stop is kept and counted as 'not recorded' for legislation.
- ``force``: the police.uk force (from the file name, the API or ``--force``);
  ``jurisdiction``: an OPP jurisdiction (``ca_oakland``, ``ri_statewide``); analyses run per
  force or jurisdiction.
- ``source``: where the stop came from (format and file name).
- ``stop_type``: ``vehicular`` or ``pedestrian`` (OPP ``type``), empty when not published.
- ``race_group``: the group of a source whose race categories are not the Census's (OPP), with
  the published value kept in ``extra``.
- ``tz``: the time zone of ``occurred_at``'s wall-clock time (police.uk: Europe/London).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "stops_001",
        """
        ALTER TABLE stops ALTER COLUMN legislation DROP NOT NULL;
        ALTER TABLE stops ADD COLUMN force VARCHAR;
        ALTER TABLE stops ADD COLUMN jurisdiction VARCHAR;
        ALTER TABLE stops ADD COLUMN source VARCHAR;
        ALTER TABLE stops ADD COLUMN stop_type VARCHAR;
        ALTER TABLE stops ADD COLUMN race_group VARCHAR;
        ALTER TABLE stops ADD COLUMN tz VARCHAR;
        """,
    ),
]

# Columns this area adds; the importer fills them from the same-named keys of ``extra``.
AREA_COLUMNS = ("force", "jurisdiction", "source", "stop_type", "race_group", "tz")
