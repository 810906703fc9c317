"""Fitting the cost model (`mbcalc.deploy.calibration`) to timed networks made up in the test.

Each sample's time is made from a known coefficient vector: time = terms . coefficients, the
model's own equation, so that an exact fit must give the coefficients back. The non-negative
least-squares solver is checked against the definition of its answer: the best of the
unconstrained least-squares solutions on every subset of columns that are all >= 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.deploy.calibration import (
    HOLD_OUT_EVERY,
    Sample,
    fit_model,
    fit_samples,
    network_terms,
    nonnegative_least_squares,
    predicted_seconds,
)
from mbcalc.deploy.latency_model import NETWORK_TERM, TERMS, CostModel
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.deploy.micro_grid import micro_networks

RNG_SEED = 20261130

# Log-uniform ranges of each field's amount per network and of its coefficient (seconds), as
# far apart as a network's op counts, mult-adds, bytes and output elements are.
AMOUNTS = {"overhead": (1, 60), "per_work": (1e3, 1e9), "per_byte": (1e3, 1e8),
           "per_element": (1e2, 1e7)}  # fmt: skip
SCALES = {"overhead": (1e-6, 2e-5), "per_work": (1e-11, 1e-9), "per_byte": (1e-11, 1e-10),
          "per_element": (1e-10, 1e-9)}  # fmt: skip


def field_of(term: str) -> str:
    return "overhead" if term == NETWORK_TERM else term.split(".")[1]


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def known_coefficients(rng: np.random.Generator, zero_share: float = 0.25) -> dict[str, float]:
    """Random coefficients >= 0, about a quarter of them 0 (never the run's fixed cost)."""
    coefficients = {}
    for term in TERMS:
        zero = term != NETWORK_TERM and rng.uniform() < zero_share
        coefficients[term] = 0.0 if zero else log_uniform(rng, *SCALES[field_of(term)])
    return coefficients


def random_terms(rng: np.random.Generator) -> dict[str, int]:
    """One made-up network: every term a random positive whole amount, 1 run."""
    found = {NETWORK_TERM: 1}
    for term in TERMS[1:]:
        found[term] = round(log_uniform(rng, *AMOUNTS[field_of(term)]))
    return found


def exact_seconds(terms: dict[str, int], coefficients: dict[str, float]) -> float:
    return math.fsum(amount * coefficients[term] for term, amount in terms.items())


def samples_of(
    networks: Sequence[dict[str, int]], coefficients: dict[str, float], noise: Sequence[float] = ()
) -> list[Sample]:
    """Timed samples: each network's exact time, times (1 + its noise) where given."""
    noise = list(noise) or [0.0] * len(networks)
    return [
        Sample(f"n{i}", terms, exact_seconds(terms, coefficients) * (1 + error))
        for i, (terms, error) in enumerate(zip(networks, noise, strict=True))
    ]


def micro_terms(quick: bool = True) -> list[dict[str, int]]:
    """`network_terms` of the calibration grid (by default the quick one), fp32, batch 1."""
    found = []
    for network in micro_networks(quick):
        report = analyze(build_graph(network.spec, Settings()))
        found.append(network_terms(memory_report(report, DType.FP32, 1)))
    return found


MICRO = micro_terms()


def assert_coefficients(found: CostModel, known: dict[str, float]) -> None:
    """Each coefficient to 1e-6 relative; a zero one to 1e-6 of its field's smallest scale."""
    for term, value in known.items():
        tolerance = 1e-6 * (value or SCALES[field_of(term)][0])
        assert abs(found.coefficients[term] - value) <= tolerance, (term, value)


# --- the fit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_exact_times_give_the_coefficients_back(seed: int) -> None:
    rng = np.random.default_rng(RNG_SEED + seed)
    known = known_coefficients(rng)
    samples = samples_of([random_terms(rng) for _ in range(200)], known)
    assert_coefficients(fit_model(samples), known)
    fitted = fit_samples(samples)
    assert_coefficients(fitted.model, known)
    assert fitted.quality.held_out == 200 // HOLD_OUT_EVERY
    assert fitted.quality.median_error <= 1e-9
    assert fitted.quality.within_15 == 1.0


def test_the_calibration_grids_exact_times_are_predicted_exactly() -> None:
    rng = np.random.default_rng(RNG_SEED)
    known = known_coefficients(rng)
    samples = samples_of(MICRO, known)
    fitted = fit_samples(samples)
    for sample in samples:
        predicted = predicted_seconds(fitted.model, sample.terms)
        assert predicted == pytest.approx(sample.seconds, rel=1e-6), sample.name
    assert fitted.quality.held_out == len(MICRO) // HOLD_OUT_EVERY
    assert fitted.quality.median_error <= 1e-6
    assert fitted.quality.within_15 == 1.0


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "default"])
def test_the_calibration_grid_determines_every_coefficient_its_networks_use(quick: bool) -> None:
    """No coefficient is a combination of others over the grid's networks: each is fitted."""
    grid = MICRO if quick else micro_terms(quick=False)
    amounts = np.array([[terms.get(term, 0) for term in TERMS] for terms in grid], dtype=float)
    used = amounts[:, np.linalg.norm(amounts, axis=0) > 0]
    scaled = used / np.linalg.norm(used, axis=0)
    assert np.linalg.matrix_rank(scaled) == scaled.shape[1]


