"""Counting profiles reproduce other tools' published totals for the shipped specs.

MobileNet v1 1.0-224 as a PyTorch model with a batch norm after every conv, an
nn.AdaptiveAvgPool2d and an nn.Softmax: the shipped spec with a `softmax` layer declared at
its end. torchvision's mobilenet_v2 pools functionally and ends without a softmax, so the tools
see no pooling or softmax there. (The real tools on mbcalc.torch's modules:
test_profiles_tools.py.)
"""

from __future__ import annotations

import math

import pytest

from mbcalc import analyze, build_graph
from mbcalc.core.profiles import PROFILES, Extra, ParamsRule, count, custom_profile, parse_extras
from mbcalc.spec import parse_spec
from mbcalc.spec.zoo import _archs_dir, load_shipped
from tests.helpers.cli import invoke_mbcalc, ok

V1_MULT_ADDS = 568_740_352  # the paper's MobileNet v1 1.0-224
V2_MULT_ADDS = 300_774_272  # conv + fc mult-adds of torchvision mobilenet_v2

# Other tools' published totals for MobileNet v1 1.0-224 and for mobilenet_v2.
V1_TOTALS = {
    "torch": 1_137_480_704,  # torch.utils.flop_counter
    "fvcore": 578_875_904,
    "thop": 588_965_303,
    "ptflops": 589_013_456,
}
V2_TOTALS = {"fvcore": 314_193_216, "thop": 327_486_720}

V1 = analyze(build_graph(load_shipped("mobilenet_v1")))
V1_TEXT = (_archs_dir() / "mobilenet_v1.yaml").read_text()
V1_SOFTMAX = analyze(build_graph(parse_spec(V1_TEXT.rstrip() + "\n  - softmax: {}\n")))


def bn_elements() -> int:
    """Outputs of every conv with a batch norm: conv1 and both convs of the 13 units."""
    total = 112 * 112 * 32
    size, channels = 112, 32
    for stride, out in (
        (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512), (1, 512),
        (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
    ):  # fmt: skip
        size = -(-size // stride)
        total += size * size * channels + size * size * out
        channels = out
    return total


def test_the_paper_counts_mult_adds_only() -> None:
    counted = count(V1, PROFILES["paper"])
    assert counted.operations == V1_MULT_ADDS
    assert counted.params == 4_210_088


@pytest.mark.parametrize("name", V1_TOTALS)
def test_mobilenet_v1_totals_of_other_tools(name: str) -> None:
    assert count(V1_SOFTMAX, PROFILES[name]).operations == V1_TOTALS[name]


@pytest.mark.parametrize("name", V1_TOTALS)
def test_a_softmax_is_counted_only_where_the_spec_declares_one(name: str) -> None:
    """Without the softmax layer thop loses 3n - 1 and ptflops n, for n = 1000 classes."""
    softmax = {"thop": 3 * 1000 - 1, "ptflops": 1000}.get(name, 0)
    assert count(V1, PROFILES[name]).operations == V1_TOTALS[name] - softmax


def test_the_totals_decompose_as_documented() -> None:
    """What each tool adds, from the shapes: BN outputs, the pool's 7x7x1024 input, 1000 classes."""
    bn, pool_in, classes = bn_elements(), 7 * 7 * 1024, 1000
    assert V1_TOTALS["torch"] == 2 * V1_MULT_ADDS
    assert V1_TOTALS["fvcore"] == V1_MULT_ADDS + 2 * bn + pool_in
    assert V1_TOTALS["thop"] == V1_MULT_ADDS + 4 * bn + pool_in + 1024 + (3 * classes - 1)
    relu = bn  # a ReLU follows every batch norm
    ptflops = V1_MULT_ADDS + classes + 2 * bn + 2 * relu + 2 * pool_in + classes
    assert V1_TOTALS["ptflops"] == ptflops
    extras = count(V1, PROFILES["fvcore"]).extras
    assert extras == {Extra.BN: 2 * bn, "pool.global": pool_in}


def test_mobilenet_v2_totals_of_other_tools() -> None:
    v2 = analyze(build_graph(load_shipped("mobilenet_v2")))
    assert v2.total.cost.mult_adds == V2_MULT_ADDS
    # fvcore counts functional adaptive pooling too: its 7x7x1280 input.
    fvcore = count(v2, PROFILES["fvcore"])
    assert fvcore.operations == V2_TOTALS["fvcore"]
    assert fvcore.extras["pool.global"] == 7 * 7 * 1280
    # torchvision pools with a function and has no softmax: thop sees neither.
    thop = custom_profile(
        PROFILES["thop"], False, parse_extras("pool=0,pool_out=0,softmax=0,softmax_sum=0"), None
    )
    assert count(v2, thop).operations == V2_TOTALS["thop"]


@pytest.mark.parametrize(
    ("rule", "params"),
    [
        (ParamsRule.PAPER, 4_210_088),
        (ParamsRule.TORCH, 4_210_088 + 2 * 10_944),  # + BN scale and shift
        (ParamsRule.KERAS, 4_253_864),  # Keras MobileNet model.summary()
    ],
)
def test_params_rules(rule: ParamsRule, params: int) -> None:
    profile = custom_profile(PROFILES["paper"], False, {}, rule)
    assert count(V1, profile).params == params


def test_the_cli_states_the_profile_in_every_report() -> None:
    assert "profile" in ok("table", "mobilenet_v1")
    assert "profile: paper" in ok("table", "mobilenet_v1", "--format", "markdown")
    text = ok("table", "mobilenet_v1", "--profile", "fvcore")
    assert f"{V1_TOTALS['fvcore']:,} operations" in text
    flops = ok("table", "mobilenet_v1", "--flops", "--format", "markdown")
    assert f"{V1_TOTALS['torch']:,} FLOPs" in flops


def test_count_and_params_options_in_json() -> None:
    import json

    data = json.loads(
        ok("table", "mobilenet_v1", "--count", "bn=2,pool", "--params", "keras", "-f", "json")
    )
    assert data["profile"]["extras"] == {"bn": 2, "pool": 1}
    assert data["total"]["counted"]["operations"] == V1_TOTALS["fvcore"]
    assert data["total"]["counted"]["params"] == 4_253_864
    assert data["total"]["mult_adds"] == V1_MULT_ADDS  # the report's own counts never change


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--profile", "nope"), "--profile"),
        (("--count", "magic"), "--count"),
        (("--count", "bn=two"), "--count"),
        (("--params", "tf"), "--params"),
    ],
)
def test_bad_profile_options_are_usage_errors(args: tuple[str, ...], word: str) -> None:
    result = invoke_mbcalc("table", "mobilenet_v1", *args)
    assert result.exit_code == 2
    assert word in result.stderr
    assert "Traceback" not in result.output


def test_every_element_count_is_derived_from_the_graph() -> None:
    sizes = dict.fromkeys(Extra, 0)
    for row in V1.rows:
        if row.op.bn:
            sizes[Extra.BN] += math.prod(row.op.output)
    assert sizes[Extra.BN] == bn_elements()
