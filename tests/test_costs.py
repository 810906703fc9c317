"""Every cost formula against its textbook form (the convention in mbcalc/core/costs.py).

Expected figures are computed here, independently of `mbcalc.core.costs`: from the MobileNets
paper's closed forms (D_K·D_K·M·N·D_F·D_F and friends) and from a naive counter that enumerates
output positions, kernel taps and channels the way a plain loop implementation multiplies and
adds.
By the paper's convention every tap of a window counts, padded ones included.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from mbcalc import Cost, OpKind, Report, Settings, analyze, build_graph, parse_spec
from mbcalc.core.costs import FORMULAS

Padding = str | int | tuple[int, int]

# -- building small networks from YAML text --------------------------------------------------


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value)


def layer(kind: str, /, **args: object) -> str:
    """One item of a spec's `layers` list, in YAML flow style: `- conv: {out: 8, kernel: 3}`."""
    body = ", ".join(f"{key}: {_yaml(value)}" for key, value in args.items())
    return f"  - {kind}: {{{body}}}"


def cost_layers(
    *layers: str,
    size: int | tuple[int, int] = (9, 8),
    channels: int = 4,
    batchnorm: bool = True,
) -> Report:
    """Parse a spec made of `layers`, build its graph at alpha 1 and cost it."""
    text = (
        f"input: {{size: {_yaml(size)}, channels: {channels}}}\n"
        f"batchnorm: {_yaml(batchnorm)}\n"
        "layers:\n" + "\n".join(layers) + "\n"
    )
    return analyze(build_graph(parse_spec(text, source="<test>")))


def only_row(report: Report) -> tuple[tuple[int, int, int], Cost]:
    """The output shape and cost of a one-op network."""
    assert len(report.rows) == 1
    row = report.rows[0]
    return row.op.output, row.cost


# -- the naive loop counter ------------------------------------------------------------------


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def window_starts(size: int, kernel: int, stride: int, padding: str | int) -> list[int]:
    """Where each sliding window starts along one axis, found by walking the input.

    `same` (TensorFlow's rule): one window per stride step whose anchor lies inside the input,
    padding added as needed. An integer p: every window that fits in the input padded by p on both
    sides.
    """
    if padding == "same":
        return list(range(0, size, stride))
    assert isinstance(padding, int)
    starts, start = [], 0
    while start + kernel <= size + 2 * padding:
        starts.append(start)
        start += stride
    return starts


def axis_paddings(padding: Padding) -> tuple[str | int, str | int]:
    if padding == "same":
        return ("same", "same")
    if padding == "valid":
        return (0, 0)
    assert not isinstance(padding, str)
    return pair(padding)


def naive_conv(
    size: tuple[int, int],
    c_in: int,
    c_out: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    groups: int = 1,
) -> tuple[tuple[int, int, int], int]:
    """Output shape and multiply-accumulates of a (grouped) conv, counted one by one."""
    pads = axis_paddings(padding)
    rows = window_starts(size[0], kernel[0], stride[0], pads[0])
    cols = window_starts(size[1], kernel[1], stride[1], pads[1])
    in_per_group, out_per_group = c_in // groups, c_out // groups
    macs = 0
    for _row, _col, out_channel in itertools.product(rows, cols, range(c_out)):
        group = out_channel // out_per_group
        group_inputs = range(group * in_per_group, (group + 1) * in_per_group)
        for _ky, _kx, _in_channel in itertools.product(
            range(kernel[0]), range(kernel[1]), group_inputs
        ):
            macs += 1
    return (len(rows), len(cols), c_out), macs


def naive_depthwise(
    size: tuple[int, int],
    channels: int,
    multiplier: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
) -> tuple[tuple[int, int, int], int]:
    """Output shape and multiply-accumulates of a depthwise conv: each output channel reads one
    input channel (output channel o reads input channel o // multiplier)."""
    pads = axis_paddings(padding)
    rows = window_starts(size[0], kernel[0], stride[0], pads[0])
    cols = window_starts(size[1], kernel[1], stride[1], pads[1])
    macs = 0
    for _row, _col, out_channel in itertools.product(rows, cols, range(channels * multiplier)):
        _in_channel = out_channel // multiplier
        for _ky, _kx in itertools.product(range(kernel[0]), range(kernel[1])):
            macs += 1
    return (len(rows), len(cols), channels * multiplier), macs


