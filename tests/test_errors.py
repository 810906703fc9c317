"""Bad input never gives a traceback: one line naming file, line and layer, a hint, exit 1.

Each mistake is checked twice: in the library (the `SpecError`'s `source`, `line`, `layer` and
`hint`) and through the command line (`mbcalc table`): exit status 1, exactly one line on stderr
that starts `mbcalc: error:` and names the file, `:LINE` and the layer, nothing on stdout, and no
file written by `--output` (an existing one kept byte for byte).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mbcalc import MbcalcError, Settings, SettingsError, SpecError, UnknownLayerError
from mbcalc.cli.app import app
from mbcalc.cli.output import write_atomic
from mbcalc.core.graph import MAX_OPS, build_graph
from mbcalc.core.report import analyze
from mbcalc.errors import OutputError, one_line
from mbcalc.spec import MAX_VALUE, load_spec, parse_spec
from mbcalc.spec.source import MAX_DEPTH, MAX_NODES, MAX_SPEC_BYTES

FILE = "net.yaml"
HEAD = "input: {size: 8, channels: 3}\nlayers:\n"
"""Two lines before the first layer: the first layer item is on line 3."""

runner = CliRunner()


def spec_text(body: str) -> str:
    return HEAD + textwrap.dedent(body).lstrip("\n")


@dataclass(frozen=True)
class Case:
    """A spec with one mistake, and what its error must say."""

    id: str
    text: str
    line: int | None
    layer: str | None
    message: str
    hint: str | None = None
    args: tuple[str, ...] = ()

    @property
    def settings(self) -> Settings:
        alpha = Fraction(self.args[1]) if self.args[:1] == ("--alpha",) else Fraction(1)
        return Settings(alpha=alpha)


# fmt: off
CASES = [
    # -- YAML syntax -----------------------------------------------------------------------
    Case("bad-indentation", "input: {size: 8}\nlayers:\n  - conv: {out: 8}\n - fc: {out: 2}\n",
         4, None, "YAML syntax error"),
    Case("unclosed-bracket", "input: {size: 8}\nlayers: [\n  {conv: {out: 8}}\n",
         4, None, "YAML syntax error"),
    Case("unclosed-brace", spec_text("- conv: {out: 8\n- fc: {out: 2}\n"),
         4, None, "YAML syntax error"),
    Case("tab-indentation", "input:\n\tsize: 8\nlayers: []\n", 2, None, "YAML syntax error",
         "tab"),
    Case("undefined-alias", spec_text("- conv: *missing\n"), 3, None, "undefined alias",
         "anchor"),
    Case("two-documents", spec_text("- conv: {out: 8}\n---\nfoo: 1\n"), 4, None,
         "another document", "one YAML document"),
    Case("control-character", spec_text("- conv: {out: 8, name: a\x07b}\n"), 3, None,
         "control character U+0007"),
    Case("unknown-tag", spec_text("- conv: {out: !custom 8}\n"), 3, None, "unreadable value",
         "plain YAML"),
    Case("bad-int-tag", spec_text("- conv: {out: !!int abc}\n"), 3, None,
         "cannot read 'abc' as int"),
    Case("bad-bool-tag", spec_text("- conv: {bias: !!bool maybe, out: 8}\n"), 3, None,
         "cannot read 'maybe' as bool"),
    Case("binary-tag", spec_text("- conv: {out: !!binary AAAA}\n"), 3, None, "binary data"),
    Case("integer-of-5000-digits", spec_text("- conv: {out: " + "7" * 5000 + "}\n"), 3, None,
         "as int"),
    Case("complex-key", "? [a, b]\n: 1\n", 1, None, "mapping keys must be names"),
    Case("number-key", spec_text("- conv: {1: 8}\n"), 3, None, "mapping keys must be names",
         "quote"),
    # -- the document's shape ----------------------------------------------------------------
    Case("top-level-list", "- conv: {out: 8}\n", 1, None, "top level must be a mapping",
         "input: {size: 224"),
    Case("top-level-scalar", "just some text\n", 1, None, "top level must be a mapping"),
    Case("missing-input", "layers:\n  - conv: {out: 8}\n", 1, None, "missing `input`",
         "input: {size: 224, channels: 3}"),
    Case("input-not-mapping", "input: 224\nlayers:\n  - conv: {out: 8}\n", 1, None,
         "`input` must be a mapping", "input: {size: 224"),
    Case("input-without-size", "input: {channels: 3}\nlayers:\n  - conv: {out: 8}\n", 1, None,
         "missing `size`"),
    Case("input-unknown-key", "input: {sizes: 8}\nlayers:\n  - conv: {out: 8}\n", 1, None,
         "unknown key of `input` `sizes`", "did you mean 'size'?"),
    Case("input-size-zero", "input: {size: 0}\nlayers:\n  - conv: {out: 8}\n", 1, None,
         "`size` must be at least 1"),
    Case("input-size-triple", "input: {size: [8, 8, 3]}\nlayers:\n  - conv: {out: 8}\n", 1,
         None, "one number or [height, width]"),
    Case("missing-layers", "input: {size: 8}\n", 1, None, "missing `layers`", "layers:"),
    Case("layers-misspelt", "input: {size: 8}\nlayer:\n  - conv: {out: 8}\n", 2, None,
         "unknown key `layer`", "did you mean 'layers'?"),
    Case("layers-not-a-list", "input: {size: 8}\nlayers: {conv: {out: 8}}\n", 2, None,
         "`layers` must be a list, got a mapping", "- type: {arguments}"),
    Case("layers-empty", "input: {size: 8}\nlayers: []\n", 2, None, "`layers` is empty",
         "at least one layer"),
    Case("layers-null", "input: {size: 8}\nlayers:\n", 2, None, "missing `layers`"),
    Case("item-scalar", spec_text("- conv\n"), 3, None, "exactly one key", "- conv: {out: 32}"),
    Case("item-two-keys", spec_text("- conv: {out: 8}\n  fc: {out: 2}\n"), 3, None,
         "a mapping with 2 keys"),
    Case("item-arguments-not-indented", spec_text("- conv:\n  out: 8\n"), 3, None,
         "a mapping with 2 keys (`conv`, `out`)", "indent `out` under `conv:`"),
    Case("item-empty-mapping", spec_text("- {}\n"), 3, None, "a mapping with 0 keys"),
    Case("arguments-not-mapping", spec_text("- conv: 8\n"), 3, "conv1",
         "the arguments of `conv` must be a mapping, got 8", "- conv: {...}"),
    Case("top-level-unknown-key", "input: {size: 8}\nbatchnorms: false\nlayers: [{fc: {out: 2}}]",
         2, None, "unknown key `batchnorms`", "did you mean 'batchnorm'?"),
    Case("rounding-unknown", "input: {size: 8}\nrounding: divisable\nlayers: [{fc: {out: 2}}]",
         2, None, "`rounding` must be one of floor, divisible", "did you mean 'divisible'?"),
    # -- argument values -------------------------------------------------------------------
    Case("out-text", spec_text("- conv: {out: abc}\n"), 3, "conv1",
         "`out` must be a whole number, got 'abc'"),
    Case("out-float", spec_text("- conv: {out: 1.5}\n"), 3, "conv1",
         "`out` must be a whole number, got 1.5", "decimal point"),
    Case("out-bool", spec_text("- conv: {out: true}\n"), 3, "conv1",
         "`out` must be a whole number, got true"),
    Case("out-list", spec_text("- conv: {out: [8]}\n"), 3, "conv1",
         "`out` must be a whole number, got a list"),
    Case("out-missing", spec_text("- conv: {kernel: 3}\n"), 3, "conv1", "missing `out`",
         "add `out: <value>`"),
    Case("out-null", spec_text("- conv: {out: }\n"), 3, "conv1", "missing `out`"),
    Case("out-huge", spec_text("- conv: {out: 1" + "0" * 30 + "}\n"), 3, "conv1",
         f"`out` must be at most {MAX_VALUE:,}, got a 31-digit number"),
    Case("kernel-zero", spec_text("- conv: {out: 8, kernel: 0}\n"), 3, "conv1",
         "`kernel` must be at least 1, got 0"),
    Case("kernel-one-element", spec_text("- conv: {out: 8, kernel: [3]}\n"), 3, "conv1",
         "`kernel` must be one number or [height, width]"),
    Case("kernel-nested-list", spec_text("- conv: {out: 8, kernel: [[3], 3]}\n"), 3, "conv1",
         "`kernel` must be a whole number, got a list"),
    Case("stride-negative", spec_text("- conv: {out: 8, stride: -1}\n"), 3, "conv1",
         "`stride` must be at least 1, got -1"),
    Case("repeat-zero", spec_text("- conv: {out: 8, repeat: 0}\n"), 3, "conv1",
         "`repeat` must be at least 1, got 0"),
    Case("repeat-huge", spec_text("- conv: {out: 8, repeat: 1000000000000}\n"), 3, "conv1",
         f"`repeat` must be at most {MAX_VALUE:,}"),
    Case("padding-bogus", spec_text("- conv: {out: 8, padding: bogus}\n"), 3, "conv1",
         "`padding` must be same, valid, a number or [height, width]; got 'bogus'"),
    Case("padding-misspelt", spec_text("- conv: {out: 8, padding: vaild}\n"), 3, "conv1",
         "`padding` must be same, valid", "did you mean 'valid'?"),
    Case("padding-negative", spec_text("- conv: {out: 8, padding: -1}\n"), 3, "conv1",
         "`padding` must be at least 0"),
    Case("bias-number", spec_text("- conv: {out: 8, bias: 1}\n"), 3, "conv1",
         "`bias` must be true or false, got 1"),
    Case("act-unknown", spec_text("- conv: {out: 8, act: relu7}\n"), 3, "conv1",
         "`act` must be one of", "did you mean 'relu"),
    Case("groups-zero", spec_text("- conv: {out: 8, groups: 0}\n"), 3, "conv1",
         "`groups` must be at least 1"),
    Case("ratio-nan", spec_text("- se: {ratio: .nan}\n"), 3, "se1", "`ratio` must be in (0, 1]"),
    Case("ratio-inf", spec_text("- se: {ratio: .inf}\n"), 3, "se1", "`ratio` must be in (0, 1]"),
    Case("ratio-above-one", spec_text("- se: {ratio: 2}\n"), 3, "se1",
         "`ratio` must be in (0, 1], got 2"),
    Case("name-with-dot", spec_text("- conv: {out: 8, name: a.b}\n"), 3, "conv1",
         "may not contain '.'"),
    Case("name-empty", spec_text("- conv: {out: 8, name: ''}\n"), 3, "conv1",
         "`name` must be non-empty text"),
    Case("name-with-line-break", spec_text('- conv: {out: 8, name: "a\\nb"}\n'), 3, "conv1",
         "line breaks or control characters"),
    Case("name-with-escape-sequence", spec_text('- conv: {out: 8, name: "\\e[31mred"}\n'), 3,
         "conv1", "line breaks or control characters"),
    # -- unknown types and arguments -------------------------------------------------------
    Case("unknown-type", spec_text("- seperable: {out: 8}\n"), 3, None,
         "unknown layer type `seperable` (known: conv, depthwise", "did you mean 'separable'?"),
    Case("unknown-type-no-match", spec_text("- lstm: {out: 8}\n"), 3, None,
         "unknown layer type `lstm`"),
    Case("unknown-type-in-block", spec_text("""
        - block:
            layers:
              - conv: {out: 8}
              - convv: {out: 8}
        """), 6, "block1", "unknown layer type `convv`", "did you mean 'conv'?"),
    Case("unknown-argument", spec_text("- conv: {out: 8, strides: 2}\n"), 3, "conv1",
         "unknown argument `strides`", "did you mean 'stride'?"),
    Case("unknown-argument-before-missing", spec_text("- conv: {outs: 8}\n"), 3, "conv1",
         "unknown argument `outs`", "did you mean 'out'?"),
    Case("unknown-argument-on-its-key-line", spec_text("""
        - conv:
            out: 8
            strides:
              - 2
              - 2
        """), 5, "conv1", "unknown argument `strides`", "did you mean 'stride'?"),
    Case("unknown-argument-named-layer", spec_text("- separable: {out: 8, name: sep_a, x: 1}"),
         3, "sep_a", "unknown argument `x`", "known: name, repeat, act, out"),
    Case("unknown-argument-with-line-break", spec_text('- conv: {out: 8, "a\\nb": 1}\n'), 3,
         "conv1", "unknown argument `a\\nb`"),
    # -- duplicate keys ----------------------------------------------------------------------
    Case("duplicate-top-level-key",
         "input: {size: 8}\nlayers:\n  - conv: {out: 8}\nlayers:\n  - fc: {out: 2}\n", 4, None,
         "duplicate key 'layers' (first given on line 2)", "remove or rename"),
    Case("duplicate-argument", spec_text("- conv:\n    out: 8\n    out: 16\n"), 5, None,
         "duplicate key 'out' (first given on line 4)"),
    Case("duplicate-argument-in-braces", spec_text("- conv: {out: 8, out: 16}\n"), 3, None,
         "duplicate key 'out' (first given on line 3)"),
    # -- shapes that cannot be computed ------------------------------------------------------
    Case("valid-window-larger-than-input",
         "input: {size: 3}\nlayers:\n  - conv: {out: 8, kernel: 7, padding: valid}\n", 3,
         "conv1", "a 7x7 window with padding 0 does not fit the 3x3 input",
         "use `padding: same`"),
    Case("pool-larger-than-input", spec_text("- pool: {kernel: 9}\n"), 3, "pool1",
         "a 9x9 window with padding 0 does not fit the 8x8 input"),
    Case("separable-valid-window", spec_text("- separable: {out: 8, kernel: 9, padding: 0}\n"), 3,
         "sep1", "does not fit the 8x8 input"),
    Case("alpha-leaves-no-channels", spec_text("- conv: {out: 16}\n"), 3, "conv1",
         "`out: 16` at alpha 0.01 leaves no channels", "larger alpha", ("--alpha", "0.01")),
    Case("residual-shape-mismatch", spec_text("""
        - conv: {out: 8}
        - block:
            residual: true
            layers:
              - conv: {out: 16, stride: 2}
        """), 4, "block1", "residual: the block's output 4x4x16 differs from its input 8x8x8",
         "stride 1"),
    Case("parallel-add-shape-mismatch", spec_text("""
        - parallel:
            name: mix
            merge: add
            branches:
              - [{conv: {out: 8}}]
              - [{conv: {out: 16}}]
        """), 3, "mix", "merge add: the branches give different shapes 8x8x8, 8x8x16",
         "agree in size and channels"),
    Case("concat-spatial-mismatch", spec_text("""
        - parallel:
            branches:
              - [{conv: {out: 8}}]
              - [{conv: {out: 8, stride: 2}}]
        """), 3, "parallel1", "merge concat: the branches give different sizes",
         "height and width"),
    Case("branches-empty", spec_text("- parallel: {branches: []}\n"), 3, "parallel1",
         "`branches` must be a non-empty list"),
    Case("branch-not-a-list", spec_text("- parallel: {branches: [{conv: {out: 8}}]}\n"), 3,
         "parallel1.branch1", "branch 1 of `branches` must be a list, got a mapping"),
    Case("block-layers-not-a-list", spec_text("- block: {layers: 3}\n"), 3, "block1",
         "`layers` must be a list, got 3"),
    Case("block-without-layers", spec_text("- block: {residual: true}\n"), 3, "block1",
         "missing `layers`"),
    Case("act-on-block-without-residual", spec_text("""
        - block:
            name: stage
            act: relu
            layers: [{conv: {out: 8}}]
        """), 5, "stage", "`act` on a block follows its residual add, and this block has none",
         "put `act` on the block's last layer, or add `residual: true`"),
    Case("se-gate-unknown", spec_text("- se: {ratio: 0.25, gate: relu}\n"), 3, "se1",
         "`gate` must be one of sigmoid, hsigmoid; got 'relu'"),
    Case("mbconv-se-gate-without-se", spec_text("- mbconv: {out: 8, se_gate: hsigmoid}\n"), 3,
         "mbconv1", "`se_gate` shapes a squeeze-and-excite: give `se` too"),
    Case("mbconv-se-act-without-se", spec_text("- mbconv: {out: 8, se_act: relu}\n"), 3,
         "mbconv1", "`se_act` shapes a squeeze-and-excite: give `se` too"),
    Case("mbconv-se-gate-misspelt", spec_text("- mbconv: {out: 8, se: 0.25, se_gate: hsigmiod}\n"),
         3, "mbconv1", "`se_gate` must be one of sigmoid, hsigmoid", "did you mean 'hsigmoid'?"),
    Case("groups-not-dividing", spec_text("- conv: {out: 8, groups: 3}\n"), 3, "conv1",
         "`groups: 3` must divide both the 3 input and 8 output channels"),
    Case("se-both-squeeze-and-ratio", spec_text("- se: {squeeze: 4, ratio: 0.25}\n"), 3, "se1",
         "exactly one of `squeeze` and `ratio`", "`squeeze: 8`"),
    Case("se-neither-squeeze-nor-ratio", spec_text("- se: {}\n"), 3, "se1",
         "exactly one of `squeeze` and `ratio`"),
    Case("pool-global-with-kernel", spec_text("- pool: {global: true, kernel: 7}\n"), 3,
         "pool1", "`global: true` pools the whole input and takes no `kernel`", "remove"),
    Case("pool-without-kernel", spec_text("- pool: {kind: max}\n"), 3, "pool1",
         "missing `kernel`", "global: true"),
    Case("duplicate-layer-names", spec_text("""
        - conv: {out: 8, name: stem}
        - conv: {out: 8, name: stem}
        """), 4, "stem", "the name 'stem' is already used by the layer on line 3",
         "its own `name`"),
    Case("duplicate-name-from-repeat", spec_text("""
        - conv: {out: 8, name: a, repeat: 2}
        - conv: {out: 8, name: a_2}
        """), 4, "a_2", "already used by the layer on line 3"),
    Case("too-many-operations", spec_text("""
        - block:
            repeat: 1000
            layers: [{conv: {out: 4, repeat: 1000}}]
        """), 5, "block101.conv1", f"more than {MAX_OPS:,} operations", "`repeat`"),
    Case("channels-beyond-the-limit", spec_text(
        "- depthwise: {multiplier: 1000000, repeat: 3}\n"), 3, "dw2",
         f"is larger than {MAX_VALUE:,} in one dimension", "`multiplier`"),
    Case("concat-doubling-without-end", spec_text(
        "- parallel: {branches: [[], []], repeat: 40}\n"), 3, "parallel29",
         f"is larger than {MAX_VALUE:,} in one dimension", "concatenations"),
]
# fmt: on


def error_of(case: Case) -> SpecError:
    with pytest.raises(SpecError) as caught:
        analyze(build_graph(parse_spec(case.text, source=FILE), case.settings))
    return caught.value


def invoke(args: Sequence[str]) -> Result:
    return runner.invoke(app, list(args))


def assert_one_error_line(result: Result, *parts: str) -> str:
    """Exit 1, nothing on stdout, one `mbcalc: error:` line on stderr holding every part."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("mbcalc: error: "), line
    for part in parts:
        assert part in line, (part, line)
    return line


