"""Tokens, self-attention and the readout: their shapes, their counts, alpha's rule for heads,
the errors, and torchvision's ViTs written by hand from their formulas.

Expected figures are the convention's formulas recomputed here: a class token is C params, a
learned position embedding C per token, self-attention over N positions of width D costs
N*N*D mult-adds for QK^T and as many for the weighted sum of V.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import Report, Settings, Spec, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.by_type import Family, breakdown
from mbcalc.core.profiles import PROFILES, count, custom_profile, parse_extras
from mbcalc.core.settings import whole_heads
from mbcalc.deploy.memory import memory_report
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import OpKind
from tests.helpers.attention_networks import ATTENTION_NETWORKS
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc
from tests.helpers.sweep_check import assert_grid_matches_table


def report_of(
    body: str, size: int | tuple[int, int] = 4, channels: int = 8, settings: Settings | None = None
) -> Report:
    height, width = (size, size) if isinstance(size, int) else size
    text = (
        f"input: {{size: [{height}, {width}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n{body}"
    )
    return analyze(build_graph(parse_spec(text), settings))


@pytest.mark.parametrize("class_token", [False, True])
@pytest.mark.parametrize("position", [False, True])
@pytest.mark.parametrize(("size", "channels"), [((1, 1), 1), ((3, 5), 8), ((7, 7), 12)])
def test_tokens_make_one_row_with_a_class_token_and_positions(
    class_token: bool, position: bool, size: tuple[int, int], channels: int
) -> None:
    flags = f"class_token: {str(class_token).lower()}, position: {str(position).lower()}"
    (row,) = report_of(f"  - tokens: {{{flags}}}\n", size, channels).rows
    tokens = size[0] * size[1] + (1 if class_token else 0)
    assert row.op.output == (1, tokens, channels)
    expected = (channels if class_token else 0) + (tokens * channels if position else 0)
    assert (row.cost.mult_adds, row.cost.params, row.cost.bn_params) == (0, expected, 0)


def test_a_position_embedding_follows_the_resolution() -> None:
    body = "  - conv: {out: 8, kernel: 2, stride: 2, padding: 0, act: none}\n" + (
        "  - tokens: {class_token: true, position: true}\n"
    )
    for side in (4, 8, 12):
        (_, tokens) = report_of(body, 4, 3, Settings(res=side)).rows
        assert tokens.cost.params == 8 + ((side // 2) ** 2 + 1) * 8


def naive_attention_mult_adds(tokens: int, width: int, heads: int) -> int:
    """Loops over heads, queries and keys: a head's dot product and its share of the weighted
    sum are each `width / heads` multiply-accumulates."""
    head = width // heads
    total = 0
    for _ in range(heads):
        for _query in range(tokens):
            for _key in range(tokens):
                total += head  # q . k
                total += head  # weight * v, accumulated into the output
    return total


@pytest.mark.parametrize(
    ("size", "channels", "heads"), [((1, 5), 8, 2), ((3, 3), 12, 3), ((2, 4), 6, 6)]
)
def test_attention_is_qkv_the_products_and_proj(
    size: tuple[int, int], channels: int, heads: int
) -> None:
    report = report_of(f"  - attention: {{heads: {heads}}}\n", size, channels)
    qkv, attend, proj = report.rows
    positions = size[0] * size[1]
    assert [row.op.kind for row in report.rows] == [OpKind.CONV, OpKind.ATTEND, OpKind.CONV]
    assert qkv.op.output == (*size, 3 * channels)
    assert attend.op.output == proj.op.input == (*size, channels)
    assert proj.op.output == (*size, channels)
    assert qkv.cost.params == channels * 3 * channels + 3 * channels
    assert qkv.cost.mult_adds == positions * channels * 3 * channels
    assert attend.cost.mult_adds == naive_attention_mult_adds(positions, channels, heads)
    assert attend.cost.params == 0
    assert (proj.cost.mult_adds, proj.cost.params) == (
        positions * channels * channels,
        channels * channels + channels,
    )


@pytest.mark.parametrize("channels", range(1, 40))
@pytest.mark.parametrize("heads", [1, 3, 12, 16])
def test_whole_heads_is_the_least_multiple_of_heads_not_below_the_width(
    channels: int, heads: int
) -> None:
    multiples = [m for m in range(heads, channels + heads + 1, heads) if m >= channels]
    assert whole_heads(channels, heads) == multiples[0]


def test_alpha_keeps_every_head_whole() -> None:
    # 12 heads on 64 channels at alpha 1/2: 32 channels are rounded up to 36 (3 per head)
    body = "  - conv: {out: 64, kernel: 1, act: none}\n  - attention: {heads: 12}\n"
    report = report_of(body, (1, 5), 3, Settings(alpha=Fraction(1, 2)))
    _, qkv, attend, proj = report.rows
    assert qkv.op.output[2] == 3 * 36
    assert attend.op.output[2] == 36
    assert attend.cost.mult_adds == 2 * 5 * 5 * 36
    assert proj.op.output[2] == 32
    assert proj.cost.params == 36 * 32 + 32


@pytest.mark.parametrize(("take", "kind"), [("class", OpKind.READOUT), ("mean", OpKind.POOL)])
def test_a_readout_gives_one_vector_for_free(take: str, kind: OpKind) -> None:
    body = f"  - tokens: {{class_token: true}}\n  - readout: {{take: {take}}}\n"
    _, readout = report_of(body, 3, 8).rows
    assert readout.op.kind is kind
    assert readout.op.output == (1, 1, 8)
    assert readout.cost.mult_adds == readout.cost.params == 0


def test_the_breakdown_names_the_attention_products_and_the_tokens() -> None:
    body = "  - tokens: {class_token: true, position: true}\n  - attention: {heads: 2}\n"
    families = {row.category.family: row for row in breakdown(report_of(body, 2, 4))}
    assert families[Family.ATTEND].cost.mult_adds == 2 * 5 * 5 * 4
    assert families[Family.TOKENS].cost.params == 4 + 5 * 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - attention: {}\n", "heads"),
        ("  - attention: {heads: 0}\n", "heads"),
        ("  - tokens: {class_token: 2}\n", "class_token"),
        ("  - readout: {take: first}\n", "take"),
        ("  - tokens: {cls: true}\n", "cls"),
    ],
)
def test_bad_token_layers_are_one_line_naming_the_argument(body: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(body)
    assert message in str(caught.value)


def test_a_bad_token_layer_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: {size: 4, channels: 8}\nlayers:\n  - attention: {heads: -1}\n")
    assert_clean_failure(invoke_mbcalc("table", str(spec)), 1, "bad.yaml:3", "attention1", "heads")


def test_the_attention_matrix_is_alive_while_the_products_run() -> None:
    # 2x3 map of 4 channels -> 6 tokens; 2 heads: a 2 x 6 x 6 matrix beside q, k, v and output
    report = report_of("  - tokens: {}\n  - attention: {heads: 2}\n", (2, 3), 4)
    memory = memory_report(report)
    tokens, qkv, attend, _ = memory.ops
    matrix = 2 * 6 * 6
    assert memory.peak.op == 2
    assert memory.peak.bytes == 4 * (6 * 12 + 6 * 4 + matrix)  # qkv's output, attend's, matrix
    assert attend.input_bytes == 4 * (6 * 12 + matrix)
    assert attend.output_bytes == 4 * (6 * 4 + matrix)
    assert tokens.output_bytes == qkv.input_bytes == 4 * 6 * 4


def test_a_profile_may_count_the_position_embeddings_addition() -> None:
    report = report_of("  - tokens: {class_token: true, position: true}\n", (2, 2), 3)
    profile = custom_profile(PROFILES["paper"], False, parse_extras("position"), None)
    counted = count(report, profile)
    assert counted.extras == {"position": 5 * 3}
    assert counted.operations == 5 * 3


def test_thop_and_ptflops_miss_attentions_products() -> None:
    report = report_of("  - attention: {heads: 1}\n", (1, 3), 2)
    products = 2 * 3 * 3 * 2
    projections = 3 * 2 * 6 + 3 * 2 * 2
    assert count(report, PROFILES["fvcore"]).mult_adds == projections + products
    assert count(report, PROFILES["thop"]).mult_adds == projections
    assert count(report, PROFILES["ptflops"]).mult_adds == projections


def test_a_class_token_read_out_is_a_view_and_moves_nothing() -> None:
    body = "  - tokens: {class_token: true}\n  - readout: {take: class}\n  - fc: {out: 5}\n"
    memory = memory_report(report_of(body, (2, 2), 4))
    tokens, readout, fc = memory.ops
    assert (readout.input_bytes, readout.output_bytes) == (0, 0)
    assert fc.input_bytes == 4 * 4  # the class token alone: C values
    assert tokens.output_bytes == 4 * 5 * 4


@pytest.mark.parametrize("networks", ATTENTION_NETWORKS.values(), ids=ATTENTION_NETWORKS.keys())
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_attention_networks_over_a_grid_equal_the_one_setting_engine(
    networks: tuple[Callable[[], st.SearchStrategy[Spec]], int], data: st.DataObject
) -> None:
    strategy, largest = networks
    spec = data.draw(strategy())
    alphas = data.draw(
        st.lists(st.fractions(Fraction(1, 4), 3, max_denominator=20), min_size=1, max_size=4)
    )
    heights = data.draw(st.lists(st.integers(1, largest), min_size=1, max_size=4))
    grid = sweep(spec, alphas, heights)
    assert grid.valid.all()  # every attention network drawn builds at every setting drawn
    assert_grid_matches_table(grid)