def naive_fc(shape: tuple[int, int, int], outputs: int) -> int:
    """Multiply-accumulates of a fully connected layer on the flattened HxWxC input."""
    return sum(1 for _ in itertools.product(*(range(n) for n in shape), range(outputs)))


def out_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    """Padding: `same` gives ceil(H / s); p gives floor((H + 2p - k) / s) + 1."""
    if padding == "same":
        return math.ceil(size / stride)
    assert isinstance(padding, int)
    return math.floor((size + 2 * padding - kernel) / stride) + 1


# -- the registry ----------------------------------------------------------------------------


def test_every_op_kind_has_a_formula() -> None:
    """No op kind falls back to a silent zero: each one is registered in FORMULAS."""
    assert set(FORMULAS) == set(OpKind)


# -- the paper's closed forms ----------------------------------------------------------------


@pytest.mark.parametrize("d_k", [1, 3, 5, 7])
@pytest.mark.parametrize(("m", "n", "d_f"), [(3, 8, 7), (8, 16, 5), (16, 4, 10)])
def test_standard_conv_is_dk_dk_m_n_df_df(d_k: int, m: int, n: int, d_f: int) -> None:
    """Paper section 3.1: a stride-1 `same` conv costs D_K·D_K·M·N·D_F·D_F (D_K·D_K·M·N weights)."""
    shape, cost = only_row(cost_layers(layer("conv", out=n, kernel=d_k), size=d_f, channels=m))
    assert shape == (d_f, d_f, n)
    assert cost.mult_adds == d_k * d_k * m * n * d_f * d_f
    assert cost.params == d_k * d_k * m * n


@pytest.mark.parametrize("d_k", [1, 3, 5, 7])
@pytest.mark.parametrize(("m", "d_f"), [(3, 7), (8, 5), (16, 10)])
def test_depthwise_is_dk_dk_m_df_df(d_k: int, m: int, d_f: int) -> None:
    """Paper section 3.1: depthwise costs D_K·D_K·M·D_F·D_F with D_K·D_K·M weights."""
    shape, cost = only_row(cost_layers(layer("depthwise", kernel=d_k), size=d_f, channels=m))
    assert shape == (d_f, d_f, m)
    assert cost.mult_adds == d_k * d_k * m * d_f * d_f
    assert cost.params == d_k * d_k * m


@pytest.mark.parametrize(("m", "n", "d_f"), [(3, 8, 7), (8, 16, 5), (16, 4, 10), (1, 1, 1)])
def test_pointwise_is_m_n_df_df(m: int, n: int, d_f: int) -> None:
    """Paper section 3.1: a 1x1 conv costs M·N·D_F·D_F with M·N weights."""
    report = cost_layers(layer("pointwise", out=n), size=d_f, channels=m)
    shape, cost = only_row(report)
    assert report.rows[0].op.kind is OpKind.CONV
    assert report.rows[0].op.kernel == (1, 1)
    assert shape == (d_f, d_f, n)
    assert cost.mult_adds == m * n * d_f * d_f
    assert cost.params == m * n


@pytest.mark.parametrize("d_k", [1, 3, 5, 7])
@pytest.mark.parametrize(("m", "n", "d_f"), [(3, 8, 7), (8, 16, 5), (32, 64, 4)])
def test_separable_is_depthwise_plus_pointwise(d_k: int, m: int, n: int, d_f: int) -> None:
    """A separable unit is D_K·D_K·M·D_F·D_F + M·N·D_F·D_F; its twin D_K·D_K·M·N·D_F·D_F."""
    report = cost_layers(layer("separable", out=n, kernel=d_k), size=d_f, channels=m)
    kinds = [row.op.kind for row in report.rows]
    assert kinds == [OpKind.DEPTHWISE, OpKind.CONV]
    (unit,) = report.units
    assert unit.cost.mult_adds == d_k * d_k * m * d_f * d_f + m * n * d_f * d_f
    assert unit.cost.params == d_k * d_k * m + m * n
    assert unit.standard_mult_adds == d_k * d_k * m * n * d_f * d_f
    assert unit.reduction == Fraction(1, n) + Fraction(1, d_k * d_k)


