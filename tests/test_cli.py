"""CLI conventions: --help everywhere, exit codes 0 / 1 (one line naming the problem) / 2 (usage)."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from harmlens.cli import app


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harmlens.cli", *args], capture_output=True, text=True, cwd=cwd)


def _all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        out.append(path)
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])

    walk(root, [])
    return out


def test_help_on_every_command():
    paths = _all_command_paths()
    assert ["ingest"] in paths and ["status"] in paths and ["quarantine"] in paths
    root = typer.main.get_command(app)
    for path in paths:
        cmd = root
        for p in path:
            cmd = cmd.commands[p]
        assert cmd.help or cmd.short_help or path == [], f"no help text for {' '.join(path)}"
    r = run("ingest", "--help")
    assert r.returncode == 0 and "quarantine" in r.stdout


def test_handled_error_is_one_line_exit_1(tmp_path):
    r = run("ingest", str(tmp_path / "missing"), "--db", str(tmp_path / "w.duckdb"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "not a folder" in r.stderr and "Traceback" not in r.stderr


def test_usage_error_exit_2(tmp_path):
    r = run("ingest", "--no-such-flag")
    assert r.returncode == 2
    r = run("no-such-command")
    assert r.returncode == 2


def test_status_without_warehouse_is_handled(tmp_path):
    r = run("status", "--db", str(tmp_path / "none.duckdb"))
    assert r.returncode == 1 and "no warehouse" in r.stderr