# -- the library: SpecError's fields --------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_spec_error_names_file_line_layer_and_hint(case: Case) -> None:
    error = error_of(case)
    assert error.source == FILE
    assert error.line == case.line
    assert error.layer == case.layer
    assert case.message in str(error)
    if case.hint is not None:
        assert error.hint is not None
        assert case.hint in error.hint
    assert len(str(error).splitlines()) == 1


def test_unknown_layer_type_is_its_own_error_class() -> None:
    error = error_of(next(case for case in CASES if case.id == "unknown-type"))
    assert isinstance(error, UnknownLayerError)


def test_spec_error_text_reads_file_line_layer_message_hint() -> None:
    error = error_of(next(case for case in CASES if case.id == "unknown-argument"))
    assert str(error) == (
        "net.yaml:3: layer 'conv1': unknown argument `strides` (hint: did you mean 'stride'?)"
    )


def test_many_stride_2_layers_with_same_padding_never_reach_zero() -> None:
    text = spec_text("- conv: {out: 8, stride: 2, repeat: 40}\n- fc: {out: 2}\n")
    report = analyze(build_graph(parse_spec(text, source=FILE)))
    assert report.graph.ops[39].output == (1, 1, 8)


def test_a_tiny_alpha_with_divisible_rounding_keeps_channels() -> None:
    text = "input: {size: 8}\nrounding: divisible\nlayers:\n  - conv: {out: 16}\n"
    graph = build_graph(parse_spec(text, source=FILE), Settings(alpha=Fraction(1, 100)))
    assert graph.ops[0].output == (8, 8, 8)


