"""The activation after each op, as the report and its JSON record it.

A block's or parallel's `act` follows its merge (a residual or branch add, a concat); an mbconv
unit's add is linear; squeeze-and-excite has its own activation after fc1 and its gate after fc2.
Expected activations come from torchvision's source (https://github.com/pytorch/vision):
torchvision/models/resnet.py, squeezenet.py, googlenet.py, mobilenetv2.py, mobilenetv3.py,
efficientnet.py and torchvision/ops/misc.py `SqueezeExcitation`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mbcalc import build_graph
from mbcalc.core.graph import Op
from mbcalc.spec import Se, parse_spec
from tests.helpers.cli import ok
from tests.helpers.strategies import spec_of
from tests.helpers.torchvision_figures import V3_BLOCKS

# torchvision/models/resnet.py: resnet18 is BasicBlock x [2, 2, 2, 2], resnet50 Bottleneck x
# [3, 4, 6, 3]; both blocks end `out += identity; out = self.relu(out)`.
RESNET_BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3)}


def json_layers(name: str) -> dict[str, dict[str, Any]]:
    data = json.loads(ok("table", name, "--format", "json"))
    return {layer["name"]: layer for layer in data["layers"]}


def ops_of(layers: list[Any], size: int = 8, channels: int = 4) -> dict[str, Op]:
    return {op.name: op for op in build_graph(spec_of(layers, size, channels)).ops}


@pytest.mark.parametrize("name", RESNET_BLOCKS)
def test_resnet_residual_adds_are_followed_by_relu(name: str) -> None:
    layers = json_layers(name)
    adds = {key: layer for key, layer in layers.items() if layer["op"] == "add"}
    expected = {
        f"layer{stage}.{block}.add"
        for stage, count in enumerate(RESNET_BLOCKS[name], start=1)
        for block in range(count)
    }
    assert set(adds) == expected
    assert {layer["act"] for layer in adds.values()} == {"relu"}


@pytest.mark.parametrize("name", V3_BLOCKS)
def test_mobilenet_v3_squeeze_and_excite_is_relu_then_hard_sigmoid(name: str) -> None:
    """mobilenetv3.py: `partial(SElayer, scale_activation=nn.Hardsigmoid)`, whose fc1 is
    followed by SqueezeExcitation's default `activation=nn.ReLU`, whatever the block's NL."""
    layers = json_layers(name)
    for block, (_, se, _) in enumerate(V3_BLOCKS[name], start=1):
        unit = f"features.{block}.se"
        if not se:
            assert f"{unit}.fc1" not in layers
            continue
        acts = [layers[f"{unit}.{part}"]["act"] for part in ("pool", "fc1", "fc2", "scale")]
        assert acts == ["none", "relu", "hsigmoid", "none"], unit


def test_efficientnet_squeeze_and_excite_is_silu_then_sigmoid() -> None:
    """efficientnet.py: `se_layer(expanded_channels, squeeze_channels, activation=nn.SiLU)`,
    SqueezeExcitation's default `scale_activation=nn.Sigmoid`."""
    layers = json_layers("efficientnet_b0")
    fc1 = [layer["act"] for key, layer in layers.items() if key.endswith(".se.fc1")]
    fc2 = [layer["act"] for key, layer in layers.items() if key.endswith(".se.fc2")]
    assert fc1 == ["swish"] * 16
    assert fc2 == ["sigmoid"] * 16


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0", "mobilenet_v3_large"])
def test_inverted_residual_adds_stay_linear(name: str) -> None:
    """mobilenetv2.py `return x + self.conv(x)`; mobilenetv3.py and efficientnet.py
    `result += input`: nothing follows the add."""
    adds = [layer for layer in json_layers(name).values() if layer["op"] == "add"]
    assert adds
    assert {layer["act"] for layer in adds} == {"none"}


@pytest.mark.parametrize("name", ["squeezenet1_1", "googlenet"])
def test_concatenations_are_not_activated_their_branches_are(name: str) -> None:
    """squeezenet.py's Fire: ReLU after each expand conv, then `torch.cat`; googlenet.py's
    BasicConv2d ends with its ReLU, Inception concatenates the branches as they are."""
    layers = json_layers(name).values()
    concats = [layer for layer in layers if layer["op"] == "concat"]
    assert concats
    assert {layer["act"] for layer in concats} == {"none"}
    assert {layer["act"] for layer in layers if layer["op"] == "conv"} == {"relu"}


def test_merges_carry_their_layers_activation() -> None:
    branches = [[{"conv": {"out": 4}}], []]
    residual = [{"conv": {"out": 8}}]
    ops = ops_of(
        [
            {"parallel": {"name": "sum", "merge": "add", "act": "hswish", "branches": branches}},
            {"parallel": {"name": "cat", "act": "relu6", "branches": branches}},
            {"block": {"name": "res", "residual": True, "act": "relu", "layers": residual}},
            {"block": {"name": "plain", "act": "none", "layers": residual}},
            {"pool": {"name": "down", "kernel": 2, "act": "relu"}},
            {"parallel": {"name": "quiet", "branches": [[], []]}},
        ]
    )
    acts = {name: ops[name].act for name in ("cat.concat", "sum.add", "res.add", "down")}
    assert acts == {"cat.concat": "relu6", "sum.add": "hswish", "res.add": "relu", "down": "relu"}
    assert ops["quiet.concat"].act == "none"  # the default
    assert ops["res.conv1"].act == ops["plain.conv1"].act == "relu"


def test_mbconv_add_is_linear_whatever_the_units_act() -> None:
    ops = ops_of([{"mbconv": {"out": 4, "expand": 2, "act": "hswish"}}])
    assert [ops[name].act for name in ops] == ["hswish", "hswish", "none", "none"]
    assert list(ops)[-1] == "mbconv1.add"


def test_squeeze_and_excite_defaults_and_arguments() -> None:
    """A standalone `se` is torchvision's SqueezeExcitation by default: ReLU, then sigmoid."""
    parts = ("pool", "fc1", "fc2", "scale")
    plain = ops_of([{"se": {"ratio": 0.5}}])
    assert [plain[f"se1.{part}"].act for part in parts] == ["none", "relu", "sigmoid", "none"]
    hard = ops_of([{"se": {"ratio": 0.5, "act": "hswish", "gate": "hsigmoid"}}])
    assert [hard[f"se1.{part}"].act for part in parts] == ["none", "hswish", "hsigmoid", "none"]
    unit = ops_of([{"mbconv": {"out": 4, "se": 0.5, "act": "swish"}}])
    assert [unit[f"mbconv1.se.{part}"].act for part in parts] == [
        "none", "swish", "sigmoid", "none",
    ]  # fmt: skip
    gate = {"se_act": "relu", "se_gate": "hsigmoid"}
    v3 = ops_of([{"mbconv": {"out": 4, "se": 0.5, "act": "hswish", **gate}}])
    assert [v3[f"mbconv1.se.{part}"].act for part in parts] == ["none", "relu", "hsigmoid", "none"]
    assert v3["mbconv1.dw"].act == "hswish"


def test_se_gate_and_act_are_parsed_onto_the_layer() -> None:
    text = "input: {size: 4, channels: 8}\nlayers:\n  - se: {squeeze: 2, gate: hsigmoid}\n"
    (layer,) = parse_spec(text).layers
    assert isinstance(layer, Se)
    assert (layer.act, layer.gate) == ("relu", "hsigmoid")
