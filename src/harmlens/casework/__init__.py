"""Casework on listed people: assignment, status, actions from a controlled vocabulary, notes, history.

What a MATAC/V100 coordinator keeps today in spreadsheets, kept in the operational store (the
web app's SQLite/PostgreSQL database) because it is written many times a day by many users while
the analytical warehouse is rebuilt by the pipeline. Every action is stored with the date it was
taken, so the audit's outcome monitoring can compare people acted on with comparable people not
acted on (:func:`actions_frame`).

Public API: :func:`load_vocabulary`, :func:`assign`, :func:`set_status`, :func:`record_action`,
:func:`add_note`, :func:`leave_list`, :func:`case`, :func:`history`, :func:`cases`, :func:`actions_frame`,
:data:`STATUSES`, :class:`CaseworkError`.
"""

from harmlens.lazy import lazy_exports

_EXPORTS = {
    "load_vocabulary": "vocab", "DEFAULT_ACTIONS": "vocab", "Vocabulary": "vocab",
    "assign": "records", "set_status": "records", "record_action": "records", "add_note": "records", "leave_list": "records",
    "case": "records", "history": "records", "cases": "records", "actions_frame": "records", "STATUSES": "records",
    "CaseworkError": "records", "ensure_schema": "records",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