def test_merge_keys_and_anchors_still_work() -> None:
    text = spec_text("""
        - conv: &unit {out: 8, kernel: 3}
        - conv: {<<: *unit, out: 16}
        """)
    graph = build_graph(parse_spec(text, source=FILE))
    assert [op.output[2] for op in graph.ops] == [8, 16]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes(b"\xef\xbb\xbf" + spec_text("- conv: {out: 8}\n").encode())
    assert load_spec(path).layers


# -- files that cannot be read ---------------------------------------------------------------


def _file_case(tmp_path: Path, kind: str) -> tuple[Path, int | None, str]:
    path = tmp_path / FILE
    if kind == "missing":
        return path, None, "no such file"
    if kind == "directory":
        path.mkdir()
        return path, None, "is a directory"
    contents = {
        "latin-1": (HEAD + "  - conv: {out: 8, name: caf\xe9}\n").encode("latin-1"),
        "nul-bytes": HEAD.encode() + b"  - conv: {out: 8}\0\0\n",
        "utf-16": HEAD.encode("utf-16"),
        "empty": b"",
        "whitespace": b"  \n\n   \n",
        "comments-only": b"# nothing here\n",
        "too-large": b"# " + b"x" * MAX_SPEC_BYTES + b"\n",
    }[kind]
    path.write_bytes(contents)
    line, message = {
        "latin-1": (3, "not valid UTF-8 (byte 0xe9)"),
        "nul-bytes": (3, "binary data, not YAML text"),
        "utf-16": (1, "binary data"),
        "empty": (None, "the spec is empty"),
        "whitespace": (None, "the spec is empty"),
        "comments-only": (None, "the spec is empty"),
        "too-large": (None, f"larger than {MAX_SPEC_BYTES // 1024} KiB"),
    }[kind]
    return path, line, message