# -- output sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (224, 3, 2, "same", 112),  # ceil(224 / 2)
        (7, 3, 2, "same", 4),  # ceil(7 / 2)
        (7, 1, 3, "same", 3),  # ceil(7 / 3)
        (5, 7, 1, "same", 5),  # `same` fits any kernel
        (224, 3, 1, 1, 224),  # VGG: (224 + 2 - 3) / 1 + 1
        (224, 7, 2, 3, 112),  # ResNet stem: floor((224 + 6 - 7) / 2) + 1
        (9, 3, 2, 0, 4),  # floor((9 - 3) / 2) + 1
        (8, 3, 3, 0, 2),  # floor(5 / 3) + 1
        (6, 5, 1, "valid", 2),  # valid is p = 0
        (4, 3, 1, 3, 8),  # padding wider than half the kernel grows the map
    ],
)
def test_output_size(size: int, kernel: int, stride: int, padding: Padding, expected: int) -> None:
    """Output side lengths follow the spec format's padding rules (cases worked out by hand)."""
    report = cost_layers(
        layer("conv", out=2, kernel=kernel, stride=stride, padding=padding), size=size, channels=1
    )
    assert report.rows[0].op.output == (expected, expected, 2)


# -- dense conv against the naive loop -------------------------------------------------------

KERNELS = [1, 3, 5, 7, (1, 7), (3, 1)]
STRIDES = [1, 2, 3, (1, 2), (2, 1), (3, 2)]
PADDINGS: list[Padding] = ["same", "valid", 0, 1, 2, 3, (1, 0), (0, 3)]


@pytest.mark.parametrize("stride", STRIDES, ids=str)
@pytest.mark.parametrize("kernel", KERNELS, ids=str)
def test_conv_kernel_and_stride_match_naive_loop(
    kernel: int | tuple[int, int], stride: int | tuple[int, int]
) -> None:
    """Dense conv (padding `same`) over every kernel and stride: shape, mult-adds and weights."""
    k, s = pair(kernel), pair(stride)
    shape, cost = only_row(
        cost_layers(layer("conv", out=3, kernel=kernel, stride=stride), size=(9, 8))
    )
    naive_shape, naive_macs = naive_conv((9, 8), 4, 3, k, s, "same")
    assert (
        shape
        == naive_shape
        == (out_size(9, k[0], s[0], "same"), out_size(8, k[1], s[1], "same"), 3)
    )
    assert cost.mult_adds == naive_macs
    assert cost.params == k[0] * k[1] * 4 * 3


@pytest.mark.parametrize("stride", [1, 2, (2, 3)], ids=str)
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("kernel", KERNELS, ids=str)
def test_conv_padding_matches_naive_loop(
    kernel: int | tuple[int, int], padding: Padding, stride: int | tuple[int, int]
) -> None:
    """Dense conv over every padding form: shape by formula and by walking, mult-adds by loop."""
    k, s = pair(kernel), pair(stride)
    pads = axis_paddings(padding)
    shape, cost = only_row(
        cost_layers(
            layer("conv", out=3, kernel=kernel, stride=stride, padding=padding), size=(9, 8)
        )
    )
    naive_shape, naive_macs = naive_conv((9, 8), 4, 3, k, s, padding)
    expected = (out_size(9, k[0], s[0], pads[0]), out_size(8, k[1], s[1], pads[1]), 3)
    assert shape == naive_shape == expected
    assert cost.mult_adds == naive_macs


def test_padded_taps_count() -> None:
    """A 3x3 `same` conv on 4x4 counts all 9 taps at each of the 16 positions (144 per channel
    pair), not only the 10 x 10 = 100 taps that land inside the image (2 + 3 + 3 + 2 per axis)."""
    _, cost = only_row(cost_layers(layer("conv", out=1, kernel=3), size=4, channels=1))
    assert cost.mult_adds == 144
    assert cost.mult_adds != 100


