"""Timing a callable as a benchmark does: warm-up, repeated runs, the median and the spread.

The clock is `time.perf_counter`. Runs repeat until there are at least `min_runs` of them and
`min_seconds` have passed (and stop at `max_runs`); the first `warmup` runs are not counted
(allocations, lazy initialisation and caches settle in them).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """A callable's measured time over `runs` runs, in seconds."""

    median: float
    q1: float  # the first quartile
    q3: float  # the third quartile
    runs: int

    @property
    def spread(self) -> float:
        """The interquartile range over the median: how much the runs disagree."""
        return (self.q3 - self.q1) / self.median if self.median else 0.0


@dataclass(frozen=True, slots=True)
class Budget:
    """How long to time one callable."""

    warmup: int = 3
    min_runs: int = 10
    min_seconds: float = 0.5
    max_runs: int = 10_000


QUICK = Budget(warmup=2, min_runs=5, min_seconds=0.05)
"""The budget of a quick calibration and of the tests."""


def measure(run: Callable[[], object], budget: Budget = Budget()) -> Timing:
    """The time of `run()`, over a `budget` of runs after its warm-up."""
    for _ in range(budget.warmup):
        run()
    times: list[float] = []
    clock = time.perf_counter
    start = clock()
    while len(times) < budget.max_runs and (
        len(times) < budget.min_runs or clock() - start < budget.min_seconds
    ):
        before = clock()
        run()
        times.append(clock() - before)
    return _timing(times)


def measure_in_turn(
    runs: Sequence[Callable[[], object]],
    rounds: int,
    seconds: float = 0.0,
    progress: Callable[[int], None] | None = None,
    warm: int = 0,
) -> list[Timing]:
    """The times of many callables, run in turn: one timed call of each per round, in an order
    that changes from round to round, for `rounds` rounds and until `seconds` have passed.

    Timed this way, each call finds the caches, the allocator and the interpreter as another
    callable left them, as an op inside a network finds the code it runs after the ops before
    it; and a machine that speeds up or slows down for a while does so for all of them alike.
    `warm` untimed calls of the same callable go just before each timed one, so that the timed
    call finds its own data in the caches, as an op finds the tensor the op before it wrote.
    `progress` is called with the number of rounds done after each.
    """
    order = list(range(len(runs)))
    for index in order:  # warm-up: one call each
        runs[index]()
    times: list[list[float]] = [[] for _ in runs]
    shuffler = random.Random(len(runs))
    clock = time.perf_counter
    start = clock()
    done = 0
    while done < rounds or clock() - start < seconds:
        shuffler.shuffle(order)
        for index in order:
            for _ in range(warm):
                runs[index]()
            before = clock()
            runs[index]()
            times[index].append(clock() - before)
        done += 1
        if progress is not None:
            progress(done)
    return [_timing(observed) for observed in times]


def _timing(times: list[float]) -> Timing:
    if len(times) == 1:
        return Timing(times[0], times[0], times[0], 1)
    q1, median, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return Timing(median=median, q1=q1, q3=q3, runs=len(times))
