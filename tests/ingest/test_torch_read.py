"""The PyTorch reader: modules traced with torch.export become networks of the import form.

What each node must be is derived from the module's own layers: every layer that computes
(Conv2d, BatchNorm2d, Linear, pools, activations, mbcalc's Merge, Slice, ChannelShuffle, ...)
is called once under a forward hook, which records its input and output shapes as PyTorch
computes them; the layer's attributes (kernel_size, stride, padding, groups, bias, ...) give the
node's. Nodes are matched to layers by module path.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import Tensor, nn  # noqa: E402

from mbcalc.core.graph import OpKind  # noqa: E402
from mbcalc.errors import ModelImportError  # noqa: E402
from mbcalc.ingest.callable_ref import load_module  # noqa: E402
from mbcalc.ingest.network import Network, Node, NodeKind  # noqa: E402
from mbcalc.ingest.torch_module import read_module  # noqa: E402
from mbcalc.pytorch.network import FlattenHWC, Merge, PaddedPool, build  # noqa: E402
from mbcalc.pytorch.norm_modules import LayerScale, Permute  # noqa: E402
from mbcalc.pytorch.split_modules import ChannelShuffle, Slice  # noqa: E402
from tests.ingest import models  # noqa: E402

Shape = tuple[int, ...]
Expected = tuple[NodeKind, dict[str, object], Shape]

ACTS: dict[type[nn.Module], str] = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SiLU: "swish", nn.Hardswish: "hswish",
    nn.Hardsigmoid: "hsigmoid", nn.Sigmoid: "sigmoid", nn.GELU: "gelu", nn.Tanh: "tanh",
}  # fmt: skip
MERGES = {OpKind.ADD: NodeKind.ADD, OpKind.CONCAT: NodeKind.CONCAT, OpKind.SCALE: NodeKind.MUL}
VIEWS = (NodeKind.IDENTITY, NodeKind.FLATTEN)


def pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def pool_attrs(layer: nn.MaxPool2d | nn.AvgPool2d) -> dict[str, object]:
    top, left = pair(layer.padding)
    return {
        "kernel": pair(layer.kernel_size),
        "stride": pair(layer.stride),
        "pads": (top, left, top, left),
        "ceil": layer.ceil_mode,
    }


PLAIN: dict[type[nn.Module], NodeKind] = {
    nn.BatchNorm2d: NodeKind.BATCH_NORM, nn.Dropout: NodeKind.IDENTITY,
    nn.Upsample: NodeKind.UNKNOWN, nn.LayerNorm: NodeKind.LAYER_NORM,
    LayerScale: NodeKind.LAYER_SCALE,
}  # fmt: skip
"""Layers whose node has no attributes."""


def conv_attrs(layer: nn.Conv2d) -> dict[str, object]:
    top, left = pair(layer.padding)  # type: ignore[arg-type]
    return {"kernel": layer.kernel_size, "stride": layer.stride, "pads": (top, left, top, left),
            "dilation": layer.dilation, "groups": layer.groups,
            "bias": layer.bias is not None}  # fmt: skip


def pool_node(layer: nn.Module) -> tuple[NodeKind, dict[str, object]] | None:
    """The node of a pooling layer (or of a zero padding), None for any other layer."""
    if isinstance(layer, nn.MaxPool2d):
        return NodeKind.POOL, {"pool": "max", **pool_attrs(layer), "count_pad": False}
    if isinstance(layer, nn.AvgPool2d):
        return NodeKind.POOL, {"pool": "avg", **pool_attrs(layer),
                               "count_pad": layer.count_include_pad}  # fmt: skip
    if isinstance(layer, nn.AdaptiveAvgPool2d) and layer.output_size in (1, (1, 1)):
        return NodeKind.GLOBAL_POOL, {"pool": "avg", "keep": True}
    if isinstance(layer, nn.ZeroPad2d):
        left, right, top, bottom = layer.padding
        return NodeKind.PAD, {"pads": (top, left, bottom, right), "value": 0.0}
    return None


def expected(layer: nn.Module, shape_in: Shape) -> tuple[NodeKind, dict[str, object]] | None:
    """The node a layer's call must give (None: a layer read as part of another form)."""
    if type(layer) in PLAIN:
        return PLAIN[type(layer)], {}
    if isinstance(layer, nn.Conv2d):
        return NodeKind.CONV, conv_attrs(layer)
    if type(layer) in ACTS:
        return NodeKind.ACT, {"act": ACTS[type(layer)]}
    if isinstance(layer, nn.Linear):
        return NodeKind.LINEAR, {"bias": layer.bias is not None}
    if isinstance(layer, Merge):
        return MERGES[layer.kind], {}
    if isinstance(layer, ChannelShuffle):
        return NodeKind.SHUFFLE, {"groups": layer.groups}
    if isinstance(layer, Slice):
        size = shape_in[0] // layer.parts
        return NodeKind.SLICE, {"start": layer.index * size, "stop": (layer.index + 1) * size}
    return pool_node(layer)


