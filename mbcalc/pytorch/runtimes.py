"""A built network ready to run on a runtime (PyTorch eager or ONNX Runtime), for timing.

`prepare(network, conditions)` gives a `Prepared`: `run()` is one inference
on a fixed random input, the callable `mbcalc.pytorch.timing` times; `op_seconds(runs)` the
median time of each op over `runs` further inferences (PyTorch: forward hooks around each op's
submodule; ONNX Runtime: its profiler), measured apart so that timing the ops never slows the
end-to-end figure down. Freed memory is kept in the process for reuse
(`mbcalc.pytorch.allocator`), so that a run's time does not depend on what ran before it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from mbcalc.errors import MbcalcError
from mbcalc.kinds import Runtime, Target
from mbcalc.pytorch.allocator import keep_freed_memory
from mbcalc.pytorch.needs_torch import nn, torch
from mbcalc.pytorch.network import Network


@dataclass(frozen=True, slots=True)
class Conditions:
    """How a network is measured: runtime, threads, batch size and device (cpu or cuda)."""

    runtime: Runtime = Runtime.TORCH
    threads: int = 1
    batch: int = 1
    target: Target = Target.CPU


@dataclass(frozen=True)
class Prepared:
    """One network on one runtime: an inference to time, and its ops timed one by one."""

    run: Callable[[], object]
    op_seconds: Callable[[int], dict[str, float]]


def check_target(target: Target) -> None:
    """Refuse a device this machine does not have, in one line."""
    if target is Target.CUDA and not torch.cuda.is_available():
        raise MbcalcError(
            "no CUDA device: PyTorch sees none (torch.cuda.is_available() is False)",
            hint="leave out --device cuda to measure the CPU",
        )


def prepare(network: Network, conditions: Conditions) -> Prepared:
    """`network` ready to run under `conditions`."""
    runtime, threads, batch, target = (
        conditions.runtime, conditions.threads, conditions.batch, conditions.target
    )  # fmt: skip
    check_target(target)
    keep_freed_memory()
    torch.set_num_threads(threads)
    network = network.eval()
    graph = network.graph
    shape = (batch, graph.spec.input_channels, *graph.resolution)
    if runtime is Runtime.ONNXRUNTIME:
        if target is not Target.CPU:
            raise MbcalcError("ONNX Runtime is measured on the CPU here", hint="--device cpu")
        from mbcalc.pytorch.onnx_runtime import OrtNetwork

        session = OrtNetwork(network, batch=batch, threads=threads)
        return Prepared(session.run, session.op_seconds)
    device = torch.device(str(target))
    network = network.to(device)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0)).to(device)
    synchronize = torch.cuda.synchronize if target is Target.CUDA else _nothing

    def run() -> None:
        with torch.inference_mode():
            network(x)
        synchronize()

    def op_seconds(runs: int) -> dict[str, float]:
        return _hooked_op_seconds(network, x, runs, synchronize)

    return Prepared(run, op_seconds)


def _nothing() -> None:
    return None


def _hooked_op_seconds(
    network: Network, x: torch.Tensor, runs: int, synchronize: Callable[[], None]
) -> dict[str, float]:
    """The median time of each op's submodule over `runs` inferences, by forward hooks."""
    started: dict[int, float] = {}
    times: dict[int, list[float]] = {}
    clock = time.perf_counter

    def before(index: int) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: object) -> None:
            synchronize()
            started[index] = clock()

        return hook

    def after(index: int) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            synchronize()
            times.setdefault(index, []).append(clock() - started[index])

        return hook

    handles = []
    for index, module in enumerate(network.ops):
        handles.append(module.register_forward_pre_hook(before(index)))
        handles.append(module.register_forward_hook(after(index)))
    try:
        with torch.inference_mode():
            for _ in range(runs):
                network(x)
    finally:
        for handle in handles:
            handle.remove()
    names = network.op_names
    return {names[index]: statistics.median(observed) for index, observed in times.items()}
