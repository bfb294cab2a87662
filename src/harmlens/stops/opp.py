"""Stanford Open Policing Project (OPP) standardised stop files, any release, any subset of columns.

Current standard columns (``date, time, location, lat, lng, subject_race, subject_sex,
subject_age, type, outcome, search_conducted, contraband_found, reason_for_stop, arrest_made,
...``) and the older schema (``stop_date, stop_time, driver_race, driver_gender, stop_outcome,
is_arrested, district, ...``) map to the same stop columns. R writes missing values as ``NA``.

OPP race categories are US ones; they map to the module's groups as follows (the report shows
this table): ``black`` -> Black, ``white`` -> White, ``hispanic`` -> Hispanic,
``asian/pacific islander`` -> Asian, ``other`` -> Other, ``unknown``/``NA`` -> not recorded.
OPP's race is mostly the officer's record, so it is kept in ``race_group``, not in
``self_defined_ethnicity``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

OPP_RACE_GROUPS = {
    "black": "Black", "white": "White", "hispanic": "Hispanic", "asian/pacific islander": "Asian", "asian": "Asian",
    "pacific islander": "Asian", "other": "Other", "middle eastern": "Other", "native american": "Other",
    "unknown": None,
}
_NA = {"", "na", "nan", "null", "none", "n/a"}
# Time zone by state, where the whole state (or all but a sliver) keeps one zone; others need --tz.
STATE_TZ = {
    "al": "America/Chicago", "ar": "America/Chicago", "az": "America/Phoenix", "ca": "America/Los_Angeles",
    "co": "America/Denver", "ct": "America/New_York", "dc": "America/New_York", "de": "America/New_York",
    "ga": "America/New_York", "hi": "Pacific/Honolulu", "ia": "America/Chicago", "il": "America/Chicago",
    "la": "America/Chicago", "ma": "America/New_York", "md": "America/New_York", "me": "America/New_York",
    "mn": "America/Chicago", "mo": "America/Chicago", "ms": "America/Chicago", "mt": "America/Denver",
    "nc": "America/New_York", "nh": "America/New_York", "nj": "America/New_York", "nm": "America/Denver",
    "nv": "America/Los_Angeles", "ny": "America/New_York", "oh": "America/New_York", "ok": "America/Chicago",
    "pa": "America/New_York", "ri": "America/New_York", "sc": "America/New_York", "ut": "America/Denver",
    "va": "America/New_York", "vt": "America/New_York", "wa": "America/Los_Angeles", "wi": "America/Chicago",
    "wv": "America/New_York", "wy": "America/Denver",
}
# Sun times need a place; without lat/lng, a stated centroid of the state (approximate, degrees).
STATE_CENTROID = {
    "ri": (41.70, -71.50), "ca": (37.20, -119.50), "ct": (41.60, -72.70), "ma": (42.30, -71.80),
    "vt": (44.05, -72.70), "wi": (44.60, -89.90), "nc": (35.50, -79.40), "co": (39.00, -105.55),
    "wa": (47.40, -120.50), "tx": (31.00, -99.30), "fl": (28.60, -82.40), "il": (40.00, -89.20),
}
_STOP_WORDS = {"subset", "short", "police", "sample", "vod", "window", "stops", "data"}


class OppError(HarmlensError):
    """An OPP file cannot be read as asked."""


def is_opp(columns) -> bool:
    cols = {str(c).strip().lower() for c in columns}
    has_date = bool(cols & {"date", "stop_date"})
    has_race = bool(cols & {"subject_race", "driver_race"})
    return has_race and (has_date or bool(cols & {"time", "stop_time", "minute"}))


def jurisdiction_from_filename(path: str | Path) -> str | None:
    """``ca_oakland_2020_04_01.csv`` -> ``ca_oakland``; ``ri_statewide_subset_police.csv`` -> ``ri_statewide``."""
    tokens = Path(path).stem.lower().split("_")
    if len(tokens) < 2 or not re.fullmatch(r"[a-z]{2}", tokens[0]):
        return None
    out = [tokens[0]]
    for t in tokens[1:]:
        if t.isdigit() or t in _STOP_WORDS:
            break
        out.append(t)
    return "_".join(out) if len(out) > 1 else None


def tz_for(jurisdiction: str | None, tz: str | None) -> str:
    if tz:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(tz)
        except Exception:
            raise OppError(f"--tz {tz!r} is not a time zone name (e.g. America/New_York)") from None
        return tz
    state = (jurisdiction or "")[:2]
    if state in STATE_TZ:
        return STATE_TZ[state]
    raise OppError(f"time zone of {jurisdiction or 'this jurisdiction'!r} is not known for its state: give --tz "
                   "(e.g. America/Chicago)")


def _col(df: pd.DataFrame, *names: str) -> pd.Series:
    for n in names:
        if n in df.columns:
            return df[n]
    return pd.Series("", index=df.index)


def _na(s: pd.Series) -> pd.Series:
    s = s.fillna("").astype(str).str.strip()
    return s.where(~s.str.lower().isin(_NA), "")


def _bool(s: pd.Series) -> pd.Series:
    low = _na(s).str.lower()
    return pd.Series(np.where(low.isin(("true", "t", "1", "yes", "y")), "true",
                              np.where(low.isin(("false", "f", "0", "no", "n")), "false", "")), index=s.index)


def age_band_from_years(s: pd.Series) -> pd.Series:
    age = pd.to_numeric(_na(s), errors="coerce")
    bands = pd.cut(age, [-1, 9, 17, 24, 34, 200], labels=["under 10", "10-17", "18-24", "25-34", "over 34"])
    return bands.astype(object).where(bands.notna(), "").astype(str)


def race_group(published: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(group or '', unknown-category flag) for OPP race values as published."""
    low = _na(published).str.lower()
    grp = low.map(lambda v: OPP_RACE_GROUPS.get(v, "") if v else "").fillna("")
    unknown = (low != "") & ~low.isin(list(OPP_RACE_GROUPS))
    return grp.fillna("").astype(str), unknown


