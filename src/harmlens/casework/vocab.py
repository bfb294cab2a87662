"""The controlled vocabulary of actions a unit records, extendable by the force in a TOML file.

The built-in list is what VAWG units use today (MATAC/V100 tasking): a force adds its own
actions (local orders, programmes) in a file named by ``HARMLENS_CASEWORK_ACTIONS``::

    [[action]]
    code = "drive_programme"
    label = "Referral to the Drive programme"
    needs_reason = false

Built-in actions cannot be removed or relabelled by the file (the audit compares like with like
across forces); a code in the file that is already built in is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from harmlens.errors import HarmlensError

ENV = "HARMLENS_CASEWORK_ACTIONS"


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    needs_reason: bool = False


DEFAULT_ACTIONS: tuple[Action, ...] = (
    Action("marac_referral", "MARAC referral"),
    Action("dvpn_dvpo", "Domestic Violence Protection Notice / Order (DVPN/DVPO)"),
    Action("stalking_protection_order", "Stalking Protection Order"),
    Action("shpo", "Sexual Harm Prevention Order (SHPO)"),
    Action("dvds_disclosure", "Domestic Violence Disclosure Scheme disclosure"),
    Action("arrest", "Arrest"),
    Action("safeguarding_visit", "Safeguarding visit"),
    Action("no_action", "No action (reason required)", needs_reason=True),
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Vocabulary:
    actions: tuple[Action, ...]

    def get(self, code: str) -> Action | None:
        return next((a for a in self.actions if a.code == code), None)

    def codes(self) -> list[str]:
        return [a.code for a in self.actions]


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """The built-in actions plus the force's own (``path``, else ``HARMLENS_CASEWORK_ACTIONS``, else none)."""
    from harmlens.tomlfile import read_toml

    p = path or os.environ.get(ENV) or None
    actions = list(DEFAULT_ACTIONS)
    if p:
        data = read_toml(p, "casework actions")
        extra = data.get("action", [])
        if not isinstance(extra, list):
            raise HarmlensError(f"casework actions {p}: 'action' must be a list of [[action]] tables")
        for i, a in enumerate(extra, 1):
            if not isinstance(a, dict):
                raise HarmlensError(f"casework actions {p}: action {i} is not a table")
            code, label = a.get("code"), a.get("label")
            if not isinstance(code, str) or not _CODE.match(code):
                raise HarmlensError(f"casework actions {p}: action {i} needs a code of lower-case letters, digits and '_' (got {code!r})")
            if not isinstance(label, str) or not label.strip():
                raise HarmlensError(f"casework actions {p}: action {code!r} needs a label")
            if any(x.code == code for x in actions):
                raise HarmlensError(f"casework actions {p}: action {code!r} is already defined")
            actions.append(Action(code, label.strip(), bool(a.get("needs_reason", False))))
    return Vocabulary(tuple(actions))
