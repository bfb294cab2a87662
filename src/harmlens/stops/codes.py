"""Ethnicity codes as stop data publish them, mapped to the contract's 19 codes and 5 groups.

Self-defined ethnicity arrives in four spellings:

- the contract's 2021 Census codes (``W1`` .. ``O9``) and ``not_stated``;
- the older **16+1** codes police.uk CSV archives use, e.g. ``White - White British (W1)``,
  ``Chinese or other ethnic group - Chinese (O1)``, ``Not Stated (NS)``. Their ``O1`` is
  *Chinese* (2021: ``A4``), ``W9``/``M9``/``A9``/``B9`` are the "any other" categories
  (2021: ``W5``/``M4``/``A5``/``B3``);
- the 2011 Census style text labels of the police.uk API (**18+1**), e.g.
  ``Black/African/Caribbean/Black British - African``, ``Other ethnic group - Not stated``;
- 2021 Census (TS021) labels, e.g. ``Asian, Asian British or Asian Welsh: Bangladeshi``.

'Not stated' is a value (``not_stated``): the person was asked and chose not to say. An empty
field is different: nothing was recorded. Both stay visible in every table.

Officer-defined ethnicity arrives as IC codes (``IC1`` .. ``IC9``) or, in police.uk data, as
the group the officer perceived (``White``, ``Black``, ``Asian``, ``Mixed``, ``Other``).
IC codes map to groups as police statistics map them: IC1/IC2 White, IC3 Black, IC4 Asian,
IC5 (Chinese, Japanese, South-East Asian) and IC6 (Arab, North African) Other, IC9 unknown.
"""

from __future__ import annotations

import re

GROUPS = ("Asian", "Black", "Mixed", "White", "Other")
# US sources (Stanford Open Policing) add Hispanic, which the Census groups above have no place for.
ALL_GROUPS = ("Asian", "Black", "Hispanic", "Mixed", "White", "Other")
_GROUP_OF_KEY = {g.lower(): g for g in ALL_GROUPS}


def group_label(value: str) -> str | None:
    """A group as written ('BLACK', 'black', 'African-American', 'Caucasian') -> 'Black' / 'White' / ..., or None.

    Spellings and synonyms come from the one module for group labels (harmlens.grouplabels), so
    the stops area and the audit read a group the same way.
    """
    from harmlens.grouplabels import group_key

    return _GROUP_OF_KEY.get(group_key(value) or "")
NOT_STATED = "Not stated"  # group label for the self-defined value not_stated
NOT_RECORDED = "Not recorded"  # group label for an empty field
_GROUP_OF_LETTER = {"A": "Asian", "B": "Black", "M": "Mixed", "W": "White", "O": "Other"}

CODES_2021 = (
    "A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "M1", "M2", "M3", "M4",
    "W1", "W2", "W3", "W4", "W5", "O1", "O9",
)
CODE_LABELS = {
    "A1": "Indian", "A2": "Pakistani", "A3": "Bangladeshi", "A4": "Chinese", "A5": "Any other Asian background",
    "B1": "Caribbean", "B2": "African", "B3": "Any other Black background",
    "M1": "White and Black Caribbean", "M2": "White and Black African", "M3": "White and Asian",
    "M4": "Any other Mixed background",
    "W1": "English, Welsh, Scottish, Northern Irish or British", "W2": "Irish", "W3": "Gypsy or Irish Traveller",
    "W4": "Roma", "W5": "Any other White background", "O1": "Arab", "O9": "Any other ethnic group",
}

# The 16+1 (2001 Census) codes in parentheses at the end of police.uk CSV labels.
OLD_16_1 = {
    "W1": "W1", "W2": "W2", "W9": "W5",
    "M1": "M1", "M2": "M2", "M3": "M3", "M9": "M4",
    "A1": "A1", "A2": "A2", "A3": "A3", "A9": "A5",
    "B1": "B1", "B2": "B2", "B9": "B3",
    "O1": "A4",  # 16+1 "Chinese or other ethnic group - Chinese": Chinese is Asian from 2011
    "O9": "O9",
    "NS": "not_stated",
}
# Bare codes that exist only in 16+1 (no clash with 2021 codes).
_BARE_OLD = {"W9": "W5", "M9": "M4", "A9": "A5", "B9": "B3", "NS": "not_stated"}

OFFICER_IC_GROUP = {
    "IC1": "White", "IC2": "White", "IC3": "Black", "IC4": "Asian", "IC5": "Other", "IC6": "Other", "IC9": None,
}

_PAREN_CODE = re.compile(r"\(\s*([A-Za-z]{1,2}\d?)\s*\)\s*$")
_NOT_STATED_WORDS = ("not stated", "not_stated", "prefer not to say", "refused", "declined")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _split_label(text: str) -> tuple[str, str]:
    """'Black/African/Caribbean/Black British - African' -> ('black/african/...', 'african')."""
    t = _norm(text)
    if ":" in t:
        head, _, tail = t.partition(":")
        return head.strip(), tail.strip()
    if " - " in t:
        head, _, tail = t.rpartition(" - ")
        return head.strip(), tail.strip()
    return t, ""


def _group_letter(head: str) -> str | None:
    if head.startswith("chinese or other"):
        return "C"  # 16+1 combined heading, resolved by the subcategory
    for word, letter in (("white", "W"), ("mixed", "M"), ("asian", "A"), ("black", "B"), ("other", "O"), ("arab", "O")):
        if head.startswith(word):
            return letter
    return None


