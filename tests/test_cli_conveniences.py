"""Conveniences of the command line: --version, `mbcalc show`, "did you mean" for spec names,
and the report format taken from the --output file's suffix."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers.cli import invoke_mbcalc, ok

ROOT = Path(__file__).resolve().parents[1]


def test_version_prints_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert ok("--version") == f"mbcalc {version}\n"


def test_version_wins_over_a_command() -> None:
    result = invoke_mbcalc("--version", "table", "no_such_spec")
    assert result.exit_code == 0
    assert result.stdout.startswith("mbcalc ")
