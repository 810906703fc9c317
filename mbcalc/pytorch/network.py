"""A mbcalc graph as a real PyTorch module.

`build(spec_or_graph, settings)` turns a graph into an `nn.Module` (`Network`): one submodule
per op, run in order by a small interpreter over the ops' `sources`. It is a trainable
skeleton with mbcalc's exact geometry:

- conv, depthwise and pointwise ops are `Conv2d` (depthwise: one group per input channel), then
  `BatchNorm2d` where the op has a batch norm, then the op's activation. `padding: same` is
  TensorFlow's SAME (output ceil(H / stride)): the padding total is split with the extra pixel
  at the bottom and right, by an explicit `ZeroPad2d` where the split is uneven; an integer
  padding is the conv's own.
- fc ops flatten their input in mbcalc's H x W x C order, then `Linear` and the activation;
  every op's output is an N x C x H x W tensor (an fc's is N x C x 1 x 1), and the network's
  output is N x C when its last op is an fc, or a softmax on an fc's output.
- pools are PyTorch's `AvgPool2d` / `MaxPool2d` with the spec's kernel, stride, padding and
  ceil_mode, or adaptive pools (`AdaptiveAvgPool2d` / `AdaptiveMaxPool2d`) to the spec's
  `output` grid, 1x1 for `global: true`. Where PyTorch cannot express the window
  (SAME padding, or padding above half the kernel) the input is padded explicitly and pooled by
  one `F.avg_pool2d` / `F.max_pool2d` call: SAME pools ignore the padding as TensorFlow's do;
  windows that lie wholly in the padding give 0 (`mbcalc.core.graph.pool_form` tells the forms).
- a softmax op is `nn.Softmax(dim=1)`, over the channels, then the op's activation if any.
- a split's slices and a channel shuffle are torchvision ShuffleNetV2's `chunk` and
  `channel_shuffle` (`mbcalc.pytorch.split_modules`).
- tokens, attention's products and a class token's readout as `mbcalc.pytorch.token_modules`
  builds them (products in block and grid partitions as `mbcalc.pytorch.partition_modules`
  does), each then the op's activation; a mean readout is the global average pool.
- a resize is a bilinear interpolation, run where the size changes
  (`mbcalc.pytorch.patch_modules`, with the products of attention over patches).
- every op is followed by the activation the graph records for it (`op.act`): add and concat
  by the block's or parallel's (none after an mbconv unit's add); squeeze-and-excite is its
  global average pool, fc1 with the SE's activation, fc2 with its gate (sigmoid or hard sigmoid)
  and the channel scaling.
- a space-to-depth (Swin's patch merging), the padding and cropping around attention in
  windows, a window's offsets for a position-bias MLP and attention in contiguous windows as
  `mbcalc.pytorch.window_modules` builds them.
- standalone norms and layer scales as `mbcalc.pytorch.norm_modules` builds them, then the op's
  activation.
- activations by name; `prelu` is one `PReLU` parameter per op, counted apart from mbcalc's
  params (activations have none by its convention).
- an auxiliary head's ops are submodules like any (their parameters are the model's) but run
  in training mode only, as torchvision's Inception3 runs its `AuxLogits`; their outputs go
  nowhere.

PyTorch is imported in this package only, never by the rest of mbcalc:
`pip install 'mbcalc[torch]'`.
"""

from __future__ import annotations

from collections import OrderedDict
from os import PathLike

from mbcalc.core.graph import (
    NETWORK_INPUT,
    Graph,
    Op,
    OpKind,
    PoolForm,
    build_graph,
    pool_form,
    window_pads,
)
from mbcalc.core.settings import Multiplier, Pixels, Settings, request_of
from mbcalc.errors import MbcalcError
from mbcalc.pytorch.mqa_modules import MultiQueryAttend
from mbcalc.pytorch.needs_torch import Tensor, functional, nn, torch
from mbcalc.pytorch.norm_modules import NORM_KINDS, norm_module
from mbcalc.pytorch.partition_modules import PartitionAttend
from mbcalc.pytorch.patch_modules import PatchAttend, Resize
from mbcalc.pytorch.split_modules import ChannelShuffle, Slice
from mbcalc.pytorch.token_modules import Attend, ClassToken, Tokens
from mbcalc.pytorch.window_modules import WINDOW_KINDS, window_attend, window_module
from mbcalc.spec import Spec

ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "none": None,
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "hswish": nn.Hardswish,
    "hsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}
