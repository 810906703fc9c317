"""Fitting the cost model of `mbcalc.deploy.latency_model` to timed networks.

Each timed network gives one equation: its measured time equals its ops' terms (summed over
the network, `network_terms`) times the model's coefficients, plus the fixed cost of a run.
The coefficients are the non-negative least-squares solution of those equations weighted by
1 / measured time, so that every network counts by its relative error (a 20 us network as much
as a 200 ms one). A share of the networks is held out of a first fit to measure how well the
model predicts networks it has not seen; the model kept is then fitted to all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mbcalc.deploy.calibration_file import Quality
from mbcalc.deploy.latency_model import NETWORK_TERM, TERMS, CostModel, terms
from mbcalc.deploy.memory import MemoryReport
from mbcalc.deploy.roofline import timed_ops

_INDEX = {term: i for i, term in enumerate(TERMS)}


def network_terms(memory: MemoryReport) -> dict[str, int]:
    """The sum of every running op's `terms` in `memory`'s report, and 1 for the run."""
    summed: dict[str, int] = {NETWORK_TERM: 1}
    for _, op, dims, mult_adds, moved in timed_ops(memory):
        for term, amount in terms(op, dims, mult_adds, moved, memory.batch, memory.fold_bn):
            summed[term] = summed.get(term, 0) + int(amount)
    return summed


def predicted_seconds(model: CostModel, summed: dict[str, int]) -> float:
    """A network's time from its `network_terms`."""
    return sum(amount * model.coefficients[term] for term, amount in summed.items())


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed network: its name, its `network_terms` and its measured median time."""

    name: str
    terms: dict[str, int]
    seconds: float


@dataclass(frozen=True, slots=True)
class Fitted:
    model: CostModel
    quality: Quality


HOLD_OUT_EVERY = 5
"""Every fifth network (in the grid's order) is held out of the first fit: 20%."""


def fit_samples(samples: Sequence[Sample]) -> Fitted:
    """The model of all `samples`, and its quality measured on a fifth held out of a first fit."""
    held = [s for i, s in enumerate(samples) if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1]
    kept = [s for i, s in enumerate(samples) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1]
    first = fit_model(kept)
    errors = np.array([predicted_seconds(first, s.terms) / s.seconds - 1 for s in held])
    quality = Quality(
        held_out=len(held),
        median_error=float(np.median(np.abs(errors))) if held else 0.0,
        within_15=float(np.mean(np.abs(errors) <= 0.15)) if held else 0.0,
    )
    return Fitted(fit_model(samples), quality)


def fit_model(samples: Sequence[Sample]) -> CostModel:
    """The non-negative least-squares model of `samples`, each weighted by 1 / its time."""
    if not samples:
        raise ValueError("no timed networks to fit")
    rows = np.zeros((len(samples), len(TERMS)))
    for i, sample in enumerate(samples):
        for term, amount in sample.terms.items():
            rows[i, _INDEX[term]] = amount / sample.seconds
    coefficients = nonnegative_least_squares(rows, np.ones(len(samples)))
    return model_of(coefficients)


def model_of(coefficients: np.ndarray | Sequence[float]) -> CostModel:
    """The `CostModel` whose coefficients, in the order of `TERMS`, are `coefficients`."""
    return CostModel({term: float(coefficients[i]) for i, term in enumerate(TERMS)})


def nonnegative_least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x >= 0 minimising |a x - b| (Lawson and Hanson's active-set method).

    Columns are scaled to unit length first, so that terms counted in units as far apart as
    ops and bytes are solved alike; a column of zeros (a class no sample has) gets 0.
    """
    norms = np.linalg.norm(a, axis=0)
    used = norms > 0
    scaled = a[:, used] / norms[used]
    n = scaled.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tolerance = 1e-10 * max(1.0, float(np.abs(b).max(initial=0.0)))
    for _ in range(3 * n + 10):
        gradient = scaled.T @ (b - scaled @ x)
        candidates = ~passive & (gradient > tolerance)
        if not candidates.any():
            break
        passive[np.argmax(np.where(candidates, gradient, -np.inf))] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(scaled[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            falling = passive & (z <= 0)
            step = np.min(x[falling] / (x[falling] - z[falling]))
            x = x + step * (z - x)
            passive &= x > tolerance * 1e-3
            x[~passive] = 0.0
    solution = np.zeros(a.shape[1])
    solution[used] = x / norms[used]
    return solution
