"""The documentation is true: README.md, CONTRIBUTING.md and every page of `docs/` (found by
glob, so a new page is checked without an edit here), one test per block, `FILE:LINE`.

- A ```` ```text ```` block whose first line is `$ mbcalc ARGS` (optionally `| head -N`) is run,
  in-process, piped, with `COLUMNS=100`: what it prints on standard output and then standard
  error must be the block's text below the command, a line holding only `…` standing for any run
  of lines, whitespace at the ends of lines and of the output ignored. Several `$ mbcalc` lines
  are several commands, each followed by its output (a shell comment after a command is left
  out, and the release of PyTorch an import names is masked). A block runs in a scratch folder
  of its own whose entries are links to the repository's top-level files and folders: a spec or
  device file is found by its path from the root (`docs/examples/cpu.yaml`), and a file a
  command writes (`-o report.json`) lands in the scratch folder, for the block's later commands
  to read.
- `bench` and `calibrate` print measured times: every number is masked on both sides (and the
  runs of spaces and rules that align them). An example that needs PyTorch (`verify`, `bench`,
  `calibrate`, `import` of a module) or onnx (an `.onnx` file) skips without it.
- A ```` ```yaml ```` block whose first line is `# PATH` (a path from the root, ending `.yaml`)
  shows that file: the block is the file's text, headed by the `# PATH` line unless the file
  starts with it.
- A ```` ```python ```` block holding `>>>` lines is a doctest (`...` standing for any text),
  run from the root.
- Links are relative and resolve to a file of the repository, anchors to a heading of the page
  they name (GitHub's anchors); no path in prose climbs above the root (in code, `../` is an
  example's), and no tracked file names a document kept beside the repository.
- The generated pages are what their scripts make now; a stale example makes the checks fail
  (`tests/data/docs/stale/`).

The checks themselves are in `tests/helpers/doc_checks.py`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import invoke_mbcalc
from tests.helpers.doc_checks import (
    DOC_ENV,
    MEASURED_COMMAND,
    check_doctest,
    check_example,
    check_shown_file,
    climbs_out,
    commands,
    filled_in,
    is_example,
    is_shown_file,
    line_of,
    link_problems,
    masked,
    needed_packages,
    scratch_folder,
    shows,
)
from tests.helpers.docs import ROOT, Block, Page, read_page, slugs

FIXTURES = ROOT / "tests" / "data" / "docs"
STALE = FIXTURES / "stale"


def documentation() -> list[Page]:
    """README.md, CONTRIBUTING.md and `docs/*.md`; then the pages of `tests/data/docs/` whose
    every block and link holds, which show each check at work."""
    paths = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(ROOT.glob("docs/*.md"))]
    paths += sorted(FIXTURES.glob("*.md"))
    return [read_page(path) for path in paths if path.is_file()]


PAGES = documentation()


# --- the documentation ----------------------------------------------------------------------


def blocks(wanted: Callable[[Block], bool]) -> list[object]:
    """`pytest.param(page, block, id="FILE:LINE")` for each block of the documentation that
    `wanted(block)` is true of."""
    return [
        pytest.param(page, block, id=f"{page.name}:{block.line}", marks=marks(page, block))
        for page in PAGES
        for block in page.blocks
        if wanted(block)
    ]


def marks(page: Page, block: Block) -> list[pytest.MarkDecorator]:
    """Measured examples (bench, calibrate) are slow."""
    found = []
    if is_example(block) and MEASURED_COMMAND.search(block.text):
        found.append(pytest.mark.slow)
    return found


def is_doctest(block: Block) -> bool:
    return block.kind == "python" and ">>>" in block.text


@pytest.mark.parametrize(("page", "block"), blocks(is_example))
def test_example(page: Page, block: Block, tmp_path: Path) -> None:
    for package in sorted(needed_packages(block)):
        pytest.importorskip(package)
    with scratch_folder(tmp_path):
        check_example(page, block)


@pytest.mark.parametrize(("page", "block"), blocks(is_shown_file))
def test_yaml_block_is_the_file(page: Page, block: Block) -> None:
    check_shown_file(page, block)


@pytest.mark.parametrize(("page", "block"), blocks(is_doctest))
def test_doctest(page: Page, block: Block) -> None:
    check_doctest(page, block)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_resolve(page: Page) -> None:
    assert link_problems(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_nothing_points_above_the_root(page: Page) -> None:
    assert climbs_out(page) == []


def tracked_files() -> list[Path]:
    """The files git tracks in the repository (skips where it is no git checkout)."""
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / name for name in done.stdout.split("\0") if name]


_OUTSIDE = re.compile(r"\b(?:SPEC|REFERENCE)\.md\b|(?:\.\./)+shared\b")
"""Names of documents kept beside the repository, which its files must not cite."""


def test_no_tracked_file_names_what_lies_beside_the_repository() -> None:
    mentions = [
        f"{path.relative_to(ROOT)}:{line_of(text, found.start())}: {found[0]}"
        for path in tracked_files()
        if path.is_file()
        for text in [path.read_bytes().decode("utf-8", errors="replace")]
        for found in _OUTSIDE.finditer(text)
    ]
    assert mentions == []


def test_the_cli_reference_is_current() -> None:
    from scripts.cli_reference import PAGE, reference_text

    assert PAGE.read_text(encoding="utf-8") == reference_text()


def test_the_zoo_table_is_current() -> None:
    from scripts.zoo_table import PAGE, zoo_text

    assert PAGE.read_text(encoding="utf-8") == zoo_text()


# --- a stale page fails -----------------------------------------------------------------------


def stale(name: str) -> Page:
    return read_page(STALE / name)


def test_a_stale_example_fails_with_a_diff(tmp_path: Path) -> None:
    page = stale("output.md")
    (block,) = [block for block in page.blocks if is_example(block)]
    # The conv's 8·8·4·3·3·3 = 6,912 mult-adds are shown; mbcalc adds the fc's 4·2.
    shown = "tiny · alpha 1 · 8x8 · {:,} mult-adds · 118 params · 8 BN params · 258 activations"
    with scratch_folder(tmp_path), pytest.raises(AssertionError) as failure:
        check_example(page, block)
    assert str(failure.value).splitlines() == [
        "$ mbcalc table tests/data/docs/tiny.yaml --summary",
        f"--- tests/data/docs/stale/output.md:{block.line} (shown)",
        "+++ printed now",
        "@@ -1 +1 @@",
        "-" + shown.format(8 * 8 * 4 * 3 * 3 * 3),
        "+" + shown.format(8 * 8 * 4 * 3 * 3 * 3 + 4 * 2),
    ]


def test_an_excerpt_must_keep_the_order_and_the_ends_of_the_output() -> None:
    real = ["title", "a", "b", "total", "note"]
    assert shows(["title", "…", "total", "…"], real)
    assert shows(["…", "b", "total", "note"], real)
    assert shows(["title", "a", "…", "b", "total", "note"], real)  # `…` may stand for no line
    assert not shows(["title", "…", "total"], real)  # the output goes on
    assert not shows(["…", "total", "…", "b", "…"], real)
    assert not shows(["title", "a", "b", "total"], real)


def test_a_diff_names_only_what_differs_around_an_excerpt() -> None:
    shown = ["title", "…", "total 6,912", "…"]
    real = ["title", "a", "b", "total 6,920", "note"]
    assert filled_in(shown, real) == ["title", "a", "b", "total 6,912", "note"]


def test_measured_output_is_compared_without_its_numbers() -> None:
    shown = ["median   9.87 ms  (IQR 9.1 … 10.2)", "│ conv1 │  0.12 ms │"]
    real = ["median  12.3 ms  (IQR 11.9 … 12.8)", "│ conv1 │ 10.50 ms │"]
    assert masked(shown) == masked(real)
    assert masked(["median 9.87 ms"]) != masked(["mean 9.87 ms"])
    units = ["│ conv │  793 µs │ 41.94 GMAC/s │ 4.49% │", "11.8 GB/s, 0.64 x"]
    other = ["│ conv │ 1.02 ms │  987.1 MMAC/s │ 10.2% │", "9.5 GB/s, 1.07 x"]
    assert masked(units) == masked(other)  # a time's or a rate's unit follows its figure
    assert masked(["7 runs"]) != masked(["7 rums"])


def test_only_mbcalc_commands_run() -> None:
    block = Block("text", "text", "$ mbcalc list | sort\n", 1)
    with pytest.raises(AssertionError, match=r"only `\$ mbcalc ARGS \[\| head -N\]` runs"):
        commands(block)


def test_a_file_shown_as_it_was_fails() -> None:
    page = stale("file.md")
    (block,) = page.blocks
    with pytest.raises(AssertionError) as failure:
        check_shown_file(page, block)
    diff = str(failure.value).splitlines()
    assert "-  - conv: {out: 8, kernel: 3, stride: 1, padding: 1}" in diff
    assert "+  - conv: {out: 4, kernel: 3, stride: 1, padding: 1}" in diff


def test_a_stale_doctest_fails() -> None:
    page = stale("doctest.md")
    (block,) = page.blocks
    with pytest.raises(AssertionError) as failure:
        check_doctest(page, block)
    # mbcalc's params: the conv's 3·3·3·4 weights and the fc's 4·2 + 2.
    report = str(failure.value)
    assert "Expected:\n    108\nGot:\n    " + str(3 * 3 * 3 * 4 + 4 * 2 + 2) in report


def test_links_that_go_nowhere_are_named() -> None:
    page = stale("links.md")
    assert [problem.split(": ", 2)[1:] for problem in link_problems(page)] == [
        ["#nowhere", "no heading of tests/data/docs/stale/links.md has this anchor"],
        ["missing.md", "no such file"],
        ["../examples.md#nowhere", "no heading of tests/data/docs/examples.md has this anchor"],
        ["../../../../../elsewhere.md", "outside the repository: links are relative, within it"],
    ]
    assert climbs_out(page) == ["tests/data/docs/stale/links.md:5: ../../../../../"]


def test_anchors_are_githubs() -> None:
    titles = [
        "Side by side: `mbcalc compare`", "The JSON report (`mbcalc.report/1`)",
        "As a picture: `--plot`", "Inception/GoogLeNet", "Limits", "Limits", "Ünïcode & 2",
    ]  # fmt: skip
    assert slugs(titles) == [
        "side-by-side-mbcalc-compare", "the-json-report-mbcalcreport1", "as-a-picture---plot",
        "inceptiongooglenet", "limits", "limits-1", "ünïcode--2",
    ]  # fmt: skip


def test_the_top_level_help_leads_to_the_spec_language_and_the_shipped_specs() -> None:
    text = " ".join(invoke_mbcalc("--help", env=DOC_ENV).stdout.split())
    for words in ("docs/spec-language.md", "mbcalc list", "archs/", "mbcalc show NAME"):
        assert words in text
