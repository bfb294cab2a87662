"""Partner referral packs: only what each partner type needs, in HTML and PDF, every pack recorded.

Public API: :func:`make_pack`, :func:`person_facts`, :func:`packs`, :data:`PARTNER_FIELDS`.
"""

_EXPORTS = {
    "make_pack": "pack", "person_facts": "pack", "packs": "pack", "Pack": "pack", "ReferralError": "pack",
    "model_card_reference": "pack", "PARTNER_FIELDS": "fields", "FIELD_LABELS": "fields", "PARTNER_LABELS": "fields",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(f"harmlens.referral.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harmlens.referral' has no attribute {name!r}")