# -- grouped conv ----------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [1, 2, 4, 8], ids=lambda g: f"groups{g}")
@pytest.mark.parametrize(("kernel", "stride"), [(1, 1), (3, 1), (3, 2), ((1, 7), (2, 1)), (5, 3)])
@pytest.mark.parametrize("c_out", [8, 16])
def test_grouped_conv_matches_naive_loop(
    groups: int, kernel: int | tuple[int, int], stride: int, c_out: int
) -> None:
    """Grouped conv (8 input channels; groups 8 is depthwise-like): k_h·k_w·(C_in/g)·C_out per
    output position, weights k_h·k_w·(C_in/g)·C_out."""
    k, s = pair(kernel), pair(stride)
    report = cost_layers(
        layer("conv", out=c_out, kernel=kernel, stride=stride, groups=groups), channels=8
    )
    shape, cost = only_row(report)
    naive_shape, naive_macs = naive_conv((9, 8), 8, c_out, k, s, "same", groups)
    assert report.rows[0].op.groups == groups
    assert shape == naive_shape
    assert cost.mult_adds == naive_macs
    assert cost.params == k[0] * k[1] * (8 // groups) * c_out


# -- depthwise -------------------------------------------------------------------------------


@pytest.mark.parametrize("multiplier", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3, (1, 2), (2, 1)], ids=str)
@pytest.mark.parametrize("kernel", KERNELS, ids=str)
def test_depthwise_matches_naive_loop(
    kernel: int | tuple[int, int], stride: int | tuple[int, int], multiplier: int
) -> None:
    """Depthwise over kernels, strides and multipliers: C·m output channels, k_h·k_w·C·m weights."""
    k, s = pair(kernel), pair(stride)
    report = cost_layers(layer("depthwise", kernel=kernel, stride=stride, multiplier=multiplier))
    shape, cost = only_row(report)
    naive_shape, naive_macs = naive_depthwise((9, 8), 4, multiplier, k, s, "same")
    assert report.rows[0].op.kind is OpKind.DEPTHWISE
    assert shape == naive_shape
    assert cost.mult_adds == naive_macs
    assert cost.params == k[0] * k[1] * 4 * multiplier


@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("kernel", [3, 5, (1, 7)], ids=str)
def test_depthwise_padding_matches_naive_loop(
    kernel: int | tuple[int, int], padding: Padding
) -> None:
    """Depthwise over every padding form, stride 2."""
    k = pair(kernel)
    pads = axis_paddings(padding)
    shape, cost = only_row(
        cost_layers(layer("depthwise", kernel=kernel, stride=2, padding=padding))
    )
    naive_shape, naive_macs = naive_depthwise((9, 8), 4, 1, k, (2, 2), padding)
    assert shape == naive_shape == (out_size(9, k[0], 2, pads[0]), out_size(8, k[1], 2, pads[1]), 4)
    assert cost.mult_adds == naive_macs


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 1, "same"), (5, 2, 1), ((1, 7), 2, "valid")]
)
def test_separable_matches_naive_loops(
    kernel: int | tuple[int, int], stride: int, padding: Padding
) -> None:
    """A separable unit (stride on the depthwise part) is a naive depthwise then a naive 1x1;
    its standard twin is a naive dense conv with the same kernel, stride and padding."""
    k, s = pair(kernel), pair(stride)
    report = cost_layers(layer("separable", out=6, kernel=kernel, stride=stride, padding=padding))
    dw_shape, dw_macs = naive_depthwise((9, 8), 4, 1, k, s, padding)
    pw_shape, pw_macs = naive_conv(dw_shape[:2], 4, 6, (1, 1), (1, 1), "same")
    std_shape, std_macs = naive_conv((9, 8), 4, 6, k, s, padding)
    (unit,) = report.units
    assert [row.op.output for row in report.rows] == [dw_shape, pw_shape]
    assert pw_shape == std_shape
    assert unit.cost.mult_adds == dw_macs + pw_macs
    assert unit.standard_mult_adds == std_macs