def map_opp(df: pd.DataFrame, path: Path, *, jurisdiction: str | None = None, tz: str | None = None) -> pd.DataFrame:
    """An OPP CSV (strings) -> contract stop columns plus OPP extras."""
    from harmlens.stops.importer import _stable_ids

    jur = jurisdiction or jurisdiction_from_filename(path)
    if not jur:
        state = _na(_col(df, "state"))
        st = state[state != ""].str.lower().unique()
        jur = f"{st[0]}_statewide" if len(st) == 1 else None
    if not jur:
        raise OppError(f"{path}: cannot tell the jurisdiction from the file name: give --jurisdiction (e.g. ca_oakland)")
    zone = tz_for(jur, tz)
    date = _na(_col(df, "date", "stop_date"))
    time = _na(_col(df, "time", "stop_time"))
    tm = time.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
    ok_time = tm[0].notna() & (pd.to_numeric(tm[0], errors="coerce") < 24) & (pd.to_numeric(tm[1], errors="coerce") < 60)
    clock = (tm[0].fillna("0").str.zfill(2) + ":" + tm[1].fillna("00") + ":" + tm[2].fillna("00"))
    occurred = date.where(~ok_time | (date == ""), date + "T" + clock)
    race_pub = _col(df, "subject_race", "driver_race")
    grp, unknown_race = race_group(race_pub)
    sex = _na(_col(df, "subject_sex", "driver_gender")).str.lower().map(
        lambda v: {"m": "male", "f": "female", "male": "male", "female": "female"}.get(v, v))
    searched = _bool(_col(df, "search_conducted"))
    found = _bool(_col(df, "contraband_found"))
    found = found.where(searched == "true", "")
    arrest = _bool(_col(df, "arrest_made", "is_arrested"))
    stop_type = _na(_col(df, "type")).str.lower()
    lat, lng = _na(_col(df, "lat")), _na(_col(df, "lng"))
    keys = ["\x1f".join(r) for r in df.astype(str).itertuples(index=False, name=None)]
    out = pd.DataFrame({
        "stop_id": _stable_ids(f"opp:{jur}", keys),
        "occurred_at": occurred,
        "legislation": "",
        "self_defined_ethnicity": "",
        "officer_defined_ethnicity": "",
        "sex": sex,
        "age_range": age_band_from_years(_col(df, "subject_age", "driver_age")),
        "borough": _na(_col(df, "district", "beat", "precinct", "county_name")),
        "latitude": lat,
        "longitude": lng,
        "reason": _na(_col(df, "reason_for_stop", "violation")),
        "outcome": _na(_col(df, "outcome", "stop_outcome")),
        "searched": searched,
        "found": found,
        "arrest": arrest,
        "subject_race_as_published": _na(race_pub),
        "race_group": grp,
        "stop_type": stop_type,
        "jurisdiction": jur,
        "tz": zone,
        "source": f"opp: {path.name}",
        "source_format": "opp csv",
        "found_basis": "OPP contraband_found among searches",
    }, index=df.index)
    if "location" in df.columns:
        out["location"] = _na(df["location"])
    bad_time = (time != "") & ~ok_time
    if bad_time.any():
        out["time_as_published"] = time.where(bad_time, "")
    if unknown_race.any():
        out["race_not_read"] = _na(race_pub).where(unknown_race, "")
    return out


def read_opp_csv(path: Path):
    """Read a CSV written by R: an empty first header (``write.csv`` row names) is named ``row_name``.

    Same guarantees as the contract reader (UTF-8, strict quoting, a row with the wrong number of
    fields is a shape problem for its line, not a failed file)."""
    import csv
    import io

    from harmlens.contract.read import csv_records
    from harmlens.errors import UnparseableFileError

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnparseableFileError(f"{path}: not UTF-8 text (byte {exc.start}); re-export the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise UnparseableFileError(f"{path}: line 1: no readable header ({exc or 'empty file'})") from None
    if header and header[0] == "":
        header[0] = "row_name"
    if len(set(header)) != len(header) or any(h == "" for h in header):
        raise UnparseableFileError(f"{path}: line 1: header has empty or repeated column names")
    return csv_records(path, data, reader, header)
