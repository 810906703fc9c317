"""The checks of the documentation's blocks and links, each raising AssertionError that names
what differs (a unified diff where there is one). `tests/test_docs.py` says what each block
must be and runs them over every page."""

from __future__ import annotations

import contextlib
import difflib
import doctest
import os
import re
import shlex
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from tests.helpers.cli import invoke_mbcalc
from tests.helpers.docs import ROOT, Block, Page, read_page

DOC_ENV = {"COLUMNS": "100"}
"""Every example is printed as piped to a file in a terminal 100 columns wide."""

MEASURED = {"bench", "calibrate"}
"""Commands whose output holds measured times."""

MEASURED_COMMAND = re.compile(rf"^\$ mbcalc ({'|'.join(MEASURED)})\b", re.M)

NEED_TORCH = {"verify", "bench", "calibrate"}
"""Commands that build a network in PyTorch (as `import` of a module does)."""


def line_of(text: str, offset: int) -> int:
    """The line (from 1) of `text` that the character at `offset` is on."""
    return text.count("\n", 0, offset) + 1


@dataclass(frozen=True)
class Command:
    """One `$ mbcalc ARGS [| head -N]` line of an example and the output shown below it."""

    args: list[str]
    head: int | None
    shown: list[str]


def is_example(block: Block) -> bool:
    """A block the checks run: `text` whose first line is an mbcalc command."""
    return block.kind == "text" and re.match(r"\$ mbcalc(\s|$)", block.first) is not None


def commands(block: Block) -> list[Command]:
    """The example's commands with their shown output."""
    found: list[Command] = []
    for line in block.text.splitlines():
        if not line.startswith("$ "):
            found[-1].shown.append(line)
            continue
        words, _, pipe = line.removeprefix("$ ").partition(" | ")
        head = re.fullmatch(r"head -(\d+)", pipe.strip())
        if not words.startswith("mbcalc") or (pipe and not head):
            raise AssertionError(f"only `$ mbcalc ARGS [| head -N]` runs: {line}")
        found.append(
            Command(shlex.split(words, comments=True)[1:], int(head[1]) if head else None, [])
        )
    return found


def printed(command: Command) -> list[str]:
    """What the command prints now, stdout then stderr, each line's end stripped."""
    result = invoke_mbcalc(*command.args, env=DOC_ENV)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("".join(traceback.format_exception(result.exception)))
    lines = (result.stdout + result.stderr).splitlines()
    return lines[: command.head] if command.head is not None else lines


