"""Attention in windows, grids and patches: which keys each query sees, the products' cost,
the relative position bias table, the attention matrix's memory, the errors, and the sweep
engine over random partitioned networks.

Expected figures are counted here by brute force: every query's keys are listed from the
partition's definition (contiguous blocks, positions spread evenly, the same patch offset),
on the map padded up to whole windows where windows are used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mbcalc import Report, Settings, Spec, SpecError, analyze, build_graph, parse_spec
from mbcalc.deploy.memory import memory_report
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc


def report_of(attention: str, size: tuple[int, int], channels: int = 4) -> Report:
    text = (
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n  - attention: {{{attention}}}\n"
    )
    return analyze(build_graph(parse_spec(text)))


def padded(size: int, window: int) -> int:
    return -(-size // window) * window


def keys_by_enumeration(mode: str, size: tuple[int, int], part: tuple[int, int]) -> list[int]:
    """The number of keys every query sees, listing each query's keys one by one, on the map
    padded up to whole windows or patches."""
    height, width = padded(size[0], part[0]), padded(size[1], part[1])
    cells = [(row, col) for row in range(height) for col in range(width)]
    if mode == "block":  # contiguous part[0] x part[1] blocks
        window = [(r // part[0], c // part[1]) for r, c in cells]
    elif mode == "patch":  # the same offset within every part[0] x part[1] patch
        window = [(r % part[0], c % part[1]) for r, c in cells]
    else:  # grid: part[0] x part[1] positions spread evenly, strided by the map / part
        window = [(r % (height // part[0]), c % (width // part[1])) for r, c in cells]
    return [window.count(home) for home in window]


@pytest.mark.parametrize(
    ("key", "mode"), [("window", "block"), ("grid", "grid"), ("patch", "patch")]
)
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (7, 5), (6, 9)])
@pytest.mark.parametrize("part", [(1, 1), (2, 2), (3, 2), (4, 4)])
def test_the_products_count_every_querys_keys(
    key: str, mode: str, size: tuple[int, int], part: tuple[int, int]
) -> None:
    heads, channels = 2, 6
    report = report_of(f"heads: {heads}, {key}: [{part[0]}, {part[1]}]", size, channels)
    _, attend, _ = report.rows
    keys = keys_by_enumeration(mode, size, part)
    assert attend.cost.mult_adds == 2 * sum(keys) * channels  # QK^T and the weighted sum of V
    assert attend.op.output == (size[0], size[1], channels)  # the map keeps its size
    assert attend.op.partition == mode


def test_global_attention_sees_every_position() -> None:
    _, attend, _ = report_of("heads: 1", (3, 4), 2).rows
    assert attend.op.partition is None
    assert attend.cost.mult_adds == 2 * 12 * 12 * 2


@pytest.mark.parametrize(("key", "window"), [("window", (7, 7)), ("grid", (3, 5))])
@pytest.mark.parametrize("heads", [1, 3])
def test_a_relative_position_bias_is_a_table_per_window_offset_and_head(
    key: str, window: tuple[int, int], heads: int
) -> None:
    body = f"heads: {heads}, {key}: [{window[0]}, {window[1]}], position_bias: relative"
    _, attend, _ = report_of(body, (14, 10), 6).rows
    offsets = (2 * window[0] - 1) * (2 * window[1] - 1)  # every row and column difference
    assert attend.cost.params == offsets * heads
    (_, plain, _) = report_of(
        f"heads: {heads}, {key}: [{window[0]}, {window[1]}]", (14, 10), 6
    ).rows
    assert plain.cost.params == 0
    assert plain.cost.mult_adds == attend.cost.mult_adds  # the bias is added: free


def test_the_attention_matrix_alive_is_each_querys_keys_per_head() -> None:
    # a 5x5 map in 2x2 windows: padded to 6x6 = 36 queries of 4 keys, 2 heads
    report = report_of("heads: 2, window: 2", (5, 5), 4)
    _, attend, _ = memory_report(report).ops
    matrix = 2 * 36 * 4
    assert attend.input_bytes == 4 * (25 * 12 + matrix)
    assert attend.output_bytes == 4 * (25 * 4 + matrix)


def test_resolution_scales_windowed_attention_linearly_and_global_quadratically() -> None:
    text = "input: {{size: 8, channels: 4}}\nbatchnorm: false\nlayers:\n  - attention: {{{}}}\n"
    windowed, whole = (
        parse_spec(text.format("heads: 1, window: 4")),
        parse_spec(text.format("heads: 1")),
    )

    def products(spec: Spec, res: int) -> int:
        return analyze(build_graph(spec, Settings(res=res))).rows[1].cost.mult_adds

    assert products(windowed, 32) == 4 * products(windowed, 16) == 16 * products(windowed, 8)
    assert products(whole, 32) == 16 * products(whole, 16) == 256 * products(whole, 8)


@pytest.mark.parametrize(
    ("attention", "message"),
    [
        ("heads: 1, window: 2, grid: 2", "`window` and `grid`"),
        ("heads: 1, grid: 2, patch: 2", "`grid` and `patch`"),
        ("heads: 1, window: 0", "window"),
        ("heads: 1, patch: [2, 2, 2]", "[height, width]"),
        ("heads: 1, position_bias: relative", "needs a window"),
        ("heads: 1, patch: 2, position_bias: relative", "needs a window"),
        ("heads: 1, window: 2, position_bias: absolute", "position_bias"),
    ],
)
def test_bad_partitions_are_one_line_naming_the_argument(attention: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(attention, (4, 4))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_partition_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "input: {size: 4, channels: 8}\nlayers:\n  - attention: {heads: 2, grid: 2, window: 2}\n"
    )
    result = invoke_mbcalc("table", str(spec))
    assert_clean_failure(result, 1, "bad.yaml:3", "attention1", "`window` and `grid`")


def test_alike_attentions_partitioned_differently_are_counted_apart() -> None:
    text = (
        "input: {size: 4, channels: 2}\nbatchnorm: false\nlayers:\n"
        "  - attention: {heads: 1, patch: 1}\n  - attention: {heads: 1, patch: 2}\n"
        "  - attention: {heads: 1, window: 2}\n  - attention: {heads: 1}\n"
    )
    report = analyze(build_graph(parse_spec(text)))
    products = [row.cost.mult_adds for row in report.rows if row.op.name.endswith(".attend")]
    positions = 16
    assert products == [
        2 * positions * 16 * 2,  # patch 1: every position at the same offset, all 16
        2 * positions * 4 * 2,  # patch 2: 4 positions per offset
        2 * positions * 4 * 2,  # 2x2 windows
        2 * positions * 16 * 2,  # global
    ]


def test_the_kernel_column_names_each_attentions_partition(tmp_path: Path) -> None:
    spec = tmp_path / "parts.yaml"
    spec.write_text(
        "input: {size: 8, channels: 4}\nlayers:\n  - attention: {heads: 1, window: [4, 2]}\n"
        "  - attention: {heads: 1, grid: 4}\n  - attention: {heads: 1, patch: 2}\n"
        "  - attention: {heads: 1}\n"
    )
    result = invoke_mbcalc("table", str(spec), "--format", "markdown")
    assert result.exit_code == 0, result.output
    kernels = [
        line.split("|")[3].strip() for line in result.stdout.splitlines() if ".attend |" in line
    ]
    assert kernels == ["4x2 block", "4x4 grid", "2x2 patch", ""]
