"""read_onnx: ONNX files made by hand (each op mapping, each refusal) and exported by PyTorch,
read into the ingest form with their attributes as the model states them."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")

import numpy as np  # noqa: E402 - after the skip: the whole module needs onnx
from onnx import helper, numpy_helper  # noqa: E402

from mbcalc.errors import ModelImportError  # noqa: E402
from mbcalc.ingest import onnx_file  # noqa: E402
from mbcalc.ingest.network import NodeKind  # noqa: E402
from mbcalc.ingest.onnx_file import read_onnx  # noqa: E402
from tests.ingest.helpers_onnx import (  # noqa: E402
    ints,
    make_model,
    only,
    read,
    save,
    scalar,
    weight,
)

node = helper.make_node


# --- convolutions and padding ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "stride", "pads", "dilation", "groups", "bias"),
    [
        ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
        ((3, 5), (2, 1), (0, 2, 1, 2), (1, 1), 8, False),
        ((1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 2, True),
        ((3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, False),
    ],
)
def test_a_conv_carries_its_geometry(
    tmp_path: Path,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    dilation: tuple[int, int],
    groups: int,
    bias: bool,
) -> None:
    inputs = ["x", "w", "b"] if bias else ["x", "w"]
    conv = node(
        "Conv",
        inputs,
        ["y"],
        kernel_shape=kernel,
        strides=stride,
        pads=pads,
        dilations=dilation,
        group=groups,
    )
    weights = [weight("w", 16, 8 // groups, *kernel), weight("b", 16)]
    found = only(read(make_model([conv], initializers=weights), tmp_path))
    height = (10 + pads[0] + pads[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    width = (10 + pads[1] + pads[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    assert found.kind is NodeKind.CONV
    assert found.attrs == {
        "kernel": kernel,
        "stride": stride,
        "pads": pads,
        "dilation": dilation,
        "groups": groups,
        "bias": bias,
    }
    assert found.shape == (16, height, width)
    assert found.inputs == ("x",)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize(("size", "kernel", "stride"), [(10, 3, 2), (9, 4, 2), (7, 5, 1)])
def test_auto_pad_becomes_explicit_pads(
    tmp_path: Path, auto_pad: str, size: int, kernel: int, stride: int
) -> None:
    conv = node(
        "Conv",
        ["x", "w"],
        ["y"],
        kernel_shape=[kernel, kernel],
        strides=[stride, stride],
        auto_pad=auto_pad,
    )
    model = make_model(
        [conv], input_dims=(1, 8, size, size), initializers=[weight("w", 4, 8, kernel, kernel)]
    )
    found = only(read(model, tmp_path))
    # ONNX's definition: SAME keeps ceil(size / stride) outputs, the odd pixel at the end
    # (SAME_UPPER) or at the start (SAME_LOWER).
    total = 0 if auto_pad == "VALID" else max((-(-size // stride) - 1) * stride + kernel - size, 0)
    late = total - total // 2 if auto_pad != "SAME_LOWER" else total // 2
    early = total - late
    assert found.attrs["pads"] == (early, early, late, late)
    assert found.shape[1] == (size + total - kernel) // stride + 1


def test_a_zero_pad_on_height_and_width_is_a_pad(tmp_path: Path) -> None:
    pad = node("Pad", ["x", "p"], ["y"], mode="constant")
    model = make_model([pad], initializers=[ints("p", [0, 0, 1, 2, 0, 0, 3, 4])])
    found = only(read(model, tmp_path))
    assert (found.kind, found.attrs) == (NodeKind.PAD, {"pads": (1, 2, 3, 4), "value": 0.0})
    assert found.shape == (8, 10 + 1 + 3, 10 + 2 + 4)


@pytest.mark.parametrize(
    ("mode", "pads"),
    [
        ("reflect", [0, 0, 1, 1, 0, 0, 1, 1]),
        ("constant", [0, 1, 0, 0, 0, 1, 0, 0]),
        ("constant", [0, 0, -1, 0, 0, 0, 0, 0]),
    ],
)
def test_other_pads_are_unknown(tmp_path: Path, mode: str, pads: list[int]) -> None:
    model = make_model([node("Pad", ["x", "p"], ["y"], mode=mode)], initializers=[ints("p", pads)])
    found = only(read(model, tmp_path))
    assert (found.kind, found.op) == (NodeKind.UNKNOWN, "Pad")


def test_pads_computed_from_the_input_shape_are_folded(tmp_path: Path) -> None:
    """Pads built as an exporter builds them: Shape, Gather, arithmetic, Concat."""
    nodes = [
        node("Shape", ["x"], ["s"]),
        node("Gather", ["s", "i"], ["h"], axis=0),  # H = 10
        node("Mod", ["h", "two"], ["odd"]),  # 0
        node("Add", ["odd", "one"], ["late"]),  # 1
        node("Concat", ["zeros", "odd", "odd", "zeros", "late", "late"], ["p"], axis=0),
        node("Pad", ["x", "p"], ["y"]),
    ]
    constants = [ints("i", [2]), ints("two", [2]), ints("one", [1]), ints("zeros", [0, 0])]
    found = only(read(make_model(nodes, initializers=constants), tmp_path))
    odd = 10 % 2
    assert found.attrs["pads"] == (odd, odd, odd + 1, odd + 1)


# --- norms, activations and their decomposed forms -----------------------------------------


def test_a_batch_norm_is_a_batch_norm_node(tmp_path: Path) -> None:
    bn = node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])
    model = make_model([bn], initializers=[weight(name, 8) for name in "sbmv"])
    assert only(read(model, tmp_path)).kind is NodeKind.BATCH_NORM


def test_a_conv_with_a_bias_is_read_with_it(tmp_path: Path) -> None:
    convs = [node("Conv", ["x", "w", "b"], ["c"]), node("Conv", ["c", "w"], ["y"])]
    model = make_model(convs, initializers=[weight("w", 8, 8, 1, 1), weight("b", 8)])
    assert [n.attrs["bias"] for n in read(model, tmp_path).nodes] == [True, False]


@pytest.mark.parametrize(
    ("op", "kwargs", "act"),
    [
        ("Relu", {}, "relu"),
        ("LeakyRelu", {"alpha": 0.1}, "leaky_relu"),
        ("Elu", {}, "elu"),
        ("Sigmoid", {}, "sigmoid"),
        ("Tanh", {}, "tanh"),
        ("HardSwish", {}, "hswish"),
        ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, "hsigmoid"),
    ],
)
def test_activations(tmp_path: Path, op: str, kwargs: dict[str, Any], act: str) -> None:
    found = only(read(make_model([node(op, ["x"], ["y"], **kwargs)]), tmp_path))
    assert (found.kind, found.attrs, found.shape) == (NodeKind.ACT, {"act": act}, (8, 10, 10))


def test_prelu_and_gelu(tmp_path: Path) -> None:
    prelu = make_model(
        [node("PRelu", ["x", "slope"], ["y"])], initializers=[weight("slope", 8, 1, 1)]
    )
    assert only(read(prelu, tmp_path)).attrs == {"act": "prelu"}
    gelu = make_model([node("Gelu", ["x"], ["y"])], opset=20)
    assert only(read(gelu, tmp_path)).attrs == {"act": "gelu"}
    tanh_gelu = make_model([node("Gelu", ["x"], ["y"], approximate="tanh")], opset=20)
    assert only(read(tanh_gelu, tmp_path)).kind is NodeKind.UNKNOWN


def test_hard_sigmoid_of_onnx_defaults_is_unknown(tmp_path: Path) -> None:
    found = only(read(make_model([node("HardSigmoid", ["x"], ["y"])]), tmp_path))
    assert (found.kind, found.op) == (NodeKind.UNKNOWN, "HardSigmoid")


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0.0, 6.0, "relu6"), (0.0, None, "relu"), (0.0, math.inf, "relu"), (-1.0, 1.0, None)],
)
def test_clip_bounds(tmp_path: Path, low: float, high: float | None, expected: str | None) -> None:
    bounds = [scalar("low", low)]
    if high is not None:
        bounds.append(scalar("high", high))
    clip = node("Clip", ["x", "low", "high" if high is not None else ""], ["y"])
    found = only(read(make_model([clip], initializers=bounds), tmp_path))
    if expected is None:
        assert found.kind is NodeKind.UNKNOWN
    else:
        assert (found.kind, found.attrs) == (NodeKind.ACT, {"act": expected})


@pytest.mark.parametrize(
    ("gate", "kwargs", "act"),
    [("Sigmoid", {}, "swish"), ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, "hswish")],
)
def test_x_times_its_gate_is_one_activation(
    tmp_path: Path, gate: str, kwargs: dict[str, Any], act: str
) -> None:
    nodes = [node(gate, ["x"], ["g"], **kwargs), node("Mul", ["x", "g"], ["y"])]
    found = only(read(make_model(nodes), tmp_path))
    assert (found.kind, found.attrs, found.inputs, found.output) == (
        NodeKind.ACT,
        {"act": act},
        ("x",),
        "y",
    )


def test_the_erf_form_of_gelu_is_gelu(tmp_path: Path) -> None:
    nodes = [
        node("Div", ["x", "root2"], ["d"]),
        node("Erf", ["d"], ["e"]),
        node("Add", ["e", "one"], ["a"]),
        node("Mul", ["x", "a"], ["m"]),
        node("Mul", ["m", "half"], ["y"]),
    ]
    scalars = [scalar("root2", math.sqrt(2)), scalar("one", 1.0), scalar("half", 0.5)]
    found = only(read(make_model(nodes, initializers=scalars), tmp_path))
    assert (found.kind, found.attrs, found.inputs) == (NodeKind.ACT, {"act": "gelu"}, ("x",))


def test_a_layer_norm_between_transposes_is_a_layer_norm(tmp_path: Path) -> None:
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        node("LayerNormalization", ["t", "s", "b"], ["n"], axis=-1),
        node("Transpose", ["n"], ["y"], perm=[0, 3, 1, 2]),
    ]
    model = make_model(nodes, initializers=[weight("s", 8), weight("b", 8)])
    found = only(read(model, tmp_path))
    assert (found.kind, found.shape, found.inputs) == (NodeKind.LAYER_NORM, (8, 10, 10), ("x",))


def test_a_layer_norm_before_an_hwc_flatten_is_a_layer_norm_then_a_flatten(
    tmp_path: Path,
) -> None:
    """The exporter cancels the norm's way back against the flatten's transpose."""
    nodes = [
        node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        node("LayerNormalization", ["t", "s", "b"], ["n"], axis=-1),
        node("Flatten", ["n"], ["y"]),
    ]
    model = make_model(nodes, initializers=[weight("s", 8), weight("b", 8)])
    norm, flatten = read(model, tmp_path).nodes
    assert (norm.kind, norm.shape) == (NodeKind.LAYER_NORM, (8, 10, 10))
    assert (flatten.kind, flatten.inputs, flatten.shape) == (NodeKind.FLATTEN, ("n",), (800,))


def test_reshape_transpose_reshape_is_a_channel_shuffle(tmp_path: Path) -> None:
    groups = 2
    nodes = [
        node("Reshape", ["x", "split"], ["r"]),
        node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
        node("Reshape", ["t", "back"], ["y"]),
    ]
    shapes = [ints("split", [1, groups, 8 // groups, 10, 10]), ints("back", [1, 8, 10, 10])]
    found = only(read(make_model(nodes, initializers=shapes), tmp_path))
    assert (found.kind, found.attrs) == (NodeKind.SHUFFLE, {"groups": groups})


def test_a_mul_by_a_channel_vector_weight_is_a_layer_scale(tmp_path: Path) -> None:
    model = make_model([node("Mul", ["x", "g"], ["y"])], initializers=[weight("g", 8, 1, 1)])
    assert only(read(model, tmp_path)).kind is NodeKind.LAYER_SCALE


def test_a_mul_by_a_copy_of_a_weight_is_a_layer_scale(tmp_path: Path) -> None:
    """The exporter shares equal weights through Identity nodes."""
    nodes = [node("Identity", ["g"], ["shared"]), node("Mul", ["x", "shared"], ["y"])]
    model = make_model(nodes, initializers=[weight("g", 8, 1, 1)])
    assert only(read(model, tmp_path)).kind is NodeKind.LAYER_SCALE


def test_a_mul_of_two_feature_maps_is_a_mul(tmp_path: Path) -> None:
    nodes = [
        node("GlobalAveragePool", ["x"], ["p"]),
        node("Sigmoid", ["p"], ["s"]),
        node("Mul", ["x", "s"], ["y"]),
    ]
    kinds = [found.kind for found in read(make_model(nodes), tmp_path).nodes]
    assert kinds == [NodeKind.GLOBAL_POOL, NodeKind.ACT, NodeKind.MUL]


# --- classifier ops, pools, merges and splits ---------------------------------------------


@pytest.mark.parametrize(("trans_b", "bias"), [(1, True), (0, False)])
def test_a_gemm_is_a_linear(tmp_path: Path, trans_b: int, bias: bool) -> None:
    dims = (5, 800) if trans_b else (800, 5)
    gemm = node("Gemm", ["f", "w", "b"] if bias else ["f", "w"], ["y"], transB=trans_b, alpha=2.0)
    model = make_model(
        [node("Flatten", ["x"], ["f"]), gemm], initializers=[weight("w", *dims), weight("b", 5)]
    )
    flatten, linear = read(model, tmp_path).nodes
    assert (flatten.kind, flatten.shape) == (NodeKind.FLATTEN, (8 * 10 * 10,))
    assert (linear.kind, linear.attrs, linear.shape) == (NodeKind.LINEAR, {"bias": bias}, (5,))


def test_a_gemm_whose_weight_does_not_fit_is_unknown(tmp_path: Path) -> None:
    """transB=0 with a (out, in) weight: the product does not even type-check as a linear of
    800 inputs; shape inference refuses it first."""
    gemm = node("Gemm", ["f", "w"], ["y"], transB=0)
    model = make_model([node("Flatten", ["x"], ["f"]), gemm], initializers=[weight("w", 5, 800)])
    with pytest.raises(ModelImportError, match="onnx rejects the model"):
        read(model, tmp_path)


def test_matmul_and_a_bias_add_are_one_linear(tmp_path: Path) -> None:
    nodes = [
        node("Flatten", ["x"], ["f"]),
        node("MatMul", ["f", "w"], ["m"]),
        node("Add", ["m", "b"], ["y"]),
    ]
    model = make_model(nodes, initializers=[weight("w", 800, 7), weight("b", 7)])
    linear = read(model, tmp_path).nodes[1]
    assert (linear.kind, linear.attrs, linear.output, linear.shape) == (
        NodeKind.LINEAR,
        {"bias": True},
        "y",
        (7,),
    )


def test_a_reshape_to_f_1_1_is_free_and_copies_are_dropped(tmp_path: Path) -> None:
    nodes = [
        node("GlobalAveragePool", ["x"], ["p"]),
        node("Flatten", ["p"], ["f"]),
        node("Dropout", ["f"], ["d"]),
        node("Identity", ["d"], ["i"]),
        node("Reshape", ["i", "to"], ["y"]),
    ]
    network = read(make_model(nodes, initializers=[ints("to", [1, 8, 1, 1])]), tmp_path)
    kinds = [found.kind for found in network.nodes]
    assert kinds == [NodeKind.GLOBAL_POOL, NodeKind.FLATTEN, NodeKind.IDENTITY]
    assert network.nodes[2].inputs == ("f",)


@pytest.mark.parametrize("keep", [0, 1])
def test_reduce_mean_over_height_and_width_is_a_global_pool(tmp_path: Path, keep: int) -> None:
    reduce = node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=keep)
    found = only(read(make_model([reduce]), tmp_path))
    assert (found.kind, found.attrs) == (NodeKind.GLOBAL_POOL, {"pool": "avg", "keep": bool(keep)})
    assert found.shape == ((8, 1, 1) if keep else (8,))


@pytest.mark.parametrize(("op", "ceil", "count_pad"), [("MaxPool", 1, 0), ("AveragePool", 0, 1)])
def test_pools(tmp_path: Path, op: str, ceil: int, count_pad: int) -> None:
    extra: dict[str, Any] = {"count_include_pad": count_pad} if op == "AveragePool" else {}
    pool = node(
        op,
        ["x"],
        ["y"],
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[0, 1, 1, 0],
        ceil_mode=ceil,
        **extra,
    )
    found = only(read(make_model([pool]), tmp_path))
    rounding = math.ceil if ceil else math.floor
    side = rounding((10 + 1 - 3) / 2) + 1
    assert found.attrs == {
        "pool": "max" if op == "MaxPool" else "avg",
        "kernel": (3, 3),
        "stride": (2, 2),
        "pads": (0, 1, 1, 0),
        "ceil": bool(ceil),
        "count_pad": bool(count_pad),
    }
    assert found.shape == (8, side, side)


@pytest.mark.parametrize("all_inside", [True, False])
def test_pad_max_pool_where_is_a_max_pool_when_every_window_holds_input(
    tmp_path: Path, all_inside: bool
) -> None:
    holds = np.full((1, 1, 5, 5), True)
    holds[0, 0, 0, 0] = all_inside
    nodes = [
        node("Pad", ["x", "p", "low"], ["padded"]),
        node("MaxPool", ["padded"], ["m"], kernel_shape=[3, 3], strides=[2, 2]),
        node("Where", ["holds", "m", "zero"], ["y"]),
    ]
    constants = [
        ints("p", [0, 0, 0, 0, 0, 0, 1, 1]), scalar("low", -math.inf), scalar("zero", 0.0),
        numpy_helper.from_array(holds, "holds"),
    ]  # fmt: skip
    kinds = [
        found.kind for found in read(make_model(nodes, initializers=constants), tmp_path).nodes
    ]
    if all_inside:
        assert kinds == [NodeKind.POOL]
    else:
        assert kinds == [NodeKind.PAD, NodeKind.POOL, NodeKind.UNKNOWN]


def test_pad_average_pool_div_is_an_average_pool_not_counting_the_padding(tmp_path: Path) -> None:
    nodes = [
        node("Pad", ["x", "p"], ["padded"]),
        node("AveragePool", ["padded"], ["a"], kernel_shape=[3, 3], strides=[2, 2]),
        node("Div", ["a", "share"], ["y"]),
    ]
    share = numpy_helper.from_array(np.ones((1, 1, 5, 5), dtype=np.float32), "share")
    model = make_model(nodes, initializers=[ints("p", [0, 0, 0, 0, 0, 0, 1, 1]), share])
    found = only(read(model, tmp_path))
    assert found.attrs == {
        "pool": "avg", "kernel": (3, 3), "stride": (2, 2), "pads": (0, 0, 1, 1),
        "ceil": False, "count_pad": False,
    }  # fmt: skip
    assert found.shape == (8, (10 + 1 - 3) // 2 + 1, (10 + 1 - 3) // 2 + 1)


def test_add_concat_softmax(tmp_path: Path) -> None:
    nodes = [
        node("Relu", ["x"], ["r"]),
        node("Add", ["x", "r"], ["a"]),
        node("Concat", ["a", "r"], ["c"], axis=1),
        node("Softmax", ["c"], ["y"], axis=1),
    ]
    network = read(make_model(nodes), tmp_path)
    assert [found.kind for found in network.nodes] == [
        NodeKind.ACT,
        NodeKind.ADD,
        NodeKind.CONCAT,
        NodeKind.SOFTMAX,
    ]
    assert network.nodes[2].shape == (16, 10, 10)


def test_a_split_is_one_slice_per_output_and_a_slice_is_a_slice(tmp_path: Path) -> None:
    nodes = [
        node("Split", ["x", "sizes"], ["a", "b"], axis=1),
        node("Slice", ["b", "start", "stop", "axis"], ["c"]),
        node("Concat", ["a", "c"], ["y"], axis=1),
    ]
    constants = [ints("sizes", [3, 5]), ints("start", [1]), ints("stop", [100]), ints("axis", [1])]
    network = read(make_model(nodes, initializers=constants), tmp_path)
    slices = [(found.output, found.attrs) for found in network.nodes[:3]]
    assert slices == [
        ("a", {"start": 0, "stop": 3}),
        ("b", {"start": 3, "stop": 8}),
        ("c", {"start": 1, "stop": 5}),
    ]


def test_an_op_without_a_kind_is_unknown_and_kept(tmp_path: Path) -> None:
    found = only(read(make_model([node("Sin", ["x"], ["y"])]), tmp_path))
    assert (found.kind, found.op, found.inputs, found.shape) == (
        NodeKind.UNKNOWN,
        "Sin",
        ("x",),
        (8, 10, 10),
    )


def test_producer_names_the_opset(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], opset=13)
    model.producer_name, model.producer_version = "maker", "1.2"
    assert read(model, tmp_path).producer == "maker 1.2, onnx opset 13"


# --- inputs and outputs -------------------------------------------------------------------


def test_a_dynamic_input_needs_a_shape(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], input_dims=("N", 3, "H", "W"))
    with pytest.raises(
        ModelImportError, match=r"input 'x' has dynamic dims \(N x 3 x H x W\)"
    ) as error:
        read(model, tmp_path)
    assert "hint: --input CxHxW" in str(error.value)
    network = read(model, tmp_path, input_shape=(3, 32, 24))
    assert (network.input_shape, network.nodes[0].shape) == ((3, 32, 24), (3, 32, 24))


def test_a_dynamic_batch_alone_is_read_as_one(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], input_dims=("N", 3, 7, 7))
    assert read(model, tmp_path).input_shape == (3, 7, 7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_dims": (2, 8, 10, 10)}, "input 'x' has batch 2"),
        ({"input_dims": (1, 8, 10)}, r"input 'x' has shape \(1 x 8 x 10\), not N x C x H x W"),
        ({"inputs": ("x", "z")}, r"the graph has 2 inputs \('x', 'z'\)"),
        ({"outputs": ("y", "x")}, r"the graph has 2 outputs .*hint: export one output"),
    ],
)
def test_inputs_and_outputs_mbcalc_does_not_read(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], **kwargs)
    with pytest.raises(ModelImportError, match=message):
        read(model, tmp_path)


# --- bad files ----------------------------------------------------------------------------


def _refusal(path: Path) -> str:
    with pytest.raises(ModelImportError) as error:
        read_onnx(path, source=path.name)
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"{path.name}: ")
    return text


def test_not_a_file(tmp_path: Path) -> None:
    assert "not found" in _refusal(tmp_path / "missing.onnx")
    (tmp_path / "folder.onnx").mkdir()
    assert "a directory" in _refusal(tmp_path / "folder.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "empty" in _refusal(tmp_path / "empty.onnx")


@pytest.mark.parametrize(
    "content",
    [
        b"name: mobilenet\nlayers:\n  - conv: {filters: 32}\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_files_that_are_not_onnx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "renamed.onnx"
    path.write_bytes(content)
    assert "not" in _refusal(path)


def test_a_valid_protobuf_of_another_message(tmp_path: Path) -> None:
    path = tmp_path / "tensor.onnx"
    path.write_bytes(weight("w", 4, 4).SerializeToString())
    assert "not" in _refusal(path)


def test_truncated_files(tmp_path: Path) -> None:
    conv = node("Conv", ["x", "w"], ["y"])
    data = make_model([conv], initializers=[weight("w", 8, 8, 3, 3)]).SerializeToString()
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
        path = tmp_path / "cut.onnx"
        path.write_bytes(data[: int(len(data) * fraction)])
        _refusal(path)


def test_an_opset_onnx_does_not_know(tmp_path: Path) -> None:
    path = save(make_model([node("Relu", ["x"], ["y"])], opset=999), tmp_path)
    assert f"opset 999: the installed onnx {onnx.__version__} reads up to" in _refusal(path)
    model = make_model([node("Relu", ["x"], ["y"])])
    model.ir_version = onnx.IR_VERSION + 1
    assert f"IR version {onnx.IR_VERSION + 1}, opset 17" in _refusal(save(model, tmp_path))


def test_an_op_with_a_wrong_input_count(tmp_path: Path) -> None:
    path = save(make_model([node("Relu", ["x", "x"], ["y"])]), tmp_path)
    assert "onnx rejects the model" in _refusal(path)


def test_an_output_of_unknown_shape_names_its_node(tmp_path: Path) -> None:
    custom = node("Mystery", ["x"], ["y"], name="/features.3/mystery/Mystery", domain="custom")
    model = make_model([custom])
    model.opset_import.append(helper.make_opsetid("custom", 1))
    assert _refusal(save(model, tmp_path)) == (
        "model.onnx: node '/features.3/mystery/Mystery' (op Mystery, in 'features.3.mystery'): "
        "shape inference leaves its output's shape unknown"
    )


def test_reading_onnx_files_imports_onnx_only_when_reading() -> None:
    code = "import sys, mbcalc.ingest.onnx_file; print('onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(make_model([node("Relu", ["x"], ["r"]), node("Relu", ["r"], ["y"])]), tmp_path)
    monkeypatch.setattr(onnx_file, "MAX_NODES", 1)
    assert "more than 1 nodes" in _refusal(path)
    monkeypatch.setattr(onnx_file, "MAX_FILE_BYTES", 10)
    assert "more than the 10 an ONNX file can hold" in _refusal(path)


def _external_model(tmp_path: Path, file_bytes: int | None) -> Path:
    """A conv whose 16 x 8 x 3 x 3 float weight lies in weights.bin (of `file_bytes`)."""
    tensor = weight("w", 16, 8, 3, 3)
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (
        ("location", "weights.bin"),
        ("offset", "0"),
        ("length", str(16 * 8 * 9 * 4)),
    ):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    if file_bytes is not None:
        (tmp_path / "weights.bin").write_bytes(bytes(file_bytes))
    return save(make_model([node("Conv", ["x", "w"], ["y"])], initializers=[tensor]), tmp_path)


def test_external_weights_are_checked_not_read(tmp_path: Path) -> None:
    path = _external_model(tmp_path, 16 * 8 * 9 * 4)
    found = only(read_onnx(path, source="model.onnx"))
    assert (found.kind, found.attrs["kernel"], found.shape) == (NodeKind.CONV, (3, 3), (16, 8, 8))


def test_external_weights_missing_or_short(tmp_path: Path) -> None:
    assert "'weights.bin' is missing" in _refusal(_external_model(tmp_path, None))
    assert "fewer than offset 0 + length 4608" in _refusal(_external_model(tmp_path, 100))


def test_a_large_weight_is_never_held_in_memory(tmp_path: Path) -> None:
    """A 64 MiB initializer: the read's peak Python allocation stays far below it."""
    out = 64 * 1024 * 1024 // 4 // 800
    model = make_model(
        [node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], ["y"], transB=1)],
        initializers=[weight("w", out, 800)],
    )
    path = save(model, tmp_path)
    del model
    assert path.stat().st_size > 64 * 1024 * 1024 - 1024 * 1024
    tracemalloc.start()
    try:
        network = read_onnx(path, source="big.onnx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert network.nodes[1].shape == (out,)
    assert peak < 4 * 1024 * 1024


# --- exports of PyTorch modules -----------------------------------------------------------


def _export(module: Any, shape: tuple[int, ...], folder: Path, opset: int | None = None) -> Path:
    torch = pytest.importorskip("torch")
    path = folder / "exported.onnx"
    torch.onnx.export(
        module.eval(),
        (torch.randn(1, *shape),),
        str(path),
        dynamo=False,
        opset_version=opset,
    )
    return path


@pytest.mark.torch
def test_mobilenet_v2_exported_keeps_every_conv(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    module = importlib.import_module("mbcalc.torch").build("mobilenet_v2", alpha=0.35, res=64)
    network = read_onnx(_export(module, (3, 64, 64), tmp_path), source="m.onnx")
    convs = {
        name: layer for name, layer in module.named_modules() if isinstance(layer, torch.nn.Conv2d)
    }
    found = [found for found in network.nodes if found.kind is NodeKind.CONV]
    assert [found.path for found in found] == list(convs)
    for found_conv, layer in zip(found, convs.values(), strict=True):
        padding = layer.padding
        assert found_conv.attrs == {
            "kernel": layer.kernel_size,
            "stride": layer.stride,
            "pads": (padding[0], padding[1], padding[0], padding[1]),
            "dilation": layer.dilation,
            "groups": layer.groups,
            "bias": True,  # the exporter folds each batch norm in
        }
        assert found_conv.shape[0] == layer.out_channels
    pads = [found for found in network.nodes if found.kind is NodeKind.PAD]
    zero_pads = [layer for layer in module.modules() if isinstance(layer, torch.nn.ZeroPad2d)]
    assert [found.attrs["pads"] for found in pads] == [
        (layer.padding[2], layer.padding[0], layer.padding[3], layer.padding[1])
        for layer in zero_pads
    ]
    assert not [found for found in network.nodes if found.kind is NodeKind.UNKNOWN]
    assert network.nodes[-1].shape == (1000,)
    linears = [found for found in network.nodes if found.kind is NodeKind.LINEAR]
    assert [found.attrs for found in linears] == [{"bias": True}]


@pytest.mark.torch
def test_shufflenet_exported_keeps_its_slices_and_shuffles(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from mbcalc.pytorch.split_modules import ChannelShuffle, Slice

    module = importlib.import_module("mbcalc.torch").build("shufflenet_v2_x0_5", alpha=0.25, res=32)
    network = read_onnx(_export(module, (3, 32, 32), tmp_path), source="s.onnx")
    layers = dict(module.named_modules())
    # the exporter merges two chunks of one tensor into one, so the slices' paths are not the
    # modules'; each is a half of its input's channels, as many as the Slice modules
    halves = [(layer.parts, layer.index) for layer in layers.values() if isinstance(layer, Slice)]
    channels = {found.output: found.shape[0] for found in network.nodes}
    slices = [found for found in network.nodes if found.kind is NodeKind.SLICE]
    assert len(slices) == len(halves)
    assert {parts for parts, _ in halves} == {2}
    found_halves = [
        tuple(
            int(str(found.attrs[end])) * 2 // channels[found.inputs[0]] for end in ("start", "stop")
        )
        for found in slices
    ]
    assert sorted(found_halves) == sorted((index, index + 1) for _, index in halves)
    shuffles = [found for found in network.nodes if found.kind is NodeKind.SHUFFLE]
    assert [(found.path, found.attrs["groups"]) for found in shuffles] == [
        (name, layer.groups) for name, layer in layers.items() if isinstance(layer, ChannelShuffle)
    ]
    assert not [found for found in network.nodes if found.kind is NodeKind.UNKNOWN]


PADDED_POOLS = """\
name: padded pools
input: {size: 15}
layers:
  - conv: {out: 8, kernel: 3, stride: 1}
  - pool: {kind: max, kernel: 3, stride: 2, padding: same}
  - pool: {kind: avg, kernel: 3, stride: 2, padding: same}
  - pool: {global: true}
  - fc: {out: 10}
"""


@pytest.mark.torch
def test_padded_pools_exported_are_pools_with_their_padding(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from mbcalc.pytorch.network import PaddedPool

    spec = tmp_path / "padded.yaml"
    spec.write_text(PADDED_POOLS)
    module = importlib.import_module("mbcalc.torch").build(str(spec))
    network = read_onnx(_export(module, (3, 15, 15), tmp_path), source="p.onnx")
    pools = [found for found in network.nodes if found.kind is NodeKind.POOL]
    layers = [layer for layer in module.modules() if isinstance(layer, PaddedPool)]
    assert [found.attrs for found in pools] == [
        {
            "pool": layer.kind, "kernel": layer.kernel, "stride": layer.stride,
            "pads": (layer.pads[2], layer.pads[0], layer.pads[3], layer.pads[1]),
            "ceil": False, "count_pad": not layer.exclude_padding,
        }
        for layer in layers
    ]  # fmt: skip
    assert not [found for found in network.nodes if found.kind is NodeKind.UNKNOWN]


@pytest.mark.torch
def test_exported_activations_norms_and_shuffles(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from mbcalc.pytorch.norm_modules import Permute
    from mbcalc.pytorch.split_modules import ChannelShuffle

    nn = torch.nn
    block = nn.Sequential(
        nn.SiLU(),
        nn.GELU(),
        Permute(0, 2, 3, 1),
        nn.LayerNorm(8),
        Permute(0, 3, 1, 2),
        ChannelShuffle(2),
    )
    network = read_onnx(_export(block, (8, 6, 6), tmp_path, opset=17), source="b.onnx")
    summary = [(found.kind, found.attrs, found.path) for found in network.nodes]
    assert summary == [
        (NodeKind.ACT, {"act": "swish"}, "0"),
        (NodeKind.ACT, {"act": "gelu"}, "1"),
        (NodeKind.LAYER_NORM, {"affine": True}, ""),  # the common module of 2, 3 and 4
        (NodeKind.SHUFFLE, {"groups": 2}, "5"),
    ]


@pytest.mark.torch
@pytest.mark.parametrize("opset", [16, 17])
@pytest.mark.parametrize("affine", [True, False])
def test_exported_layer_norms_whole_or_decomposed(tmp_path: Path, opset: int, affine: bool) -> None:
    """Opset 17 has LayerNormalization; before it, the exporter writes ReduceMean, Sub, Pow..."""
    torch = pytest.importorskip("torch")
    from mbcalc.pytorch.norm_modules import Permute

    norm = torch.nn.LayerNorm(8, elementwise_affine=affine)
    block = torch.nn.Sequential(Permute(0, 2, 3, 1), norm, Permute(0, 3, 1, 2))
    network = read_onnx(_export(block, (8, 5, 5), tmp_path, opset=opset), source="n.onnx")
    found = only(network)
    assert (found.kind, found.attrs, found.shape) == (
        NodeKind.LAYER_NORM, {"affine": affine}, (8, 5, 5),
    )  # fmt: skip


@pytest.mark.torch
def test_the_dynamo_exporter_names_modules(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    nn = torch.nn
    module = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()).eval()
    path = tmp_path / "dynamo.onnx"
    torch.onnx.export(module, (torch.randn(1, 3, 8, 8),), str(path), dynamo=True, verbose=False)
    network = read_onnx(path, source="dynamo.onnx")
    assert [(found.kind, found.path) for found in network.nodes] == [
        (NodeKind.CONV, "0"),
        (NodeKind.ACT, "1"),
    ]


def test_folded_values_never_include_a_large_initializer(tmp_path: Path) -> None:
    """Shape of a large weight is known (its dims); its values are not: an op on them stays."""
    nodes = [node("ReduceSum", ["w"], ["s"], keepdims=0), node("Add", ["x", "s"], ["y"])]
    big = numpy_helper.from_array(np.ones((5000,), dtype=np.float32), "w")
    found = read(make_model(nodes, initializers=[big]), tmp_path).nodes
    assert [node.op for node in found] == ["ReduceSum", "Add"]