def _sub_code(letter: str, sub: str) -> str | None:
    if letter == "W":
        if "gypsy" in sub or "traveller" in sub:
            return "W3"
        if "roma" in sub:
            return "W4"
        if "other" in sub:
            return "W5"
        if any(w in sub for w in ("british", "english", "welsh", "scottish")):
            return "W1"  # before 'irish': the W1 label says "Northern Irish or British"
        if "irish" in sub:
            return "W2"
        return None
    if letter == "M":
        if "black caribbean" in sub:
            return "M1"
        if "black african" in sub:
            return "M2"
        if "asian" in sub:
            return "M3"
        if "other" in sub:
            return "M4"
        return None
    if letter == "A":
        for word, code in (("indian", "A1"), ("pakistani", "A2"), ("bangladeshi", "A3"), ("chinese", "A4"), ("other", "A5")):
            if word in sub:
                return code
        return None
    if letter == "B":
        if "other" in sub:
            return "B3"
        if "caribbean" in sub:
            return "B1"
        if "african" in sub:
            return "B2"
        return None
    if letter in ("O", "C"):
        if any(w in sub for w in _NOT_STATED_WORDS):
            return "not_stated"
        if "chinese" in sub:
            return "A4"
        if "arab" in sub:
            return "O1"
        if "other" in sub:
            return "O9"
        return None
    return None


def self_defined_code(value: str | None) -> str | None:
    """The contract code for a self-defined ethnicity as published, or None if empty.

    Raises ``ValueError`` for a non-empty value it cannot place (the caller quarantines the row).
    """
    if value is None:
        return None
    raw = str(value).strip()
    if raw == "" or raw.lower() in ("nan", "none", "null"):
        return None
    up = raw.upper()
    if up in CODES_2021:
        return up
    if up in _BARE_OLD:
        return _BARE_OLD[up]
    low = _norm(raw)
    if low in ("not_stated", "not stated", "ns", "prefer not to say"):
        return "not_stated"
    m = _PAREN_CODE.search(raw)
    if m and m.group(1).upper() in OLD_16_1:
        # 16+1 label: the code in parentheses decides; check the words agree so a mislabelled row is caught.
        code = OLD_16_1[m.group(1).upper()]
        head, sub = _split_label(raw[: m.start()])
        if code == "not_stated":
            return code
        letter = _group_letter(head)
        from_words = _sub_code(letter, sub) if letter else None
        if from_words is not None and from_words != code:
            raise ValueError(f"label and code disagree in {raw!r}")
        return code
    head, sub = _split_label(raw)
    if any(w in low for w in _NOT_STATED_WORDS) and not sub:
        return "not_stated"
    letter = _group_letter(head)
    if letter is None or not sub:
        raise ValueError(f"unknown self-defined ethnicity {raw!r}")
    code = _sub_code(letter, sub)
    if code is None:
        raise ValueError(f"unknown self-defined ethnicity {raw!r}")
    return code


def group_of_code(code: str | None) -> str:
    """Contract code -> group label: 'B2' -> 'Black', 'not_stated' -> 'Not stated', None -> 'Not recorded'."""
    if code is None:
        return NOT_RECORDED
    if code == "not_stated":
        return NOT_STATED
    return _GROUP_OF_LETTER[code[0]]


def officer_defined(value: str | None) -> tuple[str | None, str | None]:
    """Officer-defined ethnicity as published -> (IC code or None, group or None).

    ``'IC3'`` -> ``('IC3', 'Black')``; ``'Black'`` -> ``(None, 'Black')`` (police.uk publishes
    the group only); ``'IC9'`` -> ``('IC9', None)``; empty -> ``(None, None)``.
    Raises ``ValueError`` for anything else.
    """
    if value is None:
        return None, None
    raw = str(value).strip()
    if raw == "" or raw.lower() in ("nan", "none", "null"):
        return None, None
    up = raw.upper().replace(" ", "")
    if up in OFFICER_IC_GROUP:
        return up, OFFICER_IC_GROUP[up]
    low = _norm(raw)
    for g in GROUPS:
        if low == g.lower() or low.startswith(g.lower() + " "):
            return None, g
    if low in ("chinese",):
        return None, "Other"
    syn = group_label(raw)
    if syn in GROUPS:  # 'Caucasian', 'African-American' as other tools write the officer's group
        return None, syn
    if low in ("unknown", "not stated", "not recorded"):
        return "IC9", None
    raise ValueError(f"unknown officer-defined ethnicity {raw!r} (want IC1-IC6, IC9 or White/Black/Asian/Mixed/Other)")


def officer_group_label(group: str | None, code: str | None) -> str:
    """Label for tables: the group, 'Unknown (IC9)' or 'Not recorded'."""
    if group is not None:
        return group
    if code == "IC9":
        return "Unknown (IC9)"
    return NOT_RECORDED


def population_group(label: str) -> str | None:
    """Population table ethnicity label -> one of the 5 groups, or None for totals / not applicable.

    Accepts group names ('Black', 'Asian or Asian British', 'Black, Black British, Black Welsh,
    Caribbean or African'), 19 codes, and 2011 / 2021 Census category labels.
    Raises ``ValueError`` for anything else.
    """
    low = _norm(str(label))
    if low == "" or low.startswith("all ") or low.startswith("total") or "does not apply" in low:
        return None
    up = low.upper()
    if up in CODES_2021:
        return _GROUP_OF_LETTER[up[0]]
    if up in _BARE_OLD and up != "NS":
        return _GROUP_OF_LETTER[up[0]]
    head, sub = _split_label(str(label))
    letter = _group_letter(head)
    if letter == "C":
        return "Asian" if "chinese" in sub else "Other"
    if letter is not None:
        if letter == "O" and "chinese" in sub:
            return "Asian"
        return _GROUP_OF_LETTER[letter]
    if low == "chinese":
        return "Asian"
    syn = group_label(str(label))
    if syn in GROUPS:
        return syn
    raise ValueError(f"unknown population ethnicity group {label!r}")
