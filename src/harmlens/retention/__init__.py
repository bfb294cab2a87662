"""Retention: list entries expire; MoPI-style review periods are applied (dry run by default).

Public API: :func:`apply_retention`, :func:`plan`, :class:`RetentionPolicy`, :func:`register_list_table`.
"""

from harmlens.lazy import lazy_exports

_EXPORTS = {"apply_retention": "policy", "plan": "policy", "RetentionPolicy": "policy", "RetentionError": "policy",
            "RetentionResult": "policy", "register_list_table": "policy"}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
