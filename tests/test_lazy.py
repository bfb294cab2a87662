"""Lazy package exports: every public name of every area resolves, unknown names are errors."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

AREAS = ("contract", "synth", "link", "harm", "features", "rank", "audit", "risk", "network", "referral", "retention", "stops", "web")


@pytest.mark.parametrize("area", AREAS)
def test_every_public_name_resolves(area):
    pkg = importlib.import_module(f"harmlens.{area}")
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        pkg.not_a_name  # noqa: B018


def test_renamed_export_and_no_eager_imports():
    import harmlens.web
    import harmlens.web.accesslog

    assert harmlens.web.append_access is harmlens.web.accesslog.append
    # importing a package (as `harmlens --help` does for every area) loads none of the heavy libraries
    code = ("import sys, harmlens.risk, harmlens.link, harmlens.web; "
            "print(sorted(m for m in ('sklearn', 'splink', 'fastapi', 'lightgbm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_the_cli_starts_without_pandas():
    """`harmlens --help` imports every command module; none may pull in pandas (0.7 s instead of 1.5 s)."""
    out = subprocess.run([sys.executable, "-c", "import sys, harmlens.cli; print('pandas' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_the_risk_ranking_method_registers_on_first_lookup():
    code = ("import sys, harmlens.rank; from harmlens.harm.ranking import default_method, methods; "
            "print(default_method(), 'risk' in methods())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "risk True"
