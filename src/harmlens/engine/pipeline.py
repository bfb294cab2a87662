"""SQL built from named steps, in the spirit of Splink's ``CTEPipeline``.

A long query becomes a list of steps, each a SELECT that may read any earlier step by its name.
Run whole, the steps become one ``WITH`` query (the database plans it as one); run one by one
(:meth:`Engine.run_steps`), each step is materialised so a test can check it or a log can count
its rows. Steps hold SQL text only; values are bound as parameters, never pasted in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harmlens.engine.base import EngineError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Step:
    """One named SELECT of a pipeline, with the parameters its ``?`` placeholders bind."""

    name: str
    sql: str
    params: tuple[Any, ...] = ()
    materialized: bool = False
    """Ask the database to compute the step once when the whole pipeline runs as one query
    (``AS MATERIALIZED``): for a step several later steps read."""


@dataclass
class SQLPipeline:
    """Named SELECT steps; the last step is the pipeline's result.

    >>> p = SQLPipeline()
    >>> p.add("a", "SELECT 1 AS x")
    >>> p.add("b", "SELECT x + ? AS y FROM a", 41)
    >>> print(p.sql())
    WITH
    a AS (
    SELECT 1 AS x
    ),
    b AS (
    SELECT x + ? AS y FROM a
    )
    SELECT * FROM b
    >>> p.params()
    [41]
    """

    steps: list[Step] = field(default_factory=list)

    def add(self, name: str, sql: str, *params: Any, materialized: bool = False) -> None:
        """Append a step; its name must be a plain identifier and new to the pipeline."""
        if not _NAME.match(name):
            raise EngineError(f"pipeline step name {name!r} is not a plain identifier")
        if any(s.name == name for s in self.steps):
            raise EngineError(f"pipeline already has a step named {name!r}")
        body = sql.strip().rstrip(";")
        if not body:
            raise EngineError(f"pipeline step {name!r} has no SQL")
        self.steps.append(Step(name, body, tuple(params), materialized))

    @property
    def output(self) -> str:
        """The last step's name: what the pipeline produces."""
        if not self.steps:
            raise EngineError("empty pipeline: add a step first")
        return self.steps[-1].name

    def ctes(self) -> str:
        """The steps as the comma-separated CTE list of a ``WITH`` (for SQL that adds its own after them)."""
        return ",\n".join(f"{s.name} AS {'MATERIALIZED ' if s.materialized else ''}(\n{s.sql}\n)" for s in self.steps)

    def sql(self) -> str:
        """The whole pipeline as one ``WITH`` query (parameters in step order)."""
        return f"WITH\n{self.ctes()}\nSELECT * FROM {self.output}"

    def params(self) -> list[Any]:
        """The parameters of every step, in the order their placeholders appear in :meth:`sql`."""
        return [p for s in self.steps for p in s.params]

    def names(self) -> list[str]:
        return [s.name for s in self.steps]
