"""Settings of the synthetic city: one frozen object, every parameter documented and written to
``truth/params.json``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Mapping

from harmlens.errors import HarmlensError


class SynthError(HarmlensError):
    """A synthetic-city setting is out of range or the output folder cannot be written."""


def _frozen(d: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(d))


# Boroughs that get the higher policing intensity when policing_bias is on (a documented,
# arbitrary choice standing in for "areas that are policed more heavily").
HIGH_INTENSITY_BOROUGHS = (
    "Lambeth", "Southwark", "Hackney", "Newham", "Croydon", "Haringey", "Tower Hamlets", "Westminster",
)


@dataclass(frozen=True)
class NoiseConfig:
    """How mentions of a person differ from the person (rates are per mention)."""

    nickname: float = 0.06          # forename replaced by a nickname / variant (Robert -> Bob), when one exists
    forename_typo: float = 0.025    # one-character edit in the forename
    surname_typo: float = 0.025     # one-character edit in the surname
    forename_empty: float = 0.005   # forename recorded as ''
    surname_unknown: float = 0.006  # surname recorded as 'UNKNOWN' (shared placeholder)
    dob_missing: float = 0.04       # date of birth empty
    dob_placeholder: float = 0.005  # 1900-01-01 placeholder
    dob_swap: float = 0.02          # day and month swapped (only possible when day <= 12)
    dob_typo: float = 0.01          # year off by one
    postcode_missing: float = 0.06  # postcode empty
    postcode_nfa: float = 0.01      # 'NFA' (no fixed abode) placeholder
    custody_postcode: float = 0.4   # arrest/custody mentions: the custody suite's postcode instead of home
    sex_unknown: float = 0.02       # sex recorded 'unknown'
    ethnicity_not_stated: float = 0.15  # self-defined ethnicity 'not_stated' (or empty on victims)
    officer_ethnicity_agree: float = 0.9  # officer-defined IC code is the usual one for the self-defined code
    # share of mentions carrying the strong id (PNC-like person_ref), by source; only people
    # who have been arrested at least once have one.
    ref_crime: float = 0.3
    ref_arrest: float = 0.95
    ref_court: float = 0.97
    ref_custody: float = 0.98
    ref_order: float = 0.6
    household_known: float = 0.6    # household_id recorded on mentions from crime/custody sources

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PROFILES = ("clean", "messy")
"""``clean``: the noise above only; ``messy``: plus ``MessyConfig`` (see ``synth.messy``)."""


@dataclass(frozen=True)
class MessyConfig:
    """Extra mess on top of the clean noise (rates per household, person or mention)."""

    dob_missing_victim: float = 0.45   # victims' mentions without a date of birth (often not asked or not given)
    dob_missing_witness: float = 0.6   # witnesses' mentions without a date of birth
    common_surname: float = 0.3        # households given one of COMMON_SURNAMES
    common_forename: float = 0.3       # people given one of the five commonest forenames for their sex
    junior: float = 0.4                # a son (child or adult) named after his father, same household
    nickname: float = 0.1              # extra nickname rate where one exists
    name_swap: float = 0.02            # forename and surname written in each other's fields
    typo: float = 0.03                 # extra one-character edit, forename and surname independently
    dob_year: float = 0.02             # extra: date of birth a year out
    dob_swap: float = 0.02             # extra: day and month swapped (day <= 12)
    postcode_stale: float = 0.15       # after a move, the old postcode recorded
    postcode_other: float = 0.04       # another postcode in the same borough (a temporary address)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)



@dataclass(frozen=True)
class SynthConfig:
    """Every parameter of the synthetic city.

    Parameters
    ----------
    people : residents generated (all ages); every table scales with it.
    seed : the one random seed; the same seed and settings give byte-identical files.
    cut_date : the extract holds events reported up to (and not after) this date, 00:00.
    history_years : years of history before the cut date.
    fmt : ``parquet`` or ``csv``.
    policing_bias : when on, offences by people of the groups in ``policing_group_multipliers``
        and living in ``policing_area_multipliers`` boroughs are more likely to be recorded
        (multiplied recording probability, capped at 0.95). Off means recording is equal.
    stop_disparity : stop-rate multiplier for Black drivers relative to White drivers.
    darkness_effect : odds multiplier on the chance that a stopped driver belongs to a minority
        group (not White) in daylight compared with dark, at the same place and clock time
        (1.0 = no visibility effect).
    """

    people: int = 10_000
    seed: int = 0
    cut_date: date = date(2025, 1, 1)
    history_years: int = 6
    fmt: str = "parquet"
    # --- policing intensity (recording bias) ---
    policing_bias: bool = True
    policing_group_multipliers: Mapping[str, float] = field(default_factory=lambda: _frozen({"Black": 1.3, "Mixed": 1.1}))
    policing_area_multipliers: Mapping[str, float] = field(
        default_factory=lambda: _frozen({b: 1.2 for b in HIGH_INTENSITY_BOROUGHS})
    )
    # --- stops ---
    stop_disparity: float = 1.5
    darkness_effect: float = 1.25
    stops_per_1000: float = 30.0   # s163 stops per 1,000 residents per year (White baseline before multipliers)
    stop_years: int = 2            # stops cover the last stop_years before the cut date
    stop_search_share: float = 0.05
    stop_find_rate: float = 0.25
    # --- offending process ---
    vawg_offender_share_male: float = 0.05    # adult men with a non-zero VAWG-offending career
    vawg_offender_share_female: float = 0.006
    other_offender_share: float = 0.012       # adults offending only outside VAWG (burglary, drugs, ...)
    mean_rate: float = 0.06         # mean monthly offence rate while active (before escalation/excitation)
    rate_shape: float = 0.2         # gamma shape of the latent rate (smaller = more concentrated)
    max_rate: float = 0.8           # cap on the latent monthly rate
    escalation_mean: float = 0.15   # mean yearly growth of log-rate over a career
    escalation_sd: float = 0.25
    gravity_growth: float = 0.08    # mean yearly rise of the gravity index (share of serious offences)
    excitation: float = 0.2         # Hawkes-like: each offence raises later monthly rates by excitation*decay^k (relative)
    excitation_decay: float = 0.75
    career_years_mean: float = 9.0
    vawg_share_of_mixed: float = 0.85  # VAWG share of offences by VAWG offenders (rest non-VAWG)
    # --- criminal-justice process ---
    arrest_share: float = 0.55      # recorded VAWG offences with an arrest (charged ones always)
    dvpo_share: float = 0.08        # arrests for partner/ex-partner abuse followed by a DVPO
    non_molestation_share: float = 0.05  # recorded partner/ex-partner offences followed by a non-molestation order
    dash_share: float = 0.75        # domestic/stalking/harassment offences with a DASH assessment of the victim
    witness_share: float = 0.15
    intelligence_share: float = 0.08  # unrecorded VAWG offences that still reach police as an intelligence report
    child_witness_share: float = 0.5  # children in the household recorded as present at household domestic offences
    death_rate: float = 0.004       # yearly natural death rate of offenders
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    profile: str = "clean"
    messy: MessyConfig = field(default_factory=MessyConfig)

    def validate(self) -> "SynthConfig":
        """Raise SynthError with one line for the first setting out of range; return self."""
        if not isinstance(self.people, int) or self.people < 100:
            raise SynthError(f"--people must be an integer >= 100 (got {self.people})")
        if self.people > 20_000_000:
            raise SynthError(f"--people must be at most 20,000,000 (got {self.people})")
        if self.fmt not in ("parquet", "csv"):
            raise SynthError(f"--format must be parquet or csv (got {self.fmt!r})")
        if not 1 <= self.history_years <= 20:
            raise SynthError(f"--history-years must be between 1 and 20 (got {self.history_years})")
        if not 1 <= self.stop_years <= self.history_years:
            raise SynthError("--stop-years must be between 1 and --history-years")
        if not date(2000, 1, 1) <= self.cut_date <= date(2100, 1, 1):
            raise SynthError(f"--cut-date must be between 2000-01-01 and 2100-01-01 (got {self.cut_date})")
        for name in ("stop_disparity", "darkness_effect", "mean_rate", "rate_shape", "max_rate", "career_years_mean"):
            v = getattr(self, name)
            if not (v > 0):
                raise SynthError(f"{name.replace('_', '-')} must be > 0 (got {v})")
        for name in ("stops_per_1000",):
            if getattr(self, name) < 0:
                raise SynthError(f"{name} must be >= 0")
        if not 0 <= self.excitation_decay < 1:
            raise SynthError("excitation decay must be in [0, 1)")
        if self.excitation < 0:
            raise SynthError("excitation must be >= 0")
        if self.max_rate * self.excitation / (1 - self.excitation_decay) >= 0.9:
            raise SynthError("max_rate * excitation / (1 - decay) must be < 0.9 (else the offending process explodes)")
        shares = ["vawg_offender_share_male", "vawg_offender_share_female", "other_offender_share", "vawg_share_of_mixed",
                  "arrest_share", "intelligence_share", "dvpo_share", "non_molestation_share", "dash_share", "witness_share", "child_witness_share",
                  "stop_search_share", "stop_find_rate", "death_rate"]
        for name in shares:
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise SynthError(f"{name.replace('_', '-')} must be a share in [0, 1] (got {v})")
        if self.profile not in PROFILES:
            raise SynthError(f"--profile must be one of {', '.join(PROFILES)} (got {self.profile!r})")
        for name, v in self.messy.to_dict().items():
            if not 0 <= v <= 1:
                raise SynthError(f"messy rate {name} must be in [0, 1] (got {v})")
        for name, v in self.noise.to_dict().items():
            if not 0 <= v <= 1:
                raise SynthError(f"noise rate {name} must be in [0, 1] (got {v})")
        from harmlens.synth.reference import BOROUGH_NAMES, GROUPS

        for g, m in self.policing_group_multipliers.items():
            if g not in GROUPS or m <= 0:
                raise SynthError(f"policing group multiplier {g}={m}: group must be one of {GROUPS} and multiplier > 0")
        for b, m in self.policing_area_multipliers.items():
            if b not in BOROUGH_NAMES or m <= 0:
                raise SynthError(f"policing area multiplier {b}={m}: unknown borough or multiplier <= 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("profile", "messy") and self.profile == "clean":
                continue  # a clean city's params.json is as it was before profiles existed
            if isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, Mapping):
                v = dict(sorted(v.items()))
            elif isinstance(v, (NoiseConfig, MessyConfig)):
                v = v.to_dict()
            d[f.name] = v
        return d