def trimmed(lines: list[str]) -> list[str]:
    """The lines with their ends stripped, the blank lines at the end left out, and the release
    of PyTorch masked (an imported spec's header names the one it was traced with)."""
    stripped = [re.sub(r"\btorch \d[\w.+]*", "torch #", line.rstrip()) for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    return stripped


MEASURE = re.compile(r"\d+(?:[.,]\d+)*(?: ?(?:[nµm]?s|[KMGT]?(?:MAC|B)/s|M/s|%)(?![\w/]))?")
"""A measured figure: a number and the unit that may follow it (`27.4 µs`, `41.9 GMAC/s`, `4.5%`),
since the unit of a time or rate varies with the figure as much as its digits do."""


def masked(lines: list[str]) -> list[str]:
    """Lines of measured output, every number (with its unit: a time, a rate, a share) `#` and
    the spaces and rules around it one."""
    numbers = (MEASURE.sub("#", line) for line in lines)
    return [re.sub(r"([ ─━═-])\1+", r"\1", line) for line in numbers]


def shows(shown: list[str], real: list[str]) -> bool:
    """`shown` is `real`, a line holding only `…` standing for any run of lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if is_gap(line) else re.escape(line) + "\n" for line in shown
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in real)) is not None


def filled_in(shown: list[str], real: list[str]) -> list[str]:
    """`shown` with each `…` line replaced by the real lines it stands for, as best they can be
    aligned, so that a diff names only what differs."""
    lines = []
    matcher = difflib.SequenceMatcher(None, shown, real, autojunk=False)
    for tag, start, end, real_start, real_end in matcher.get_opcodes():
        part = shown[start:end]
        gaps = tag != "equal" and any(is_gap(line) for line in part)
        lines += _fill(part, real[real_start:real_end]) if gaps else part
    return lines


def is_gap(line: str) -> bool:
    """A line that holds only `…`: any run of lines left out."""
    return line.strip() == "…"


def _fill(part: list[str], real: list[str]) -> list[str]:
    """Each `…` of `part` as the lines of `real` up to the one most like the next shown line."""
    lines: list[str] = []
    at = 0
    for index, line in enumerate(part):
        if not is_gap(line):
            lines.append(line)
            at += 1
            continue
        after = [shown for shown in part[index + 1 :] if not is_gap(shown)]
        last = len(real) - len(after)
        if after and at < last:
            likeness = [difflib.SequenceMatcher(None, after[0], row).ratio() for row in real]
            stop = max(range(at, last + 1), key=likeness.__getitem__)
        else:
            stop = max(at, last)
        lines += real[at:stop]
        at = stop
    return lines


def needed_packages(block: Block) -> set[str]:
    """The optional packages the example's commands need: PyTorch to build, time or trace a
    network, onnx to read an ONNX file."""
    needed = set()
    for command in commands(block):
        onnx = any(arg.endswith(".onnx") for arg in command.args)
        name = command.args[0] if command.args else ""
        if name in NEED_TORCH or (name == "import" and not onnx):
            needed.add("torch")
        if onnx:
            needed.add("onnx")
    return needed


def check_example(page: Page, block: Block) -> None:
    """Each command of the example prints what the block shows, run in the current folder."""
    for command in commands(block):
        shown, real = trimmed(command.shown), trimmed(printed(command))
        if command.args and command.args[0] in MEASURED:
            shown, real = masked(shown), masked(real)
        if not shows(shown, real):
            where = f"{page.name}:{block.line}"
            diff = difflib.unified_diff(
                filled_in(shown, real), real, f"{where} (shown)", "printed now", lineterm=""
            )
            raise AssertionError(f"$ mbcalc {shlex.join(command.args)}\n" + "\n".join(diff))


@contextlib.contextmanager
def scratch_folder(folder: Path) -> Iterator[Path]:
    """`folder`, holding a link to each top-level entry of the repository, as the current one."""
    for entry in ROOT.iterdir():
        if entry.name != ".git":
            (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    with contextlib.chdir(folder):
        yield folder


_SHOWN_FILE = re.compile(r"# ((?:[\w.-]+/)+[\w.-]+\.ya?ml)\s*")


def is_shown_file(block: Block) -> bool:
    """A yaml block that shows a file: its first line is `# PATH`."""
    return block.kind == "yaml" and _SHOWN_FILE.fullmatch(block.first) is not None


def check_shown_file(page: Page, block: Block) -> None:
    """A `# PATH` yaml block is the text of that file of the repository."""
    match = _SHOWN_FILE.fullmatch(block.first)
    assert match, block.first
    path = Path(os.path.normpath(ROOT / match[1]))
    if not path.is_relative_to(ROOT) or not path.is_file():
        raise AssertionError(f"{page.name}:{block.line}: no file {match[1]} in the repository")
    text = path.read_text(encoding="utf-8")
    expected = text if text.startswith(block.first + "\n") else f"{block.first}\n{text}"
    if block.text != expected:
        diff = difflib.unified_diff(
            block.text.splitlines(), expected.splitlines(),
            f"{page.name}:{block.line} (shown)", match[1], lineterm="",
        )  # fmt: skip
        raise AssertionError("\n".join(diff))


def check_doctest(page: Page, block: Block) -> None:
    """The block's `>>>` examples print what it shows, run from the root with fresh globals."""
    name = f"{page.name}:{block.line}"
    test = doctest.DocTestParser().get_doctest(block.text, {}, name, str(page.path), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    with contextlib.chdir(ROOT):
        runner.run(test, out=report.append, clear_globs=True)
    if runner.failures:
        raise AssertionError("".join(report))


_SCHEME = re.compile(r"[a-zA-Z][\w+.-]*:")


def link_problems(page: Page) -> list[str]:
    """Each link that goes nowhere: `LINE: TARGET: why`."""
    problems = []
    for link in page.links:
        if _SCHEME.match(link.target):
            continue  # https:, mailto:
        file, _, anchor = unquote(link.target).partition("#")
        target = Path(os.path.normpath(page.path.parent / file)) if file else page.path
        if file.startswith("/") or not target.is_relative_to(ROOT):
            why = "outside the repository: links are relative, within it"
        elif not target.exists():
            why = "no such file"
        elif anchor and target.suffix == ".md" and anchor not in read_page(target).anchors:
            why = f"no heading of {target.relative_to(ROOT).as_posix()} has this anchor"
        else:
            continue
        problems.append(f"{page.name}:{link.line}: {link.target}: {why}")
    return problems


def climbs_out(page: Page) -> list[str]:
    """Each `../` path of the page's prose (code is examples) that climbs above the root."""
    depth = len(page.path.parent.relative_to(ROOT).parts)
    return [
        f"{page.name}:{line_of(page.prose, found.start())}: {found[0]}"
        for found in re.finditer(r"(?<![\w./])(?:\.\./)+", page.prose)
        if len(found[0]) // 3 > depth
    ]
