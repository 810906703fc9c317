"""`mbcalc bench`: one network measured end to end and op by op, beside what mbcalc counts of it.

The end-to-end figure is the median of repeated inferences after a warm-up
(`mbcalc.pytorch.timing.measure`); the per-op times come from a second pass
(`mbcalc.pytorch.runtimes.Prepared.op_seconds`), so that timing the ops does not slow the
end-to-end figure down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mbcalc.core.report import Report
from mbcalc.deploy.deployment import Deployment
from mbcalc.pytorch.network import Network
from mbcalc.pytorch.runtimes import Conditions, prepare
from mbcalc.pytorch.timing import Budget, Timing, measure

BENCH_BUDGET = Budget(warmup=10, min_runs=20, min_seconds=1.0)
"""At least 20 runs and a second after 10 runs of warm-up."""
OP_RUNS = 20
"""Inferences of the per-op pass."""


@dataclass(frozen=True)
class Benchmark:
    """A network's measured times under `conditions`, and its report (and estimate)."""

    report: Report
    conditions: Conditions
    timing: Timing
    op_seconds: dict[str, float]  # by op name; an op that did not run (an aux head) is absent
    deployment: Deployment | None  # the estimate on a device, when one is given


def bench(
    report: Report,
    conditions: Conditions,
    deployment: Deployment | None = None,
    budget: Budget | None = None,
    op_runs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Benchmark:
    """Build `report`'s network, time it under `conditions` (`budget`, else `BENCH_BUDGET`),
    then time its ops (`op_runs` inferences, else `OP_RUNS`; 0: not at all)."""
    prepared = prepare(Network(report.graph), conditions)
    if progress is not None:
        progress("end to end")
    timing = measure(prepared.run, BENCH_BUDGET if budget is None else budget)
    if progress is not None:
        progress("op by op")
    op_runs = OP_RUNS if op_runs is None else op_runs
    op_seconds = prepared.op_seconds(op_runs) if op_runs else {}
    return Benchmark(report, conditions, timing, op_seconds, deployment)
