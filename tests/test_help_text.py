"""Help and usage text as a terminal shows it: usage lines name SPEC, and no known word (an
option's name, a choice, a profile, a device) is ever split across two lines."""

from __future__ import annotations

import itertools
import re

import pytest
import typer.main
from typer.core import TyperArgument, TyperOption

from mbcalc.cli.app import COMMANDS, app
from mbcalc.core.profiles import PROFILES
from mbcalc.deploy.roofline import shipped_devices
from mbcalc.spec.zoo import shipped_names
from tests.helpers.cli import invoke_mbcalc

NAMES = list(COMMANDS)
WORD = re.compile(r"\w[\w-]*")
"""A word, or a piece of one: an option's name without its dashes, a hyphenated name."""


def vocabulary() -> set[str]:
    """Every word a help text may name: commands, options, metavars, choices, profiles,
    devices and shipped specs (the parts of a hyphenated name too)."""
    words = {*NAMES, *PROFILES, *shipped_devices(), *shipped_names()}
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for command in group.commands.values():
        for param in command.params:
            words.update(opt.lstrip("-") for opt in param.opts)
            if isinstance(param, TyperOption | TyperArgument):
                words.update(WORD.findall(param.metavar or ""))
            words.update(str(choice) for choice in getattr(param.type, "choices", ()))
    return words | {part for word in words for part in word.split("-") if part}


VOCABULARY = vocabulary()


def split_words(text: str) -> list[str]:
    """The known words a line break cuts in two: a line's last piece of a word joined to the
    next line's first piece (in any column), where the first piece alone is no known word."""
    lines = [re.sub(r"[│╭╮╰╯─┃━┏┓┗┛]", " ", line) for line in text.splitlines()]
    found = []
    for line, following in itertools.pairwise(lines):
        ends = list(WORD.finditer(line))
        starts = list(WORD.finditer(following))
        for end in ends:
            if end.end() < len(line.rstrip()) and line[end.end()] != " ":
                continue  # a word followed by punctuation on its line is whole
            for start in starts:
                if start.start() > 0 and following[start.start() - 1] not in " ":
                    continue
                joined = end.group() + start.group()
                if joined in VOCABULARY and end.group() not in VOCABULARY:
                    found.append(f"{end.group()} / {start.group()}")
    return found


def test_split_words_finds_a_split() -> None:
    text = (
        "│ --format  <table|json|markdow  table, json │\n│           n>               or markdown │"
    )
    assert split_words(text) == ["markdow / n"]
    assert split_words("│ --format  FORMAT  table, json, csv or │\n│   markdown. │") == []


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("name", [*NAMES, None])
def test_help_never_splits_a_known_word(name: str | None, width: int) -> None:
    args = ["--help"] if name is None else [name, "--help"]
    result = invoke_mbcalc(*args, env={"COLUMNS": str(width), "TERMINAL_WIDTH": str(width)})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    assert split_words(result.stdout) == []


@pytest.mark.parametrize("name", NAMES)
def test_usage_line_names_spec_in_capitals(name: str) -> None:
    result = invoke_mbcalc(name, "--help", env={"COLUMNS": "100"})
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line).split()
    takes_spec = name not in {"list", "devices", "calibrate"}
    expected = ["SPEC..." if name == "compare" else "SPEC"] if takes_spec else []
    if name == "import":
        expected = ["SOURCE"]  # a model file or module, not a spec
    assert usage[1:] == ["mbcalc", name, "[OPTIONS]", *expected]


def test_usage_error_names_spec_in_capitals() -> None:
    result = invoke_mbcalc("table")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "Usage: mbcalc table [OPTIONS] SPEC"