def layer_calls(module: nn.Module, input_shape: Shape) -> dict[str, list[Expected]]:
    """Each layer's calls in a forward pass, by module path: the nodes they must give."""
    calls: dict[str, list[Expected]] = defaultdict(list)
    handles = []
    for name, layer in module.named_modules():

        def hook(
            layer: nn.Module, inputs: tuple[object, ...], output: object, name: str = name
        ) -> None:
            first = inputs[0] if inputs else None
            shape_in = tuple(first.shape[1:]) if isinstance(first, Tensor) else ()
            found = expected(layer, shape_in)
            if found is not None and isinstance(output, Tensor):
                shape = tuple(output.shape[1:])
                if isinstance(layer, nn.LayerNorm):  # channels last, as the Permutes around it
                    shape = (shape[-1], *shape[:-1])
                calls[name].append((*found, shape))

        handles.append(layer.register_forward_hook(hook))
    module.eval()
    with torch.no_grad():
        module(torch.zeros(1, *input_shape))
    for handle in handles:
        handle.remove()
    return calls


def assert_matches_layers(module: nn.Module, network: Network) -> None:
    """Every computing layer's calls are the nodes at its path, kind, attributes and shape."""
    calls = layer_calls(module, network.input_shape)
    by_path: dict[str, list[Node]] = defaultdict(list)
    for node in network.nodes:
        by_path[node.path].append(node)
    assert calls, "no layer was called"
    for path, wanted in calls.items():
        found = [(node.kind, node.attrs, node.shape) for node in by_path[path]
                 if node.kind not in VIEWS or wanted[0][0] in VIEWS]  # fmt: skip
        assert found == wanted, path


def assert_well_formed(network: Network) -> None:
    """Topological order, unique names, one output, views keeping the element count."""
    written = {network.input: network.input_shape}
    names = [node.name for node in network.nodes]
    assert len(set(names)) == len(names)
    for node in network.nodes:
        assert all(source in written for source in node.inputs), node.name
        assert node.output not in written
        if node.kind in VIEWS:
            assert math.prod(written[node.inputs[0]]) == math.prod(node.shape), node.name
        written[node.output] = node.shape
    assert network.output == network.nodes[-1].output
    assert all(isinstance(size, int) for node in network.nodes for size in node.shape)


def read(module: nn.Module, shape: Shape = (3, 32, 32)) -> Network:
    network = read_module(module, shape, source="test")
    assert_well_formed(network)
    return network


def kinds(network: Network) -> list[NodeKind]:
    return [node.kind for node in network.nodes]


def at(network: Network, path: str) -> list[Node]:
    return [node for node in network.nodes if node.path == path]


HAND_WRITTEN = ["SmallResNet", "SENet", "InceptionLike", "Upsampling", "MobileNetV2Like",
                "SeparableChain", "ActivationsNet"]  # fmt: skip


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_hand_written_nets_give_their_layers(name: str) -> None:
    module = getattr(models, name)()
    network = read(module)
    assert_matches_layers(module, network)
    assert (NodeKind.UNKNOWN in kinds(network)) == (name == "Upsampling")


def test_producer_notes_and_input() -> None:
    network = read(models.SmallResNet(), (3, 40, 48))
    assert network.producer == f"torch {torch.__version__}, torch.export"
    assert network.notes == ("traced in eval mode at 1x3x40x48",)
    assert network.input_shape == (3, 40, 48)
    assert network.nodes[0].inputs == (network.input,)
    assert network.source == "test"


