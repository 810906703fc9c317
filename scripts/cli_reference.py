"""Write `docs/cli-reference.md`: `mbcalc --help` and the `--help` of every command, as plain
text 100 columns wide, one section each. `--check` writes nothing and exits 1 when the page is
not what mbcalc prints now.

    python scripts/cli_reference.py [--check]

The commands are read from the app itself, so a new command gets its section without an edit
here. Each section is an example block (`$ mbcalc table --help` and its output), which the
tests run like every other example of the documentation.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# mbcalc, typer and the tests' reader of Markdown (for GitHub's anchors) are imported by the
# functions that use them: run as a file, the script puts the repository's root on the path
# first.

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli-reference.md"
WIDTH = {"COLUMNS": "100"}
"""The width every example of the documentation is printed at."""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

HEADER = """\
# Command-line reference

Every command's `--help`, as mbcalc prints it 100 columns wide. This page is generated:
`python scripts/cli_reference.py` rewrites it, and the tests fail when it is stale.
The other pages of `docs/` say what the commands do, with examples.
"""


def command_paths() -> list[tuple[str, ...]]:
    """`()` for `mbcalc` itself, then each command's words (`("table",)`), in the order
    `mbcalc --help` lists them, subcommands after their group."""
    from typer.main import get_command

    from mbcalc.cli.app import app

    return _paths(get_command(app), ())


def _paths(command: object, words: tuple[str, ...]) -> list[tuple[str, ...]]:
    import typer
    from typer.core import TyperGroup

    paths = [words]
    if isinstance(command, TyperGroup):
        context = typer.Context(command)
        for name in command.list_commands(context):
            paths += _paths(command.get_command(context, name), (*words, name))
    return paths


def help_text(words: tuple[str, ...]) -> str:
    """What `mbcalc WORDS --help` prints, piped, at 100 columns: line ends stripped, no ANSI."""
    from typer.testing import CliRunner

    from mbcalc.cli.app import app

    result = CliRunner().invoke(app, [*words, "--help"], env=WIDTH)
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in _ANSI.sub("", result.stdout).splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def reference_text() -> str:
    """The whole page."""
    from tests.helpers.docs import slug

    paths = command_paths()
    titles = [" ".join(("mbcalc", *words)) for words in paths]
    contents = "".join(f"- [`{title}`](#{slug(title)})\n" for title in titles)
    sections = "".join(
        f"\n## `{title}`\n\n```text\n$ {title} --help\n{help_text(words)}```\n"
        for title, words in zip(titles, paths, strict=True)
    )
    return f"{HEADER}\n{contents}{sections}"


def main(argv: list[str]) -> int:
    """Write the page, or check it (`--check`)."""
    from scripts.generated import write_or_check

    return write_or_check(PAGE, reference_text, "cli_reference.py", argv)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run as a file: `scripts` is found from the root
    sys.exit(main(sys.argv[1:]))