FILE_KINDS = (
    "missing", "directory", "latin-1", "nul-bytes", "utf-16", "empty", "whitespace",
    "comments-only", "too-large",
)  # fmt: skip


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_unreadable_file_is_a_spec_error(tmp_path: Path, kind: str) -> None:
    path, line, message = _file_case(tmp_path, kind)
    with pytest.raises(SpecError) as caught:
        load_spec(path, source=FILE)
    assert caught.value.source == FILE
    assert caught.value.line == line
    assert message in str(caught.value)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_unreadable_file_on_the_command_line(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, line, message = _file_case(tmp_path, kind)
    monkeypatch.chdir(tmp_path)
    where = FILE if line is None else f"{FILE}:{line}:"
    assert_one_error_line(invoke(["table", path.name]), where, message)


def test_a_file_name_with_a_nul_character_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not a usable file name"):
        load_spec(Path("net\0.yaml"))


# -- limits: what would exhaust memory or time -----------------------------------------------


def _nested_blocks(levels: int) -> str:
    lines = ["input: {size: 8}", "layers:"]
    indent = "  "
    for _ in range(levels):
        lines += [f"{indent}- block:", f"{indent}    layers:"]
        indent += "      "
    lines.append(f"{indent}- conv: {{out: 8}}")
    return "\n".join(lines) + "\n"


def test_blocks_nested_within_the_limit_build() -> None:
    graph = build_graph(parse_spec(_nested_blocks(10), source=FILE))
    assert graph.ops[0].unit == ".".join(["block1"] * 10 + ["conv1"])


def test_blocks_nested_beyond_the_limit_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_nested_blocks(40), source=FILE)
    assert f"nested deeper than {MAX_DEPTH} levels" in str(caught.value)
    assert caught.value.line is not None
    assert caught.value.hint is not None
    assert "`repeat`" in caught.value.hint