def test_residual_adds_read_the_block_and_its_shortcut() -> None:
    network = read(models.SmallResNet())
    adds = [node for node in network.nodes if node.kind is NodeKind.ADD]
    assert [node.path for node in adds] == ["layer1.0", "layer1.1"]
    first, second = adds
    assert first.inputs == (at(network, "layer1.0.bn2")[0].output, at(network, "maxpool")[0].output)
    assert set(second.inputs) == {at(network, "layer1.1.bn2")[0].output,
                                  at(network, "layer1.1.downsample.1")[0].output}  # fmt: skip
    flatten, linear = network.nodes[-2:]
    assert (flatten.kind, flatten.shape, linear.inputs) == (
        NodeKind.FLATTEN,
        (32,),
        (flatten.output,),
    )


def test_squeeze_and_excite_written_with_mean_and_linears() -> None:
    module = models.SENet()
    network = read(module)
    stem_out = at(network, "stem.2")[0].output
    se = [node for node in network.nodes if node.path.startswith("se")]
    channels, squeezed = module.se.fc1.in_features, module.se.fc1.out_features
    assert [(node.kind, node.shape) for node in se] == [
        (NodeKind.GLOBAL_POOL, (channels,)),
        (NodeKind.LINEAR, (squeezed,)),
        (NodeKind.ACT, (squeezed,)),
        (NodeKind.LINEAR, (channels,)),
        (NodeKind.ACT, (channels,)),
        (NodeKind.IDENTITY, (channels, 1, 1)),
        (NodeKind.MUL, (channels, 16, 16)),
    ]
    assert se[0].attrs == {"pool": "avg", "keep": False}
    assert se[0].inputs == (stem_out,)
    assert se[-1].inputs == (stem_out, se[-2].output)


def test_concatenated_branches() -> None:
    module = models.InceptionLike()
    network = read(module)
    concat = network.nodes[-1]
    branches = [module.branch1, module.branch3, module.branch5, module.branch_pool]
    lasts = ["branch1.2", "branch3.1.2", "branch5.1.2", "branch_pool.1.2"]
    assert concat.kind is NodeKind.CONCAT
    assert concat.inputs == tuple(at(network, path)[0].output for path in lasts)
    widths = [[layer for layer in branch.modules() if isinstance(layer, nn.Conv2d)][-1].out_channels
              for branch in branches]  # fmt: skip
    assert concat.shape == (sum(widths), 16, 16)
    pool = at(network, "branch_pool.0")[0]
    assert pool.inputs == (at(network, "stem.2")[0].output,)


def test_an_op_mbcalc_lacks_is_unknown_with_its_aten_name() -> None:
    network = read(models.Upsampling())
    (unknown,) = [node for node in network.nodes if node.kind is NodeKind.UNKNOWN]
    assert unknown.op.startswith("aten.upsample_nearest2d")
    assert (unknown.path, unknown.shape) == ("up", (8, 32, 32))
    assert unknown.inputs == (at(network, "down.2")[0].output,)


def test_swish_written_out_is_one_activation() -> None:
    network = read(models.ActivationsNet())
    last = network.nodes[-1]
    assert (last.kind, last.attrs, last.inputs) == (
        NodeKind.ACT,
        {"act": "swish"},
        (at(network, "conv3")[0].output,),
    )
    assert NodeKind.UNKNOWN not in kinds(network)


def test_inverted_residual_with_relu6() -> None:
    network = read(models.MobileNetV2Like())
    acts = [node.attrs["act"] for node in network.nodes if node.kind is NodeKind.ACT]
    assert acts == ["relu6"] * 5
    (add,) = [node for node in network.nodes if node.kind is NodeKind.ADD]
    assert add.inputs == (at(network, "features.1.conv.7")[0].output,
                          at(network, "features.2.conv.7")[0].output)  # fmt: skip


SHIPPED = [
    ("mobilenet_v1", 0.25, 64),
    ("mobilenet_v3_small", 0.5, 64),
    ("shufflenet_v2_x0_5", 1.0, 64),
    ("convnext_tiny", 0.125, 32),
    ("densenet121", 0.125, 32),
]


@pytest.mark.parametrize(("name", "alpha", "res"), SHIPPED)
def test_built_specs_give_their_layers(name: str, alpha: float, res: int) -> None:
    module = build(name, alpha=alpha, res=res)
    network = read(module, (3, res, res))
    assert_matches_layers(module, network)
    assert NodeKind.UNKNOWN not in kinds(network)
    views = [type(layer) for layer in module.modules()]
    assert (NodeKind.LAYER_NORM in kinds(network)) == (Permute in views)
    assert (NodeKind.FLATTEN in kinds(network)) == (FlattenHWC in views)


