"""The recognizer: a read network becomes a spec whose counts are the network's own, and whose
units are the spec language's (separable, mbconv, se, residual blocks, parallel branches).

Every shipped spec's own layer graph, laid out as a reader would give it (`graph_network`), is
imported and counted again: mult-adds, params and BN params equal the original's (but for an
auxiliary head, which runs in training only and so is in no eval-mode export), and the units
are the same kinds. Hand-made networks check each refusal and `--unknown free`.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given

from mbcalc.core.graph import Graph, build_graph
from mbcalc.core.report import analyze
from mbcalc.core.settings import Settings
from mbcalc.errors import ModelImportError
from mbcalc.ingest.layers import DEFAULT_ACTS, same_pads, shortest_ratio
from mbcalc.ingest.network import ACTS, Network, Node, NodeKind, Shape
from mbcalc.ingest.recognize import spec_text
from mbcalc.kinds import LayerType
from mbcalc.spec.layer_types import LAYERS
from mbcalc.spec.model import ACTIVATIONS, Pool, Spec, walk_layers
from mbcalc.spec.parser import parse_spec
from mbcalc.spec.zoo import load_shipped, shipped_names
from tests.helpers.strategies import networks
from tests.helpers.zoo_cost import at_fitting_size
from tests.ingest.graph_network import network_of
from tests.ingest.round_trip import EXTRA_UNITS, census, importable
from tests.ingest.round_trip import eval_totals as _eval_totals

OTHER = Settings(alpha=Fraction(1, 2), res=160)
"""The second setting each shipped spec is imported at (Inception v3 at its own size)."""


def _imported(graph: Graph) -> Graph:
    text = spec_text(network_of(graph, "model.onnx")).text
    return build_graph(parse_spec(text, source="imported"), Settings())


@pytest.mark.parametrize("setting", [Settings(), OTHER], ids=["alpha1", "alpha0.5-160"])
@pytest.mark.parametrize("name", importable(shipped_names()))
def test_every_shipped_spec_imports_to_its_own_counts_and_units(
    name: str, setting: Settings
) -> None:
    graph = build_graph(load_shipped(name), at_fitting_size(name, setting))
    imported = _imported(graph)
    assert _eval_totals(analyze(imported)) == _eval_totals(analyze(graph))
    assert census(imported) == census(graph) + EXTRA_UNITS.get(name, Counter())


@pytest.mark.parametrize(
    "name", ["mobilenet_v1", "resnet18", "resnet50", "densenet121", "shufflenet_v2_x1_0"]
)
@pytest.mark.parametrize("alpha", [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)])
def test_an_imported_spec_scales_with_alpha_as_the_original(name: str, alpha: Fraction) -> None:
    """Every width but the input's and the classifier's scales: where the original's widths are
    all multiples of 8 and scale the same way, the imported spec at alpha is the original at
    alpha, op for op."""
    original = load_shipped(name)
    text = spec_text(network_of(build_graph(original, Settings()))).text
    imported = parse_spec(text, source="imported")
    setting = Settings(alpha=alpha)
    assert _eval_totals(analyze(build_graph(imported, setting))) == _eval_totals(
        analyze(build_graph(original, setting))
    )


def test_the_spec_reads_as_a_person_would_write_it() -> None:
    text = spec_text(network_of(build_graph(load_shipped("mobilenet_v1"), Settings()))).text
    spec = parse_spec(text, source="imported")
    assert [layer.type for layer in spec.layers] == [
        LayerType.CONV, *[LayerType.SEPARABLE] * 13, LayerType.POOL, LayerType.FC,
    ]  # fmt: skip
    assert "rounding: divisible" in text
    assert text.startswith("# Imported by mbcalc from graph")
    assert "27 batch norms" in text  # the stem's and two per separable unit


def test_the_activations_and_defaults_are_the_spec_languages() -> None:
    assert set(ACTS) <= set(ACTIVATIONS)
    for type_name, act in DEFAULT_ACTS.items():
        assert LAYERS[LayerType(type_name)].act == act


@pytest.mark.parametrize(
    ("size", "kernel", "stride"), [(7, 3, 2), (8, 3, 2), (224, 7, 2), (5, 1, 1)]
)
def test_same_padding_gives_ceil_of_size_over_stride(size: int, kernel: int, stride: int) -> None:
    before, after = same_pads(size, kernel, stride)
    assert (size + before + after - kernel) // stride + 1 == -(-size // stride)
    assert after - before in (0, 1)


@pytest.mark.parametrize(
    ("squeeze", "channels"), [(8, 24), (1, 3), (16, 16), (240, 960), (7, 1000)]
)
def test_a_squeeze_ratio_floors_back_to_its_width(squeeze: int, channels: int) -> None:
    ratio = Fraction(repr(shortest_ratio(squeeze, channels)))
    assert int(channels * ratio) == squeeze
    assert 0 < ratio <= 1


# --- hand-made networks ------------------------------------------------------------------------


class Builder:
    """A network written node by node: each call adds a node reading the named tensors."""

    def __init__(self, shape: Shape = (8, 16, 16)) -> None:
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {"x": shape}

    def add(
        self, kind: NodeKind, inputs: list[str], shape: Shape | None = None, **attrs: object
    ) -> str:
        name = f"n{len(self.nodes)}"
        out = shape or self.shapes[inputs[0]]
        self.nodes.append(Node(name, kind, tuple(inputs), name, out, f"m.{name}", str(kind), attrs))
        self.shapes[name] = out
        return name

    def conv(self, source: str, out: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> str:
        _, height, width = self.shapes[source]
        pad = kernel // 2
        shape = (
            out,
            (height + 2 * pad - kernel) // stride + 1,
            (width + 2 * pad - kernel) // stride + 1,
        )
        return self.add(
            NodeKind.CONV, [source], shape, kernel=(kernel, kernel), stride=(stride, stride),
            pads=(pad, pad, pad, pad), dilation=(1, 1), groups=groups, bias=False,
        )  # fmt: skip

    def network(self, output: str) -> Network:
        return Network("hand.onnx", "hand", "x", self.shapes["x"], output, tuple(self.nodes))


def _count(network: Network, *, free: bool = False) -> tuple[int, int, int]:
    text = spec_text(network, unknown_free=free).text
    return _eval_totals(analyze(build_graph(parse_spec(text, source="imported"), Settings())))


def test_a_residual_block_and_its_activation() -> None:
    b = Builder()
    a = b.add(NodeKind.ACT, [b.conv("x", 8)], act="relu")
    c = b.conv(a, 8)
    out = b.add(NodeKind.ACT, [b.add(NodeKind.ADD, [c, "x"])], act="relu")
    text = spec_text(b.network(out)).text
    spec = parse_spec(text, source="imported")
    assert [layer.type for layer in spec.layers] == [LayerType.BLOCK]
    block = spec.layers[0]
    assert block.act == "relu"
    assert "residual: true" in text
    # two 3x3 convs 8 -> 8 at 16x16: 2 * 16 * 16 * 9 * 8 * 8 mult-adds, 2 * 9 * 8 * 8 params
    assert _count(b.network(out))[:2] == (2 * 16 * 16 * 9 * 8 * 8, 2 * 9 * 8 * 8)


def test_a_pad_conv_batch_norm_and_activation_are_one_conv() -> None:
    b = Builder()
    padded = b.add(NodeKind.PAD, ["x"], (8, 17, 17), pads=(0, 0, 1, 1), value=0.0)
    conv = b.add(
        NodeKind.CONV, [padded], (16, 8, 8), kernel=(3, 3), stride=(2, 2), pads=(0, 0, 0, 0),
        dilation=(1, 1), groups=1, bias=False,
    )  # fmt: skip
    out = b.add(NodeKind.ACT, [b.add(NodeKind.BATCH_NORM, [conv])], act="relu6")
    spec = parse_spec(spec_text(b.network(out)).text, source="imported")
    (layer,) = spec.layers
    assert layer.type is LayerType.CONV
    assert (layer.padding, layer.act, layer.bn) == ("same", "relu6", True)  # type: ignore[attr-defined]
    assert _count(b.network(out)) == (8 * 8 * 9 * 8 * 16, 9 * 8 * 16, 2 * 16)


def test_a_lopsided_ceil_mode_pool_gets_the_padding_that_gives_its_output() -> None:
    """5 wide, padded 2 after, pooled 2/2 in ceil mode: 4 windows (the last starts at 6 < 7).
    Padding 1 on both sides would give ceil(5 / 2) + 1 = 4 windows but drop the last, which
    would start in the padding (6 >= 5 + 1): 3. The spec must write padding 2 (4 windows)."""
    b = Builder((8, 5, 5))
    pooled = b.add(
        NodeKind.POOL, ["x"], (8, 4, 4), pool="max", kernel=(2, 2), stride=(2, 2),
        pads=(0, 0, 2, 2), ceil=True, count_pad=False,
    )  # fmt: skip
    out = b.conv(pooled, 4, kernel=1)
    spec = parse_spec(spec_text(b.network(out)).text, source="imported")
    (pool,) = [layer for layer in walk_layers(spec.layers) if isinstance(layer, Pool)]
    assert pool.padding == (2, 2)
    assert _count(b.network(out))[0] == 4 * 4 * 8 * 4  # the 1x1 conv on a 4 x 4 map


def test_a_graph_whose_branches_cross_is_refused_naming_a_node() -> None:
    b = Builder()
    first = b.conv("x", 8)
    second = b.conv(first, 8)
    joined = b.add(NodeKind.ADD, [second, "x"])
    out = b.add(NodeKind.ADD, [joined, first])  # `first` read again after the merge
    with pytest.raises(ModelImportError) as caught:
        spec_text(b.network(out))
    assert "node '" in str(caught.value)
    assert str(caught.value).startswith("hand.onnx: ")


def test_an_unknown_op_stops_the_import_or_is_kept_free() -> None:
    b = Builder()
    odd = b.add(NodeKind.UNKNOWN, [b.conv("x", 8)])
    out = b.conv(odd, 4)
    with pytest.raises(ModelImportError) as caught:
        spec_text(b.network(out))
    message = str(caught.value)
    assert "node 'n1'" in message
    assert "--unknown free" in message
    imported = spec_text(b.network(out), unknown_free=True)
    assert imported.free == ("node 'n1' (op unknown)",)
    assert "node 'n1' (op unknown)" in imported.text
    assert _count(b.network(out), free=True)[0] == 16 * 16 * 9 * 8 * (8 + 4)


def test_an_unknown_op_that_changes_the_shape_is_refused_even_as_free() -> None:
    b = Builder()
    out = b.add(NodeKind.UNKNOWN, [b.conv("x", 8)], (8, 32, 32))
    with pytest.raises(ModelImportError, match="changes the tensor's shape"):
        spec_text(b.network(out), unknown_free=True)


def test_a_product_that_is_no_squeeze_and_excite_is_refused() -> None:
    b = Builder()
    out = b.add(NodeKind.MUL, [b.conv("x", 8), "x"])
    with pytest.raises(ModelImportError, match="multiplies two tensors"):
        spec_text(b.network(out))


def test_a_squeeze_and_excite_written_with_1x1_convs() -> None:
    b = Builder((24, 8, 8))
    pooled = b.add(NodeKind.GLOBAL_POOL, ["x"], (24, 1, 1), pool="avg", keep=True)
    reduce = b.add(
        NodeKind.CONV, [pooled], (6, 1, 1), kernel=(1, 1), stride=(1, 1), pads=(0, 0, 0, 0),
        dilation=(1, 1), groups=1, bias=True,
    )  # fmt: skip
    act = b.add(NodeKind.ACT, [reduce], act="relu")
    expand = b.add(
        NodeKind.CONV, [act], (24, 1, 1), kernel=(1, 1), stride=(1, 1), pads=(0, 0, 0, 0),
        dilation=(1, 1), groups=1, bias=True,
    )  # fmt: skip
    gate = b.add(NodeKind.ACT, [expand], act="hsigmoid")
    out = b.add(NodeKind.MUL, ["x", gate])
    spec = parse_spec(spec_text(b.network(out)).text, source="imported")
    (layer,) = spec.layers
    assert layer.type is LayerType.SE
    # two fcs with bias: 24 * 6 + 6 and 6 * 24 + 24 params
    assert _count(b.network(out))[1] == (24 * 6 + 6) + (6 * 24 + 24)


def test_folded_batch_norms_are_said_in_the_header() -> None:
    b = Builder()
    out = b.add(
        NodeKind.CONV, ["x"], (8, 16, 16), kernel=(3, 3), stride=(1, 1), pads=(1, 1, 1, 1),
        dilation=(1, 1), groups=1, bias=True,
    )  # fmt: skip
    text = spec_text(b.network(out)).text
    assert "folded" in text
    assert "batchnorm: false" in text


def test_names_from_the_model_are_kept_printable_and_unique() -> None:
    b = Builder()
    first = b.conv("x", 8)
    second = b.conv(first, 8)
    nodes = [
        Node(n.name, n.kind, n.inputs, n.output, n.shape, "evil\x1b[31m.x", n.op, n.attrs)
        for n in b.nodes
    ]
    network = Network("hand.onnx", "hand", "x", (8, 16, 16), second, tuple(nodes))
    text = spec_text(network).text
    assert "\x1b" not in text
    parse_spec(text, source="imported")


@given(spec=networks(fixed_width=True, varied=True))
def test_a_random_network_imports_to_its_own_counts(spec: Spec) -> None:
    """Any network the spec language writes, laid out as a reader gives it, imports to the same
    mult-adds, params and BN params, the same merges, and keeps its separable and mbconv units
    (an import may find more: a depthwise and a 1x1 conv written as two layers are one)."""
    graph = build_graph(spec, Settings())
    imported = _imported(graph)
    assert _eval_totals(analyze(imported)) == _eval_totals(analyze(graph))
    before, after = census(graph), census(imported)
    for merge in ("add", "concat", "scale", "split"):
        assert after[merge] == before[merge]
    for unit in ("separable", "mbconv"):
        assert after[unit] >= before[unit]