def test_flow_nesting_far_beyond_the_limit_is_refused() -> None:
    text = "input: {size: 8}\nlayers: " + "[" * 100_000 + "]" * 100_000 + "\n"
    with pytest.raises(SpecError, match="nest"):
        parse_spec(text, source=FILE)


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\ninput: {size: 8}\nlayers: [{conv: {out: 8}}]\n"


def test_alias_bomb_stops_at_the_node_budget() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(billion_laughs(), source=FILE)
    assert f"expands to more than {MAX_NODES:,} YAML values" in str(caught.value)
    assert caught.value.hint is not None
    assert "aliases" in caught.value.hint


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a]\n",
        "a: &a {b: *a}\n",
        "a: &a {<<: *a}\n",
        "a: &a [1, [2, [3, *a]]]\n",
        "input: &a {size: 8, more: [*a]}\nlayers: []\n",
    ],
    ids=["list", "mapping", "merge", "deeper", "inside-input"],
)
def test_recursive_anchor_is_refused(text: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source=FILE)
    assert "an anchor is used inside its own value" in str(caught.value)
    assert caught.value.line == 1
    assert caught.value.hint is not None
    assert "`&a`" in caught.value.hint


def test_an_anchor_used_twice_side_by_side_is_fine() -> None:
    text = "unit: &u {out: 8}\ninput: {size: 8}\nlayers: [{conv: *u}, {conv: *u}]\n"
    with pytest.raises(SpecError, match="unknown key `unit`"):
        parse_spec(text, source=FILE)
    text = "input: {size: 8}\nlayers: [{conv: &u {out: 8}}, {conv: *u}, {conv: *u}]\n"
    assert len(parse_spec(text, source=FILE).layers) == 3