@pytest.mark.parametrize("networks", ["random", "micro"])
def test_times_measured_within_5_percent_are_predicted_within_10(networks: str) -> None:
    rng = np.random.default_rng(RNG_SEED)
    known = known_coefficients(rng)
    chosen = [random_terms(rng) for _ in range(200)] if networks == "random" else MICRO
    noise = rng.uniform(-0.05, 0.05, len(chosen))
    fitted = fit_samples(samples_of(chosen, known, noise.tolist()))
    for terms in chosen:
        predicted = predicted_seconds(fitted.model, terms)
        assert predicted == pytest.approx(exact_seconds(terms, known), rel=0.10)
    assert fitted.quality.within_15 == 1.0
    assert fitted.quality.median_error <= 0.10


def test_every_network_counts_by_its_relative_error() -> None:
    """Two runs of one network, 1 s and 2 s: minimising (c / t - 1)^2 over both gives
    c = (1/1 + 1/2) / (1/1 + 1/4) = 1.2 s (an unweighted fit would give their mean, 1.5 s)."""
    samples = [Sample("fast", {NETWORK_TERM: 1}, 1.0), Sample("slow", {NETWORK_TERM: 1}, 2.0)]
    model = fit_model(samples)
    assert model.network_overhead == pytest.approx(1.2, rel=1e-12)
    assert all(model.coefficients[term] == 0 for term in TERMS[1:])


def test_every_fifth_network_is_held_out_of_the_first_fit() -> None:
    """Networks 5 and 10 of 10 measured twice as slow as the model: the first fit, on the
    other eight, is exact, and predicts each of those two at half its time (error 50%)."""
    rng = np.random.default_rng(RNG_SEED)
    known = dict.fromkeys(TERMS, 0.0) | {NETWORK_TERM: 1e-4, "conv.per_work": 1e-10}
    networks = [
        {NETWORK_TERM: 1, "conv.per_work": int(rng.integers(10**5, 10**8))} for _ in range(10)
    ]
    noise = [1.0 if i % 5 == 4 else 0.0 for i in range(10)]
    samples = samples_of(networks, known, noise)
    fitted = fit_samples(samples)
    assert fitted.quality.held_out == 2
    assert fitted.quality.median_error == pytest.approx(0.5, rel=1e-9)
    assert fitted.quality.within_15 == 0.0
    assert_coefficients(fit_model([s for i, s in enumerate(samples) if i % 5 != 4]), known)
    assert fitted.model == fit_model(samples)  # the model kept is fitted to all ten
    slow = samples[4].terms
    assert predicted_seconds(fitted.model, slow) > 1.01 * exact_seconds(slow, known)


def test_a_network_s_prediction_is_its_amounts_times_the_coefficients() -> None:
    coefficients = dict.fromkeys(TERMS, 0.0) | {NETWORK_TERM: 3e-5, "fc.per_work": 2e-10}
    summed = {NETWORK_TERM: 1, "fc.overhead": 2, "fc.per_work": 1024 * 1000}
    expected = 3e-5 + 1024 * 1000 * 2e-10
    assert predicted_seconds(CostModel(coefficients), summed) == pytest.approx(expected, rel=1e-15)


def test_no_samples_is_an_error() -> None:
    with pytest.raises(ValueError, match="no timed networks"):
        fit_model([])


# --- non-negative least squares ----------------------------------------------------------------