# -- bias and batch norm ---------------------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize(
    ("kind", "args", "weights", "channels_out"),
    [
        ("conv", {"out": 6, "kernel": 3}, 3 * 3 * 4 * 6, 6),
        ("conv", {"out": 6, "kernel": (1, 5), "groups": 2}, 1 * 5 * 2 * 6, 6),
        ("pointwise", {"out": 6}, 4 * 6, 6),
        ("depthwise", {"kernel": 3}, 3 * 3 * 4, 4),
        ("depthwise", {"kernel": 5, "multiplier": 3}, 5 * 5 * 4 * 3, 12),
    ],
)
def test_bias_and_bn(
    kind: str, args: dict[str, object], weights: int, channels_out: int, bias: bool, bn: bool
) -> None:
    """Params are weights + one bias per output channel; BN adds 2 per output channel apart."""
    _, cost = only_row(cost_layers(layer(kind, **args, bias=bias, bn=bn)))
    assert cost.params == weights + (channels_out if bias else 0)
    assert cost.bn_params == (2 * channels_out if bn else 0)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_spec_batchnorm_is_the_default_of_every_conv(batchnorm: bool) -> None:
    """The spec's `batchnorm` sets the default; a layer's `bn` overrides it."""
    report = cost_layers(
        layer("conv", out=5),
        layer("depthwise", multiplier=2),
        layer("pointwise", out=3),
        layer("conv", out=2, bn=not batchnorm),
        batchnorm=batchnorm,
    )
    default = [2 * 5, 2 * 10, 2 * 3] if batchnorm else [0, 0, 0]
    overridden = 0 if batchnorm else 2 * 2
    assert [row.cost.bn_params for row in report.rows] == [*default, overridden]


@pytest.mark.parametrize("bn", [False, True])
def test_separable_bn_covers_both_parts_and_has_no_bias(bn: bool) -> None:
    """A separable unit's BN follows both parts: 2·M + 2·N; its params are k²·M + M·N only."""
    report = cost_layers(layer("separable", out=7, kernel=5, bn=bn), channels=4)
    (unit,) = report.units
    assert unit.cost.params == 5 * 5 * 4 + 4 * 7
    assert unit.cost.bn_params == (2 * 4 + 2 * 7 if bn else 0)


# -- fully connected -------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("size", "channels", "outputs"), [((1, 1), 16, 10), ((3, 2), 4, 5), ((4, 4), 2, 1)]
)
def test_fc_flattens_its_input(
    size: tuple[int, int], channels: int, outputs: int, bias: bool
) -> None:
    """fc on HxWxC costs H·W·C·out mult-adds, H·W·C·out + out params (bias), no BN."""
    shape, cost = only_row(
        cost_layers(
            layer("fc", out=outputs, bias=bias), size=size, channels=channels, batchnorm=True
        )
    )
    inputs = size[0] * size[1] * channels
    assert shape == (1, 1, outputs)
    assert cost.mult_adds == inputs * outputs == naive_fc((*size, channels), outputs)
    assert cost.params == inputs * outputs + (outputs if bias else 0)
    assert cost.bn_params == 0


def test_fc_bias_is_on_by_default() -> None:
    """fc's `bias` defaults to true (the spec format)."""
    _, cost = only_row(cost_layers(layer("fc", out=3), size=1, channels=5))
    assert cost.params == 5 * 3 + 3


def test_fc_after_global_pool() -> None:
    """Global pooling leaves 1x1xC, so the classifier costs C·out (MobileNet: 1024·1000)."""
    report = cost_layers(
        layer("pool", **{"global": True}), layer("fc", out=1000), size=7, channels=1024
    )
    pool, fc = report.rows
    assert pool.op.output == (1, 1, 1024)
    assert pool.cost == Cost()
    assert fc.cost == Cost(mult_adds=1024 * 1000, params=1024 * 1000 + 1000)


