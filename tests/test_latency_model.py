"""The cost model's classes, passes and terms (`mbcalc.deploy.latency_model`), worked out by hand.

Expected classes follow the model's rules written out in `tests/helpers/calibrated.py`: a conv
is pointwise (1x1), conv (k x k) or grouped (groups > 1), a pool max, avg or global, every other
op kind its one class. Expected amounts follow the model's formulas: work = mult-adds x batch
(a windowed pool's output elements x kernel area, a global pool's input elements), each pass
after the op its output elements x batch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.core.arith import Num
from mbcalc.core.costs import Dims
from mbcalc.deploy.latency_model import (
    NETWORK_TERM,
    TERMS,
    CostClass,
    CostModel,
    Part,
    activation_part,
    cost_class,
    parts,
    terms,
)
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.kinds import OpKind, Pair
from mbcalc.spec import ACTIVATIONS
from mbcalc.spec.zoo import load_shipped
from tests.helpers.calibrated import (
    ACTIVATION_PARTS,
    CLASSES,
    PARTS,
    StubOp,
    chosen_coefficients,
    expected_class,
    hand_terms,
    moved_of,
)

COEFFICIENTS = chosen_coefficients()
MODEL = CostModel(COEFFICIENTS)

# --- classes -----------------------------------------------------------------------------------


def test_the_model_has_a_line_per_class_and_a_pass_per_part() -> None:
    assert [str(cls) for cls in CostClass] == list(CLASSES)
    assert [str(part) for part in Part] == list(PARTS)
    class_terms = [
        f"{cls}.{field}" for cls in CLASSES for field in ("overhead", "per_work", "per_byte")
    ]
    part_terms = [f"{part}.{field}" for part in PARTS for field in ("overhead", "per_element")]
    assert list(TERMS) == [NETWORK_TERM, *class_terms, *part_terms]
    assert len(TERMS) == 1 + 17 * 3 + 4 * 2


@pytest.mark.parametrize("kind", list(OpKind))
def test_every_op_kind_has_a_class(kind: OpKind) -> None:
    op = StubOp(kind, kernel=(3, 3), pool_kind="max" if kind is OpKind.POOL else None)
    assert cost_class(op) == expected_class(op)
    assert cost_class(op) in CostClass


@pytest.mark.parametrize(
    ("kernel", "groups", "expected"),
    [
        ((1, 1), None, "pointwise"),
        ((1, 1), 1, "pointwise"),
        ((3, 3), 1, "conv"),
        ((1, 7), None, "conv"),  # Inception's factorized convs
        ((16, 16), 1, "conv"),  # a ViT's patches
        ((3, 3), 32, "grouped"),  # ResNeXt's
        ((1, 1), 4, "grouped"),  # ShuffleNet v1's grouped pointwise
    ],
)
def test_a_conv_is_pointwise_conv_or_grouped(
    kernel: Pair, groups: int | None, expected: str
) -> None:
    assert cost_class(StubOp(OpKind.CONV, kernel=kernel, groups=groups)) == expected


@pytest.mark.parametrize(
    ("kernel", "pool_kind", "is_global", "expected"),
    [
        ((3, 3), "max", False, "max_pool"),
        ((2, 2), "avg", False, "avg_pool"),
        ((7, 7), "avg", True, "global_pool"),  # an op at one setting: its kernel is its input
        (None, "avg", True, "global_pool"),  # a plan step: no kernel before the setting
        ((7, 7), "max", True, "global_pool"),
    ],
)
def test_a_pool_is_max_avg_or_global(
    kernel: Pair | None, pool_kind: str, is_global: bool, expected: str
) -> None:
    op = StubOp(OpKind.POOL, kernel=kernel, pool_kind=pool_kind, global_pool=is_global)
    assert cost_class(op) == expected


SHIPPED_CLASSES = {
    "mobilenet_v1": {
        (OpKind.CONV, "pointwise"), (OpKind.CONV, "conv"), (OpKind.DEPTHWISE, "depthwise"),
        (OpKind.POOL, "global_pool"), (OpKind.FC, "fc"),
    },
    "resnext50_32x4d": {(OpKind.CONV, "grouped"), (OpKind.POOL, "max_pool"), (OpKind.ADD, "add")},
    "googlenet": {(OpKind.POOL, "max_pool"), (OpKind.CONCAT, "concat")},
    "densenet121": {(OpKind.POOL, "avg_pool"), (OpKind.BATCH_NORM, "norm")},
    "mobilenet_v3_small": {(OpKind.SCALE, "scale"), (OpKind.POOL, "global_pool")},
    "vit_b_16": {
        (OpKind.ATTEND, "attend"), (OpKind.TOKENS, "copy"), (OpKind.READOUT, "view"),
        (OpKind.LAYER_NORM, "layer_norm"),
    },
    "shufflenet_v2_x0_5": {(OpKind.SPLIT, "view"), (OpKind.SHUFFLE, "copy")},
    "swin_t": {
        (OpKind.PAD, "copy"), (OpKind.CROP, "copy"), (OpKind.SPACE_TO_DEPTH, "copy"),
        (OpKind.ATTEND, "attend_local"),
    },
    "maxvit_t": {(OpKind.ATTEND, "attend_local"), (OpKind.LAYER_NORM, "layer_norm")},
    "mobilevit_xxs": {(OpKind.RESIZE, "copy"), (OpKind.ATTEND, "attend")},
    "mobilenetv4_hybrid_medium": {(OpKind.ATTEND, "attend")},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SHIPPED_CLASSES))
def test_the_ops_of_shipped_specs_take_their_class(name: str) -> None:
    report = analyze(build_graph(load_shipped(name), Settings()))
    seen = set()
    for row in report.rows:
        assert cost_class(row.op) == expected_class(row.op), row.op.name
        seen.add((row.op.kind, str(cost_class(row.op))))
    assert SHIPPED_CLASSES[name] <= seen


# --- passes ------------------------------------------------------------------------------------


def test_every_activation_of_the_spec_language_has_its_part() -> None:
    assert set(ACTIVATIONS) - {"none"} == set(ACTIVATION_PARTS)
    for name, part in ACTIVATION_PARTS.items():
        assert activation_part(name) == part, name


@pytest.mark.parametrize(
    ("bn", "activation", "expected"),
    [
        (False, "none", ()),
        (True, "none", ("batch_norm",)),
        (False, "gelu", ("exp",)),
        (True, "relu6", ("batch_norm", "clamp")),
        (True, "tanh", ("batch_norm", "slow")),
    ],
)
def test_the_passes_after_an_op_are_its_batch_norm_then_its_activation(
    bn: bool, activation: str, expected: tuple[str, ...]
) -> None:
    op = StubOp(OpKind.CONV, kernel=(3, 3), bn=bn, activation=activation)
    assert tuple(str(part) for part in parts(op)) == expected


# --- terms by hand -----------------------------------------------------------------------------

BATCH = 2
# A 3x3 conv, stride 2, 16x16x24 -> 8x8x48, with a batch norm and relu6, in fp32 at batch 2.
CONV = StubOp(OpKind.CONV, kernel=(3, 3), groups=1, bn=True, activation="relu6")
CONV_DIMS = Dims(16, 16, 24, 8, 8, 48)
CONV_MULT_ADDS = 8 * 8 * 48 * 3 * 3 * 24  # per image
CONV_MOVED = (16 * 16 * 24 + 8 * 8 * 48) * 4 * BATCH + (3 * 3 * 24 * 48 + 4 * 48) * 4
CONV_OUTPUT = 8 * 8 * 48 * BATCH


def test_a_conv_with_batch_norm_and_relu6_by_hand() -> None:
    found = terms(CONV, CONV_DIMS, CONV_MULT_ADDS, CONV_MOVED, BATCH)
    assert len({term for term, _ in found}) == len(found)
    assert dict(found) == {
        "conv.overhead": 1,
        "conv.per_work": CONV_MULT_ADDS * BATCH,
        "conv.per_byte": CONV_MOVED,
        "batch_norm.overhead": 1,
        "batch_norm.per_element": CONV_OUTPUT,
        "clamp.overhead": 1,
        "clamp.per_element": CONV_OUTPUT,
    }


def test_op_seconds_is_each_coefficient_times_its_amount() -> None:
    c = COEFFICIENTS
    expected = math.fsum(
        [
            c["conv.overhead"],
            c["conv.per_work"] * CONV_MULT_ADDS * BATCH,
            c["conv.per_byte"] * CONV_MOVED,
            c["batch_norm.overhead"],
            c["batch_norm.per_element"] * CONV_OUTPUT,
            c["clamp.overhead"],
            c["clamp.per_element"] * CONV_OUTPUT,
        ]
    )
    seconds = MODEL.op_seconds(CONV, CONV_DIMS, CONV_MULT_ADDS, CONV_MOVED, BATCH)
    assert seconds == pytest.approx(expected, rel=1e-14, abs=0)
    assert MODEL.network_overhead == c[NETWORK_TERM]


@pytest.mark.parametrize(
    ("op", "dims", "work"),
    [
        # max pool 3x3/2, 112x112x64 -> 56x56x64: 9 reads per output
        (StubOp(OpKind.POOL, (3, 3), pool_kind="max"), Dims(112, 112, 64, 56, 56, 64),
         56 * 56 * 64 * BATCH * 9),
        # avg pool 2x2/2, DenseNet's transition: 4 reads per output
        (StubOp(OpKind.POOL, (2, 2), pool_kind="avg"), Dims(56, 56, 128, 28, 28, 128),
         28 * 28 * 128 * BATCH * 4),
        # global pools read their input once, with their kernel known or not
        (StubOp(OpKind.POOL, (7, 7), pool_kind="avg", global_pool=True),
         Dims(7, 7, 1024, 1, 1, 1024), 7 * 7 * 1024 * BATCH),
        (StubOp(OpKind.POOL, None, pool_kind="avg", global_pool=True),
         Dims(14, 14, 96, 1, 1, 96), 14 * 14 * 96 * BATCH),
    ],
)  # fmt: skip
def test_a_pools_work_is_its_window_reads(op: StubOp, dims: Dims, work: int) -> None:
    found = dict(terms(op, dims, 0, 1000, BATCH))
    cls = expected_class(op)
    assert found == {f"{cls}.overhead": 1, f"{cls}.per_work": work, f"{cls}.per_byte": 1000}


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "googlenet", "mobilevit_xxs", "swin_t"])
def test_every_shipped_op_brings_its_hand_terms(name: str) -> None:
    """At batch 2 in fp16, every op of a network: its class, work, bytes and passes."""
    report = analyze(build_graph(load_shipped(name), Settings()))
    memory = memory_report(report, DType.FP16, BATCH)
    for row, op_memory in zip(report.rows, memory.ops, strict=True):
        op, moved = row.op, moved_of(op_memory)
        found = terms(op, Dims(*op.input, *op.output), row.cost.mult_adds, moved, BATCH)
        expected = hand_terms(op, (op.input, op.output), row.cost.mult_adds, moved, BATCH)
        assert dict(found) == expected, op.name


# --- arrays ------------------------------------------------------------------------------------

SIDES = np.array([7, 14, 28, 56, 112], dtype=np.int64)
WIDTHS = np.array([512, 256, 128, 64, 32], dtype=np.int64)


@pytest.mark.parametrize(
    "op",
    [
        CONV,
        StubOp(OpKind.DEPTHWISE, (5, 5), bn=True, activation="hswish"),
        StubOp(OpKind.POOL, (3, 3), pool_kind="max"),
        StubOp(OpKind.POOL, None, pool_kind="avg", global_pool=True),
        StubOp(OpKind.ADD, activation="relu"),
    ],
)
def test_arrays_give_what_ints_give_at_each_setting(op: StubOp) -> None:
    over_grid = MODEL.op_seconds(op, *at_setting(SIDES, WIDTHS), BATCH)
    grid_terms = terms(op, *at_setting(SIDES, WIDTHS), BATCH)
    for i, (side, width) in enumerate(zip(SIDES.tolist(), WIDTHS.tolist(), strict=True)):
        ints = terms(op, *at_setting(side, width), BATCH)
        assert [
            (term, np.broadcast_to(amount, SIDES.shape)[i]) for term, amount in grid_terms
        ] == ints
        assert np.asarray(over_grid)[i] == MODEL.op_seconds(op, *at_setting(side, width), BATCH)


def at_setting(side: Num, width: Num) -> tuple[Dims, Num, Num]:
    """An op halving a map of 2 side x 2 side x width and doubling its channels: its shapes,
    its mult-adds and its bytes."""
    dims = Dims(2 * side, 2 * side, width, side, side, 2 * width)
    return dims, side * side * width * 9, side * side * width * 6 * 4
