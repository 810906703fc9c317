"""Conveniences of the command line: --version, `mbcalc show`, "did you mean" for spec names,
and the report format taken from the --output file's suffix."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok, one_line_error

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(path.stem for path in (ROOT / "archs").glob("*.yaml"))


def test_version_prints_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert ok("--version") == f"mbcalc {version}\n"


def test_version_wins_over_a_command() -> None:
    result = invoke_mbcalc("--version", "table", "no_such_spec")
    assert result.exit_code == 0
    assert result.stdout.startswith("mbcalc ")


# -- "did you mean" for a spec name ----------------------------------------------------------


def test_a_misspelt_spec_name_suggests_the_closest_shipped_one() -> None:
    result = invoke_mbcalc("table", "mobilenetv2")
    assert_clean_failure(result, 1)
    assert one_line_error(result) == (
        "no spec file or shipped spec named 'mobilenetv2' (hint: did you mean mobilenet_v2?)"
    )


def test_a_name_that_begins_shipped_names_suggests_them_all() -> None:
    result = invoke_mbcalc("breakdown", "mobilenet_v3")
    assert_clean_failure(result, 1)
    assert one_line_error(result).endswith(
        "(hint: did you mean mobilenet_v3_large or mobilenet_v3_small?)"
    )


def test_a_name_close_to_none_lists_every_shipped_spec() -> None:
    result = invoke_mbcalc("table", "zzz_net")
    assert_clean_failure(result, 1)
    error = one_line_error(result)
    assert error.startswith("no spec file or shipped spec named 'zzz_net' (hint: shipped specs: ")
    assert "did you mean" not in error
    assert all(name in error for name in SHIPPED)


def test_compare_suggests_a_name_too() -> None:
    result = invoke_mbcalc("compare", "mobilenet_v1", "mobilenetv2@alpha=0.5")
    assert_clean_failure(result, 1, "did you mean mobilenet_v2?")
    one_line_error(result)