def test_builder_head_is_flatten_linear_identity() -> None:
    module = build("mobilenet_v1", alpha=0.25, res=64)
    network = read(module, (3, 64, 64))
    pool, flatten, linear, identity = network.nodes[-4:]
    assert (pool.kind, flatten.kind, linear.kind, identity.kind) == (
        NodeKind.GLOBAL_POOL, NodeKind.FLATTEN, NodeKind.LINEAR, NodeKind.IDENTITY)  # fmt: skip
    assert flatten.shape == (pool.shape[0],)
    classifier = [layer for layer in module.modules() if isinstance(layer, nn.Linear)][-1]
    assert identity.shape == linear.shape == (classifier.out_features,)


@pytest.mark.parametrize(
    ("kind", "exclude", "pads"),
    [("avg", True, (0, 1, 0, 1)), ("avg", False, (1, 1, 1, 1)), ("max", True, (1, 0, 2, 1))],
)
def test_padded_pools_are_one_pool(
    kind: str, exclude: bool, pads: tuple[int, int, int, int]
) -> None:
    module = nn.Sequential(PaddedPool(kind, (3, 3), (2, 2), pads, exclude, (9, 9)))
    (pool,) = read(module, (4, 9, 9)).nodes
    left, right, top, bottom = pads
    rows = (9 + top + bottom - 3) // 2 + 1
    cols = (9 + left + right - 3) // 2 + 1
    assert (pool.kind, pool.shape, pool.path) == (NodeKind.POOL, (4, rows, cols), "0")
    assert pool.attrs == {"pool": kind, "kernel": (3, 3), "stride": (2, 2),
                          "pads": (top, left, bottom, right), "ceil": False,
                          "count_pad": kind == "avg" and not exclude}  # fmt: skip


def test_a_division_by_another_buffer_is_not_a_pool() -> None:
    pool = PaddedPool("avg", (3, 3), (2, 2), (0, 1, 0, 1), True, (8, 8))
    pool.share.mul_(2)
    module = nn.Sequential(pool)
    network = read(module, (4, 8, 8))
    assert [(node.kind, node.attrs.get("count_pad")) for node in network.nodes] == [
        (NodeKind.POOL, True),
        (NodeKind.UNKNOWN, None),
    ]
    assert network.nodes[-1].op == "aten.div.Tensor"