"""The module of each activation the spec language names (`none`: no module)."""

_ACTIVATION_TYPES = tuple({make for make in ACTIVATIONS.values() if make is not None})


def activation(name: str) -> nn.Module | None:
    """A fresh module for the activation `name`, or None for `none`."""
    try:
        make = ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(ACTIVATIONS)
        raise MbcalcError(f"no PyTorch module for activation {name!r} (known: {known})") from None
    return None if make is None else make()


def activation_label(name: str) -> str:
    """How verify names the activation `name`: its module's class (`ReLU`), or `none`."""
    make = ACTIVATIONS.get(name)
    return "none" if make is None else make.__name__


def placed_activation(module: nn.Module) -> str:
    """The activation modules inside an op's submodule, by class (`ReLU`), or `none`."""
    found = [
        type(part).__name__ for part in module.modules() if isinstance(part, _ACTIVATION_TYPES)
    ]
    return "+".join(found) or "none"


# --- the module --------------------------------------------------------------------------------


def build(
    spec_or_graph: Graph | Spec | str | PathLike[str],
    settings: Settings | None = None,
    *,
    alpha: Multiplier | None = None,
    res: Pixels | None = None,
    rho: Multiplier | None = None,
    depth: Multiplier | None = None,
) -> Network:
    """A trainable PyTorch module with the geometry of a spec at `settings`.

    `spec_or_graph` is a graph (built already: then no settings), a spec, or a SPEC argument
    as on the command line: a YAML file or a shipped name (`build("mobilenet_v1")`). The
    settings are `settings`, or `alpha`, `res`, `rho` and `depth` as `mbcalc.analyze` takes
    them (`build("mobilenet_v2", alpha=0.35, res=128)`), the spec's own `defaults:` filling
    in what is not given.
    """
    asked = any(value is not None for value in (alpha, res, rho, depth))
    if asked and settings is not None:
        raise ValueError("give settings, or alpha, res, rho and depth: not both")
    if isinstance(spec_or_graph, Graph):
        if settings is not None or asked:
            raise ValueError("a graph is built at its own settings: pass its spec instead")
        return Network(spec_or_graph)
    from mbcalc.spec.zoo import load_any

    spec = load_any(spec_or_graph)
    if settings is None:
        settings = request_of(alpha, res, rho, depth).settings(spec.defaults)
    return Network(build_graph(spec, settings))


class Network(nn.Module):
    """The ops of a graph as submodules (`ops[i]` is op i), run in order over their sources.

    The input is N x C x H x W at the graph's resolution; a tensor is released once the last op
    that reads it has run.
    """

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.ops = nn.ModuleList(_op_module(op) for op in graph.ops)
        last_reader: dict[int, int] = {}
        for op in graph.ops:
            for source in op.sources:
                last_reader[source] = op.index
        final = len(graph.ops) - 1
        self._release: list[list[int]] = [[] for _ in graph.ops]
        for tensor, reader in last_reader.items():
            if tensor != final:
                self._release[reader].append(tensor)
        self._flat_output = bool(graph.ops) and _flat(graph, graph.ops[-1])

    @property
    def op_names(self) -> list[str]:
        """Op i's name in the graph (`sep1.dw`) for each submodule `ops[i]`."""
        return [op.name for op in self.graph.ops]

    def forward(self, x: Tensor) -> Tensor:
        values: dict[int, Tensor] = {NETWORK_INPUT: x}
        result = x
        for op, module, release in zip(self.graph.ops, self.ops, self._release, strict=True):
            if op.aux and not self.training:
                continue  # an auxiliary head, and whatever only it reads, runs in training only
            result = values[op.index] = module(*(values[source] for source in op.sources))
            for tensor in release:
                del values[tensor]
        return result.flatten(1) if self._flat_output else result