LIMITS = {
    "alias-bomb": (billion_laughs(), f"expands to more than {MAX_NODES:,} YAML values"),
    "recursive-anchor": ("a: &a [*a]\n", "an anchor is used inside its own value"),
    "nested-blocks": (_nested_blocks(40), f"nested deeper than {MAX_DEPTH} levels"),
    "flow-nesting": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nest"),
}


@pytest.mark.parametrize("kind", LIMITS)
def test_limits_on_the_command_line(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, message = LIMITS[kind]
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert_one_error_line(invoke(["table", FILE]), f"{FILE}:", message)


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "word"),
    [
        ({"alpha": Fraction(0)}, "--alpha"),
        ({"alpha": Fraction(-1, 2)}, "--alpha"),
        ({"res": 0}, "--res"),
        ({"res": -3}, "--res"),
        ({"rho": Fraction(0)}, "--rho"),
        ({"rho": Fraction(-1)}, "--rho"),
        ({"res": 224, "rho": Fraction(1)}, "not both"),
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, object], word: str) -> None:
    with pytest.raises(SettingsError, match=word):
        Settings(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "word"),
    [
        (Settings(alpha=Fraction(10) ** 400), "--alpha must be at most"),
        (Settings(res=10**200), "the resolution"),
        (Settings(rho=Fraction(10) ** 30), "the resolution"),
        (Settings(rho=Fraction(1, 100)), "has no pixels"),
    ],
)
def test_settings_no_network_can_be_built_with_are_refused(settings: Settings, word: str) -> None:
    spec = parse_spec(spec_text("- pool: {global: true}\n"), source=FILE)
    with pytest.raises(SettingsError, match=word) as caught:
        build_graph(spec, settings)
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--alpha", "0"), "--alpha"),
        (("--alpha", "-0.5"), "--alpha"),
        (("--res", "0"), "--res"),
        (("--rho", "0"), "--rho"),
        (("--res", "160", "--rho", "0.5"), "--rho"),
        (("--res", "1" + "0" * 200), "resolution"),
    ],
)
def test_impossible_settings_on_the_command_line(
    tmp_path: Path, args: tuple[str, ...], word: str
) -> None:
    """No traceback and the option named. Whether a bad setting exits 1 (the spec cannot be
    computed) or 2 (wrong usage) is the command line's call; both are clean."""
    path = tmp_path / FILE
    path.write_text(spec_text("- conv: {out: 8}\n"), encoding="utf-8")
    result = invoke(["table", str(path), *args])
    assert result.exit_code in {1, 2}
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert word in result.stderr
    assert result.stdout == ""