def brute_force_nnls(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """The definition: of the least-squares solutions on each subset of columns, those all
    >= 0, the one of the smallest residual (and its residual)."""
    best, best_residual = np.zeros(a.shape[1]), float(np.linalg.norm(b))
    for size in range(1, a.shape[1] + 1):
        for columns in itertools.combinations(range(a.shape[1]), size):
            x = np.zeros(a.shape[1])
            x[list(columns)] = np.linalg.lstsq(a[:, list(columns)], b, rcond=None)[0]
            residual = float(np.linalg.norm(a @ x - b))
            if (x >= 0).all() and residual < best_residual - 1e-12:
                best, best_residual = x, residual
    return best, best_residual


def random_problem(rng: np.random.Generator, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """A tall problem whose columns are scaled as far apart as the model's terms."""
    rows = int(rng.integers(columns + 1, 12))
    a = rng.uniform(0, 1, (rows, columns)) * 10.0 ** rng.integers(-8, 8, columns)
    b = rng.normal(0, 1, rows)
    return a, b


@pytest.mark.parametrize("columns", [1, 2, 3, 4])
def test_nnls_is_the_best_nonnegative_subset_solution(columns: int) -> None:
    rng = np.random.default_rng(RNG_SEED + columns)
    for _ in range(50):
        a, b = random_problem(rng, columns)
        expected, residual = brute_force_nnls(a, b)
        x = nonnegative_least_squares(a, b)
        assert (x >= 0).all()
        assert float(np.linalg.norm(a @ x - b)) == pytest.approx(residual, rel=1e-9, abs=1e-12)
        assert x == pytest.approx(expected, rel=1e-7, abs=1e-12 * float(np.abs(expected).max()))


# Small problems on which the active-set method takes a column in and must drop it again.
STEP_BACK = [
    ([[1, 0, 1], [3, 3, 3], [2, 0, 2], [2, 3, 1]], [-1, 2, 1, 2]),
    ([[1, 3, 2], [2, 2, 0], [2, 2, 0], [2, 2, 1]], [4, 4, 0, 4]),
    ([[2, 1, 1], [3, 2, 1], [3, 2, 0], [1, 0, 2]], [-2, 4, 2, 3]),
    ([[0, 2, 0], [3, 1, 2], [3, 2, 3], [1, 3, 2]], [2, 1, 4, 3]),
]


@pytest.mark.parametrize(("a", "b"), STEP_BACK)
def test_nnls_steps_back_from_a_negative_solution(a: list[list[int]], b: list[int]) -> None:
    matrix, target = np.array(a, dtype=float), np.array(b, dtype=float)
    expected, residual = brute_force_nnls(matrix, target)
    x = nonnegative_least_squares(matrix, target)
    assert (x >= 0).all()
    assert float(np.linalg.norm(matrix @ x - target)) == pytest.approx(residual, rel=1e-9)
    assert x == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_nnls_agrees_with_scipy() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(50):
        a, b = random_problem(rng, int(rng.integers(1, 8)))
        expected, _ = optimize.nnls(a, b)
        assert nonnegative_least_squares(a, b) == pytest.approx(expected, rel=1e-7, abs=1e-12)


def test_a_column_of_zeros_gets_0_and_leaves_the_others_alone() -> None:
    rng = np.random.default_rng(RNG_SEED)
    a, b = random_problem(rng, 3)
    with_zero = np.insert(a, 1, 0.0, axis=1)
    x = nonnegative_least_squares(with_zero, b)
    assert x[1] == 0.0
    assert np.delete(x, 1) == pytest.approx(nonnegative_least_squares(a, b), rel=1e-12)


@pytest.mark.parametrize("columns", [8, 20, len(TERMS)])
def test_nnls_meets_the_optimality_conditions(columns: int) -> None:
    """Larger problems, where enumeration is out of reach: x >= 0, and the gradient of the
    residual a^T (b - a x) is 0 where x > 0 and <= 0 where x = 0 (Karush-Kuhn-Tucker)."""
    rng = np.random.default_rng(RNG_SEED + columns)
    for _ in range(10):
        a = rng.uniform(0, 1, (3 * columns, columns))
        b = rng.normal(0, 1, 3 * columns)
        x = nonnegative_least_squares(a, b)
        assert (x >= 0).all()
        gradient = a.T @ (b - a @ x)
        scale = float(np.abs(a.T @ b).max())
        assert np.abs(gradient[x > 0]).max(initial=0.0) <= 1e-9 * scale
        assert gradient[x == 0].max(initial=0.0) <= 1e-9 * scale
