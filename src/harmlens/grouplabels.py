"""Group labels as other tools write them: one group however it is spelt.

Tables from other tools write the same group in different ways: ``BLACK``, ``Black``,
``black ``, ``African-American``, ``African American``; ``WHITE``, ``Caucasian``. Counting these
as different groups splits a group and picks the wrong reference group. Here labels match
without regard to letter case, spaces, hyphens and underscores, and the usual synonyms share one
key. A table keeps its own wording on screen: every spelling of a group is shown as the spelling
the table uses most for it (so ProPublica's COMPAS still reads "African-American").
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import pandas as pd

__all__ = ["SYNONYMS", "group_key", "unify_labels", "find_group"]

# key -> spellings that mean it (after normalisation: lower case, single spaces)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "black": ("black", "african american", "black or african american", "black african american",
              "black british", "black/black british", "black / black british", "afro caribbean", "b"),
    "white": ("white", "caucasian", "white british", "w"),
    "asian": ("asian", "asian british", "asian/asian british", "asian / asian british",
              "asian/pacific islander", "asian or pacific islander", "asian pacific islander"),
    "hispanic": ("hispanic", "latino", "latina", "latinx", "hispanic or latino", "hispanic/latino"),
    "mixed": ("mixed", "mixed/multiple", "mixed or multiple", "multiple", "multiracial", "mixed race", "two or more races"),
    "native american": ("native american", "american indian", "american indian or alaska native",
                        "american indian/alaska native", "native"),
    "other": ("other", "other ethnic group", "some other race"),
    "not stated": ("not stated", "unknown", "not known", "refused", "prefer not to say", "ns"),
    "female": ("female", "f", "woman", "women"),
    "male": ("male", "m", "man", "men"),
}
_SPELLING = {sp: key for key, sps in SYNONYMS.items() for sp in sps}
_SEP = re.compile(r"[\s_\-]+")
# single letters are synonyms only where a whole column uses such codes (B/W, F/M), see unify_labels
_SHORT = {"b", "w", "f", "m", "ns"}


def _norm(label: Any) -> str:
    return _SEP.sub(" ", str(label).strip().lower()).strip()


def group_key(label: Any, *, short_codes: bool = False) -> str | None:
    """The matching key of one label (None for a missing label)."""
    if label is None or (not isinstance(label, str) and pd.isna(label)):
        return None
    n = _norm(label)
    key = _SPELLING.get(n)
    if key is not None and (n not in _SHORT or short_codes):
        return key
    return n


def unify_labels(labels: pd.Series) -> tuple[pd.Series, dict[str, list[str]]]:
    """Every spelling of a group replaced by the spelling the column uses most for it.

    Returns the relabelled series (missing stays missing) and ``{shown label: [spellings merged]}``
    for the groups that had more than one spelling, so a caller can say what it merged.
    """
    present = labels.dropna().astype(str)
    uniq = pd.unique(present)
    short = len(uniq) > 0 and all(len(_norm(u)) <= 2 for u in uniq)
    keys = present.map(lambda v: group_key(v, short_codes=short))
    counts = present.groupby(keys).value_counts()
    shown: dict[str, str] = {}
    merged: dict[str, list[str]] = {}
    for key in keys.unique():
        c = counts.loc[key].sort_values(ascending=False, kind="stable")
        shown[key] = str(c.index[0])
        if len(c) > 1:
            merged[shown[key]] = [str(x) for x in c.index]
    out = labels.astype(object).copy()
    out[labels.notna()] = keys.map(shown).to_numpy()
    return out, merged


def find_group(wanted: Any, groups: Iterable[Any]) -> str | None:
    """The group among ``groups`` that ``wanted`` names (same key), or None."""
    groups = [str(g) for g in groups]
    if str(wanted) in groups:
        return str(wanted)
    short = all(len(_norm(g)) <= 2 for g in groups)
    k = group_key(wanted, short_codes=True)
    for g in groups:
        if group_key(g, short_codes=short) == k:
            return g
    return None
