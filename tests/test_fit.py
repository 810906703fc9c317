"""Budget fitting: the frontier is exactly the non-dominated settings that fit."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import MbcalcError, Settings, analyze, build_graph
from mbcalc.core.ranges import parse_count, parse_fractions, parse_integers
from mbcalc.grid.fit import DEFAULT_ALPHAS, default_heights, fit
from mbcalc.spec.zoo import load_shipped

MOBILENET = load_shipped("mobilenet_v1")


def brute_force(max_mult_adds: int, max_params: int | None, alphas, heights):  # type: ignore[no-untyped-def]
    """Every fitting setting by the one-setting engine, and the non-dominated ones among them."""
    fitting = []
    for alpha in alphas:
        for height in heights:
            try:
                graph = build_graph(MOBILENET, Settings(alpha=alpha, res=height))
                cost = analyze(graph).total.cost
            except MbcalcError:
                continue
            if cost.mult_adds <= max_mult_adds and (
                max_params is None or cost.params <= max_params
            ):
                fitting.append((alpha, height, cost.mult_adds, cost.params))

    def dominated(point) -> bool:  # type: ignore[no-untyped-def]
        return any(
            other[2] >= point[2] and other[3] >= point[3] and other[2:] != point[2:]
            for other in fitting
        )

    return fitting, [point for point in fitting if not dominated(point)]


@settings(max_examples=40, deadline=None)
@given(
    max_mult_adds=st.integers(1_000_000, 700_000_000),
    max_params=st.one_of(st.none(), st.integers(50_000, 5_000_000)),
)
def test_the_frontier_is_the_non_dominated_fitting_settings(
    max_mult_adds: int, max_params: int | None
) -> None:
    alphas = [Fraction(n, 8) for n in range(1, 9)]
    heights = [96, 128, 160, 192, 224]
    result = fit(MOBILENET, max_mult_adds, max_params, alphas, heights)
    fitting, frontier = brute_force(max_mult_adds, max_params, alphas, heights)
    assert result.settings_searched == len(alphas) * len(heights)
    assert result.settings_fitting == len(fitting)
    got = [(f.alpha, f.resolution[0], f.mult_adds, f.params) for f in result.frontier]
    assert sorted(got) == sorted(frontier)
    assert [f.mult_adds for f in result.frontier] == sorted(f.mult_adds for f in result.frontier)
    if result.frontier:
        best = result.frontier[result.best or 0]
        assert best.mult_adds == max(point[2] for point in fitting)
        assert best.mult_adds_share == Fraction(best.mult_adds, max_mult_adds)


def test_a_phone_budget_of_150m_and_1_5m() -> None:
    """0.50 MobileNet-224 (Table 6: 149M mult-adds, 1.3M params) is the largest that fits."""
    result = fit(MOBILENET, 150_000_000, 1_500_000)
    best = result.frontier[result.best or 0]
    assert (best.alpha, best.resolution) == (Fraction(1, 2), (224, 224))
    assert round(best.mult_adds / 1e6) == 149
    assert round(best.params / 1e6, 1) == 1.3


def test_nothing_fits_a_tiny_budget() -> None:
    result = fit(MOBILENET, 1_000)
    assert result.frontier == ()
    assert result.best is None


def test_the_default_grid_refines_the_papers() -> None:
    assert DEFAULT_ALPHAS[0] == Fraction(1, 20)
    assert DEFAULT_ALPHAS[-1] == 1
    assert {Fraction(1), Fraction(3, 4), Fraction(1, 2), Fraction(1, 4)} <= set(DEFAULT_ALPHAS)
    assert {128, 160, 192, 224} <= set(default_heights(MOBILENET))
    assert default_heights(MOBILENET, 16)[:2] == [16, 32]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("300M", 300_000_000), ("2.5M", 2_500_000), ("1.2G", 1_200_000_000), ("150k", 150_000),
     ("4210088", 4_210_088), ("4,210,088", 4_210_088), (".5K", 500), ("1e8", 10**8),
     ("1.5e6", 1_500_000), ("1E9", 10**9), ("2.5e+3", 2_500), ("100M", 10**8), ("0.1G", 10**8),
     ("0.1K", 100), ("150,000,000", 150_000_000)],
)  # fmt: skip
def test_counts_with_units(text: str, expected: int) -> None:
    assert parse_count(text, "--max-mult-adds") == expected


@pytest.mark.parametrize("text", ["", "M", "3X", "1.5", "-3M", "1e", "e8", "1e100", "1,5e6"])
def test_bad_counts(text: str) -> None:
    with pytest.raises(ValueError, match="--max-params"):
        parse_count(text, "--max-params")


@pytest.mark.parametrize(
    ("text", "value"), [("1.5", "1.5"), ("1.5e-1", "0.15"), ("0.0001K", "0.1")]
)
def test_a_count_that_is_not_whole_says_so_in_one_line(text: str, value: str) -> None:
    message = f"--max-mult-adds: {text!r} is {value}; a count must be a whole number"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_count(text, "--max-mult-adds")


def test_lists_and_ranges() -> None:
    assert parse_fractions("1,0.75,0.5,0.25", "--alpha") == [
        1,
        Fraction(3, 4),
        Fraction(1, 2),
        Fraction(1, 4),
    ]
    assert parse_fractions("0.25:1:0.25", "--alpha") == [Fraction(n, 4) for n in range(1, 5)]
    assert parse_fractions("0.1:0.35:0.1", "--alpha") == [
        Fraction(1, 10),
        Fraction(2, 10),
        Fraction(3, 10),
    ]
    assert parse_integers("96:224:32", "--res") == [96, 128, 160, 192, 224]


BAD_LISTS = ["1:2", "1:0:0.5", "2:1:0.5", "1:2:0", "a,b", "", "1:10000000000:1"]


@pytest.mark.parametrize("text", BAD_LISTS)
def test_bad_lists(text: str) -> None:
    with pytest.raises(ValueError, match="--alpha"):
        parse_fractions(text, "--alpha")


def test_resolutions_are_whole_numbers() -> None:
    with pytest.raises(ValueError, match="whole"):
        parse_integers("160.5", "--res")
