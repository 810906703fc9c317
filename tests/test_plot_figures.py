"""The plots as matplotlib figures: tick labels, axis labels, titles and point labels, read
from the `Figure` objects (no pixels), and the `wrote FILE` line of the commands that draw."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from mbcalc import Settings, analyze, build_graph
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.roofline import resolve_device
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import PlotBy
from mbcalc.spec.zoo import load_shipped
from mbcalc.views.plot import grid_figure, roofline_figure, tick_label
from tests.helpers.cli import invoke_mbcalc
from tests.helpers.mobilenet_v1 import v1_reference

ALPHAS = (Fraction(1), Fraction(3, 4), Fraction(1, 2), Fraction(1, 4))
HEIGHTS = (224, 192, 160, 128)
PREFIXES = {1: "", 10**3: "k", 10**6: "M", 10**9: "G", 10**12: "T"}


def si(value: int) -> str:
    """A round count as the brief spells it: 1k, 20M, 500M."""
    unit = max(size for size in PREFIXES if size <= value)
    return f"{value // unit}{PREFIXES[unit]}"


def axes_of(figure: Figure) -> Axes:
    figure.draw_without_rendering()  # tick labels are set when the figure is laid out
    (axes,) = figure.axes
    return axes


def tick_texts(labels: list[Text]) -> list[str]:
    """The texts of the tick labels shown (a tick outside the view has none)."""
    return [text for label in labels if (text := label.get_text())]


def round_values_between(low: int, high: int, steps: tuple[int, ...]) -> set[str]:
    """The labels of the values step x 10^k in [low, high]."""
    return {
        si(step * 10**power)
        for power in range(0, 16)
        for step in steps
        if low <= step * 10**power <= high
    }


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (1e3, "1k"), (1e4, "10k"), (1e5, "100k"), (5e5, "500k"), (1e6, "1M"), (2e6, "2M"),
        (1e7, "10M"), (1e8, "100M"), (1e9, "1G"), (1e12, "1T"), (1.0, "1"), (500.0, "500"),
        (0.1, "0.1"), (0.01, "0.01"), (0.5, "0.5"),
    ],
)  # fmt: skip
def test_tick_label(value: float, label: str) -> None:
    assert tick_label(value) == label


def test_sweep_figure_reads() -> None:
    grid = sweep(load_shipped("mobilenet_v1"), ALPHAS, HEIGHTS)
    axes = axes_of(grid_figure(grid))
    costs = [v1_reference(a, h, h) for a in ALPHAS for h in HEIGHTS]
    mult_adds = [cost["mult_adds"] for cost in costs]
    params = [cost["params"] for cost in costs]
    # mult-adds span less than two decades: 1, 2 and 5 of each decade are labelled
    assert math.log10(max(mult_adds) / min(mult_adds)) < 2
    y_ticks = tick_texts(axes.get_yticklabels())
    assert round_values_between(min(mult_adds), max(mult_adds), (1, 2, 5)) <= set(y_ticks)
    assert round_values_between(min(params), max(params), (1, 2, 5)) <= set(
        tick_texts(axes.get_xticklabels())
    )
    assert {"100M", "200M"} <= set(y_ticks)
    assert not any("$" in text or "^" in text for text in y_ticks)  # no 10^8 mathtext
    assert axes.get_xlabel() == "parameters (count, log scale)"
    assert axes.get_ylabel() == "mult-adds per image (log scale)"
    assert axes.get_title() == "MobileNet v1: mult-adds against parameters"
    labels = sorted(text.get_text() for text in axes.texts)
    assert labels == sorted(f"{float(a):g}/{h}" for a in ALPHAS for h in HEIGHTS)
    legend = axes.get_legend()
    assert legend is not None
    assert [text.get_text() for text in legend.get_texts()] == [f"{h}x{h}" for h in HEIGHTS]


def test_sweep_figure_labels_a_rectangular_input_by_its_size() -> None:
    grid = sweep(load_shipped("mobilenet_v1"), [Fraction(1, 2)], [(128, 96), 160])
    axes = axes_of(grid_figure(grid, PlotBy.ALPHA))
    assert sorted(text.get_text() for text in axes.texts) == ["0.5/128x96", "0.5/160"]


def test_sweep_figure_over_decades_labels_each_decade() -> None:
    alphas = [Fraction(1, 20), Fraction(1)]
    grid = sweep(load_shipped("mobilenet_v1"), alphas, [32, 224])
    axes = axes_of(grid_figure(grid))
    mult_adds = [v1_reference(a, h, h)["mult_adds"] for a in alphas for h in (32, 224)]
    assert math.log10(max(mult_adds) / min(mult_adds)) >= 2
    y_ticks = tick_texts(axes.get_yticklabels())
    assert round_values_between(min(mult_adds), max(mult_adds), (1,)) <= set(y_ticks)
    assert not round_values_between(min(mult_adds), max(mult_adds), (2, 5)) & set(y_ticks)


def test_roofline_figure_reads() -> None:
    settings = Settings(alpha=Fraction(1, 2), res=160)
    report = analyze(build_graph(load_shipped("mobilenet_v1"), settings))
    device = resolve_device("jetson-nano")
    deployment = deploy(report, None, 1, False, device, show_memory=False)
    axes = axes_of(roofline_figure(deployment))
    assert axes.get_title() == "MobileNet v1 on Jetson Nano (alpha 0.5, 160x160, fp16)"
    assert axes.get_xlabel() == "arithmetic intensity (mult-adds per byte, log scale)"
    assert axes.get_ylabel() == "attained rate (mult-adds per second, log scale)"
    assert {"1", "10"} <= set(tick_texts(axes.get_xticklabels()))
    assert {"10G", "100G"} <= set(tick_texts(axes.get_yticklabels()))
    names = [text.get_text() for text in axes.texts]
    largest = max(report.rows, key=lambda row: row.cost.mult_adds).op.name
    assert largest in names
    assert set(names) <= {row.op.name for row in report.rows}
    boxes = [text.get_window_extent() for text in axes.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


@pytest.mark.parametrize("command", ["sweep", "roofline"])
def test_drawing_says_wrote_file(command: str, tmp_path: Path) -> None:
    image = tmp_path / "plot.svg"
    result = invoke_mbcalc(command, "mobilenet_v1", "--plot", str(image))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {image}\n"  # standard output carries the report
    assert result.stdout.strip()
    report = tmp_path / "report.json"
    result = invoke_mbcalc(command, "mobilenet_v1", "--plot", str(image), "-o", str(report))
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == (f"wrote {image}\n", "")
    assert image.read_bytes().startswith(b"<?xml")
