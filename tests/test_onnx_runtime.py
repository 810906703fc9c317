"""`mbcalc.pytorch.onnx_runtime`: a built network exported to ONNX in memory and run under ONNX
Runtime, its outputs against the PyTorch module's, its profile op by op, its session's threads,
and its errors (ONNX Runtime missing, an op the exporter refuses)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

import numpy as np  # noqa: E402 - after the skips: the whole module needs both
import onnxruntime  # noqa: E402
import typer  # noqa: E402
from onnx import helper  # noqa: E402

from mbcalc.cli.boundary import reports_errors  # noqa: E402
from mbcalc.core.graph import OpKind  # noqa: E402
from mbcalc.errors import MbcalcError, SpecError  # noqa: E402
from mbcalc.pytorch import Network, build, onnx_runtime  # noqa: E402
from mbcalc.pytorch.onnx_runtime import NETWORK_KEY, OrtNetwork, node_ops  # noqa: E402

SMALL = 0.25
ARCHS = Path(__file__).resolve().parents[1] / "archs"


def small(name: str, res: int = 64) -> Network:
    return build(name, alpha=SMALL, res=res)


@pytest.mark.parametrize(
    ("name", "res", "batch"),
    [
        ("mobilenet_v1", 64, 1),
        ("mobilenet_v1", 64, 2),
        ("mobilenet_v3_small", 64, 2),  # squeeze-and-excite, hard-swish
        ("resnet18", 64, 2),  # residual adds
        ("vit_b_16", 32, 2),  # attention
        ("swin_v2_t", 64, 1),  # scaled cosine attention in shifted windows
    ],
)
def test_outputs_equal_the_torch_modules(name: str, res: int, batch: int) -> None:
    network = small(name, res)
    runtime = OrtNetwork(network, batch=batch)
    assert runtime.input.shape == (batch, 3, res, res)
    assert runtime.input.dtype == np.float32
    x = np.random.default_rng(1).standard_normal((batch, 3, res, res)).astype(np.float32)
    with torch.no_grad():
        expected = network.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(runtime.outputs(x), expected, rtol=1e-4, atol=1e-5)
    runtime.run()


def test_op_seconds_are_per_op_name() -> None:
    network = small("mobilenet_v1")
    seconds = OrtNetwork(network).op_seconds(runs=3)
    assert set(seconds) <= {*network.op_names, NETWORK_KEY}
    assert all(isinstance(value, float) and value >= 0 for value in seconds.values())
    # Each conv, depthwise and fc op is a node of its own (its batch norm and ReLU fused in).
    computing = (OpKind.CONV, OpKind.DEPTHWISE, OpKind.FC)
    assert {op.name for op in network.graph.ops if op.kind in computing} <= set(seconds)


def test_op_seconds_needs_a_run() -> None:
    with pytest.raises(ValueError, match="at least 1 run, got 0"):
        OrtNetwork(small("mobilenet_v1")).op_seconds(runs=0)


def test_fused_and_reordered_nodes_go_to_the_op_they_came_from() -> None:
    """Nodes as ONNX Runtime's optimiser leaves them: its own (a layout reorder, a fused GELU)
    named after no module, and the exporter's flatten in the network's own scope."""
    node = helper.make_node
    graph = helper.make_graph(
        [
            node("Conv", ["input", "w"], ["/ops.0/conv/Conv_output_0"], "/ops.0/conv/Conv"),
            node("ReorderInput", ["/ops.0/conv/Conv_output_0"], ["reorder_token_1"], "Reorder"),
            node("Gelu", ["reorder_token_1"], ["reorder_token_2"], "Gelu_token_3"),
            node("ReorderOutput", ["reorder_token_2"], ["/ops.1/act/Gelu_output_0"], "Out_4"),
            node("Flatten", ["/ops.1/act/Gelu_output_0"], ["/Flatten_output_0"], "/Flatten"),
            node("Relu", ["/Flatten_output_0"], ["output"], "Relu_5"),
        ],
        "network",
        [],
        [],
    )
    assert node_ops(graph) == {
        "/ops.0/conv/Conv": 0,
        "Reorder": 0,  # its input is op 0's output
        "Gelu_token_3": 0,  # its input's producer is op 0's
        "Out_4": 1,  # its output is op 1's
        "/Flatten": None,  # the network's own
        "Relu_5": None,  # after the network's own flatten
    }


def test_profiling_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, temporary = tmp_path / "cwd", tmp_path / "tmp"
    folder.mkdir()
    temporary.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    runtime = OrtNetwork(small("mobilenet_v1"))
    assert runtime.op_seconds(runs=2)
    assert list(folder.iterdir()) == []
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("threads", [1, 2])
def test_the_session_runs_sequentially_on_the_threads_asked(threads: int) -> None:
    runtime = OrtNetwork(small("mobilenet_v1"), threads=threads)
    options = runtime.session.get_session_options()
    assert options.intra_op_num_threads == threads
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    assert runtime.session.get_providers() == ["CPUExecutionProvider"]


def test_without_onnxruntime_one_line_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    network = small("mobilenet_v1")
    with pytest.raises(MbcalcError) as raised:
        OrtNetwork(network)
    assert str(raised.value) == (
        "ONNX Runtime is not installed; `mbcalc bench --runtime onnxruntime` and "
        "`mbcalc calibrate --runtime onnxruntime` need it "
        "(hint: pip install 'mbcalc[onnxruntime]')"
    )
    with pytest.raises(typer.Exit) as exited:
        reports_errors(lambda: OrtNetwork(network))()
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.splitlines() == [f"mbcalc: error: {raised.value}"]


def test_an_op_the_exporter_refuses_is_named_in_one_line(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """AlexNet's 6x6 adaptive pool over a 1x1 map at 64x64: the TorchScript exporter takes an
    adaptive average pool only where the output size divides the input size."""
    network = small("alexnet").train()
    with pytest.raises(SpecError) as raised:
        OrtNetwork(network)
    message = str(raised.value)
    spec_lines = (ARCHS / "alexnet.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(spec_lines, 1) if "name: avgpool" in text)
    assert message.startswith(f"alexnet.yaml:{line}: ")
    assert "layer 'avgpool': ONNX export of the pool op failed: SymbolicValueError:" in message
    assert "adaptive_avg_pool2d" in message
    assert "\n" not in message
    assert capfd.readouterr().out == ""  # the exporter's dump of its graph held back
    assert network.training  # the network's mode as it was


def test_weights_beyond_one_onnx_message_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ViT-H/14 holds 2.5 GB of fp32 weights, past the 2 GiB of one protobuf message; here
    the limit is lowered below MobileNet v1's weights instead of building that network."""
    network = small("mobilenet_v1")
    weights = sum(t.numel() * t.element_size() for t in [*network.parameters(), *network.buffers()])
    monkeypatch.setattr(onnx_runtime, "ONNX_LIMIT", weights)
    with pytest.raises(MbcalcError) as raised:
        OrtNetwork(network)
    message = str(raised.value)
    assert message.startswith("mobilenet_v1.yaml: ONNX export failed: ")
    assert f"{weights / 2**30:.2f} GiB of weights" in message
    assert "(hint: a smaller --alpha, or --runtime torch)" in message
    monkeypatch.setattr(onnx_runtime, "ONNX_LIMIT", weights + 1)
    OrtNetwork(network)  # one byte more, and it is exported