def _flat(graph: Graph, op: Op) -> bool:
    """Whether `op`'s output is N x C: an fc's, or a softmax's on an fc's output."""
    if op.kind is OpKind.SOFTMAX and op.sources[0] != NETWORK_INPUT:
        op = graph.ops[op.sources[0]]
    return op.kind is OpKind.FC


def _op_module(op: Op) -> nn.Module:
    if op.kind in (OpKind.CONV, OpKind.DEPTHWISE):
        return _conv(op, op.act)
    if op.kind is OpKind.FC:
        return _fc(op, op.act)
    if op.kind is OpKind.POOL:
        return _pool(op, op.act)
    if op.kind in (OpKind.ADD, OpKind.CONCAT, OpKind.SCALE):
        return Merge(op.kind, activation(op.act))
    if op.kind is OpKind.SOFTMAX:
        return _softmax(op.act)
    if op.kind in NORM_KINDS:
        return norm_module(op, activation(op.act))
    if op.kind is OpKind.SPLIT:
        return Slice(op.input[2] // op.output[2], op.part or 0)
    if op.kind is OpKind.SHUFFLE:
        return _sequence({"shuffle": ChannelShuffle(op.groups or 1), "act": activation(op.act)})
    if op.kind is OpKind.ATTEND:
        return _attend_module(op)
    if op.kind in _SHAPING_KINDS:
        return _sequence({op.kind.value: _shaping_module(op), "act": activation(op.act)})
    raise MbcalcError(f"op '{op.name}': no PyTorch module for the op kind {op.kind.value!r}")


_SHAPING_KINDS = (OpKind.TOKENS, OpKind.READOUT, OpKind.RESIZE, *WINDOW_KINDS)


def _shaping_module(op: Op) -> nn.Module:
    """A tokens op (its class token where the row is longer than the map, its position
    embedding where it has a bias), a readout, a resize, Swin's space-to-depth, padding,
    cropping and window offsets."""
    if op.kind in WINDOW_KINDS:
        return window_module(op)
    if op.kind is OpKind.RESIZE:
        return Resize(op.output[:2])
    if op.kind is OpKind.TOKENS:
        h_in, w_in, channels = op.input
        tokens = op.output[1]
        return Tokens(channels, tokens > h_in * w_in, tokens if op.bias else None)
    return ClassToken()


def _attend_module(op: Op) -> nn.Module:
    """Attention's products (`groups`: the heads) by which keys each query sees: multi-query
    (q, k and v made by three ops), contiguous windows (Swin's, with its shift, position bias
    and cosine; no activation follows), a grid, the offsets of patches, or every position."""
    heads = op.groups or 1
    if len(op.sources) == 3:
        return MultiQueryAttend(heads)
    if op.partition == "block":
        return window_attend(op)
    products: nn.Module
    if op.partition == "grid":
        assert op.kernel is not None
        products = PartitionAttend(heads, op.kernel, "grid", op.bias)
    elif op.partition == "patch":
        assert op.stride is not None
        products = PatchAttend(heads, op.stride)
    elif op.partition is None:
        products = Attend(heads)
    else:
        raise MbcalcError(
            f"op '{op.name}': no PyTorch module for attention partitioned by {op.partition}"
        )
    return _sequence({op.kind.value: products, "act": activation(op.act)})


def _sequence(parts: dict[str, nn.Module | None]) -> nn.Sequential:
    return nn.Sequential(OrderedDict((k, v) for k, v in parts.items() if v is not None))


def _conv(op: Op, act: str) -> nn.Sequential:
    assert op.kernel is not None
    assert op.stride is not None
    c_in, c_out = op.input[2], op.output[2]
    pad: nn.Module | None = None
    if op.padding == "same":
        left, right, top, bottom = window_pads(op)
        padding = (top, left)
        if (top, left) != (bottom, right):
            pad, padding = nn.ZeroPad2d((left, right, top, bottom)), (0, 0)
    else:
        padding = op.padding
    conv = nn.Conv2d(
        c_in, c_out, op.kernel, op.stride, padding, groups=op.groups or 1, bias=op.bias
    )
    return _sequence(
        {
            "pad": pad,
            "conv": conv,
            "bn": nn.BatchNorm2d(c_out) if op.bn else None,
            "act": activation(act),
        }
    )


class FlattenHWC(nn.Module):
    """N x C x H x W -> N x (H * W * C), in mbcalc's H x W x C order (channels fastest)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)


def _fc(op: Op, act: str) -> nn.Sequential:
    h_in, w_in, c_in = op.input
    c_out = op.output[2]
    return _sequence(
        {
            "flatten": FlattenHWC(),
            "linear": nn.Linear(h_in * w_in * c_in, c_out, bias=op.bias),
            "act": activation(act),
            "unflatten": nn.Unflatten(1, (c_out, 1, 1)),
        }
    )


def _softmax(act: str) -> nn.Sequential:
    return _sequence({"softmax": nn.Softmax(dim=1), "act": activation(act)})


def _pool(op: Op, act: str) -> nn.Sequential:
    kind = op.pool or "avg"
    window: nn.Module
    form = pool_form(op)
    if form in (PoolForm.GLOBAL, PoolForm.ADAPTIVE):
        grid = op.grid or (1, 1)
        window = nn.AdaptiveMaxPool2d(grid) if kind == "max" else nn.AdaptiveAvgPool2d(grid)
    else:
        assert op.kernel is not None
        assert op.stride is not None
        kernel, stride, padding = op.kernel, op.stride, op.padding
        if form is PoolForm.WINDOW:
            assert padding != "same"
            if kind == "max":
                window = nn.MaxPool2d(kernel, stride, padding, ceil_mode=op.ceil)
            else:
                window = nn.AvgPool2d(kernel, stride, padding, ceil_mode=op.ceil)
        else:
            window = PaddedPool(
                kind, kernel, stride, window_pads(op), padding == "same", op.input[:2]
            )
    return _sequence({"pool": window, "act": activation(act)})


class PaddedPool(nn.Module):
    """A pooling window PyTorch's own padding cannot give: padding explicit, floor mode.

    `pads` is (left, right, top, bottom); a negative one crops. With `exclude_padding` (SAME)
    an average counts only the input's pixels and a maximum ignores the padding (TensorFlow's
    SAME pooling); otherwise the padding is zeros, counted by an average, and a window wholly in
    the padding gives 0. Which windows hold input pixels depends on the input's size only: it is
    computed once, for the `size` (height, width) the module is built for, so a forward pass
    runs one pooling call (`F.max_pool2d` or `F.avg_pool2d`) on the padded input.
    """

    share: Tensor

    def __init__(
        self,
        kind: str,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        pads: tuple[int, int, int, int],
        exclude_padding: bool,
        size: tuple[int, int],
    ) -> None:
        super().__init__()
        self.kind, self.kernel, self.stride = kind, kernel, stride
        self.pads, self.exclude_padding = pads, exclude_padding
        mask = functional.pad(torch.ones((1, 1, *size)), pads)
        if kind == "max":
            share = functional.max_pool2d(mask, kernel, stride)  # 1 where a window holds input
        else:
            share = functional.avg_pool2d(mask, kernel, stride)  # the share of input pixels
        self.register_buffer("share", share, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.kind == "max":
            padded = functional.pad(x, self.pads, value=float("-inf"))
            result = functional.max_pool2d(padded, self.kernel, self.stride)
            return torch.where(self.share > 0, result, torch.zeros_like(result))
        result = functional.avg_pool2d(functional.pad(x, self.pads), self.kernel, self.stride)
        if not self.exclude_padding:
            return result
        return result / self.share


class Merge(nn.Module):
    """add, concat or scale (squeeze-and-excite: input times gate), then the activation."""

    def __init__(self, kind: OpKind, act: nn.Module | None) -> None:
        super().__init__()
        self.kind = kind
        self.act = act or nn.Identity()

    def forward(self, *inputs: Tensor) -> Tensor:
        if self.kind is OpKind.CONCAT:
            result = torch.cat(inputs, dim=1)
        elif self.kind is OpKind.SCALE:
            result = inputs[0] * inputs[1]
        else:
            result = inputs[0]
            for other in inputs[1:]:
                result = result + other
        merged: Tensor = self.act(result)
        return merged