# -- squeeze-and-excite ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "args", "squeeze"),
    [
        (16, {"squeeze": 4}, 4),
        (16, {"squeeze": 40}, 40),  # squeeze is a width, not a share: it may exceed C
        (16, {"ratio": 0.25}, 4),  # int(16 · 0.25)
        (24, {"ratio": 0.25}, 6),
        (10, {"ratio": 0.3}, 3),  # int(3.0)
        (20, {"ratio": 0.35}, 7),  # 20 · 0.35 = 7 exactly (7.000000000000001 in floats)
        (100, {"ratio": 0.29}, 29),  # 100 · 0.29 = 29 exactly (28.999999999999996 in floats)
        (8, {"ratio": 0.0625}, 1),  # int(0.5) = 0, then max(1, 0)
        (7, {"ratio": 0.5}, 3),  # int(3.5)
        (5, {"ratio": 1}, 5),
    ],
)
def test_se(channels: int, args: dict[str, object], squeeze: int) -> None:
    """SE: global pool, fc C→s (bias), fc s→C (bias), scale. 2·C·s mult-adds and
    2·C·s + s + C params, no BN; the pool and the scaling are free; the shape is kept."""
    report = cost_layers(layer("se", **args), size=(5, 3), channels=channels, batchnorm=True)
    kinds = [row.op.kind for row in report.rows]
    assert kinds == [OpKind.POOL, OpKind.FC, OpKind.FC, OpKind.SCALE]
    pool, fc1, fc2, scale = report.rows
    assert fc1.op.output == (1, 1, squeeze)
    assert fc1.cost == Cost(mult_adds=channels * squeeze, params=channels * squeeze + squeeze)
    assert fc2.cost == Cost(mult_adds=squeeze * channels, params=squeeze * channels + channels)
    assert pool.cost == scale.cost == Cost()
    assert scale.op.output == (5, 3, channels)
    (unit,) = report.units
    assert unit.cost == Cost(2 * channels * squeeze, 2 * channels * squeeze + squeeze + channels)


def test_se_ratio_reads_the_channels_after_alpha() -> None:
    """The ratio form takes its share of the channels SE actually receives."""
    text = (
        "input: {size: 4, channels: 3}\n"
        "layers:\n" + layer("pointwise", out=64) + "\n" + layer("se", ratio=0.25) + "\n"
    )
    report = analyze(build_graph(parse_spec(text), Settings(alpha=Fraction(1, 2))))
    fc1 = next(row for row in report.rows if row.op.kind is OpKind.FC)
    assert fc1.op.input == (1, 1, 32)
    assert fc1.op.output == (1, 1, 8)  # int(32 · 0.25), not int(64 · 0.25)


# -- ops that cost nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "side"),
    [
        ({"kind": "max", "kernel": 2}, 4),  # floor((9 - 2) / 2) + 1 = 4
        ({"kind": "avg", "kernel": 3, "stride": 2, "padding": 1}, 5),  # floor(8 / 2) + 1
        ({"kind": "max", "kernel": 3, "stride": 1, "padding": "same"}, 9),
        ({"kind": "avg", "kernel": 7, "padding": "valid"}, 1),  # floor(2 / 7) + 1
        ({"global": True}, 1),
    ],
)
def test_pool_is_free(args: dict[str, object], side: int) -> None:
    """Pooling costs no mult-adds and has no params, whatever its window."""
    shape, cost = only_row(cost_layers(layer("pool", **args), size=9, channels=4))
    assert shape == (side, side, 4)
    assert cost == Cost()


def test_merges_and_scaling_are_free() -> None:
    """Residual add, concat, parallel add and SE's scaling cost nothing; only convs and fcs do."""
    report = cost_layers(
        "  - block: {residual: true, layers: [{depthwise: {}}, {pointwise: {out: 4}}]}",
        "  - parallel: {merge: concat, branches: [[{pointwise: {out: 3}}], []]}",
        "  - parallel: {merge: add, branches: [[{conv: {out: 7, kernel: 3}}], []]}",
        "  - se: {squeeze: 2}",
        size=5,
        channels=4,
    )
    free_kinds = {OpKind.POOL, OpKind.ADD, OpKind.CONCAT, OpKind.SCALE}
    free = [row for row in report.rows if row.op.kind in free_kinds]
    assert {row.op.kind for row in free} == free_kinds
    assert all(row.cost == Cost() for row in free)
    concat = next(row.op for row in free if row.op.kind is OpKind.CONCAT)
    assert concat.output == (5, 5, 3 + 4)
    paid = sum(row.cost.mult_adds for row in report.rows if row.op.kind not in free_kinds)
    expected = (
        25 * 9 * 4 + 25 * 4 * 4  # residual block: depthwise 3x3 + pointwise 4→4
        + 25 * 4 * 3  # concat branch: pointwise 4→3
        + 25 * 9 * 7 * 7  # add branch: 3x3 conv 7→7
        + 2 * 7 * 2  # se: fc 7→2 and fc 2→7
    )  # fmt: skip
    assert paid == report.total.cost.mult_adds == expected
