"""A built network under ONNX Runtime: exported to ONNX in memory, run, and profiled op by op.

`OrtNetwork(network, batch, threads)` exports a `Network` with PyTorch's TorchScript exporter
(opset 17, eval mode) and opens it on the CPU execution provider at ONNX Runtime's default,
full graph optimisation, one inference at a time on `threads` threads. `op_seconds` reads
ONNX Runtime's own profile: each executed node is charged to the op whose submodule it came
from (`ops.<i>` in its name, else in its output's, else the op producing its input). ONNX
Runtime fuses nodes (a conv with its batch norm, activation or residual add): a fused node's
time goes to the op it maps to, and an op whose nodes were all fused into another op's has
no entry. Nodes of no op (the network's final flatten) go under `NETWORK_KEY`.

Needs `pip install 'mbcalc[onnxruntime]'` (onnxruntime, onnx and torch).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import statistics
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from mbcalc.errors import MbcalcError, SpecError
from mbcalc.ingest.callable_ref import failure
from mbcalc.pytorch.needs_torch import nn, torch

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from onnx import GraphProto

    from mbcalc.pytorch.network import Network

OPSET = 17
INPUT_NAME = "input"
NETWORK_KEY = "(network)"
"""The key of `op_seconds` for the time of nodes that belong to no op."""

_OP_PATH = re.compile(r"/ops\.(\d+)/")
_KERNEL_SUFFIX = "_kernel_time"


def import_onnxruntime() -> ModuleType:
    """The `onnxruntime` module, or one clear error saying how to install it."""
    try:
        import onnx  # noqa: F401 -- what OrtNetwork.op_seconds reads the optimised graph with
        import onnxruntime as ort
    except ImportError as error:
        raise MbcalcError(
            "ONNX Runtime is not installed; `mbcalc bench --runtime onnxruntime` and "
            "`mbcalc calibrate --runtime onnxruntime` need it",
            hint="pip install 'mbcalc[onnxruntime]'",
        ) from error
    module: ModuleType = ort
    return module


class OrtNetwork:
    """A `Network` exported to ONNX and opened in an ONNX Runtime session, on a fixed random
    input of `batch` x C x H x W."""

    def __init__(self, network: Network, batch: int = 1, threads: int = 1) -> None:
        self._ort = import_onnxruntime()
        self.threads = threads
        self.op_names = network.op_names
        graph = network.graph
        shape = (batch, graph.spec.input_channels, *graph.resolution)
        self.input: NDArray[np.float32] = (
            np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        )
        self.model = export(network, self.input)
        self.session: Any = self._session(self._options())

    def run(self) -> None:
        """One inference on the fixed input: the callable `mbcalc.pytorch.timing` times."""
        self.session.run(None, {INPUT_NAME: self.input})

    def outputs(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """The network's output for the input `x`."""
        result: NDArray[np.float32] = self.session.run(None, {INPUT_NAME: x})[0]
        return result

    def op_seconds(self, runs: int) -> dict[str, float]:
        """Per op name, the median over `runs` profiled inferences (after one not counted) of
        the seconds ONNX Runtime spent in the op's nodes.

        The profile runs in a session of its own, so that `run` is never slowed down by it;
        its trace file and the optimised graph are read from a temporary folder, then deleted.
        """
        if runs < 1:
            raise ValueError(f"op_seconds needs at least 1 run, got {runs}")
        with tempfile.TemporaryDirectory() as folder:
            options = self._options()
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(folder) / "onnxruntime_profile")
            options.optimized_model_filepath = str(Path(folder) / "optimised.onnx")
            session = self._session(options)
            for _ in range(runs + 1):
                session.run(None, {INPUT_NAME: self.input})
            trace = Path(session.end_profiling())
            events = json.loads(trace.read_text(encoding="utf-8"))
            owners = node_ops(_load_graph(Path(options.optimized_model_filepath)))
        per_run = _run_seconds(events, owners, self.op_names)[1:]
        keys = {key for seconds in per_run for key in seconds}
        return {
            key: statistics.median(seconds.get(key, 0.0) for seconds in per_run)
            for key in sorted(keys, key=_key_order(self.op_names))
        }

    def _options(self) -> Any:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only: no optimiser notes on the terminal
        return options

    def _session(self, options: Any) -> Any:
        return self._ort.InferenceSession(self.model, options, providers=["CPUExecutionProvider"])


def export(network: Network, example: NDArray[np.float32]) -> bytes:
    """`network` as ONNX bytes, exported in eval mode at the shape of `example`.

    An op the exporter cannot express is a `SpecError` naming the op and the exporter's reason.
    """
    _check_size(network)
    training = network.training
    network.eval()
    try:
        with torch.no_grad():
            try:
                return _export_bytes(network, torch.from_numpy(example))
            except torch.onnx.OnnxExporterError as error:
                raise _failed_op(network, torch.from_numpy(example), error) from None
    finally:
        network.train(training)


ONNX_LIMIT = 2**31
"""The largest ONNX model held in one protobuf message, as an in-memory export writes it."""


