"""The commands that measure: `mbcalc bench` times one network, `mbcalc calibrate` a device."""

from __future__ import annotations

import datetime
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from mbcalc.cli.deliver import check_outputs, deliver, show, write_file, write_stdout
from mbcalc.cli.load import deployment_of, load_report
from mbcalc.cli.options import (
    BatchOpt,
    DeliveryOptions,
    DeployOptions,
    ForceOpt,
    SettingOptions,
    SpecArg,
    WidthOpt,
    file_path,
)
from mbcalc.core.limits import check_batch
from mbcalc.errors import MbcalcError
from mbcalc.kinds import Format, Runtime, Target

RuntimeOpt = Annotated[
    Runtime,
    typer.Option(
        "--runtime",
        metavar="torch|onnxruntime",
        help="What runs the network: PyTorch eager, or ONNX Runtime on the network exported to "
        "ONNX. Needs mbcalc[torch] or mbcalc[onnxruntime].",
    ),
]
ThreadsOpt = Annotated[
    int,
    typer.Option("--threads", min=1, max=1024, metavar="N", help="Threads the runtime may use."),
]
TargetOpt = Annotated[
    Target,
    typer.Option(
        "--device",
        metavar="cpu|cuda",
        help="Where the network runs; cuda needs a GPU that PyTorch sees.",
    ),
]


@contextmanager
def _progress(total: int | None, what: str) -> Iterator[Callable[..., None]]:
    """A progress bar on standard error, gone when done; yields `update(stage, done, total)`."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total)

        def update(stage: str, done: int = 0, of: int | None = None) -> None:
            bar.update(task, description=f"{what}: {stage}", completed=done, total=of)

        yield update


def bench(
    spec: SpecArg,
    setting: SettingOptions,
    *,
    runtime: RuntimeOpt = Runtime.TORCH,
    threads: ThreadsOpt = 1,
    batch: BatchOpt = 1,
    target: TargetOpt = Target.CPU,
    estimate: Annotated[
        str | None,
        typer.Option(
            "--estimate",
            metavar="NAME|FILE",
            help="Print each op's estimate on this device beside the measured times: a file "
            "from `mbcalc calibrate` (its fitted model), or a shipped profile (the roofline).",
        ),
    ] = None,
    delivery: DeliveryOptions,
) -> None:
    """Measure SPEC's latency: end to end and op by op, beside its mult-adds.

    SPEC is built as `mbcalc.torch` builds it (for onnxruntime, exported to ONNX) and run
    on random input: 10 runs of warm-up, then at least 20 runs and a second; the report
    gives the median and the quartiles. A second pass times each op (forward hooks, or
    ONNX Runtime's profiler), so that the end-to-end figure is not slowed by it.
    """
    from mbcalc.pytorch.bench import bench as run_bench
    from mbcalc.pytorch.runtimes import Conditions, check_target
    from mbcalc.views import latency_views as views

    check_outputs(delivery.force, [delivery.output], spec, estimate)
    check_batch(batch)
    check_target(target)
    report = load_report(spec, setting)
    deployment = None
    if estimate is not None:
        options = DeployOptions(False, estimate, None, batch, False)
        deployment = deployment_of(report, options, memory=False)
    conditions = Conditions(runtime, threads, batch, target)
    with _progress(None, "bench") as update:
        result = run_bench(report, conditions, deployment, progress=update)
    writers = {Format.JSON: views.bench_json, Format.CSV: views.bench_csv,
               Format.MARKDOWN: views.bench_markdown}  # fmt: skip
    writer = writers.get(delivery.format)
    deliver(
        delivery.format,
        delivery.output,
        lambda: views.bench_view(result),
        None if writer is None else (lambda: writer(result)),
        width=delivery.width,
    )


def calibrate(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            parser=file_path,
            metavar="FILE",
            help="Write the device file to FILE (atomically): a new file, or a regular one.",
        ),
    ],
    *,
    runtime: RuntimeOpt = Runtime.TORCH,
    threads: ThreadsOpt = 1,
    batch: BatchOpt = 1,
    target: TargetOpt = Target.CPU,
    quick: Annotated[
        bool, typer.Option("--quick", help="A smaller grid: seconds, a rougher model.")
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", metavar="TEXT", help="The device's name in reports.")
    ] = None,
    force: ForceOpt = False,
    width: WidthOpt = None,
) -> None:
    """Time micro networks on this machine and write a device file with a fitted cost model.

    Each op kind (pointwise, k x k, grouped and depthwise convs, fc, pools, adds,
    concatenations, squeeze-and-excite, norms, attention, copies) is timed in small networks
    over a grid of shapes, never whole networks; a model of per-op overhead, work and bytes
    (and the batch norm and activation after an op) is fitted to them, and its error on a
    held-out fifth is written with it. `--device FILE` then estimates latency with it in
    table, compare, sweep, fit, scale and roofline. About 40 s on a 2-core machine (80 s on
    ONNX Runtime); --quick 5 s (15 s).
    """
    from mbcalc.deploy.calibration import fit_samples
    from mbcalc.deploy.calibration_file import Calibration
    from mbcalc.pytorch.calibrate import copy_bandwidth, gemm_peak, time_grid
    from mbcalc.pytorch.runtimes import Conditions, check_target
    from mbcalc.views.formats import threads as threads_of
    from mbcalc.views.latency_views import calibration_view, device_file_text

    check_outputs(force, [output])
    check_batch(batch)
    check_target(target)
    conditions = Conditions(runtime, threads, batch, target)
    with _progress(None, "calibrate") as update:
        samples = time_grid(conditions, quick, update)
        update("roofline")
        peak, bandwidth = gemm_peak(target), copy_bandwidth(target)
    fitted = fit_samples(samples)
    calibration = Calibration(
        runtime=str(runtime),
        device=str(target),
        threads=threads,
        batch=batch,
        networks=len(samples),
        quality=fitted.quality,
        model=fitted.model,
    )
    label = (
        name
        or f"{platform.node() or 'this machine'} ({runtime}, {threads_of(threads)}, batch {batch})"
    )
    if not label.strip():
        raise MbcalcError("--name must not be empty")
    today = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    source = (
        f"measured by mbcalc calibrate on {today}: {len(samples)} micro networks"
        f"{' (quick grid)' if quick else ''}, {runtime} on {target}"
    )
    processor = platform.processor() or platform.machine()
    text = device_file_text(label, processor, source, peak, bandwidth, calibration)
    write_file(output, text)
    show(calibration_view(calibration, peak, bandwidth), width)
    from mbcalc.views.escape import visible

    write_stdout(f"wrote {visible(str(output))}\n")
