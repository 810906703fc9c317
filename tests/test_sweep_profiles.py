"""The sweep engine under every counting profile agrees with `mbcalc table --profile` at every
setting: each cell's operations, extras and params equal `count` on the one-setting report."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import MbcalcError, Settings, Spec, analyze, build_graph
from mbcalc.core.profiles import PROFILES, ParamsRule, Profile, count, custom_profile
from mbcalc.grid.sweep import sweep
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks
from tests.helpers.zoo_cost import checked_in_full

CUSTOM = custom_profile(
    PROFILES["thop"], True, {"act": 3, "add": 1, "scale": 2, "maxpool_out": 5}, ParamsRule.KERAS
)
"""Every family priced, 2 FLOPs per mult-add and Keras' parameters: what no shipped one does."""

EVERY_PROFILE = [*PROFILES.values(), CUSTOM]


def assert_counted_grid_matches_table(
    spec: Spec, alphas: list[Fraction], heights: list[int], profile: Profile
) -> None:
    """Each valid cell under `profile` equals `count` at that setting; invalid ones are 0."""
    grid = sweep(spec, alphas, heights, profile=profile)
    assert grid.counted is not None
    assert grid.counted.profile == profile
    for a, alpha in enumerate(alphas):
        for r, height in enumerate(heights):
            cell = int(grid.counted.operations[a, r]), int(grid.counted.params[a, r])
            extras = {key: int(values[a, r]) for key, values in grid.counted.extras.items()}
            try:
                report = analyze(build_graph(spec, Settings(alpha=alpha, res=height)))
            except MbcalcError:
                assert cell == (0, 0)
                assert not any(extras.values())
                continue
            counted = count(report, profile)
            assert cell == (counted.operations, counted.params), (alpha, height)
            assert {key: ops for key, ops in extras.items() if ops} == counted.extras


@pytest.mark.parametrize("profile", EVERY_PROFILE, ids=lambda profile: profile.name)
@pytest.mark.parametrize("name", checked_in_full())
def test_every_shipped_spec_under_every_profile(name: str, profile: Profile) -> None:
    alphas = [Fraction(1, 4), Fraction(1, 2), Fraction(1)]
    assert_counted_grid_matches_table(load_shipped(name), alphas, [7, 97, 224], profile)


@settings(max_examples=40, deadline=None)
@given(
    spec=networks(fixed_width=True, varied=True),
    alphas=st.lists(st.fractions(Fraction(1, 40), 3, max_denominator=40), min_size=1, max_size=3),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=3),
    profile=st.sampled_from(EVERY_PROFILE),
)
def test_random_networks_under_every_profile(
    spec: Spec, alphas: list[Fraction], heights: list[int], profile: Profile
) -> None:
    """Softmax heads, pools in every form (padded ones read their padding), every activation."""
    assert_counted_grid_matches_table(spec, alphas, heights, profile)


def test_without_a_profile_the_grid_counts_nothing_more() -> None:
    assert sweep(load_shipped("mobilenet_v1"), [Fraction(1)]).counted is None


def test_fvcore_on_mobilenet_v1_by_its_formula() -> None:
    """fvcore: mult-adds + 2 per BN output + the global pool's 7x7x1024 inputs."""
    grid = sweep(load_shipped("mobilenet_v1"), [Fraction(1)], [224], profile=PROFILES["fvcore"])
    report = analyze(build_graph(load_shipped("mobilenet_v1")))
    bn_outputs = sum(
        row.op.output[0] * row.op.output[1] * row.op.output[2] for row in report.rows if row.op.bn
    )
    assert grid.counted is not None
    expected = report.total.cost.mult_adds + 2 * bn_outputs + 7 * 7 * 1024
    assert int(grid.counted.operations[0, 0]) == expected
