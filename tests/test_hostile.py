"""Hostile text in specs, device files and file names: shown literally in every medium.

A name may hold Rich markup, terminal escape sequences, Markdown, HTML, a spreadsheet formula or
matplotlib mathtext; none of it may take effect, crash a view, or reach the output raw. Standard
output that cannot encode mbcalc's symbols gets ASCII ones. Messages quote values exactly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mbcalc.cli.app import app
from mbcalc.spec import parse_spec
from mbcalc.views.escape import (
    ascii_symbol,
    for_csv_cell,
    for_markdown,
    for_markdown_code,
    for_plot,
    for_stream,
    for_terminal,
    visible,
)
from mbcalc.views.formats import exact_number, exact_text
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok, ok_plotting

BODY = """\
input: {size: 32, channels: 3}
layers:
  - conv: {out: 8, kernel: 3, stride: 2}
  - separable: {out: 16}
"""
"""A tiny network with a separable unit: cheap in every view."""

CONTROLS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]))
"""C0 (but tab and line feed, which YAML may hold raw), DEL and C1 control characters."""

ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
"""The only escape sequences a terminal view may contain: its own colours."""


def yaml_quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar, every control character written as an escape."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char in CONTROLS or char in "\t\n" or char in "\u2028\u2029\x85":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write_spec(folder: Path, name: str, stem: str = "net") -> Path:
    path = folder / f"{stem}.yaml"
    path.write_text(f"name: {yaml_quoted(name)}\n{BODY}", encoding="utf-8")
    return path


def write_device(folder: Path, name: str, source: str) -> Path:
    path = folder / "device.yaml"
    path.write_text(
        f"name: {yaml_quoted(name)}\ndtype: fp32\nmult_adds_per_second: 100G\n"
        f"bandwidth_bytes_per_second: 10G\nsource: {yaml_quoted(source)}\n",
        encoding="utf-8",
    )
    return path


def no_raw_controls(text: str) -> bool:
    """No control character but line breaks, and no escape sequence but colours."""
    return not any(char in CONTROLS for char in ANSI_STYLE.sub("", text))


# -- the escaping rules, one medium at a time ---------------------------------------------------


def test_visible_escapes_every_control_character_and_keeps_the_rest() -> None:
    assert visible("a\x1b[31mb\nc\x9b\x7f") == "a\\x1b[31mb\\nc\\x9b\\x7f"
    assert (
        visible("MobileNet v2 · 224\N{MULTIPLICATION SIGN}224")
        == "MobileNet v2 · 224\N{MULTIPLICATION SIGN}224"
    )
    assert all(char not in CONTROLS for char in visible(CONTROLS))


def test_terminal_text_escapes_markup_tags() -> None:
    from rich.text import Text

    for name in ("x [/bold] y", "[/]", "MobileNet [v2]", "[link=https://e.com]a[/link]", "a\\"):
        assert Text.from_markup(for_terminal(name)).plain == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mobilenet_v1", "mobilenet_v1"),  # an underscore inside a word is not emphasis
        ("_x_ *y*", "\\_x\\_ \\*y\\*"),
        ("a | b", "a \\| b"),
        ("[a](http://e.com)", "\\[a\\](http://e.com)"),
        ("# h", "\\# h"),
        ("<script>&", "&lt;script&gt;&amp;"),
        ("a\n# h", "a\\\\n\\# h"),
        ("`code`", "\\`code\\`"),
    ],
)
def test_markdown_text(text: str, expected: str) -> None:
    assert for_markdown(text) == expected


def test_markdown_code_spans_hold_backticks_and_pipes() -> None:
    assert for_markdown_code("mobilenet_v1@alpha=0.5") == "`mobilenet_v1@alpha=0.5`"
    assert for_markdown_code("a`b|c") == "`` a`b\\|c ``"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+1", "'+1+1"),
        ("-1+cmd", "'-1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "\\tx"),  # shown escaped: no tab or CR ever starts a cell
        ("-3", "-3"),  # a number written as text stays a number
        ("+2.5e3", "+2.5e3"),
        ("conv1", "conv1"),
        (-3, -3),
        (0.25, 0.25),
    ],
)
def test_csv_cells_are_neutralised_but_numbers_kept(cell: object, expected: object) -> None:
    assert for_csv_cell(cell) == expected


def test_plot_text_never_starts_mathtext() -> None:
    from matplotlib.text import Text

    for name in ("a $\\foo$ b", "$", "a\\$b", "$x$"):
        label = Text(text=for_plot(name))
        # Text's own (private) test for mathtext, which its stubs leave out.
        shown, math = label._preprocess_math(label.get_text())  # type: ignore[attr-defined]
        assert not math, name  # shown as plain text
        assert shown == name


def test_streams_get_ascii_symbols_of_the_same_width() -> None:
    drawn = "┏━┳┓ │ ├─┼┤ └┘ 224\N{MULTIPLICATION SIGN}224 → … ≈ — · µs █▌ ◀ ┃ ●"
    text = for_stream(drawn, "ascii")
    assert text.isascii()
    assert len(text) == len(drawn)
    assert for_stream(drawn, "utf-8") == drawn
    assert (
        for_stream("é·\N{MULTIPLICATION SIGN}→", "latin-1") == "é·\N{MULTIPLICATION SIGN}>"
    )  # only what the stream cannot take changes
    assert ascii_symbol("中") == "\\u4e2d"


# -- the command line ----------------------------------------------------------------------------

MARKUP_NAMES = ["x [/bold] y", "[/]", "MobileNet [v2]", "[link=https://evil.example]a[/link]"]


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_in_a_spec_name_is_shown_literally_in_every_view(tmp_path: Path, name: str) -> None:
    spec = str(write_spec(tmp_path, name))
    commands = [
        ("table", spec),
        ("table", spec, "--device", "jetson-nano"),
        ("sweep", spec, "--alpha", "1,0.5", "--res", "32,16"),
        ("sweep", spec, "--alpha", "1,0.5", "--res", "32,16", "--device", "jetson-nano"),
        ("fit", spec, "--max-mult-adds", "1G"),
        ("roofline", spec),
        ("breakdown", spec),
        ("chart", spec),
        ("compare", spec, f"{spec}@alpha=0.5"),
    ]
    for command in commands:
        assert name in ok(*command), command


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_markup_in_a_device_name_and_source_is_shown_literally(tmp_path: Path, name: str) -> None:
    spec = str(write_spec(tmp_path, "net"))
    device = str(write_device(tmp_path, name, f"source {name}"))
    for command in ("roofline", "table"):
        text = ok(command, spec, "--device", device)
        assert name in text, command
        assert f"source {name}" in text, command


def test_brackets_split_between_spec_and_device_name_are_shown_literally(tmp_path: Path) -> None:
    spec = str(write_spec(tmp_path, "a[b"))
    device = str(write_device(tmp_path, "c]d", "source"))
    assert "a[b on c]d — fp32" in ok("roofline", spec, "--device", device)


def test_markup_in_a_file_name_is_shown_literally(tmp_path: Path) -> None:
    path = tmp_path / "MobileNet [v2].yaml"
    path.write_text(BODY, encoding="utf-8")  # no `name`: the file's stem names the spec
    assert "MobileNet [v2] — alpha 1" in ok("table", str(path))
    assert "MobileNet [v2]" in ok("compare", str(path), f"{path}@alpha=0.5")


@pytest.mark.torch
def test_verify_shows_a_markup_name_literally(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    assert "x [/bold] y" in ok("verify", str(write_spec(tmp_path, "x [/bold] y")))


HOSTILE = "a\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \x1b[2J\x9b31m\x7f\r\nb"


def test_control_characters_never_reach_a_terminal_or_file(tmp_path: Path) -> None:
    spec = str(write_spec(tmp_path, HOSTILE))
    device = str(write_device(tmp_path, HOSTILE, HOSTILE))
    shown = visible(HOSTILE)
    for command in (
        ("table", spec, "--device", device),
        ("sweep", spec, "--res", "32", "--device", device),
        ("fit", spec, "--max-mult-adds", "1G"),
        ("roofline", spec, "--device", device),
        ("breakdown", spec),
        ("chart", spec),
        ("compare", spec, f"{spec}@alpha=0.5", "--device", device),
    ):
        for form in ("table", "markdown", "csv") if command[0] != "chart" else ("table",):
            options = () if command[0] == "chart" else ("--format", form)
            text = ok(*command, *options)
            assert no_raw_controls(text), (command, form)
            expected = for_markdown(HOSTILE) if form == "markdown" else shown
            if form != "csv":  # a long title may wrap at a space
                assert " ".join(expected.split()) in " ".join(text.split()), (command, form)


def test_a_colour_terminal_shows_names_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    spec = str(write_spec(tmp_path, f"[bold]{HOSTILE}"))
    text = ok("table", spec)
    assert ANSI_STYLE.search(text)  # a terminal: coloured
    assert no_raw_controls(text)
    assert f"[bold]{visible(HOSTILE)}" in ANSI_STYLE.sub("", text)


def test_markdown_gets_no_heading_link_or_html_from_a_name(tmp_path: Path) -> None:
    name = "net\n# Owned\n[click](http://evil.example) <script>alert(1)</script> | x"
    spec = str(write_spec(tmp_path, name))
    for command in (
        ("table", spec),
        ("sweep", spec, "--res", "32"),
        ("fit", spec, "--max-mult-adds", "1G"),
        ("breakdown", spec),
        ("compare", spec, f"{spec}@alpha=0.5"),
        ("roofline", spec),
    ):
        text = ok(*command, "--format", "markdown")
        assert not re.search(r"^\s*#", text, re.MULTILINE), command
        assert "<" not in text, command
        assert not re.search(r"(?<!\\)\]\(", text), command  # no link: `\](` is escaped
        assert for_markdown(name) in text, command


def test_csv_neutralises_formulas_but_keeps_negative_numbers(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    layers = BODY.replace("stride: 2}", 'stride: 2, name: "@cmd"}')
    spec.write_text(f"name: {yaml_quoted('=HYPERLINK(1)')}\n{layers}", encoding="utf-8")
    report = list(csv.DictReader(io.StringIO(ok("table", str(spec), "--format", "csv"))))
    assert report[0]["name"] == "'@cmd"
    assert report[0]["mult_adds"] == str(16 * 16 * 8 * 3 * 3 * 3)  # out H x W x C x k x k x C_in
    rows = list(
        csv.DictReader(io.StringIO(ok("compare", str(spec), f"{spec}@alpha=0.5", "-f", "csv")))
    )
    assert {row["spec"] for row in rows} == {"'=HYPERLINK(1)"}
    (total,) = [row for row in rows if row["row"] == "total" and row["column"] == "2"]
    first = next(row for row in rows if row["row"] == "total" and row["column"] == "1")
    delta = int(total["params"]) - int(first["params"])
    assert delta < 0
    assert total["params_delta"] == str(delta)  # a negative number, not `'-...`


def test_help_states_the_csv_rule() -> None:
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", ok("table", "--help")).split())
    assert "starting with = + - or @ gets a leading '" in text


def test_names_reach_json_exactly(tmp_path: Path) -> None:
    spec = str(write_spec(tmp_path, HOSTILE))
    device = str(write_device(tmp_path, HOSTILE, HOSTILE))
    report = json.loads(ok("table", spec, "--device", device, "--format", "json"))
    assert report["spec"] == HOSTILE
    assert report["total"]["roofline"]["device"] == HOSTILE
    assert report["total"]["roofline"]["source"] == HOSTILE


@pytest.mark.parametrize("command", ["sweep", "roofline"])
def test_plots_show_mathtext_literally(tmp_path: Path, command: str) -> None:
    pytest.importorskip("matplotlib")
    spec = str(write_spec(tmp_path, "a $\\foo$ b $"))
    image = tmp_path / "plot.svg"
    args = ("--res", "32,16") if command == "sweep" else ()
    ok_plotting(image, command, spec, *args, "--plot", str(image))
    assert image.read_bytes().startswith(b"<?xml")


# -- standard output that cannot encode mbcalc's symbols ------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("table", "mobilenet_v1"),
        ("table", "mobilenet_v1", "--format", "markdown"),
        ("table", "mobilenet_v1", "--device", "jetson-nano", "--format", "csv"),
        ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5"),
        ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5", "--format", "markdown"),
        ("sweep", "mobilenet_v1"),
        ("fit", "mobilenet_v1", "--max-mult-adds", "300M"),
        ("breakdown", "mobilenet_v1", "--format", "markdown"),
        ("chart", "mobilenet_v1"),
        ("roofline", "mobilenet_v1"),
        ("devices",),
        ("list",),
    ],
)
def test_an_ascii_stdout_gets_ascii_symbols(command: tuple[str, ...]) -> None:
    result = CliRunner(charset="ascii").invoke(app, list(command))
    assert result.exit_code == 0, result.exception
    assert result.stdout_bytes.isascii()
    assert result.stdout == for_stream(ok(*command), "ascii")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "POSIX"}])
def test_a_real_ascii_stdout(env: dict[str, str]) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))
    }
    environment.pop("PYTHONIOENCODING", None)
    environment.pop("PYTHONUTF8", None)
    command = [sys.executable, "-X", "utf8=0", "-m", "mbcalc", "table", "mobilenet_v1"]
    done = subprocess.run(
        [*command, "-f", "markdown"], env={**environment, **env}, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.isascii()
    assert b"| conv1 | conv | 3x3 s2 | 224x224x3 > 112x112x32 | 10,838,016 |" in done.stdout


def test_a_colour_terminal_that_cannot_encode_gets_ascii(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = CliRunner(charset="ascii").invoke(app, ["chart", "mobilenet_v1"])
    assert result.exit_code == 0, result.exception
    assert ANSI_STYLE.search(result.stdout)
    assert "conv1" in result.stdout
    assert "#" in result.stdout  # the bars


def test_a_name_the_stream_cannot_encode_is_written_as_an_escape(tmp_path: Path) -> None:
    spec = str(write_spec(tmp_path, "网络 \N{MULTIPLICATION SIGN}"))
    result = CliRunner(charset="ascii").invoke(app, ["table", spec])
    assert result.exit_code == 0, result.exception
    assert "\\u7f51\\u7edc x" in result.stdout


def test_files_stay_utf8_whatever_stdout_takes(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = CliRunner(charset="ascii").invoke(
        app, ["table", "mobilenet_v1", "-f", "markdown", "-o", str(report)]
    )
    assert result.exit_code == 0, result.exception
    assert "224x224x3 → 112x112x32" in report.read_text(encoding="utf-8")


# -- messages quote exactly what was typed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("--alpha", "1e-400", "at alpha 1e-400 leaves no channels"),
        ("--alpha", "1000000000.5", "got 1000000000.5"),
        ("--alpha", "-0.5", "got -0.5"),
        ("--alpha", "1/3000", "at alpha 1/3000 leaves no channels"),
        ("--rho", "-1e-30", "got -1e-30"),
        ("--res", "9" * 23, "the resolution (a 23-digit number by a 23-digit number) is larger"),
    ],
)
def test_messages_show_the_value_typed(option: str, value: str, shown: str) -> None:
    assert_clean_failure(invoke_mbcalc("table", "mobilenet_v1", option, value), 1, shown)


@pytest.mark.parametrize(
    "value", ["1e-400", "1000000000.5", "1/3", "0.1", "2.5e+40", "-1e-30", "123456789.123456789"]
)
def test_exact_text_is_exact(value: str) -> None:
    text = exact_text(Fraction(value))
    assert Fraction(text) == Fraction(value)
    assert len(text) <= 40


# -- YAML 1.2 numbers --------------------------------------------------------------------------


def _out(value: str) -> str:
    return f"input: {{size: 8, channels: 3}}\nlayers:\n  - conv: {{out: {value}}}\n"


@pytest.mark.parametrize(("written", "read"), [("010", 10), ("0x10", 16), ("0o10", 8)])
def test_numbers_are_read_as_yaml_1_2_does(written: str, read: int) -> None:
    (layer,) = parse_spec(_out(written)).layers
    assert layer.out == read  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("written", "hint"),
    [("1:20", "write 80"), ("0b101", "write 5"), ("1_000", "write 1000")],
)
def test_yaml_1_1_number_forms_are_refused_with_the_plain_number(
    tmp_path: Path, written: str, hint: str
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(_out(written), encoding="utf-8")
    assert_clean_failure(
        invoke_mbcalc("table", str(path)),
        1,
        f"{path}:3",
        "layer 'conv1'",
        "must be a whole number",
        hint,
    )


# -- exact alphas in sweep and fit reports -----------------------------------------------------


def test_sweep_and_fit_write_alphas_exactly() -> None:
    close = "0.1000000000000000000001"  # the same float as 0.1
    settings_ = json.loads(ok("sweep", "mobilenet_v1", "-a", f"0.1,{close},1/3", "-f", "json"))
    assert [row["alpha"] for row in settings_["settings"]] == [0.1, close, "1/3"]
    written = ok("sweep", "mobilenet_v1", "-a", f"1,{close}", "-f", "csv")
    rows = list(csv.reader(io.StringIO(written)))
    assert [row[0] for row in rows[1:]] == ["1.0", close]
    for alpha in (close, "1/3"):
        found = ok("fit", "mobilenet_v1", "--max-mult-adds", "10G", "-a", alpha, "-f", "json")
        fit = json.loads(found)
        assert {row["alpha"] for row in fit["frontier"]} == {alpha}


def test_sweep_and_fit_views_label_alphas_exactly() -> None:
    close = "0.1000000000000000000001"
    for form in ("table", "markdown"):
        text = ok("sweep", "mobilenet_v1", "-a", f"0.1,{close},1/3,0.75", "-r", "224", "-f", form)
        labels = re.findall(r"^[│|]\s*([0-9][0-9./]*)\s*[│|]", text, re.MULTILINE)
        assert labels == ["0.1", close, "1/3", "0.75"], form
    fit = ok("fit", "mobilenet_v1", "--max-mult-adds", "10G", "-a", "1/3", "-r", "224")
    assert re.search(r"│\s+1/3 │ 224x224 │", fit)


def test_ordinary_alphas_are_written_as_before() -> None:
    for value, written in (("1", 1.0), ("0.75", 0.75), ("0.5", 0.5), ("0.25", 0.25)):
        assert exact_number(Fraction(value)) == written
        assert isinstance(exact_number(Fraction(value)), float)


# -- any text at all, through every format -------------------------------------------------------

ALPHABET = st.sampled_from(
    [
        *"ab [/]=+-@|<>&$#*_`()\\\n\t\r\x1b\x07\x7f\x9b\u2028é·\N{MULTIPLICATION SIGN}网",
        "[bold]",
        "[/]",
        "\x1b[31m",
    ]
)
HOSTILE_TEXT = st.lists(ALPHABET, min_size=1, max_size=12).map("".join)


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: shrinking is slow
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=HOSTILE_TEXT, source=HOSTILE_TEXT.filter(str.strip))  # a device needs a name
def test_any_name_is_safe_in_every_format(tmp_path: Path, name: str, source: str) -> None:
    spec = str(write_spec(tmp_path, name))
    device = str(write_device(tmp_path, source, source))
    commands = [
        ("table", spec, "--device", device),
        ("compare", spec, f"{spec}@alpha=0.5", "--device", device),
        ("sweep", spec, "--res", "32,16", "--device", device),
        ("fit", spec, "--max-mult-adds", "1G"),
        ("breakdown", spec),
        ("roofline", spec, "--device", device),
    ]
    for command in commands:
        for form in ("table", "json", "csv", "markdown"):
            text = ok(*command, "--format", form)
            assert no_raw_controls(text), (command, form)
            if form == "json":
                assert name in strings(json.loads(text))
            elif form == "csv":
                cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
                if command[0] == "compare":
                    assert for_csv_cell(name) in cells
            elif form == "markdown":
                assert not re.search(r"^\s*#", text, re.MULTILINE)
                assert "<" not in text
                assert "\r" not in text
                assert for_markdown(name) in text
            else:
                assert " ".join(visible(name).split()) in " ".join(text.split())
    assert visible(name) in ok("chart", spec)


def strings(data: object) -> set[str]:
    """Every string in a JSON document."""
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return set().union(*map(strings, data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*map(strings, data)) if data else set()
    return set()


@pytest.mark.parametrize(
    "name",
    [
        "\\[/]\x1b\\[\x1b",  # a backslash before a bracket that is no tag: Rich would eat it
        "a\\[b",
        "x\\\\[y",
        "\\[bold]",
        "[link=http://x]y[/link]",
        "MobileNet [v2]",
        "x\\",
    ],
)
def test_brackets_and_backslashes_show_as_written_in_rich_markup(name: str) -> None:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(for_terminal(name) + " [bold]after[/bold]", end="")
    assert console.file.getvalue() == visible(name) + " after"  # type: ignore[attr-defined]
