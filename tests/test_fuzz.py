"""Fuzzing: whatever the input, mbcalc ends in a report or in one `MbcalcError` line.

(a) YAML-ish text built from a grammar of keys, values, indentation and brackets, mixed with
random text and bytes, and valid specs with random edits; (b) random spec trees over every layer
type, with valid and invalid arguments, nested blocks and parallels, repeats, odd sizes, strides,
paddings, groups, multipliers, alphas and resolutions. No other exception may escape.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mbcalc import MbcalcError, Settings, analyze, build_graph, parse_spec
from mbcalc.spec import load_spec
from mbcalc.views.export import to_json

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SOURCE = "fuzz.yaml"


def outcome(text: str, chosen: Settings | None = None) -> str:
    """Parse, build and analyze `text`: 'report' or 'error'; anything else escapes the test."""
    try:
        report = analyze(build_graph(parse_spec(text, source=SOURCE), chosen))
        to_json(report)  # every count stays an exact, printable integer
    except MbcalcError as error:
        assert_one_line(error)
        event(f"error: {type(error).__name__}")
        return "error"
    event("report")
    return "report"


def assert_one_line(error: MbcalcError) -> None:
    message = str(error)
    assert message
    assert message.splitlines() == [message], repr(message)
    assert "\x1b" not in message


# -- (a) YAML-ish text -----------------------------------------------------------------------

KEYS = (
    "input", "layers", "size", "channels", "name", "description", "rounding", "divisor",
    "batchnorm", "conv", "depthwise", "pointwise", "separable", "pool", "fc", "block",
    "parallel", "se", "out", "kernel", "stride", "padding", "groups", "repeat", "act",
    "multiplier", "branches", "merge", "residual", "squeeze", "ratio", "global", "kind", "bias",
    "bn", "scale", "<<", "strides", "seperable", "? [a]", "1", "true", "~", '"quoted key"',
)  # fmt: skip
VALUES = (
    "", "0", "1", "2", "3", "7", "16", "224", "-1", "1.5", "1e400", "0x10", "1_000",
    "99999999999999999999999999", "true", "false", "null", "~", "same", "valid", "bogus",
    "[3, 3]", "[3]", "[]", "{}", "[[]]", "[1, [2]]", "{out: 8}", "{size: 8}", "&a", "&a 3", "*a",
    "*b", "&a [*a]", "!!int abc", "!!float x", "!!bool maybe", "!!binary AAAA", "!!str 3",
    "!!timestamp 2001-12-14", "!foo 3", "'text'", '"\\u263a"', '"\\x1b[31m"', '"a\\nb"', ".nan",
    ".inf", "-.inf", "|", ">", "- 1", "relu", "relu6", "hswish", "concat", "add", "avg", "max",
    "0.25", "1/4", "#comment", "%YAML 1.1", "---", "...", "@", "`", "\t",
)  # fmt: skip
PUNCTUATION = ("[", "]", "{", "}", ",", ":", "- ", "? ", "&x ", "*x", "!", "|", ">", "'", '"')


@st.composite
def yaml_line(draw: st.DrawFn) -> str:
    indent = draw(st.sampled_from(("", "  ", "    ", "      ", " ", "\t", "  \t")))
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        dash = draw(st.sampled_from(("", "", "- ", "-")))
        key = draw(st.sampled_from(KEYS))
        value = draw(st.sampled_from(VALUES))
        return f"{indent}{dash}{key}: {value}".rstrip()
    if kind <= 7:
        return indent + "".join(
            draw(st.lists(st.sampled_from(PUNCTUATION + KEYS + VALUES), max_size=8))
        )
    return indent + draw(st.text(max_size=20))


yaml_text = st.lists(yaml_line(), max_size=25).map("\n".join)

BASE_SPECS = (
    "input: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 8, stride: 2}\n"
    "  - separable: {out: 16}\n  - pool: {global: true}\n  - fc: {out: 10}\n",
    "name: tiny\ninput:\n  size: [17, 9]\n  channels: 4\nrounding: divisible\ndivisor: 4\n"
    "layers:\n  - block:\n      residual: true\n      repeat: 2\n      layers:\n"
    "        - pointwise: {out: 8}\n        - depthwise: {kernel: 5}\n"
    "        - se: {ratio: 0.25}\n        - pointwise: {out: 4, act: none}\n",
    "input: {size: 12}\nlayers:\n  - parallel:\n      merge: concat\n      branches:\n"
    "        - []\n        - [{conv: {out: 4, kernel: 1}}]\n"
    "        - [{pool: {kind: max, kernel: 3, stride: 1, padding: 1}}]\n"
    "  - conv: {out: 6, groups: 2, padding: valid}\n",
)


@st.composite
def edited_spec(draw: st.DrawFn) -> str:
    """A valid spec with a few random insertions, deletions and replacements."""
    text = draw(st.sampled_from(BASE_SPECS))
    for _ in range(draw(st.sampled_from((0, 1, 1, 2, 3)))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 6))
        insert = draw(
            st.one_of(
                st.sampled_from(PUNCTUATION + VALUES + ("\n", "  ", "\t", "0", "9" * 12)),
                st.text(max_size=4),
            )
        )
        text = text[:at] + insert + text[at + cut :]
    return text


@pytest.mark.slow
@FUZZ
@given(yaml_text)
def test_yaml_like_text_ends_in_a_report_or_one_error_line(text: str) -> None:
    outcome(text)


@FUZZ
@given(edited_spec())
def test_edited_specs_end_in_a_report_or_one_error_line(text: str) -> None:
    outcome(text)


@FUZZ
@given(st.one_of(st.binary(max_size=200), yaml_text.map(lambda text: text.encode("utf-8"))))
def test_any_bytes_in_a_file_end_in_a_report_or_one_error_line(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / SOURCE
        path.write_bytes(raw)
        try:
            analyze(build_graph(load_spec(path)))
        except MbcalcError as error:
            assert_one_line(error)


# -- (b) random spec trees -------------------------------------------------------------------
# Each argument has a strategy of sensible values; a layer draws its arguments either from those
# alone (so that many networks build) or from those mixed with wrong ones and unknown keys.

Strategies = dict[str, st.SearchStrategy[Any]]

WRONG = st.sampled_from(
    (None, 0, -1, -7, 1.5, True, "abc", "", [], {}, [1], [1, 2, 3], {"a": 1}, 10**12, 2**70,
     10**400, -(10**400), float("nan"), float("inf"), "a\nb", "\x1b[31m")
)  # fmt: skip
SMALL = st.integers(1, 9)
NUMBER = st.one_of(SMALL, SMALL, st.integers(10, 300))
PAIR = st.one_of(NUMBER, st.lists(SMALL, min_size=2, max_size=2))
PADDING = st.one_of(st.sampled_from(("same", "valid")), st.integers(0, 4), PAIR)
ACT = st.sampled_from(("relu", "relu6", "hswish", "none", "sigmoid"))
NAME = st.one_of(
    st.sampled_from(("stem", "head", "é", "a_2", "conv1")),
    st.text("abcdefghij_0123456789", min_size=1, max_size=8),
)

VALID_COMMON: Strategies = {"name": NAME, "repeat": st.integers(1, 3), "act": ACT}
VALID_ARGS: dict[str, Strategies] = {
    "conv": {
        "out": NUMBER,
        "kernel": PAIR,
        "stride": PAIR,
        "padding": PADDING,
        "groups": st.sampled_from((1, 1, 2, 3, 4, 8)),
        "bias": st.booleans(),
        "bn": st.booleans(),
        "scale": st.booleans(),
    },
    "depthwise": {
        "kernel": PAIR,
        "stride": PAIR,
        "padding": PADDING,
        "multiplier": st.integers(1, 3),
        "bias": st.booleans(),
        "bn": st.booleans(),
    },
    "pointwise": {"out": NUMBER, "bias": st.booleans(), "bn": st.booleans()},
    "separable": {
        "out": NUMBER,
        "kernel": PAIR,
        "stride": PAIR,
        "padding": PADDING,
        "bn": st.booleans(),
        "scale": st.booleans(),
    },
    "pool": {"kind": st.sampled_from(("avg", "max")), "kernel": PAIR, "stride": PAIR},
    "fc": {"out": NUMBER, "bias": st.booleans(), "scale": st.booleans()},
    "se": {},
}
REQUIRED: dict[str, Strategies] = {
    "conv": {"out": NUMBER},
    "pointwise": {"out": NUMBER},
    "separable": {"out": NUMBER},
    "fc": {"out": NUMBER},
    "pool": {"kernel": PAIR},
    "se": {"ratio": st.sampled_from((0.25, 0.5, 1, 1.0, 0.1))},
}
WILD_EXTRA: dict[str, Strategies] = {
    "pool": {"global": st.booleans(), "padding": st.one_of(PADDING, st.just(-1))},
    "se": {"squeeze": st.one_of(NUMBER, WRONG), "ratio": st.sampled_from((0.0, 2, -0.5, ".5"))},
}
WILD_COMMON: Strategies = {
    "name": st.one_of(NAME, st.sampled_from(("x.y", "", " ", "a\nb", "\x1b[2J")), WRONG),
    "repeat": st.one_of(st.integers(1, 3), WRONG),
    "act": st.one_of(ACT, st.sampled_from(("relu7", "", 3))),
    "bogus": WRONG,
    "strides": SMALL,
    "bad\nkey": WRONG,
}


def wild(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, WRONG, st.sampled_from(("bogus", "SAME", [3])))


def valid_arguments(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    required = REQUIRED.get(kind, {})
    optional = {k: v for k, v in VALID_ARGS[kind].items() if k not in required}
    return st.fixed_dictionaries(required, optional={**VALID_COMMON, **optional})


def wild_arguments(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    known = {**VALID_ARGS.get(kind, {"out": NUMBER}), **WILD_EXTRA.get(kind, {})}
    optional = {k: wild(v) for k, v in known.items()}
    return st.fixed_dictionaries({}, optional={**WILD_COMMON, **optional})


def leaf(kind: str, body: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.builds(lambda args: {kind: args}, body)


VALID_LEAF = st.one_of([leaf(kind, valid_arguments(kind)) for kind in VALID_ARGS])
WILD_LEAF = st.one_of(
    [leaf(kind, wild_arguments(kind)) for kind in (*VALID_ARGS, "lstm", "seperable")]
)
LEAF = st.one_of(VALID_LEAF, VALID_LEAF, VALID_LEAF, WILD_LEAF)
ODD_ITEM: st.SearchStrategy[Any] = st.sampled_from(
    ("conv", 3, None, [], {"conv": {"out": 4}, "fc": {"out": 2}}, {})
)


def nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    layer_list = st.lists(children, min_size=1, max_size=3)
    branches = st.lists(st.lists(children, max_size=3), min_size=1, max_size=3)
    block = st.fixed_dictionaries(
        {"layers": st.one_of(layer_list, layer_list, layer_list, WRONG)},
        optional={**VALID_COMMON, "residual": st.one_of(st.booleans(), WRONG)},
    ).map(lambda args: {"block": args})
    parallel = st.fixed_dictionaries(
        {"branches": st.one_of(branches, branches, branches, WRONG)},
        optional={**VALID_COMMON, "merge": st.sampled_from(("concat", "add", "add", "sum"))},
    ).map(lambda args: {"parallel": args})
    return st.one_of(block, parallel)


LAYER = st.recursive(
    st.one_of(LEAF, LEAF, LEAF, LEAF, LEAF, LEAF, LEAF, ODD_ITEM), nested, max_leaves=12
)
SIZE = st.one_of(
    st.integers(1, 64),
    st.sampled_from((1, 2, 3, 7, 224)),
    st.lists(st.integers(1, 40), min_size=2, max_size=2),
)

spec_tree = st.fixed_dictionaries(
    {
        "input": st.one_of(
            st.fixed_dictionaries({"size": SIZE}, optional={"channels": st.integers(1, 16)}),
            st.fixed_dictionaries(
                {"size": wild(SIZE)},
                optional={"channels": wild(st.integers(1, 16)), "sizes": SMALL},
            ),
            WRONG,
        ),
        "layers": st.one_of(st.lists(LAYER, min_size=1, max_size=6), WRONG),
    },
    optional={
        "name": st.one_of(NAME, WRONG),
        "rounding": st.sampled_from(("floor", "divisible", "divisible", "ceil")),
        "divisor": st.one_of(st.sampled_from((1, 4, 8)), WRONG),
        "batchnorm": st.one_of(st.booleans(), WRONG),
    },
)

ALPHA = st.one_of(
    st.sampled_from((1, 2, 3, 4, 5, 10, 25, 50, 75, 100, 140, 200, 1000)).map(
        lambda n: Fraction(n, 100)
    ),
    st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(10**4), max_denominator=1000),
    st.sampled_from((Fraction(0), Fraction(-1), Fraction(10) ** 12, Fraction(10) ** 400)),
)
RESOLUTION: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.integers(-1, 300).map(lambda res: {"res": res}),
    st.sampled_from(
        (Fraction(1, 100), Fraction(1, 2), Fraction(3, 4), Fraction(2), Fraction(0))
    ).map(lambda rho: {"rho": rho}),
    st.just({"res": 64, "rho": Fraction(1)}),
)


@pytest.mark.slow
@FUZZ
@given(spec_tree, ALPHA, RESOLUTION)
def test_random_spec_trees_end_in_a_report_or_one_error_line(
    tree: dict[str, Any], alpha: Fraction, resolution: dict[str, Any]
) -> None:
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    try:
        chosen = Settings(alpha=alpha, **resolution)
    except MbcalcError as error:
        assert_one_line(error)
        chosen = None
    outcome(text, chosen)


@FUZZ
@given(st.lists(VALID_LEAF, min_size=1, max_size=8), ALPHA)
def test_random_layer_sequences_end_in_a_report_or_one_error_line(
    layers: list[Any], alpha: Fraction
) -> None:
    """Valid arguments on a roomy input: many build a full report, the rest fail on shapes."""
    tree = {"input": {"size": 64, "channels": 12}, "layers": layers}
    try:
        chosen = Settings(alpha=alpha)
    except MbcalcError as error:
        assert_one_line(error)
        chosen = None
    outcome(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True), chosen)