# -- the command line: one line per mistake -------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_command_line_prints_one_error_line(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / FILE).write_text(case.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    where = FILE if case.line is None else f"{FILE}:{case.line}:"
    parts = [where, one_line(case.message)]
    if case.layer is not None:
        parts.append(f"layer '{case.layer}':")
    line = assert_one_error_line(invoke(["table", FILE, *case.args]), *parts)
    if case.hint is not None:
        assert case.hint in line.partition(" (hint: ")[2]


def test_command_line_error_for_a_shipped_name_that_does_not_exist() -> None:
    line = assert_one_error_line(invoke(["table", "mobilenet_v9"]), "mobilenet_v9")
    assert "did you mean mobilenet_v1 or mobilenet_v2?" in line


def test_command_line_error_for_an_overlong_spec_name() -> None:
    assert_one_error_line(invoke(["table", "a" * 5000]), "no spec file or shipped spec named")


# -- --output: all or nothing ---------------------------------------------------------------

OLD_REPORT = b"an earlier report\n\x00\xff kept byte for byte\n"


def test_failed_spec_writes_no_output_file(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text(spec_text("- conv: {out: abc}\n"), encoding="utf-8")
    output = tmp_path / "report.json"
    result = invoke(["table", str(tmp_path / FILE), "-f", "json", "--output", str(output)])
    assert_one_error_line(result, f"{FILE}:3:", "layer 'conv1'")
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE]