class Functional(nn.Module):
    """Forms written with functions: F.pad, x[:, a:b], split, a layer scale, a group norm."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(8, 1, 1))
        self.norm = nn.GroupNorm(2, 8)

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.pad(x, (1, 2, 3, 0))
        x = torch.cat([x, x, x], 1)[:, 2:10] * self.scale
        first, second = x.split_with_sizes([3, 5], dim=1)
        result: Tensor = self.norm(torch.cat([second, first], 1))
        return result


def test_functional_forms() -> None:
    network = read(Functional(), (4, 6, 6))
    assert [(node.kind, node.attrs, node.shape) for node in network.nodes] == [
        (NodeKind.PAD, {"pads": (3, 1, 0, 2), "value": 0.0}, (4, 9, 9)),
        (NodeKind.CONCAT, {}, (12, 9, 9)),
        (NodeKind.SLICE, {"start": 2, "stop": 10}, (8, 9, 9)),
        (NodeKind.LAYER_SCALE, {}, (8, 9, 9)),
        (NodeKind.SLICE, {"start": 0, "stop": 3}, (3, 9, 9)),
        (NodeKind.SLICE, {"start": 3, "stop": 8}, (5, 9, 9)),
        (NodeKind.CONCAT, {}, (8, 9, 9)),
        (NodeKind.GROUP_NORM, {"groups": 2}, (8, 9, 9)),
    ]


class MoreForms(nn.Module):
    """padding="same", a reflect padding, a hand-written shuffle, pools and activations."""

    def __init__(self) -> None:
        super().__init__()
        self.same = nn.Conv2d(4, 6, 4, padding="same", bias=False)
        self.reflect = nn.Conv2d(6, 6, 3, padding=1, padding_mode="reflect")

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.leaky_relu(self.same(x), 0.2)
        x = nn.functional.elu(self.reflect(x))
        b, c, h, w = x.shape
        x = x.reshape(b, 3, c // 3, h, w).permute(0, 2, 1, 3, 4).reshape(b, c, h, w)
        x = nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
        x = torch.tanh(nn.functional.adaptive_avg_pool2d(x, (2, 3)))
        gate = nn.functional.gelu(x.amax((2, 3), keepdim=True), approximate="tanh")
        y = gate * x.mean((2, 3), keepdim=True)
        result: Tensor = torch.softmax(y.view(b, -1), dim=1)
        return result


def test_more_functional_forms() -> None:
    network = read(MoreForms(), (4, 10, 10))
    total = 4 - 1  # PyTorch's "same": the odd pixel of the padding at the bottom and right
    same_pads = (total // 2, total // 2, total - total // 2, total - total // 2)
    pooled = math.ceil((10 + 2 * 1 - 3) / 2) + 1
    assert [(node.kind, node.attrs, node.shape) for node in network.nodes] == [
        (NodeKind.CONV, {"kernel": (4, 4), "stride": (1, 1), "pads": same_pads,
                         "dilation": (1, 1), "groups": 1, "bias": False}, (6, 10, 10)),
        (NodeKind.ACT, {"act": "leaky_relu"}, (6, 10, 10)),
        (NodeKind.UNKNOWN, {}, (6, 12, 12)),
        (NodeKind.CONV, {"kernel": (3, 3), "stride": (1, 1), "pads": (0, 0, 0, 0),
                         "dilation": (1, 1), "groups": 1, "bias": True}, (6, 10, 10)),
        (NodeKind.ACT, {"act": "elu"}, (6, 10, 10)),
        (NodeKind.SHUFFLE, {"groups": 3}, (6, 10, 10)),
        (NodeKind.POOL, {"pool": "avg", "kernel": (3, 3), "stride": (2, 2), "pads": (1, 1, 1, 1),
                         "ceil": True, "count_pad": False}, (6, pooled, pooled)),
        (NodeKind.ADAPTIVE_POOL, {"pool": "avg", "output": (2, 3)}, (6, 2, 3)),
        (NodeKind.ACT, {"act": "tanh"}, (6, 2, 3)),
        (NodeKind.GLOBAL_POOL, {"pool": "max", "keep": True}, (6, 1, 1)),
        (NodeKind.ACT, {"act": "gelu"}, (6, 1, 1)),
        (NodeKind.GLOBAL_POOL, {"pool": "avg", "keep": True}, (6, 1, 1)),
        (NodeKind.MUL, {}, (6, 1, 1)),
        (NodeKind.FLATTEN, {}, (6,)),
        (NodeKind.SOFTMAX, {}, (6,)),
    ]  # fmt: skip
    assert network.nodes[2].op == "aten.pad.default"  # mode "reflect"
    assert [node.path for node in network.nodes[:4]] == ["same", "", "reflect", "reflect"]


class WrittenOut(nn.Module):
    """Fully connected layers written as matrix products."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(5, 12))
        self.bias = nn.Parameter(torch.ones(5))
        self.second = nn.Parameter(torch.ones(5, 3))

    def forward(self, x: Tensor) -> Tensor:
        x = torch.addmm(self.bias, x.flatten(1), self.weight.t())
        return x @ self.second


def test_matrix_products_are_linear() -> None:
    network = read(WrittenOut(), (3, 2, 2))
    assert [(node.kind, node.attrs, node.shape) for node in network.nodes] == [
        (NodeKind.FLATTEN, {}, (3 * 2 * 2,)),
        (NodeKind.LINEAR, {"bias": True}, (5,)),
        (NodeKind.LINEAR, {"bias": False}, (3,)),
    ]


class Unusual(nn.Module):
    """Forms mbcalc cannot count exactly: a plain reshape, hardtanh(-1, 1), a scalar product."""

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.hardtanh(x, -1.0, 1.0) * 3.0
        return x.reshape(x.shape[0], 2, -1)


def test_forms_mbcalc_lacks_are_unknown() -> None:
    network = read(Unusual(), (4, 4, 4))
    assert [(node.kind, node.op) for node in network.nodes] == [
        (NodeKind.UNKNOWN, "aten.hardtanh.default"),
        (NodeKind.UNKNOWN, "aten.mul.Tensor"),
        (NodeKind.UNKNOWN, "aten.reshape.default"),
    ]


# --- errors -------------------------------------------------------------------------------------


