"""The data contract (v1) as code: every input table, its columns, types and rules.

This is the single place the contract's column rules live; ingest, the stop importer and the
web stop form all validate through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ETHNICITY_CODES = (
    "A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "M1", "M2", "M3", "M4",
    "W1", "W2", "W3", "W4", "W5", "O1", "O9", "not_stated",
)
# Police statistics' five groups (plus not stated), from the first letter of the 19 codes.
ETHNIC_GROUP_OF = {"A": "Asian", "B": "Black", "M": "Mixed", "W": "White", "O": "Other"}
OFFICER_ETHNICITY_CODES = ("IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9")
EVENT_TYPES = ("offence", "arrest", "charge", "conviction", "custody", "order", "intelligence", "death")
OUTCOMES = ("charged", "convicted", "acquitted", "caution", "nfa", "victim_withdrew", "ongoing", "unknown")
ROLES = ("suspect", "offender", "victim", "witness", "subject")
SEXES = ("male", "female", "other", "unknown")
RELATIONSHIPS = ("partner", "ex_partner", "family", "acquaintance", "stranger", "unknown")
RISK_LEVELS = ("standard", "medium", "high")
AGE_RANGES = ("under 10", "10-17", "18-24", "25-34", "over 34")
PATTERN_TYPES = ("code", "regex")


def ethnic_group(code: str | None) -> str | None:
    """'W1' -> 'White', 'not_stated' -> 'Not stated', None -> None."""
    if code is None:
        return None
    if code == "not_stated":
        return "Not stated"
    return ETHNIC_GROUP_OF.get(code[:1])


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string | enum | datetime | date | float | int | bool
    required: bool = False
    values: tuple[str, ...] = ()
    default: str | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required_table: bool = False
    # (start column, end column): a row whose end is before its start is quarantined.
    ordered: tuple[str, str] | None = None
    # (column, parent table, parent column): the referenced row must exist.
    references: tuple[tuple[str, str, str], ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _s(name: str, required: bool = False) -> Column:
    return Column(name, "string", required)


def _e(name: str, values: tuple[str, ...], required: bool = False, default: str | None = None) -> Column:
    return Column(name, "enum", required, values, default)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "events",
            key=("event_id",),
            required_table=True,
            ordered=("occurred_at", "ends_at"),
            columns=(
                _s("event_id", True),
                _s("source", True),
                _e("event_type", EVENT_TYPES, True),
                _s("offence_code"),
                _s("offence_description"),
                Column("occurred_at", "datetime", True),
                Column("ends_at", "datetime"),
                Column("reported_at", "datetime"),
                _e("outcome", OUTCOMES, default="unknown"),
                Column("domestic", "bool"),
                _s("borough"),
                Column("latitude", "float", min=-90, max=90),
                Column("longitude", "float", min=-180, max=180),
            ),
        ),
        Table(
            "people",
            key=("mention_id",),
            required_table=True,
            references=(("event_id", "events", "event_id"),),
            columns=(
                _s("mention_id", True),
                _s("event_id", True),
                _e("role", ROLES, True),
                _s("forename"),
                _s("surname"),
                Column("date_of_birth", "date"),
                _e("sex", SEXES),
                _s("postcode"),
                _s("person_ref"),
                _e("self_defined_ethnicity", ETHNICITY_CODES),
                _e("officer_defined_ethnicity", OFFICER_ETHNICITY_CODES),
                _e("relationship_to_suspect", RELATIONSHIPS),
            ),
        ),
        Table(
            "risk_assessments",
            key=("assessment_id",),
            references=(("mention_id", "people", "mention_id"),),
            columns=(
                _s("assessment_id", True),
                _s("mention_id", True),
                Column("assessed_at", "datetime", True),
                Column("tool", "string", default="DASH"),
                Column("score", "int", min=0, max=27),
                _e("level", RISK_LEVELS),
            ),
        ),
        Table(
            "stops",
            key=("stop_id",),
            columns=(
                _s("stop_id", True),
                Column("occurred_at", "datetime", True),
                _s("legislation", True),
                _e("self_defined_ethnicity", ETHNICITY_CODES),
                _e("officer_defined_ethnicity", OFFICER_ETHNICITY_CODES),
                _e("sex", SEXES),
                _e("age_range", AGE_RANGES),
                _s("borough"),
                Column("latitude", "float", min=-90, max=90),
                Column("longitude", "float", min=-180, max=180),
                _s("reason"),
                _s("outcome"),
                Column("searched", "bool"),
                Column("found", "bool"),
            ),
        ),
        Table(
            "population",
            key=("area", "ethnicity_group"),
            columns=(_s("area", True), _s("ethnicity_group", True), Column("population", "int", True, min=0)),
        ),
        Table(
            "offence_map",
            key=("pattern_type", "pattern"),
            columns=(
                _e("pattern_type", PATTERN_TYPES, True),
                _s("pattern", True),
                _s("category", True),
                Column("vawg", "bool"),
                Column("violent", "bool"),
                Column("sexual", "bool"),
                Column("harm_weight", "float", min=0),
            ),
        ),
    )
}

# Load order: parents before the tables that reference them.
LOAD_ORDER = ("events", "people", "risk_assessments", "stops", "population", "offence_map")
