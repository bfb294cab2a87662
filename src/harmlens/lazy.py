"""Lazy package exports (PEP 562), one implementation for every area package.

`harmlens --help` imports each area's ``cli`` module, which imports its package; a package that
imported its public names eagerly would pull in scikit-learn, Splink, FastAPI and friends at
start-up (9 s instead of 1 s). Instead each package maps its public names to the submodule that
defines them, and the first access imports that submodule and caches the value in the package.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package``.

    ``exports`` maps a public name to ``"submodule"`` (the attribute of the same name in
    ``package.submodule``) or ``"submodule:attribute"`` (exported under another name).
    """

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attr = target.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module}"), attr or name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    return __getattr__
