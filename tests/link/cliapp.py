"""A typer app with only the link commands, so link's CLI tests do not depend on other areas' modules."""

from __future__ import annotations

import typer

from harmlens.link.cli import register

app = typer.Typer(pretty_exceptions_enable=False)
register(app)
