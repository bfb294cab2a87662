"""Per-group measures shared by the audit, risk and stops areas: who is in which group
(:mod:`.groups`), rates and error rates by group with their intervals (:mod:`.groupframe`), and the
strict expression grammar that selects rows (:mod:`.expr`).

A neutral package below those areas, so none of them imports another's internals for these.
"""