def import_error(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ModelImportError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    text = str(caught.value)
    assert "\n" not in text
    assert "Traceback" not in text
    return text


def test_untraceable_module_is_one_line() -> None:
    text = import_error(read_module, models.DataDependent(), (3, 8, 8), source="m.py:DataDependent")
    assert text.startswith("m.py:DataDependent: torch.export cannot trace DataDependent: ")
    assert "(hint: --input" not in text


def test_wrong_input_size_hints_at_input() -> None:
    text = import_error(read_module, models.SmallResNet(), (4, 32, 32), source="m")
    assert "cannot trace SmallResNet: RuntimeError: " in text
    assert text.endswith("(hint: --input CxHxW sets the size it is traced at)")


@pytest.mark.parametrize("shape", [(3, 32), (3, 0, 8), (1, 3, 8, 8)])
def test_input_must_be_c_h_w(shape: Shape) -> None:
    text = import_error(read_module, models.SmallResNet(), shape, source="m")
    assert "the input must be C x H x W" in text


def test_two_outputs_are_refused() -> None:
    text = import_error(read_module, models.TwoOutputs(), (3, 8, 8), source="m")
    assert text == "m: the module gives 2 outputs; mbcalc reads a network with one"


# --- loading ------------------------------------------------------------------------------------

MODELS_FILE = Path(models.__file__)


@pytest.fixture
def in_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "user_nets.py").write_text(MODELS_FILE.read_text())
    (tmp_path / "broken.py").write_text("raise RuntimeError('broken at import')\n")
    (tmp_path / "odd.py").write_text(
        "def boom():\n    raise ValueError('no weights\\nsecond line')\n"
        "def number():\n    return 42\n"
        "value = 3\n"
    )
    yield tmp_path
    for name in ("user_nets", "broken", "odd"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("user_nets.py:SmallResNet", models.SmallResNet),
        ("user_nets:SmallResNet", models.SmallResNet),
        ("user_nets:Nets.small", models.SeparableChain),
        ("user_nets.py:Nets.small", models.SeparableChain),
    ],
)
def test_load_module(in_dir: Path, ref: str, kind: type[nn.Module]) -> None:
    module = load_module(ref)
    assert type(module).__name__ == kind.__name__
    assert isinstance(module, nn.Module)


def test_load_by_absolute_path(in_dir: Path, tmp_path: Path) -> None:
    module = load_module(f"{tmp_path / 'user_nets.py'}:InceptionLike")
    assert type(module).__name__ == "InceptionLike"


def test_a_file_imports_the_modules_beside_it(in_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "project_blocks.py").write_text("from torch import nn\nBlock = nn.Hardswish\n")
    (folder / "project_net.py").write_text("from project_blocks import Block\n")
    try:
        module = load_module("project/project_net.py:Block")
    finally:
        sys.modules.pop("project_blocks", None)
    assert isinstance(module, nn.Hardswish)


def test_load_module_from_a_package(in_dir: Path) -> None:
    module = load_module("tests.ingest.models:SENet")
    assert isinstance(module, models.SENet)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("user_nets.py", "user_nets.py: not a PyTorch module reference (hint: name one as"),
        (":SmallResNet", ":SmallResNet: not a PyTorch module reference"),
        ("user_nets.py:", "user_nets.py:: not a PyTorch module reference"),
        ("no_such_nets:Net", "no_such_nets:Net: no module named 'no_such_nets' (hint: "),
        ("missing.py:Net", "missing.py:Net: no file missing.py"),
        ("broken.py:Net",
         "broken.py:Net: importing broken.py raised RuntimeError: broken at import"),
        ("broken:Net", "broken:Net: importing broken raised RuntimeError: broken at import"),
        ("user_nets.py:SmalResNet", "user_nets.py:SmalResNet: user_nets.py has no attribute "
         "'SmalResNet' (hint: did you mean SmallResNet"),
        ("user_nets.py:Nets.large",
         "user_nets.py:Nets.large: user_nets.py:Nets has no attribute 'large'"),
        ("odd.py:value", "odd.py:value: value is of type int, not callable"),
        ("odd.py:boom", "odd.py:boom: calling boom() raised ValueError: no weights"),
        ("odd.py:number",
         "odd.py:number: number() gave a value of type int, not a torch.nn.Module"),
    ],
)  # fmt: skip
def test_load_module_errors(in_dir: Path, ref: str, message: str) -> None:
    text = import_error(load_module, ref)
    assert text.startswith(message)
    assert "second line" not in text


def test_load_module_without_torch(in_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    text = import_error(load_module, "user_nets.py:SmallResNet")
    assert text.startswith("user_nets.py:SmallResNet: PyTorch is not installed")
    assert text.endswith("(hint: pip install 'mbcalc[torch]')")