@pytest.mark.parametrize("case", CASES[::7], ids=[case.id for case in CASES[::7]])
def test_failed_spec_keeps_an_existing_output_file(case: Case, tmp_path: Path) -> None:
    (tmp_path / FILE).write_text(case.text, encoding="utf-8")
    output = tmp_path / "report.json"
    output.write_bytes(OLD_REPORT)
    result = invoke(["table", str(tmp_path / FILE), *case.args, "--output", str(output)])
    assert_one_error_line(result, FILE)
    assert output.read_bytes() == OLD_REPORT
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([FILE, output.name])


def test_output_into_a_missing_folder(tmp_path: Path) -> None:
    output = tmp_path / "missing" / "report.json"
    result = invoke(["table", "mobilenet_v1", "-f", "json", "--output", str(output)])
    assert_one_error_line(result, str(output), "does not exist")
    assert not output.parent.exists()


def test_output_below_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(OLD_REPORT)
    result = invoke(["table", "mobilenet_v1", "--output", str(blocker / "report.txt")])
    assert_one_error_line(result, "is not a folder")
    assert blocker.read_bytes() == OLD_REPORT


def test_output_onto_a_directory_is_refused_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.mkdir()
    result = invoke(["table", "mobilenet_v1", "-f", "json", "--output", str(target)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert target.is_dir()
    assert list(target.iterdir()) == []


def test_output_onto_a_directory_is_one_error_line(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.mkdir()
    result = invoke(["table", "mobilenet_v1", "-f", "json", "--output", str(target)])
    assert_one_error_line(result, "is a directory")


def test_write_atomic_refuses_a_directory_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(tmp_path, "text")
    with pytest.raises(OutputError, match="does not exist"):
        write_atomic(tmp_path / "no" / "file.txt", "text")
    with pytest.raises(OutputError, match="cannot write here"):
        write_atomic(tmp_path / ("x" * 5000), "text")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_failure_after_writing_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "report.txt"
    output.write_bytes(OLD_REPORT)

    def refuse(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(output, "new report\n")
    assert output.read_bytes() == OLD_REPORT
    assert [p.name for p in tmp_path.iterdir()] == [output.name]


def test_write_atomic_text_that_is_not_utf8_leaves_the_old_file(tmp_path: Path) -> None:
    output = tmp_path / "report.txt"
    output.write_bytes(OLD_REPORT)
    with pytest.raises(OutputError, match="not valid UTF-8"):
        write_atomic(output, "half a pair: \ud800")
    assert output.read_bytes() == OLD_REPORT
    assert [p.name for p in tmp_path.iterdir()] == [output.name]


# -- messages are one line, whatever the input quotes ---------------------------------------


def test_error_text_escapes_line_breaks_and_terminal_controls() -> None:
    error = SpecError(
        "unknown argument `a\nb`",
        source="dir\nname/net\x1b[2J.yaml",
        line=3,
        layer="x\u2028y",
        hint="did\ryou\x85mean",
    )
    text = str(error)
    assert len(text.splitlines()) == 1
    assert "\x1b" not in text
    assert text == (
        "dir\\nname/net\\x1b[2J.yaml:3: layer 'x\\u2028y': unknown argument `a\\nb` "
        "(hint: did\\ryou\\x85mean)"
    )
    assert str(MbcalcError("a\nb", hint="c\td")) == "a\\nb (hint: c\\td)"


def test_a_long_unknown_word_is_cut_short() -> None:
    text = spec_text("- conv: {out: 8, " + "k" * 10_000 + ": 1}\n")
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source=FILE)
    assert len(str(caught.value)) < 400
