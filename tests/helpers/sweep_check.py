"""The check that a sweep's grid equals the one-setting engine cell by cell."""

from __future__ import annotations

from mbcalc import MbcalcError, Settings, analyze, build_graph
from mbcalc.grid.sweep import Grid


def assert_grid_matches_table(grid: Grid) -> None:
    """Every cell (its activations too) equals the one-setting engine, or is invalid exactly
    where it refuses."""
    for a, alpha in enumerate(grid.alphas):
        for r, (height, width) in enumerate(grid.resolutions):
            try:
                graph = build_graph(grid.spec, Settings(alpha=alpha, res=height))
            except MbcalcError:
                assert not grid.valid[a, r], (alpha, height)
                continue
            assert graph.resolution == (height, width)
            total = analyze(graph).total
            cost = total.cost
            cell = (grid.mult_adds[a, r], grid.params[a, r], grid.bn_params[a, r])
            assert grid.valid[a, r], (alpha, height)
            assert cell == (cost.mult_adds, cost.params, cost.bn_params), (alpha, height)
            assert grid.activations[a, r] == total.activations, (alpha, height)
