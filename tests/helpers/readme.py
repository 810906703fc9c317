"""The `text` examples of docs/commands.md, run and compared with what mbcalc prints now."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.helpers.cli import invoke_mbcalc

README = Path(__file__).resolve().parents[2] / "docs" / "commands.md"

README_WIDTH = {"COLUMNS": "100"}
"""The README shows output as piped to a file in a terminal 100 columns wide."""


def readme_output(args: list[str]) -> str:
    """What `mbcalc ARGS...` prints, piped, with `COLUMNS=100`; it must succeed quietly."""
    result = invoke_mbcalc(*args, env=README_WIDTH)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def readme_examples(command: str) -> list[tuple[list[str], int | None, str]]:
    """(arguments, the lines a `| head -N` keeps or None, output) of each README `text` block
    holding one `$ mbcalc COMMAND …` and its output; excerpts (with a `…` line) are left out."""
    examples = []
    for block in re.findall(r"```text\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        first, _, output = block.partition("\n")
        if not first.startswith(f"$ mbcalc {command} ") or "\n$ " in output:
            continue
        if any(line.strip() == "…" for line in output.splitlines()):
            continue
        line, _, pipe = first.removeprefix("$ mbcalc ").partition(" | ")
        head = re.fullmatch(r"head -(\d+)", pipe.strip())
        assert not pipe or head, first
        examples.append((shlex.split(line), int(head[1]) if head else None, output))
    return examples


def check_readme_examples(command: str) -> int:
    """Run each README example of COMMAND; its output must be the one shown. Returns how many."""
    examples = readme_examples(command)
    for args, head, output in examples:
        actual = readme_output(args)
        if head is not None:
            actual = "".join(actual.splitlines(keepends=True)[:head])
        assert actual == output, args
    return len(examples)