def _check_size(network: Network) -> None:
    """Refuse, in one line, a network whose weights alone pass `ONNX_LIMIT`."""
    tensors = [*network.parameters(), *network.buffers()]
    size = sum(tensor.numel() * tensor.element_size() for tensor in tensors)
    if size >= ONNX_LIMIT:
        raise MbcalcError(
            f"{network.graph.spec.source}: ONNX export failed: {size / 2**30:.2f} GiB of "
            "weights, more than the 2 GiB an ONNX model holds in one piece",
            hint="a smaller --alpha, or --runtime torch",
        )


def _export_bytes(module: nn.Module, *inputs: Any) -> bytes:
    buffer = io.BytesIO()
    with _quiet():
        torch.onnx.export(
            module,
            inputs,
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to any file
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME] if len(inputs) == 1 else None,
        )
    return buffer.getvalue()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's warnings, and the graph its C++ side prints to standard output when an
    export fails, held back: the error's first line is the message."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w", encoding="utf-8") as null, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(null.fileno(), 1)
            with contextlib.redirect_stdout(io.StringIO()):
                yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _failed_op(network: Network, example: Any, error: Exception) -> MbcalcError:
    """The error naming the first op whose submodule alone cannot be exported (the whole
    network's, if each op exports on its own)."""
    reason = failure(error).partition("  [Caused by")[0]
    graph = network.graph
    for index, inputs in _op_inputs(network, example).items():
        if _refused(network.ops[index], inputs):
            op = graph.ops[index]
            line = next((unit.line for unit in graph.units if index in unit.ops), None)
            return SpecError(
                f"ONNX export of the {op.kind} op failed: {reason}",
                source=graph.spec.source,
                line=line,
                layer=op.name,
            )
    return MbcalcError(f"{graph.spec.source}: ONNX export failed: {reason}")


def _refused(module: nn.Module, inputs: tuple[Any, ...]) -> bool:
    """Whether the exporter refuses `module` on its own: an error of another kind (an op
    whose output does not depend on its input cannot be traced alone) is no refusal."""
    try:
        _export_bytes(module, *inputs)
    except torch.onnx.OnnxExporterError:
        return True
    except RuntimeError:
        return False
    return False


def _op_inputs(network: Network, example: Any) -> dict[int, tuple[Any, ...]]:
    """Each op's inputs in one run of `network` on `example`, by op index."""
    inputs: dict[int, tuple[Any, ...]] = {}
    hooks = [
        module.register_forward_pre_hook(
            lambda _module, args, index=index: inputs.__setitem__(index, args)
        )
        for index, module in enumerate(network.ops)
    ]
    try:
        network(example)
    finally:
        for hook in hooks:
            hook.remove()
    return inputs


def _load_graph(path: Path) -> GraphProto:
    import onnx

    return onnx.load(str(path)).graph


def node_ops(graph: GraphProto) -> dict[str, int | None]:
    """The op index each node of an (optimised) ONNX graph belongs to, by node name: the
    `ops.<i>` of its name; for a node ONNX Runtime made (its name is no module path), that of
    its first output, else of its first input or that input's producer."""
    producers = {output: node for node in graph.node for output in node.output}
    owners: dict[str, int | None] = {}

    def owner_of_tensor(tensor: str, seen: frozenset[str]) -> int | None:
        found = _OP_PATH.match(tensor)
        if found:
            return int(found.group(1))
        producer = producers.get(tensor)
        if producer is None or producer.name in seen:
            return None
        return owner_of_node(producer, seen | {producer.name})

    def owner_of_node(node: Any, seen: frozenset[str]) -> int | None:
        found = _OP_PATH.match(node.name)
        if found:
            return int(found.group(1))
        if node.name.startswith("/"):  # the exporter's, named after the network's own scope
            return None
        found = _OP_PATH.match(node.output[0]) if node.output else None
        if found:
            return int(found.group(1))
        return owner_of_tensor(node.input[0], seen) if node.input else None

    for node in graph.node:
        owners[node.name] = owner_of_node(node, frozenset({node.name}))
    return owners


def _run_seconds(
    events: list[dict[str, Any]], owners: dict[str, int | None], op_names: list[str]
) -> list[dict[str, float]]:
    """Per profiled inference, in order, the seconds spent in each op's nodes."""
    runs = sorted(
        (event["ts"], event["ts"] + event["dur"])
        for event in events
        if event.get("cat") == "Session" and event["name"] == "model_run"
    )
    seconds: list[dict[str, float]] = [{} for _ in runs]
    for event in events:
        name = event["name"]
        if event.get("cat") != "Node" or not name.endswith(_KERNEL_SUFFIX):
            continue
        index = owners.get(name.removesuffix(_KERNEL_SUFFIX))
        key = NETWORK_KEY if index is None else op_names[index]
        for run, (start, end) in enumerate(runs):
            if start <= event["ts"] <= end:
                seconds[run][key] = seconds[run].get(key, 0.0) + event["dur"] / 1e6
                break
    return seconds


def _key_order(op_names: list[str]) -> Any:
    """Op names in the network's order, `NETWORK_KEY` last."""
    position = {name: index for index, name in enumerate(op_names)}
    return lambda key: position.get(key, len(op_names))
