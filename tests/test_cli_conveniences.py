"""Conveniences of the command line: --version, `mbcalc show`, "did you mean" for spec names,
and the report format taken from the --output file's suffix."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import pytest

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


def test_an_installation_without_shipped_specs_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mbcalc.spec import zoo

    monkeypatch.setattr(zoo, "_archs_dir", lambda: tmp_path)
    result = invoke_mbcalc("table", "mobilenetv2")
    assert_clean_failure(result, 1)
    assert one_line_error(result).endswith("(hint: no spec is shipped with this installation)")


def test_compare_suggests_a_name_too() -> None:
    result = invoke_mbcalc("compare", "mobilenet_v1", "mobilenetv2@alpha=0.5")
    assert_clean_failure(result, 1, "did you mean mobilenet_v2?")
    one_line_error(result)


# -- the report format from the --output suffix ----------------------------------------------

FORMAT_COMMANDS = (
    ("table", "mobilenet_v1"),
    ("compare", "mobilenet_v1", "mobilenet_v2"),
    ("breakdown", "mobilenet_v1"),
    ("sweep", "mobilenet_v1", "--alpha", "0.5,1"),
    ("fit", "mobilenet_v1", "--max-mult-adds", "300M"),
    ("roofline", "mobilenet_v1"),
)


@pytest.mark.parametrize(
    "command", FORMAT_COMMANDS, ids=[command[0] for command in FORMAT_COMMANDS]
)
@pytest.mark.parametrize(
    ("suffix", "format"), [(".json", "json"), (".csv", "csv"), (".md", "markdown")]
)
def test_the_output_suffix_sets_the_format(
    command: tuple[str, ...], suffix: str, format: str, tmp_path: Path
) -> None:
    implied, explicit = tmp_path / f"implied{suffix}", tmp_path / f"explicit{suffix}"
    ok(*command, "-o", str(implied))
    ok(*command, "-f", format, "-o", str(explicit))
    assert implied.read_bytes() == explicit.read_bytes()


def test_a_csv_file_gets_csv_rows(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    ok("table", "mobilenet_v1", "-o", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["name", "unit"]
    assert all("│" not in "".join(row) and "┃" not in "".join(row) for row in rows)


@pytest.mark.parametrize("name", ["report.txt", "report", "report.yaml"])
def test_another_suffix_keeps_the_table(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    ok("table", "mobilenet_v1", "-o", str(target))
    assert "┃" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("asked", "name"),
    [("json", "x.csv"), ("csv", "x.md"), ("markdown", "x.json"), ("table", "x.csv")],
)
def test_a_format_that_contradicts_the_suffix_is_wrong_usage(
    asked: str, name: str, tmp_path: Path
) -> None:
    target = tmp_path / name
    result = invoke_mbcalc("table", "mobilenet_v1", "-f", asked, "-o", str(target))
    assert_clean_failure(result, 2, f"--format {asked}", f"--output {target}")
    one_line_error(result)
    assert not target.exists()


# -- mbcalc show -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_show_prints_a_shipped_spec_as_stored(name: str) -> None:
    result = invoke_mbcalc("show", name)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (ROOT / "archs" / f"{name}.yaml").read_bytes()


def test_show_prints_a_spec_file_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("# mine\ninput: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 8}  # café\n")
    assert ok("show", str(path)) == path.read_text()


def test_show_writes_an_output_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    assert ok("show", "mobilenet_v2", "--output", str(target)) == ""
    assert target.read_bytes() == (ROOT / "archs" / "mobilenet_v2.yaml").read_bytes()


def test_show_never_replaces_its_input(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("input: [32, 32, 3]\nlayers: []\n")
    result = invoke_mbcalc("show", str(path), "-o", str(path))
    assert_clean_failure(result, 1, "never replaces its input")


def test_show_suggests_a_shipped_name() -> None:
    result = invoke_mbcalc("show", "mobilenetv2")
    assert_clean_failure(result, 1, "did you mean mobilenet_v2?")


def test_show_names_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = invoke_mbcalc("show", str(path))
    assert_clean_failure(result, 1, str(path), "no such file")


def test_show_refuses_a_file_that_is_no_spec_before_printing_it(tmp_path: Path) -> None:
    """An escape sequence in a comment would reach a terminal raw: show refuses it, as YAML does."""
    path = tmp_path / "mine.yaml"
    path.write_text("input: {size: 32, channels: 3}\n# \x1b[31mred\nlayers:\n  - conv: {out: 8}\n")
    result = invoke_mbcalc("show", str(path))
    assert_clean_failure(result, 1, str(path))
    assert "\x1b" not in result.stderr
