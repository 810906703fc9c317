"""The vectorized sweep engine agrees with `mbcalc table`'s engine at every setting.

Each cell of a grid is compared with `analyze(build_graph(...))` at the same alpha and
resolution: the same exact counts where the network builds, and "invalid" exactly where the
one-setting engine refuses the setting.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import Spec
from mbcalc.errors import SettingsError
from mbcalc.grid.bounds import INT64_SAFE
from mbcalc.grid.sweep import sweep
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks
from tests.helpers.sweep_check import assert_grid_matches_table
from tests.helpers.zoo_cost import LARGEST, checked_in_full

# The paper's Tables 6 and 7 in one grid (Howard et al. 2017): mult-adds in millions and params
# in millions at their printed precision. Where the paper prints a figure the formula does not
# give (the 160 row of Table 7: 291M, printed 290M) tests/test_paper.py documents it.
TABLE_6 = {"1": (569, 4.2), "0.75": (325, 2.6), "0.5": (149, 1.3), "0.25": (41, 0.5)}
TABLE_7 = {224: 569, 192: 418, 128: 186}


def test_the_papers_tables_6_and_7_in_one_grid() -> None:
    alphas = [Fraction(text) for text in TABLE_6]
    grid = sweep(load_shipped("mobilenet_v1"), alphas, [224, 192, 160, 128])
    assert grid.valid.all()
    for a, (mult_adds, params) in enumerate(TABLE_6.values()):
        assert round(int(grid.mult_adds[a, 0]) / 1e6) == mult_adds
        assert round(int(grid.params[a, 0]) / 1e6, 1) == params
    for r, height in enumerate([224, 192, 160, 128]):
        if height in TABLE_7:
            assert round(int(grid.mult_adds[0, r]) / 1e6) == TABLE_7[height]
    assert_grid_matches_table(grid)


@pytest.mark.parametrize("name", [*checked_in_full(), LARGEST])
def test_every_shipped_spec_over_a_grid(name: str) -> None:
    alphas = [Fraction(n, 20) for n in (1, 5, 10, 15, 20, 28)]
    assert_grid_matches_table(sweep(load_shipped(name), alphas, [1, 7, 32, 97, 160, 224, 300]))


@settings(max_examples=60, deadline=None)
@given(
    spec=networks(fixed_width=True),
    alphas=st.lists(st.fractions(Fraction(1, 40), 3, max_denominator=40), min_size=1, max_size=5),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=5),
    chunk=st.integers(1, 12),
)
def test_random_networks_over_random_grids(
    spec: Spec, alphas: list[Fraction], heights: list[int], chunk: int
) -> None:
    """Random grids, random chunking: including settings where channels or sizes fail."""
    assert_grid_matches_table(sweep(spec, alphas, heights, chunk_cells=chunk))


def test_chunking_does_not_change_the_grid() -> None:
    spec = load_shipped("mobilenet_v1")
    alphas = [Fraction(n, 40) for n in range(1, 41)]
    heights = list(range(16, 256, 8))
    whole = sweep(spec, alphas, heights)
    for chunk in (1, 7, 64, 333):
        parts = sweep(spec, alphas, heights, chunk_cells=chunk)
        for name in ("mult_adds", "params", "bn_params", "activations", "valid"):
            assert np.array_equal(getattr(parts, name), getattr(whole, name)), (chunk, name)


def test_totals_too_large_for_int64_stay_exact() -> None:
    """VGG 16 at a 5,000,000-pixel side passes 2**62 mult-adds: counted in Python ints."""
    spec = load_shipped("vgg16")
    grid = sweep(spec, [Fraction(1)], [5_000_000])
    assert grid.mult_adds.dtype == object
    assert int(grid.mult_adds[0, 0]) >= INT64_SAFE
    assert_grid_matches_table(grid)


def test_the_spec_resolution_is_the_default() -> None:
    grid = sweep(load_shipped("mobilenet_v1"), [Fraction(1)])
    assert grid.resolutions == ((224, 224),)
    # The paper: MobileNet 1.0-224 has 568,740,352 mult-adds and 4,210,088 params.
    assert (grid.mult_adds[0, 0], grid.params[0, 0]) == (568_740_352, 4_210_088)


@pytest.mark.parametrize(
    ("alphas", "heights"),
    [([], [224]), ([Fraction(1)], []), ([Fraction(0)], [224]), ([Fraction(1)], [0])],
)
def test_an_empty_or_impossible_grid_is_refused(alphas: list[Fraction], heights: list[int]) -> None:
    with pytest.raises(SettingsError):
        sweep(load_shipped("mobilenet_v1"), alphas, heights)


@settings(max_examples=30, deadline=None)
@given(
    spec=networks(fixed_width=True, varied=True),
    alphas=st.lists(st.fractions(Fraction(1, 40), 3, max_denominator=40), min_size=1, max_size=3),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=3),
)
def test_random_networks_with_softmax_and_every_pool_form(
    spec: Spec, alphas: list[Fraction], heights: list[int]
) -> None:
    """Softmax heads, pools in every form and every activation: the grid stays exact."""
    assert_grid_matches_table(sweep(spec, alphas, heights))
