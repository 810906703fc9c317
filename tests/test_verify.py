"""`mbcalc.torch` and `mbcalc verify`: the analytic counts against a real PyTorch module.

Every shipped spec (a family's larger members at a reduced width and resolution), random
networks of every layer type, the module's padding and pooling arithmetic, and the command line
(pass, a broken formula, PyTorch missing).
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

import yaml  # noqa: E402 - after the skip: the whole module needs PyTorch
from hypothesis import HealthCheck, given, reject, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from mbcalc import Settings, Spec, SpecError, analyze, build_graph  # noqa: E402
from mbcalc.core.costs import FORMULAS, Counts, Dims, Geometry, conv_counts, fc_counts  # noqa: E402
from mbcalc.core.graph import OpKind  # noqa: E402
from mbcalc.pytorch import Network, Verification, build, verify  # noqa: E402
from mbcalc.spec import ACTIVATIONS  # noqa: E402
from mbcalc.spec.zoo import load_shipped  # noqa: E402
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc  # noqa: E402
from tests.helpers.process import run_python  # noqa: E402
from tests.helpers.strategies import networks, spec_of  # noqa: E402
from tests.helpers.zoo_cost import (  # noqa: E402
    REDUCED,
    at_fitting_size,
    checked_in_full,
    checked_reduced,
)

ROOT = Path(__file__).resolve().parents[1]

RANDOM = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def verified(spec: Spec, setting: Settings | None = None) -> Verification:
    return verify(analyze(build_graph(spec, setting)))


def assert_verifies(verification: Verification) -> None:
    assert verification.ok, verification.verdict
    total, got = verification.report.total.cost, verification.measured()
    assert (got.mult_adds, got.params, got.bn_params) == (
        total.mult_adds,
        total.params,
        total.bn_params,
    )


# -- every shipped spec ------------------------------------------------------------------------

# Odd and even sizes both: SAME padding with stride 2 is uneven (0 before, 1 after) on an even
# side for odd kernels, and even on an odd side; 97 and 65 halve through both.
SHIPPED_SETTINGS = [
    pytest.param(Settings(), id="alpha1"),
    pytest.param(Settings(alpha=Fraction(1, 2), res=97), id="alpha0.5-res97"),
    pytest.param(Settings(alpha=Fraction(3, 4), res=65), id="alpha0.75-res65"),
]


@pytest.mark.parametrize("setting", SHIPPED_SETTINGS)
@pytest.mark.parametrize("name", checked_in_full())
def test_shipped_spec_verifies(name: str, setting: Settings) -> None:
    assert_verifies(verified(load_shipped(name), at_fitting_size(name, setting)))


@pytest.mark.parametrize("name", checked_reduced())
def test_larger_family_member_verifies_at_a_reduced_resolution(name: str) -> None:
    """Deeper or wider members of a family verified in full (tests/helpers/zoo_cost.py)."""
    spec = load_shipped(name)
    assert_verifies(verified(spec, REDUCED.settings(spec.defaults)))


def test_mobilenet_v1_module_has_the_papers_counts() -> None:
    """The module a user trains: the paper's 4,210,088 params plus 21,888 BN params."""
    network = build("mobilenet_v1")
    assert sum(p.numel() for p in network.parameters()) == 4_210_088 + 21_888
    assert network(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)


# -- random networks ---------------------------------------------------------------------------


@RANDOM
@given(
    spec=networks(),
    alpha=st.integers(25, 150).map(lambda n: Fraction(n, 100)),
    res=st.integers(1, 40),
)
def test_random_networks_verify_at_any_setting(spec: Spec, alpha: Fraction, res: int) -> None:
    assert_verifies(verified(spec, Settings(alpha=alpha, res=res)))


@RANDOM
@given(spec=networks(fixed_width=True), res=st.integers(1, 40))
def test_random_fixed_width_networks_verify(spec: Spec, res: int) -> None:
    """Grouped convs, residual blocks and `add` merges too (they hold at alpha 1)."""
    assert_verifies(verified(spec, Settings(res=res)))


Layer = dict[str, dict[str, Any]]
ACTS = st.sampled_from(ACTIVATIONS)
SIDES = st.integers(1, 4)
PAIRS = st.one_of(SIDES, st.lists(SIDES, min_size=2, max_size=2))


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


