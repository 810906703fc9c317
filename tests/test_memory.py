"""Activation memory, liveness and BN folding, against sizes worked out by hand."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings

from mbcalc import Report, Spec, analyze, build_graph, parse_spec
from mbcalc.core.graph import NETWORK_INPUT
from mbcalc.deploy.memory import DType, live_tensors, memory_report
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks


def report_of(body: str, size: int = 8, channels: int = 4, batchnorm: bool = True) -> Report:
    text = f"input: {{size: {size}, channels: {channels}}}\nbatchnorm: {str(batchnorm).lower()}\n"
    return analyze(build_graph(parse_spec(text + textwrap.dedent(body))))


def test_a_chain_frees_each_tensor_after_its_reader() -> None:
    """conv 8x8x4 -> 8x8x8 -> 8x8x16: at most one input and one output alive."""
    report = report_of(
        """
        layers:
          - conv: {out: 8}
          - conv: {out: 16}
        """
    )
    assert live_tensors([op.sources for op in report.graph.ops]) == [(NETWORK_INPUT, 0), (0, 1)]
    memory = memory_report(report, DType.FP32)
    first, second = 64 * 4 + 64 * 8, 64 * 8 + 64 * 16  # elements alive during each op
    assert memory.peak.bytes == max(first, second) * 4
    assert memory.peak.op == 1
    assert memory.peak.tensors == (0, 1)


def test_a_residual_input_stays_alive_until_the_add() -> None:
    """block(residual): conv 4->16 (1x1), conv 16->4 (1x1), add: the input lives to the add."""
    report = report_of(
        """
        layers:
          - block:
              residual: true
              layers:
                - pointwise: {out: 16}
                - pointwise: {out: 4}
        """
    )
    alive = live_tensors([op.sources for op in report.graph.ops])
    assert alive == [(NETWORK_INPUT, 0), (NETWORK_INPUT, 0, 1), (NETWORK_INPUT, 1, 2)]
    memory = memory_report(report, DType.INT8)
    # During the second conv: input 64*4 + expanded 64*16 + projected 64*4 elements, 1 byte each.
    assert memory.peak.bytes == 64 * (4 + 16 + 4)
    assert memory.peak.op == 1


def test_three_branches_stay_alive_until_the_concat() -> None:
    """parallel: three 1x1 convs 4->2, 4->3, 4->5 on an 8x8 input, then concat (10 channels)."""
    report = report_of(
        """
        layers:
          - parallel:
              merge: concat
              branches:
                - [{pointwise: {out: 2}}]
                - [{pointwise: {out: 3}}]
                - [{pointwise: {out: 5}}]
        """
    )
    alive = live_tensors([op.sources for op in report.graph.ops])
    assert alive[2] == (NETWORK_INPUT, 0, 1, 2)  # the input feeds all three branches
    assert alive[3] == (0, 1, 2, 3)  # the concat reads the branches and writes their sum
    memory = memory_report(report, DType.FP16)
    assert memory.peak.bytes == 64 * (2 + 3 + 5 + 10) * 2
    assert memory.peak.op == 3


def test_batch_scales_activations_not_weights() -> None:
    report = report_of("layers:\n  - conv: {out: 8}\n")
    one, four = memory_report(report, batch=1), memory_report(report, batch=4)
    assert four.peak.bytes == 4 * one.peak.bytes
    assert four.weight_bytes == one.weight_bytes


@pytest.mark.parametrize(("dtype", "size"), [(DType.FP32, 4), (DType.FP16, 2), (DType.INT8, 1)])
def test_weights_of_mobilenet_v1(dtype: DType, size: int) -> None:
    """4,210,088 params (the paper's 4.2M) and 10,944 BN channels, each with 4 values kept."""
    memory = memory_report(analyze(build_graph(load_shipped("mobilenet_v1"))), dtype)
    assert memory.params == 4_210_088
    assert memory.bn_values == 4 * 10_944
    assert memory.weight_bytes == (4_210_088 + 4 * 10_944) * size


def test_folding_bn_gives_each_conv_a_bias() -> None:
    """A conv without bias gains C_out biases; its BN (4 values per channel) disappears."""
    report = report_of("layers:\n  - conv: {out: 8}\n  - conv: {out: 6, bias: true}\n")
    plain, folded = memory_report(report), memory_report(report, fold_bn=True)
    weights = 3 * 3 * 4 * 8 + (3 * 3 * 8 * 6 + 6)
    assert plain.params == weights
    assert plain.bn_values == 4 * (8 + 6)
    assert folded.params == weights + 8  # only the conv without a bias gains one
    assert folded.bn_values == 0
    assert folded.weight_bytes == (weights + 8) * 4


def test_folding_mobilenet_v1_adds_one_bias_per_bn_channel() -> None:
    memory = memory_report(analyze(build_graph(load_shipped("mobilenet_v1"))), fold_bn=True)
    assert memory.params == 4_210_088 + 10_944


def test_nothing_to_fold_without_batch_norm() -> None:
    report = report_of("layers:\n  - conv: {out: 8}\n", batchnorm=False)
    assert memory_report(report, fold_bn=True).params == memory_report(report).params


def test_mobilenet_v1_peak_is_the_first_pointwise_conv() -> None:
    """sep1.pw reads 112x112x32 and writes 112x112x64: 1,204,224 fp32 values, 4,816,896 B."""
    report = analyze(build_graph(load_shipped("mobilenet_v1")))
    memory = memory_report(report)
    assert report.graph.ops[memory.peak.op].name == "sep1.pw"
    assert memory.peak.bytes == 112 * 112 * (32 + 64) * 4


@settings(max_examples=80, deadline=None)
@given(spec=networks(fixed_width=True))
def test_peak_covers_every_op_and_every_tensor(spec: Spec) -> None:
    """The peak is at least any op's inputs and output together."""
    memory = memory_report(analyze(build_graph(spec)))
    for op_memory in memory.ops:
        assert memory.peak.bytes >= op_memory.input_bytes + op_memory.output_bytes
