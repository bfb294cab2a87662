"""Retention: list entries expire; MoPI-style review periods are applied (dry run by default).

Public API: :func:`apply_retention`, :func:`plan`, :class:`RetentionPolicy`, :func:`register_list_table`.
"""

_EXPORTS = {"apply_retention": "policy", "plan": "policy", "RetentionPolicy": "policy", "RetentionError": "policy",
            "RetentionResult": "policy", "register_list_table": "policy"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(f"harmlens.retention.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harmlens.retention' has no attribute {name!r}")
