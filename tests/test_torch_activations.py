"""The activations `mbcalc.torch.build` places, in the order a forward pass calls them.

torchvision cannot be imported here, so its activation sequences are derived in each test from its
source (https://github.com/pytorch/vision): torchvision/models/resnet.py (`BasicBlock`,
`Bottleneck`, `ResNet.forward`) and torchvision/models/mobilenetv3.py (`InvertedResidual`,
`_mobilenet_v3_conf`'s rows, the tables of tests/helpers/mobile_torch.py) with
torchvision/ops/misc.py `SqueezeExcitation` (fc1, `activation` = ReLU, fc2, `scale_activation`).
The mobile networks are also checked against the PyTorch rebuild of tests/helpers/mobile_torch.py.
And `verify` must fail where the module's activations differ from the report's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import mbcalc.pytorch.network  # noqa: E402
from mbcalc import Settings, analyze, build_graph  # noqa: E402
from mbcalc.core.graph import Op, OpKind  # noqa: E402
from mbcalc.core.report import Report  # noqa: E402
from mbcalc.pytorch.network import ACTIVATIONS, Merge, build  # noqa: E402
from mbcalc.pytorch.verification import verify  # noqa: E402
from mbcalc.spec.zoo import load_shipped  # noqa: E402
from tests.helpers import mobile_torch  # noqa: E402 - after the skip: these need PyTorch
from tests.helpers.cli import invoke_mbcalc  # noqa: E402

ACTIVATION_TYPES = tuple({make for make in ACTIVATIONS.values() if make is not None})


def calls(module: nn.Module, size: int) -> list[str]:
    """The class of every activation module called by a forward pass, in order."""
    called: list[str] = []
    handles = [
        part.register_forward_hook(lambda m, i, o: called.append(type(m).__name__))
        for part in module.modules()
        if isinstance(part, ACTIVATION_TYPES)
    ]
    try:
        with torch.no_grad():
            module.eval()(torch.zeros(1, 3, size, size))
    finally:
        for handle in handles:
            handle.remove()
    return called


def resnet(block_calls: list[str], blocks: tuple[int, ...]) -> list[str]:
    """`ResNet.forward`: conv1, bn1, relu, then every block of layer1..layer4."""
    return ["ReLU"] + block_calls * sum(blocks)


# BasicBlock.forward: relu after bn1; `out += identity; out = self.relu(out)`.
RESNET18 = resnet(["ReLU", "ReLU"], (2, 2, 2, 2))
# Bottleneck.forward: relu after bn1 and bn2; `out += identity; out = self.relu(out)`.
RESNET50 = resnet(["ReLU", "ReLU", "ReLU"], (3, 4, 6, 3))


def mobilenet_v3(rows: tuple[tuple[Any, ...], ...]) -> list[str]:
    """MobileNetV3: the stem's Hardswish; per InvertedResidual row (input, kernel, expanded,
    out, SE, NL, stride) the expansion's activation where expanded != input, the depthwise
    conv's, SqueezeExcitation's ReLU and Hardsigmoid where SE, a linear projection, no
    activation after the add; the last conv's Hardswish and the classifier's."""
    sequence = ["Hardswish"]
    for inp, _, expanded, _, se, nl, _ in rows:
        act = "Hardswish" if nl == "HS" else "ReLU"
        sequence += [act] * (2 if expanded != inp else 1)
        sequence += ["ReLU", "Hardsigmoid"] if se else []
    return [*sequence, "Hardswish", "Hardswish"]


EXPECTED = {
    "resnet18": RESNET18,
    "resnet50": RESNET50,
    "mobilenet_v3_large": mobilenet_v3(mobile_torch.V3_LARGE),
    "mobilenet_v3_small": mobilenet_v3(mobile_torch.V3_SMALL),
}


def test_the_derivations_count_torchvisions_activations() -> None:
    assert (len(RESNET18), len(RESNET50)) == (1 + 2 * 8, 1 + 3 * 16)
    large = EXPECTED["mobilenet_v3_large"]
    assert (large.count("Hardsigmoid"), large.count("Hardswish")) == (8, 1 + 2 * 9 + 2)  # 9 HS rows


@pytest.mark.parametrize("name", EXPECTED)
def test_built_network_calls_torchvisions_activations(name: str) -> None:
    assert calls(build(name, Settings(res=64)), 64) == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "rebuild"),
    [
        ("mobilenet_v3_large", lambda: mobile_torch.MobileNetV3("large")),
        ("mobilenet_v3_small", lambda: mobile_torch.MobileNetV3("small")),
        ("mobilenet_v2", mobile_torch.MobileNetV2),
        ("efficientnet_b0", mobile_torch.EfficientNet),
    ],
)
def test_built_network_calls_the_rebuilds_activations(name: str, rebuild: Any) -> None:
    assert calls(build(name, Settings(res=64)), 64) == calls(rebuild(), 64)


# -- verify sees activations -------------------------------------------------------------------


def merges_without_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder as it was: nothing after an add or a concat, whatever the report says."""
    original = mbcalc.pytorch.network._op_module

    def builder(op: Op) -> nn.Module:
        if op.kind in (OpKind.ADD, OpKind.CONCAT):
            return Merge(op.kind, None)
        return original(op)

    monkeypatch.setattr(mbcalc.pytorch.network, "_op_module", builder)


def test_verify_fails_where_a_merge_lost_its_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    merges_without_activation(monkeypatch)
    verification = verify(build_graph(load_shipped("resnet18"), Settings(res=32)))
    failed = {check.row.op.name: check.mismatches for check in verification.failed}
    adds = [f"layer{stage}.{block}.add" for stage in range(1, 5) for block in range(2)]
    assert failed == dict.fromkeys(adds, (("activation", "ReLU", "none"),))
    result = invoke_mbcalc("verify", "resnet18", "--res", "32")
    assert result.exit_code == 1
    assert "8 of 31 ops differ from PyTorch: layer1.0.add (activation)" in result.stderr
    assert "FAIL activation: expected ReLU, got none" in " ".join(result.stdout.split())


def test_verify_fails_on_a_report_whose_gate_is_not_the_modules() -> None:
    """The report as it was: MobileNetV3's gate labelled with the unit's activation."""
    report = analyze(build_graph(load_shipped("mobilenet_v3_small"), Settings(res=64)))
    assert verify(report).ok
    rows = tuple(
        dataclasses.replace(row, op=dataclasses.replace(row.op, act="hswish"))
        if row.op.name == "features.4.se.fc2"
        else row
        for row in report.rows
    )
    (check,) = verify(Report(report.graph, rows, report.units, report.total)).failed
    assert check.row.op.name == "features.4.se.fc2"
    assert check.mismatches == (("activation", "Hardswish", "Hardsigmoid"),)
