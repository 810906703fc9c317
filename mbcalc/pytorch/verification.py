"""The check that PyTorch counts what mbcalc counts, as data (`mbcalc.views.verify_view` shows it).

`verify(report)` runs the module on zeros and compares, op by op, the output shape, the params
and BN params of the op's submodules and the mult-adds measured by forward hooks on every
`Conv2d` and `Linear` and on attention's two matrix products (from the real tensors' shapes)
with the report's analytic counts, and the
activation module the op's submodule holds with the report's `act`. An auxiliary head's ops
do not run in eval: their params, BN params and activation are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mbcalc.core.graph import Graph
from mbcalc.core.limits import check_verify_bytes
from mbcalc.core.report import OpRow, Report, analyze
from mbcalc.deploy.dtypes import DType
from mbcalc.deploy.memory import bytes_of_weights, memory_report
from mbcalc.errors import MbcalcError
from mbcalc.pytorch.needs_torch import nn, torch
from mbcalc.pytorch.network import Network, activation_label, placed_activation
from mbcalc.pytorch.token_modules import MatMul


@dataclass(frozen=True, slots=True)
class Measured:
    """What PyTorch gives for one op: its output's (H, W, C), counted from the real module,
    and the activation module(s) placed in it (`activation`: class names, or `none`)."""

    shape: tuple[int, ...]
    mult_adds: int
    params: int
    bn_params: int
    act_params: int = 0  # PReLU's: not params by mbcalc's convention
    activation: str = "none"


@dataclass(frozen=True, slots=True)
class OpCheck:
    """One op's analytic counts (`row`) against PyTorch's (`got`)."""

    row: OpRow
    got: Measured

    def comparisons(self) -> tuple[tuple[str, object, object], ...]:
        """(check, expected, got) for the shape, mult-adds, params, BN params and activation;
        an auxiliary head's op, which does not run in eval, for its params and activation."""
        cost = self.row.cost
        held = (
            ("params", cost.params, self.got.params),
            ("BN params", cost.bn_params, self.got.bn_params),
            ("activation", activation_label(self.row.op.act), self.got.activation),
        )
        if self.row.op.aux:
            return held
        ran = ("shape", self.row.op.output, self.got.shape)
        return (ran, ("mult-adds", cost.mult_adds, self.got.mult_adds), *held)

    @property
    def mismatches(self) -> tuple[tuple[str, object, object], ...]:
        return tuple(c for c in self.comparisons() if c[1] != c[2])

    @property
    def ok(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class Verification:
    """Every op of a report checked against the PyTorch module built from its graph."""

    report: Report
    checks: tuple[OpCheck, ...]
    torch_version: str

    @property
    def failed(self) -> tuple[OpCheck, ...]:
        return tuple(check for check in self.checks if not check.ok)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def verdict(self) -> str:
        """One line: every op matches, or which ops differ and in what (the first five)."""
        checked, failed = len(self.checks), self.failed
        if not failed:
            return (
                f"all {checked} ops match PyTorch (shape, mult-adds, params, BN params, activation)"
            )
        named = ", ".join(
            f"{check.row.op.name} ({', '.join(name for name, _, _ in check.mismatches)})"
            for check in failed[:5]
        )
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        return f"{len(failed)} of {checked} ops differ from PyTorch: {named}{more}"

    def measured(self) -> Measured:
        """The sums of PyTorch's counts over every op (shape: the network's output)."""
        got = [check.got for check in self.checks]
        return Measured(
            shape=got[-1].shape if got else (),
            mult_adds=sum(g.mult_adds for g in got),
            params=sum(g.params for g in got),
            bn_params=sum(g.bn_params for g in got),
            act_params=sum(g.act_params for g in got),
        )


def verify(report_or_graph: Report | Graph) -> Verification:
    """Build the graph's module, run it on zeros (batch 1) and compare every op's counts.

    A module that PyTorch cannot run is an `MbcalcError` naming the op.
    """
    report = report_or_graph if isinstance(report_or_graph, Report) else analyze(report_or_graph)
    check_verify_bytes(module_bytes(report))
    graph = report.graph
    network = Network(graph).eval()
    probe = _Probe(len(graph.ops))
    handles = probe.attach(network)
    height, width, channels = graph.input_shape
    try:
        with torch.no_grad():
            network(torch.zeros(1, channels, height, width))
    except RuntimeError as error:
        op = graph.ops[probe.current]
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MbcalcError(f"PyTorch cannot run op '{op.name}': {message}") from error
    finally:
        for handle in handles:
            handle.remove()
    checks = []
    for row, module, shape, mult_adds in zip(
        report.rows, network.ops, probe.shapes, probe.mult_adds, strict=True
    ):
        params, bn_params, act_params = _parameters(module)
        measured = Measured(
            shape, mult_adds, params, bn_params, act_params, placed_activation(module)
        )
        checks.append(OpCheck(row, measured))
    return Verification(report, tuple(checks), torch.__version__)


def module_bytes(report: Report) -> int:
    """Memory the module of `report` needs for one forward pass in fp32, estimated first.

    Its weights and biases, four values per batch-norm channel (scale, shift and running
    statistics), the activations alive at the peak, and twice the largest op output for the
    intermediates inside one op (convolution, then batch norm, then activation).
    """
    memory = memory_report(report)
    values = memory.params + 2 * sum(row.cost.bn_params for row in report.rows)
    largest = max((op.output_bytes for op in memory.ops), default=0)
    return int(bytes_of_weights(values, DType.FP32)) + memory.peak.bytes + 2 * largest


class _Probe:
    """Forward hooks that record each op's output shape and the mult-adds of its convs, linears
    and matrix products."""

    def __init__(self, count: int) -> None:
        self.current = 0
        self.shapes: list[tuple[int, ...]] = [() for _ in range(count)]
        self.mult_adds = [0] * count

    def attach(self, network: Network) -> list[Any]:
        handles: list[Any] = []
        for index, module in enumerate(network.ops):
            handles.append(module.register_forward_pre_hook(self._enter(index)))
            handles.append(module.register_forward_hook(self._leave(index)))
            for part in module.modules():
                if isinstance(part, nn.Conv2d | nn.Linear | MatMul):
                    handles.append(part.register_forward_hook(self._count(index)))
        return handles

    def _enter(self, index: int) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            self.current = index

        return hook

    def _leave(self, index: int) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            shape = tuple(output.shape)
            # N x C x H x W -> (H, W, C), as mbcalc writes shapes
            self.shapes[index] = (*shape[2:], shape[1]) if len(shape) == 4 else shape

        return hook

    def _count(self, index: int) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if isinstance(module, nn.Conv2d):
                k_h, k_w = module.kernel_size
                per_output = k_h * k_w * (module.in_channels // module.groups)
                self.mult_adds[index] += output.numel() * per_output
            elif isinstance(module, nn.Linear):
                rows = inputs[0].numel() // module.in_features
                self.mult_adds[index] += module.in_features * module.out_features * rows
            elif isinstance(module, MatMul):  # a (... x n x k) @ (... x k x m): k per output
                self.mult_adds[index] += output.numel() * inputs[0].shape[-1]

        return hook


def _parameters(module: nn.Module) -> tuple[int, int, int]:
    """(params, BN params, PReLU params) of a module and its children."""
    params = bn_params = act_params = 0
    for part in module.modules():
        count = sum(p.numel() for p in part.parameters(recurse=False))
        if isinstance(part, nn.BatchNorm2d):
            bn_params += count
        elif isinstance(part, nn.PReLU):
            act_params += count
        else:
            params += count
    return params, bn_params, act_params
