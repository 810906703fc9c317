"""`mbcalc table NAME --format json` starts light: it loads neither numpy nor Rich's tables, nor
the modules of the other commands; the app imports a command's module only when it runs, and
leaves the command's objects to the system at exit.

The command runs in its own interpreter, as a user runs it, with `-X importtime`, which lists
on stderr every module the process imports. bench/startup.py times the same command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from mbcalc.cli.app import COMMANDS, LazyCommands, LazyGroup
from tests.helpers.process import run_python

V1_MULT_ADDS = 568_740_352  # MobileNet v1 1.0-224, the paper's figure


def imported_modules(importtime_log: str) -> set[str]:
    """Module names of a `-X importtime` log (its last column, indented by depth)."""
    return {
        line.rpartition("|")[2].strip()
        for line in importtime_log.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    }


def test_imported_modules_reads_an_importtime_log() -> None:
    log = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       261 |        261 |   yaml.error\n"
        "import time:     21376 |      55030 | mbcalc.views.export\n"
    )
    assert imported_modules(log) == {"yaml.error", "mbcalc.views.export"}


OTHER_COMMANDS = {
    "mbcalc.cli.deploy_commands",  # devices, roofline
    "mbcalc.cli.explore_commands",  # list, sweep, fit
    "mbcalc.cli.output",  # checks and writes --output files
    "mbcalc.views.render",  # Rich tables
    "mbcalc.deploy.deployment",  # --memory, --device
    "mbcalc.grid.sweep",
    "mbcalc.core.compare",
    "mbcalc.pytorch",
}
"""Modules that `mbcalc table NAME --format json` has no use for, loaded only where needed."""


def logged_run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime ARGS...` in `tmp_path`: the process and the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    modules = imported_modules(result.stderr)
    assert "mbcalc" in modules, "no import log: is -X importtime honoured?"
    return result, modules


def table_as_json(tmp_path: Path) -> set[str]:
    """The modules `mbcalc table mobilenet_v1 --format json` imports; its total checked."""
    result, modules = logged_run(tmp_path, "-m", "mbcalc", "table", "mobilenet_v1", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"]["mult_adds"] == V1_MULT_ADDS
    return modules


def test_table_as_json_imports_neither_numpy_nor_rich_tables(tmp_path: Path) -> None:
    modules = table_as_json(tmp_path)
    heavy = {module for module in modules if module.partition(".")[0] == "numpy"}
    assert heavy == set()
    assert "rich.table" not in modules


def test_table_as_json_imports_no_other_command(tmp_path: Path) -> None:
    assert table_as_json(tmp_path) & OTHER_COMMANDS == set()


def test_the_app_loads_no_command_before_one_runs(tmp_path: Path) -> None:
    result, modules = logged_run(tmp_path, "-c", "import mbcalc.cli")
    assert result.returncode == 0, result.stderr
    assert "mbcalc.cli.app" in modules
    commands = {module for module in modules if module.endswith("_commands")}
    assert commands == set()
    assert "mbcalc.cli.options" not in modules


def test_naming_the_commands_builds_none_and_asking_for_one_builds_it_alone() -> None:
    commands = LazyCommands()
    assert list(commands) == list(COMMANDS)
    assert "sweep" in commands
    assert "tabel" not in commands
    assert commands.get("tabel") is None
    assert commands.built == {}
    assert commands["table"].name == "table"
    assert list(commands.built) == ["table"]


def test_a_command_registered_outside_the_list_is_refused() -> None:
    other = typer.Typer(cls=LazyGroup)
    other.callback()(lambda: None)
    other.command("extra")(lambda: None)
    with pytest.raises(TypeError, match="COMMANDS, not extra"):
        typer.main.get_command(other)


def test_the_command_leaves_its_objects_to_the_system_at_exit(tmp_path: Path) -> None:
    """`main` freezes what the command made: the interpreter's final garbage collections, run
    as the process ends, then skip it (see `mbcalc.cli.app.main`)."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.get_freeze_count(), file=sys.stderr))\n"
        "sys.argv = ['mbcalc', 'table', 'mobilenet_v1', '--format', 'json']\n"
        "from mbcalc.cli.app import main\n"
        "main()\n"
    )
    result = run_python(probe, tmp_path)
    assert json.loads(result.stdout)["total"]["mult_adds"] == V1_MULT_ADDS
    frozen = int(result.stderr.split()[-1])
    assert frozen > 0


def test_list_reads_the_index_without_the_counting_core(tmp_path: Path) -> None:
    result, modules = logged_run(tmp_path, "-m", "mbcalc", "list")
    assert result.returncode == 0, result.stderr[-500:]
    assert "mbcalc.core.catalog" in modules
    assert not {"mbcalc.core.graph", "mbcalc.core.costs", "mbcalc.core.plan"} & modules


def test_importing_mbcalc_loads_its_public_names_on_first_use(tmp_path: Path) -> None:
    probe = (
        "import sys, mbcalc; before = 'mbcalc.core.graph' in sys.modules; "
        "from mbcalc import build_graph; print(before, build_graph.__module__)"
    )
    assert run_python(probe, tmp_path).stdout.split() == ["False", "mbcalc.core.graph"]
