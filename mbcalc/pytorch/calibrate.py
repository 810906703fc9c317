"""Timing the calibration grid on a runtime, and the device's own GEMM peak and copy bandwidth.

`time_grid` builds every micro network of `mbcalc.deploy.micro_grid`, prepares it on the runtime
and times them all in turn (`mbcalc.pytorch.timing.measure_in_turn`), each with the terms its ops
bring to the cost model; `mbcalc.deploy.calibration.fit_samples` then fits the model. The peak
and the bandwidth, a large matrix product and a large copy timed with PyTorch, become the device
file's roofline: the lower bound beside the calibrated estimate.
"""

from __future__ import annotations

from collections.abc import Callable

from mbcalc.core.graph import build_graph
from mbcalc.core.report import analyze
from mbcalc.deploy.calibration import Sample, network_terms
from mbcalc.deploy.memory import memory_report
from mbcalc.deploy.micro_grid import micro_networks
from mbcalc.kinds import Runtime, Target
from mbcalc.pytorch.needs_torch import torch
from mbcalc.pytorch.network import Network
from mbcalc.pytorch.runtimes import Conditions, check_target, prepare
from mbcalc.pytorch.timing import Budget, measure, measure_in_turn

ROUNDS = 9
"""Rounds over the default grid: the whole calibration takes 40 s on PyTorch and 80 s on ONNX
Runtime (most of it exporting) on a 2-core x86 machine."""
QUICK_ROUNDS = 5

WARM_CALLS = {Runtime.TORCH: 0, Runtime.ONNXRUNTIME: 1}
"""Untimed calls of a micro network just before each timed one (`measure_in_turn`'s `warm`).

In PyTorch eager an op's time is mostly its dispatch, through Python and ATen: inside a network
of many different modules that code runs cold, as it does for a micro network timed once per
round after all the others. ONNX Runtime dispatches an op in a few microseconds; an op's time is
its data's, and inside a network each op reads the tensor the op before it has just written:
a micro network timed straight after a call of its own finds its tensors in the caches alike.
On a 2-core x86 machine, the zoo networks `bench/latency.py` measured, predicted within 15% by
models fitted to the grid timed each way: ONNX Runtime 65% cold, 81% warm; PyTorch 87% cold,
77% warm.
"""


Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as the work goes."""


def time_grid(
    conditions: Conditions, quick: bool = False, progress: Progress | None = None
) -> list[Sample]:
    """Every micro network of the grid (`quick`: the small one) timed under `conditions`, in
    the grid's order."""
    check_target(conditions.target)
    networks = micro_networks(quick)
    runs = []
    samples_terms = []
    for done, micro in enumerate(networks, 1):
        graph = build_graph(micro.spec)
        memory = memory_report(analyze(graph), batch=conditions.batch)
        samples_terms.append(network_terms(memory))
        runs.append(prepare(Network(graph), conditions).run)
        if progress is not None:
            progress("building", done, len(networks))
    rounds = QUICK_ROUNDS if quick else ROUNDS

    def told(done: int) -> None:
        if progress is not None:
            progress("timing", done, rounds)

    timings = measure_in_turn(runs, rounds, progress=told, warm=WARM_CALLS[conditions.runtime])
    return [
        Sample(micro.name, terms, timing.median)
        for micro, terms, timing in zip(networks, samples_terms, timings, strict=True)
    ]


def gemm_peak(target: Target, size: int = 1024) -> float:
    """Mult-adds per second of a `size` x `size` x `size` fp32 matrix product."""
    a = torch.randn(size, size, device=str(target))
    b = torch.randn(size, size, device=str(target))

    def run() -> None:
        torch.mm(a, b)
        _synchronize(target)

    return size**3 / measure(run, Budget(warmup=2, min_runs=5, min_seconds=0.3)).median


def copy_bandwidth(target: Target, elements: int = 1 << 25) -> float:
    """Bytes per second read and written by a copy of `elements` fp32 values (128 MiB)."""
    source = torch.randn(elements, device=str(target))
    destination = torch.empty_like(source)

    def run() -> None:
        destination.copy_(source)
        _synchronize(target)

    timing = measure(run, Budget(warmup=2, min_runs=5, min_seconds=0.3))
    return 2 * 4 * elements / timing.median


def _synchronize(target: Target) -> None:
    """Wait for the device's queued work (a GPU runs it asynchronously)."""
    if target is Target.CUDA:
        torch.cuda.synchronize()