@st.composite
def window(draw: st.DrawFn, *, keep_size: bool) -> dict[str, Any]:
    """kernel, stride and padding: `same`, valid or an integer that may exceed half the kernel;
    with `keep_size` stride 1 and `same` padding (inside residual blocks and branches)."""
    kernel = draw(PAIRS)
    if keep_size:
        return {"kernel": kernel, "stride": 1, "padding": "same"}
    k_h, k_w = pair(kernel)
    padding = draw(
        st.sampled_from(["same", "valid", [k_h // 2, k_w // 2], [k_h // 2 + 1, k_w // 2 + 2]])
    )
    return {
        "kernel": kernel,
        "stride": draw(st.one_of(st.integers(1, 3), PAIRS)),
        "padding": padding,
    }


@st.composite
def layer_list(
    draw: st.DrawFn, channels: int, depth: int, *, keep_size: bool = False, size: int = 5
) -> tuple[list[Layer], int]:
    """Random layers for an input of `channels` (at alpha 1), and their output channels."""
    layers: list[Layer] = []
    kinds = ["conv", "depthwise", "pointwise", "separable", "pool", "se", "mbconv"]
    if not keep_size:
        kinds += ["fc", "global"]
    if depth > 0:
        kinds += ["block", "residual", "concat", "add"]
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=size)):
        layer, channels = draw(one_layer(kind, channels, depth, keep_size))
        layers.append(layer)
    return layers, channels


@st.composite
def one_layer(
    draw: st.DrawFn, kind: str, channels: int, depth: int, keep_size: bool
) -> tuple[Layer, int]:
    if kind in ("block", "residual", "concat", "add"):
        return draw(nested_layer(kind, channels, depth, keep_size))
    act = draw(ACTS)
    out = draw(st.integers(1, 12))
    bias, bn = draw(st.booleans()), draw(st.booleans())
    if kind == "conv":
        shared = math.gcd(channels, out)
        groups = draw(st.sampled_from([g for g in range(1, shared + 1) if shared % g == 0]))
        args = {"out": out, "groups": groups, "bias": bias, "bn": bn, "act": act}
        return {"conv": {**draw(window(keep_size=keep_size)), **args}}, out
    if kind == "depthwise":
        multiplier = draw(st.integers(1, 3))
        args = {"multiplier": multiplier, "bias": bias, "bn": bn, "act": act}
        return {"depthwise": {**draw(window(keep_size=keep_size)), **args}}, channels * multiplier
    if kind == "pointwise":
        repeat = draw(st.integers(1, 2))
        return {
            "pointwise": {"out": out, "bias": bias, "bn": bn, "act": act, "repeat": repeat}
        }, out
    if kind == "separable":
        return {"separable": {**draw(window(keep_size=keep_size)), "out": out, "act": act}}, out
    if kind == "pool":
        args = {**draw(window(keep_size=keep_size)), "kind": draw(st.sampled_from(["avg", "max"]))}
        return {"pool": {**args, "ceil": draw(st.booleans()), "act": act}}, channels
    if kind == "global":
        return {"pool": {"global": True, "kind": draw(st.sampled_from(["avg", "max"]))}}, channels
    if kind == "fc":
        return {"fc": {"out": out, "bias": bias, "act": act}}, out
    if kind == "se":
        squeezes: list[dict[str, Any]] = [
            {"squeeze": 3},
            {"ratio": 0.25},
            {"ratio": 0.5, "divisor": 2},
        ]
        squeeze = draw(st.sampled_from(squeezes))
        gate = draw(st.sampled_from(["sigmoid", "hsigmoid"]))
        return {"se": {**squeeze, "act": act, "gate": gate}}, channels
    return draw(mbconv(channels, out, act, keep_size))


@st.composite
def nested_layer(
    draw: st.DrawFn, kind: str, channels: int, depth: int, keep_size: bool
) -> tuple[Layer, int]:
    """A block (residual or not) or a parallel merged by concat or add."""
    act = draw(ACTS)
    if kind == "block":
        inner, channels = draw(layer_list(channels, depth - 1, keep_size=keep_size, size=3))
        return {"block": {"layers": inner}}, channels  # `act` follows a residual add only
    if kind == "residual":
        inner, _ = draw(layer_list(channels, depth - 1, keep_size=True, size=3))
        inner.append({"pointwise": {"out": channels, "act": "none"}})
        return {"block": {"residual": True, "layers": inner, "act": act}}, channels
    branches: list[list[Layer]] = []
    total = 0
    for _ in range(draw(st.integers(1, 3))):
        branch, branch_out = draw(layer_list(channels, depth - 1, keep_size=True, size=2))
        if kind == "add":
            branch.append({"pointwise": {"out": channels}})
            branch_out = channels
        if draw(st.booleans()):
            branch, branch_out = [], channels  # the input passed through
        branches.append(branch)
        total += branch_out
    merged = channels if kind == "add" else total
    return {"parallel": {"merge": kind, "branches": branches, "act": act}}, merged


@st.composite
def mbconv(
    draw: st.DrawFn, channels: int, out: int, act: str, keep_size: bool
) -> tuple[Layer, int]:
    """An inverted residual: expand (a ratio, or absolute channels) or none, squeeze-and-excite
    or none, and a residual add where the shapes allow (auto) or never."""
    args: dict[str, Any] = {"out": out, "act": act}
    expansion = draw(st.sampled_from(["none", "ratio", "channels"]))
    if expansion == "ratio":
        args["expand"] = draw(st.sampled_from([1, 2, 3.5, 6]))
        args["expand_rounding"] = draw(st.sampled_from(["round", "floor", "divisible"]))
    elif expansion == "channels":
        args["expanded"] = draw(st.integers(1, 16))
    if draw(st.booleans()):
        args["se"] = draw(st.sampled_from([0.25, 0.5]))
        args["se_base"] = draw(st.sampled_from(["expanded", "input"]))
        args["se_act"] = draw(ACTS)
        args["se_gate"] = draw(st.sampled_from(["sigmoid", "hsigmoid"]))
        if draw(st.booleans()):
            args["se_divisor"] = draw(st.sampled_from([2, 4]))
    if keep_size:
        args["kernel"] = draw(PAIRS)
    else:
        args["kernel"] = draw(st.sampled_from([3, 5]))
        args["stride"] = draw(st.integers(1, 2))
    args["residual"] = draw(st.sampled_from(["auto", "never"]))
    return {"mbconv": args}, out


@st.composite
def every_layer_network(draw: st.DrawFn) -> Spec:
    channels = draw(st.integers(1, 6))
    layers, _ = draw(layer_list(channels, 2))
    height = draw(st.integers(1, 20))
    sizes: list[int | list[int]] = [height, [height, draw(st.integers(1, 20))]]
    size = draw(st.sampled_from(sizes))
    return spec_of(layers, size, channels)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_networks_of_every_layer_type_verify(data: st.DataObject) -> None:
    """Grouped convs, depthwise multipliers, pools in ceil mode and with any padding, fc,
    residual blocks, concat and add merges, squeeze-and-excite and mbconv, every activation."""
    try:
        spec = data.draw(every_layer_network())
        graph = build_graph(spec)
    except SpecError:  # a window that does not fit a small input: drawn again
        reject()
    assert_verifies(verify(graph))


# -- padding and pooling arithmetic -----------------------------------------------------------


def network_of(layers: list[Layer], size: int | list[int], channels: int = 2) -> Network:
    return build(spec_of(layers, size, channels))


@pytest.mark.parametrize(
    ("size", "kernel", "pads"),
    [(8, 3, (0, 1, 0, 1)), (7, 3, None), (8, 5, (1, 2, 1, 2)), (7, 5, None), (8, 1, None)],
)
def test_same_padding_is_tensorflows(size: int, kernel: int, pads: tuple[int, ...] | None) -> None:
    """Stride 2: the odd pixel of the padding after (bottom, right), by an explicit pad."""
    network = network_of([{"conv": {"out": 4, "kernel": kernel, "stride": 2}}], size)
    layer = network.ops[0]
    conv = layer.conv
    assert isinstance(conv, nn.Conv2d)
    if pads is None:
        assert "pad" not in layer._modules
        assert conv.padding == ((kernel - 1) // 2,) * 2
    else:
        assert isinstance(layer.pad, nn.ZeroPad2d)
        assert layer.pad.padding == pads
        assert conv.padding == (0, 0)
    assert network(torch.zeros(1, 2, size, size)).shape[2:] == (-(-size // 2),) * 2


def test_same_padding_matches_a_hand_computed_conv() -> None:
    """A 3x3 stride-2 SAME conv of a 4x4 ramp: rows and columns 0..2 and 2..4 (one pad)."""
    network = network_of([{"conv": {"out": 1, "kernel": 3, "stride": 2, "bn": False}}], 4, 1)
    conv = network.ops[0].conv
    assert isinstance(conv, nn.Conv2d)
    with torch.no_grad():
        conv.weight.fill_(1)
        x = torch.arange(16.0).reshape(1, 1, 4, 4)
        y = network(x)
    padded = torch.nn.functional.pad(x, (0, 1, 0, 1))
    expected = torch.tensor([[padded[0, 0, r : r + 3, c : c + 3].sum() for c in (0, 2)]
                             for r in (0, 2)])  # fmt: skip
    assert torch.equal(y[0, 0], torch.relu(expected))


def test_same_pools_ignore_their_padding() -> None:
    """An average counts only the input's pixels, a maximum never sees the padding."""
    avg = network_of([{"pool": {"kernel": 3, "stride": 2, "padding": "same"}}], 6)
    assert torch.equal(avg(torch.ones(1, 2, 6, 6)), torch.ones(1, 2, 3, 3))
    biggest = network_of([{"pool": {"kind": "max", "kernel": 2, "padding": "same"}}], 5)
    assert torch.equal(biggest(-torch.ones(1, 2, 5, 5)), -torch.ones(1, 2, 3, 3))


def test_pool_padding_beyond_half_the_kernel() -> None:
    """PyTorch refuses padding over half the kernel: padded explicitly, windows wholly in
    the padding give 0."""
    network = network_of([{"pool": {"kind": "max", "kernel": 1, "stride": 1, "padding": 1}}], 2)
    y = network(-torch.ones(1, 2, 2, 2))
    assert y.shape == (1, 2, 4, 4)
    assert torch.equal(y[0, 0, 1:3, 1:3], -torch.ones(2, 2))
    assert y[0, 0, 0].abs().sum() == 0


def test_pools_use_pytorchs_own_modules() -> None:
    network = build(load_shipped("googlenet"))
    maxpool = network.ops[network.op_names.index("maxpool1")].pool
    assert isinstance(maxpool, torch.nn.MaxPool2d)
    assert maxpool.ceil_mode
    avgpool = network.ops[network.op_names.index("avgpool")].pool
    assert isinstance(avgpool, torch.nn.AdaptiveAvgPool2d)


def test_fc_flattens_height_width_channels() -> None:
    """mbcalc's H x W x C order: input (h, w, c) meets weight column (h * W + w) * C + c."""
    network = network_of([{"fc": {"out": 1, "bias": False}}], [2, 3], 2)
    linear = network.ops[0].linear
    assert isinstance(linear, nn.Linear)
    with torch.no_grad():
        linear.weight.copy_(torch.arange(12.0).reshape(1, 12))
        x = torch.zeros(1, 2, 2, 3)
        x[0, 1, 1, 2] = 1  # channel 1, row 1, column 2
        assert network(x).item() == (1 * 3 + 2) * 2 + 1


def test_squeeze_and_excite_gates_with_a_sigmoid() -> None:
    """ReLU after fc1 and a sigmoid gate by default (torchvision's SqueezeExcitation), the
    unit's activation after fc1 in an mbconv; `gate` / `se_gate: hsigmoid` a hard one."""
    network = network_of([{"se": {"squeeze": 2}}], 3, 4)
    names = network.op_names
    assert names == ["se1.pool", "se1.fc1", "se1.fc2", "se1.scale"]
    assert isinstance(network.ops[1].act, torch.nn.ReLU)
    assert isinstance(network.ops[2].act, torch.nn.Sigmoid)
    assert isinstance(network.ops[3].act, torch.nn.Identity)
    hard_gate = network_of([{"se": {"squeeze": 2, "act": "hswish", "gate": "hsigmoid"}}], 3, 4)
    assert isinstance(hard_gate.ops[1].act, torch.nn.Hardswish)
    assert isinstance(hard_gate.ops[2].act, torch.nn.Hardsigmoid)
    unit = network_of([{"mbconv": {"out": 4, "se": 0.5, "act": "hswish"}}], 3, 4)
    assert isinstance(unit.ops[unit.op_names.index("mbconv1.se.fc1")].act, torch.nn.Hardswish)
    assert isinstance(unit.ops[unit.op_names.index("mbconv1.se.fc2")].act, torch.nn.Sigmoid)
    assert unit.op_names[-1] == "mbconv1.add"
    assert isinstance(unit.ops[-1].act, torch.nn.Identity)  # a linear bottleneck
    v3 = network_of(
        [
            {
                "mbconv": {
                    "out": 4,
                    "se": 0.5,
                    "se_act": "relu",
                    "se_gate": "hsigmoid",
                    "act": "hswish",
                }
            }
        ],
        3,
        4,
    )
    assert isinstance(v3.ops[v3.op_names.index("mbconv1.se.fc1")].act, torch.nn.ReLU)
    assert isinstance(v3.ops[v3.op_names.index("mbconv1.se.fc2")].act, torch.nn.Hardsigmoid)


def test_prelu_params_are_counted_apart() -> None:
    spec = spec_of([{"conv": {"out": 4, "act": "prelu"}}, {"pointwise": {"out": 3}}], 5, 2)
    verification = verified(spec)
    assert verification.ok
    assert verification.measured().act_params == 1


def test_build_takes_a_graph_a_spec_or_a_name() -> None:
    graph = build_graph(load_shipped("mobilenet_v1"), Settings(alpha=Fraction(1, 4), res=64))
    assert build(graph).graph is graph
    assert build("mobilenet_v1", Settings(res=64)).graph.resolution == (64, 64)
    with pytest.raises(ValueError, match="own settings"):
        build(graph, Settings())


def test_every_activation_has_a_module() -> None:
    from mbcalc.pytorch.network import ACTIVATIONS as MODULES

    assert set(MODULES) == set(ACTIVATIONS)


# -- the command line --------------------------------------------------------------------------


def test_verify_passes_with_a_table_and_exit_0() -> None:
    result = invoke_mbcalc("verify", "mobilenet_v1", "--alpha", "0.25", "--res", "65")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "sep13.dw" in result.stdout
    assert "FAIL" not in result.stdout
    assert "pass: all 29 ops match PyTorch" in result.stdout
    assert "mult-adds  " in result.stdout


def test_verify_a_file_with_rho(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "input": {"size": 33, "channels": 3},
                "layers": [{"mbconv": {"out": 8, "expand": 4, "se": 0.25, "stride": 2}}],
            }
        ),
        encoding="utf-8",
    )
    result = invoke_mbcalc("verify", str(path), "--rho", "0.5")
    assert result.exit_code == 0, result.output
    assert "17x17x3" in result.stdout


def broken_depthwise(geometry: Geometry, dims: Dims) -> Counts:
    mult_adds, params, bn_params = conv_counts(geometry, dims)
    return mult_adds + 1, params, bn_params


def test_verify_fails_naming_the_op_of_a_broken_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """One mult-add too many in the depthwise formula: every depthwise op differs."""
    monkeypatch.setitem(FORMULAS, OpKind.DEPTHWISE, broken_depthwise)
    result = invoke_mbcalc("verify", "mobilenet_v1", "--alpha", "0.25", "--res", "65")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "13 of 29 ops differ from PyTorch: sep1.dw (mult-adds)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "FAIL mult-adds: expected" in " ".join(result.stdout.split())
    assert "sep1.pw" in result.stdout


def test_verify_catches_a_wrong_param_count(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_bias(geometry: Geometry, dims: Dims) -> Counts:
        mult_adds, params, bn_params = fc_counts(geometry, dims)
        return mult_adds, params - dims.c_out if geometry.bias else params, bn_params

    monkeypatch.setitem(FORMULAS, OpKind.FC, no_bias)
    result = invoke_mbcalc("verify", "resnet18", "--res", "32")
    assert result.exit_code == 1
    assert "1 of 31 ops differ from PyTorch: fc (params)" in result.stderr
    assert "expected 512,000, got 513,000" in " ".join(result.stdout.split())


def test_verify_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails
    for module in (
        "mbcalc.pytorch.needs_torch",
        "mbcalc.pytorch.network",
        "mbcalc.pytorch.verification",
    ):
        monkeypatch.delitem(sys.modules, module)
    result = invoke_mbcalc("verify", "mobilenet_v1")
    assert_clean_failure(result, 1, "pip install 'mbcalc[torch]'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_refuses_a_bad_spec_like_every_command(tmp_path: Path) -> None:
    assert_clean_failure(invoke_mbcalc("verify", str(tmp_path / "absent.yaml")), 1, "absent.yaml")


def test_the_rest_of_mbcalc_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "import mbcalc\n"
        "from mbcalc.cli.app import app\n"
        "result = CliRunner().invoke(app, ['table', 'mobilenet_v1', '--format', 'json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    run_python(code)


def test_a_softmax_is_nn_softmax_over_the_channels() -> None:
    """After an fc the network's output is N x C, each row summing to 1; on a map the shape
    is unchanged. Both verify op by op."""
    head: list[Layer] = [{"pointwise": {"out": 4}}, {"pool": {"global": True}}, {"fc": {"out": 3}}]
    classifier = spec_of([*head, {"softmax": {}}], 5, 2)
    network = build(classifier)
    (softmax,) = [m for m in network.ops[-1].modules() if isinstance(m, torch.nn.Softmax)]
    assert softmax.dim == 1
    y = network(torch.randn(2, 2, 5, 5))
    assert y.shape == (2, 3)
    assert torch.allclose(y.sum(dim=1), torch.ones(2))
    assert_verifies(verify(build_graph(classifier)))
    on_a_map = spec_of([{"pointwise": {"out": 4}}, {"softmax": {}}], [3, 5], 2)
    assert build(on_a_map)(torch.randn(1, 2, 3, 5)).shape == (1, 4, 3, 5)
    assert_verifies(verify(build_graph(on_a_map)))
