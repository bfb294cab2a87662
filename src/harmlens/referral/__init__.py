"""Partner referral packs: only what each partner type needs, in HTML and PDF, every pack recorded.

Public API: :func:`make_pack`, :func:`person_facts`, :func:`packs`, :data:`PARTNER_FIELDS`.
"""

from harmlens.lazy import lazy_exports

_EXPORTS = {
    "make_pack": "pack", "person_facts": "pack", "packs": "pack", "Pack": "pack", "ReferralError": "pack",
    "model_card_reference": "pack", "PARTNER_FIELDS": "fields", "FIELD_LABELS": "fields", "PARTNER_LABELS": "fields",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
