"""How much of an allegation's harm counts, by what became of it (the harm policy by outcome).

The forecast's expected harm blends a person's own yearly harm rate with the model's severity
(``rank/offenders.py``). Each VAWG allegation adds its harm weight times the share its outcome
status (see ``harm/evidence.py``) is given here. The default, defended in docs/harm.md:

* **acquitted: 0**. A court heard the evidence and did not convict; counting the harm anyway
  would treat the person as if the verdict had gone the other way.
* **convicted, charged (awaiting trial), cautioned: 1**. Proven, admitted or judged by the CPS
  to meet the charging standard.
* **no further action, victim withdrew, ongoing: 1**, counted *at allegation status* and shown as
  such beside every count. Most VAWG allegations end this way for reasons that say little about
  whether the abuse happened (victims withdraw under pressure; evidential difficulty); dropping
  them would hide exactly the repeat, unprosecuted abuse the tool exists to surface. The person's
  evidence line says how many of their allegations ended so, so a reviewer weighs them.

The V100 baseline keeps its published definition (every allegation in the window counts
whatever its outcome) so it stays comparable with the forces that use it; its list says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

STATUSES = ("convicted", "charged", "acquitted", "nfa", "withdrawn", "ongoing", "cautioned")
_WORDS = {
    "convicted": "convicted", "charged": "charged and awaiting trial", "acquitted": "acquitted",
    "nfa": "ended with no further action", "withdrawn": "withdrawn by the victim", "ongoing": "still under investigation",
    "cautioned": "cautioned",
}


def _default_weights() -> dict[str, float]:
    return {"convicted": 1.0, "charged": 1.0, "cautioned": 1.0, "nfa": 1.0, "withdrawn": 1.0, "ongoing": 1.0, "acquitted": 0.0}


@dataclass(frozen=True)
class OutcomePolicy:
    """Share (0 to 1) of an allegation's harm that counts, per outcome status."""

    name: str = "acquittals count nothing"
    weights: Mapping[str, float] = field(default_factory=_default_weights)

    def __post_init__(self) -> None:
        from harmlens.harm.errors import HarmError

        unknown = sorted(set(self.weights) - set(STATUSES))
        if unknown:
            raise HarmError(f"harm policy: unknown outcome status(es) {', '.join(unknown)}; use {', '.join(STATUSES)}")
        for k, v in self.weights.items():
            if not 0.0 <= float(v) <= 1.0:
                raise HarmError(f"harm policy: the share for {k!r} must be between 0 and 1, not {v}")

    def share(self, status: str) -> float:
        return float(self.weights.get(status, 1.0))

    def describe(self) -> str:
        """One paragraph for model cards, transparency records and list headers."""
        none = [_WORDS[s] for s in STATUSES if self.share(s) == 0.0]
        full = [_WORDS[s] for s in STATUSES if self.share(s) == 1.0]
        part = [f"{_WORDS[s]} ({self.share(s):.0%})" for s in STATUSES if 0.0 < self.share(s) < 1.0]
        bits = [f"Harm policy by outcome ({self.name}): in expected harm, an allegation's harm counts in full when it was "
                + _join(full) + "."]
        if part:
            bits.append("It counts in part when " + _join(part) + ".")
        if none:
            bits.append("It counts nothing when " + _join(none) + ".")
        bits.append("Allegations that ended with no further action or were withdrawn count as allegations and are shown as "
                    "such beside every count. The V100 baseline keeps its published definition: every VAWG allegation in "
                    "its 365-day window counts whatever its outcome.")
        return " ".join(bits)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weights": {s: self.share(s) for s in STATUSES}}


def _join(xs: list[str]) -> str:
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " or " + xs[-1] if xs else "never"


DEFAULT_POLICY = OutcomePolicy()
ALL_COUNT = OutcomePolicy(name="every allegation counts", weights={s: 1.0 for s in STATUSES})


def discounted_harm(con: Any, as_of: Any, policy: OutcomePolicy = DEFAULT_POLICY) -> "Any":
    """Per person (Series by person_id): the harm of their VAWG allegations ever (before ``as_of``)
    that the policy does not count, i.e. sum of harm x (1 - share of its status)."""
    import pandas as pd

    from harmlens.harm.evidence import allegations_sql, as_of_ts, harm_relation

    cut = {s: 1.0 - policy.share(s) for s in STATUSES if policy.share(s) < 1.0}
    if not cut:
        return pd.Series(dtype=float)
    harm, frame = harm_relation(con)
    if frame is not None:
        con.register(harm, frame)
    try:
        case = " ".join(f"WHEN '{s}' THEN {v!r}" for s, v in cut.items())
        df = con.execute(
            f"WITH a AS ({allegations_sql(con, window_days=None, harm=harm)}) "
            f"SELECT person_id, sum(coalesce(harm_weight, 0) * CASE status {case} ELSE 0 END) AS h FROM a GROUP BY 1",
            {"as_of": as_of_ts(as_of)},
        ).df()
    finally:
        if frame is not None:
            con.unregister(harm)
    return df.set_index("person_id")["h"].astype(float)
