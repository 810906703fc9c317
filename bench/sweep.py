"""Throughput of `mbcalc sweep`'s engine, against looping the one-setting engine.

Evaluates MobileNet v1 at 1,000 alphas x 1,000 resolutions (1,000,000 settings) with the
vectorized engine, times a sample of the same settings through `build_graph` + `analyze` (the
engine behind `mbcalc table`), checks that the sample agrees cell by cell, and prints, all
measured in this one run:

- the sweep's time (median of --runs) and settings per second; target: under 2 s;
- the scalar engine's time per setting and the ratio of the two;
- the sweep's peak traced memory next to the size of its result arrays (memory stays bounded
  because the grid is evaluated in blocks);
- the same sweep with the deployment arrays (peak activation bytes, weight bytes and roofline
  latency: fp16, batch 1, jetson-nano), its sample checked against `memory_report` and
  `roofline`, and its peak traced memory;
- a sweep with depth as a third axis: EfficientNet-B0 at 10 depths x 100 alphas x 1,000
  resolutions (1,000,000 settings; the depths that give every stage the same copies share one
  plan), its sample checked against the one-setting engine, and its time against MobileNet v1's
  (B0 has about 7 times as many ops).

    python bench/sweep.py [--runs N] [--sample N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from fractions import Fraction
from typing import Any

from mbcalc.core.graph import build_graph
from mbcalc.core.report import analyze
from mbcalc.core.settings import Settings
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.deploy.roofline import resolve_device, roofline
from mbcalc.grid.depths import depth_groups
from mbcalc.grid.sweep import Grid, sweep
from mbcalc.spec.zoo import load_shipped

TARGET_SECONDS = 2.0
ALPHAS = [Fraction(i, 1000) for i in range(1, 1001)]  # 0.001 ... 1.000
HEIGHTS = list(range(32, 1032))  # 32 ... 1031 pixels
DEPTHS = [Fraction(10 + i, 10) for i in range(10)]  # 1.0 ... 1.9
DEPTH_ALPHAS = [Fraction(i, 100) for i in range(1, 101)]  # 0.01 ... 1.00


def deployment() -> dict[str, Any]:
    return {"dtype": DType.FP16, "batch": 1, "device": resolve_device("jetson-nano")}


def timed_sweep(**options: Any) -> tuple[float, Grid]:
    spec = load_shipped("mobilenet_v1")
    start = time.perf_counter()
    grid = sweep(spec, ALPHAS, HEIGHTS, **options)
    return time.perf_counter() - start, grid


def check_deployment(grid: Grid, sample: int) -> None:
    """A sample of the deployment arrays against `memory_report` and `roofline`."""
    assert grid.dtype is not None
    assert grid.device is not None
    assert grid.peak_bytes is not None
    assert grid.weight_bytes is not None
    assert grid.latency is not None
    rng = random.Random(1)
    for _ in range(sample):
        a, r = rng.randrange(len(ALPHAS)), rng.randrange(len(HEIGHTS))
        if not grid.valid[a, r]:
            continue
        report = analyze(build_graph(grid.spec, Settings(alpha=ALPHAS[a], res=HEIGHTS[r])))
        memory = memory_report(report, grid.dtype, grid.batch, grid.fold_bn)
        assert grid.peak_bytes[a, r] == memory.peak.bytes, (ALPHAS[a], HEIGHTS[r])
        assert grid.weight_bytes[a, r] == memory.weight_bytes, (ALPHAS[a], HEIGHTS[r])
        seconds = float(roofline(memory, grid.device).seconds)
        assert abs(grid.latency[a, r] - seconds) <= 1e-9 * seconds, (ALPHAS[a], HEIGHTS[r])


def depth_sweep(runs: int, sample: int) -> tuple[float, Grid]:
    """The median time of the depth-axis sweep, its grid checked on a sample of settings."""
    spec = load_shipped("efficientnet_b0")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        grid = sweep(spec, DEPTH_ALPHAS, HEIGHTS, depths=DEPTHS)
        times.append(time.perf_counter() - start)
    rng = random.Random(2)
    for _ in range(sample):
        row, r = rng.randrange(len(grid.alphas)), rng.randrange(len(HEIGHTS))
        if not grid.valid[row, r]:
            continue
        setting = Settings(alpha=grid.alphas[row], res=HEIGHTS[r], depth=grid.depth(row))
        cost = analyze(build_graph(spec, setting)).total.cost
        got = (grid.mult_adds[row, r], grid.params[row, r], grid.bn_params[row, r])
        assert got == (cost.mult_adds, cost.params, cost.bn_params), setting
    return statistics.median(times), grid


def scalar_seconds(grid: Grid, sample: int) -> float:
    """Seconds per setting of the one-setting engine, checking each against the grid."""
    rng = random.Random(0)
    cells = [(rng.randrange(len(ALPHAS)), rng.randrange(len(HEIGHTS))) for _ in range(sample)]
    cells = [(a, r) for a, r in cells if grid.valid[a, r]]
    start = time.perf_counter()
    totals = [
        analyze(build_graph(grid.spec, Settings(alpha=ALPHAS[a], res=HEIGHTS[r]))).total.cost
        for a, r in cells
    ]
    elapsed = time.perf_counter() - start
    for (a, r), cost in zip(cells, totals, strict=True):
        got = (grid.mult_adds[a, r], grid.params[a, r], grid.bn_params[a, r])
        assert got == (cost.mult_adds, cost.params, cost.bn_params), (ALPHAS[a], HEIGHTS[r])
    return elapsed / len(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="sweeps to time (default 3)")
    parser.add_argument("--sample", type=int, default=500, help="settings looped (default 500)")
    args = parser.parse_args()

    times = []
    for _ in range(args.runs):
        seconds, grid = timed_sweep()
        times.append(seconds)
    sweep_seconds = statistics.median(times)
    settings = len(ALPHAS) * len(HEIGHTS)

    tracemalloc.start()
    _, grid = timed_sweep()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result_bytes = sum(a.nbytes for a in (grid.mult_adds, grid.params, grid.bn_params, grid.valid))

    per_setting = scalar_seconds(grid, args.sample)

    deploy_times = []
    for _ in range(args.runs):
        seconds, deployed = timed_sweep(**deployment())
        deploy_times.append(seconds)
    deploy_seconds = statistics.median(deploy_times)
    tracemalloc.start()
    timed_sweep(**deployment())
    _, deploy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    check_deployment(deployed, args.sample)
    loop_seconds = per_setting * settings
    verdict = "ok" if sweep_seconds < TARGET_SECONDS else "OVER"
    print(
        f"spec                 MobileNet v1, {len(ALPHAS):,} alphas x {len(HEIGHTS):,} resolutions"
    )
    print(f"settings             {settings:,} ({int(grid.valid.sum()):,} buildable)")
    print(
        f"sweep                {sweep_seconds:7.3f} s median of {args.runs}  "
        f"({settings / sweep_seconds:,.0f} settings/s; target < {TARGET_SECONDS} s) {verdict}"
    )
    print(
        f"scalar engine        {per_setting * 1e3:7.3f} ms per setting "
        f"(sample of {args.sample}, all equal to the sweep's cells)"
    )
    print(f"looped for the grid  {loop_seconds:7.0f} s estimated")
    print(f"ratio                {loop_seconds / sweep_seconds:7.0f}x faster vectorized")
    print(
        f"peak memory          {peak / 2**20:7.1f} MiB traced, of which the result arrays "
        f"{result_bytes / 2**20:.1f} MiB"
    )
    print(
        f"with deployment      {deploy_seconds:7.3f} s median of {args.runs}  "
        f"({settings / deploy_seconds:,.0f} settings/s; peak bytes, weight bytes, latency: "
        f"fp16, jetson-nano; sample of {args.sample} equal to memory_report and roofline)"
    )
    print(f"  peak memory        {deploy_peak / 2**20:7.1f} MiB traced")
    depth_seconds, depth_grid = depth_sweep(args.runs, args.sample // 5)
    depth_settings = depth_grid.valid.size
    plans = len(depth_groups(depth_grid.spec, DEPTHS))
    print(
        f"depth axis           {depth_seconds:7.3f} s median of {args.runs}  "
        f"(EfficientNet-B0, {len(DEPTHS)} depths x {len(DEPTH_ALPHAS)} alphas x "
        f"{len(HEIGHTS):,} resolutions = {depth_settings:,} settings, {plans} plans; "
        f"{depth_settings / depth_seconds:,.0f} settings/s; sample of {args.sample // 5} equal "
        "to the one-setting engine)"
    )
    print(f"  against v1's sweep {depth_seconds / sweep_seconds:7.2f}x the time")


if __name__ == "__main__":
    main()
