"""Reading a user's TOML settings file with one clear error for each way it can go wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from harmlens.errors import HarmlensError


def read_toml(path: str | Path, what: str, error: type[HarmlensError] = HarmlensError) -> dict[str, Any]:
    """The parsed file; ``what`` names it in errors ("RFG config", "retention policy")."""
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} file not found: {p}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {p} is not valid TOML: {exc}") from exc
