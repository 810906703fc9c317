"""The planned network's vocabulary: one `Step` per primitive op and the typed rules by which
its output shape follows from its inputs.

A channel rule says how the output channels follow from the inputs and alpha; a spatial rule
how the output height and width follow from the input's. `mbcalc.core.plan` writes steps,
`mbcalc.core.shapes` evaluates their rules (for one setting or a grid of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from mbcalc.kinds import OpKind, Padding, Pair, PartitionMode, Scale
from mbcalc.spec.model import Layer, Pool

NETWORK_INPUT = -1
"""The producer index that stands for the network's input."""

StepAdder = Callable[..., int]
"""The planner's `add` (`mbcalc.core.plan`): appends one step, returns its index."""

Rounding = Literal["round", "floor", "divisible"]
"""How `Expand` rounds: to the nearest (halves to even), down, or to a multiple of the divisor."""


# -- channel rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scaled:
    """`out` channels, times alpha where `scale` says so (by the spec's rounding)."""

    out: int
    scale: Scale


@dataclass(frozen=True, slots=True)
class Expand:
    """The input's channels times `ratio`, rounded by `rounding`."""

    ratio: Fraction
    rounding: Rounding


@dataclass(frozen=True, slots=True)
class Times:
    """The input's channels times `multiplier` (a depthwise conv's)."""

    multiplier: int


@dataclass(frozen=True, slots=True)
class Same:
    """The first input's channels."""


@dataclass(frozen=True, slots=True)
class Sum:
    """The sum of every input's channels (a concat)."""


@dataclass(frozen=True, slots=True)
class Fixed:
    """Exactly `channels`, whatever alpha (a squeeze-and-excite's `squeeze`)."""

    channels: int


@dataclass(frozen=True, slots=True)
class Ratio:
    """floor(base * ratio): at least 1, or made divisible by `divisor` when given.

    The base is the channels of tensor `like`, or the input's when it is None (the squeeze
    width of a squeeze-and-excite).
    """

    ratio: Fraction
    divisor: int | None
    like: int | None


@dataclass(frozen=True, slots=True)
class Like:
    """The channels of tensor `tensor` (a squeeze-and-excite's expanding fc)."""

    tensor: int


@dataclass(frozen=True, slots=True)
class Part:
    """Slice `index` (from 0) of `parts` equal slices of the input's channels (a split
    branch's)."""

    parts: int
    index: int


@dataclass(frozen=True, slots=True)
class Heads:
    """`copies` times the input's channels rounded up to a multiple of `heads`: an attention's
    width, whole heads at every alpha (its qkv projection makes 3 copies)."""

    heads: int
    copies: int


ChannelRule = Scaled | Expand | Times | Same | Sum | Fixed | Ratio | Like | Part | Heads


# -- spatial rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding window; `ceil` is PyTorch's ceil_mode (a last partial window counts)."""

    kernel: Pair
    stride: Pair
    padding: Padding
    ceil: bool = False


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An H x W map as one row of H*W tokens, `extra` more put first (a class token): 1 x
    (H*W + extra)."""

    extra: int


@dataclass(frozen=True, slots=True)
class Global:
    """The whole input pooled to 1x1."""


@dataclass(frozen=True, slots=True)
class Flat:
    """1x1 out of the whole input: a fully connected layer, a class token read out."""


@dataclass(frozen=True, slots=True)
class Keep:
    """The input's size."""


@dataclass(frozen=True, slots=True)
class Adaptive:
    """A fixed `output` grid whatever the input (an adaptive pool larger than 1x1)."""

    output: Pair


@dataclass(frozen=True, slots=True)
class Partition:
    """Attention whose queries see some of the positions, the input's size kept (`mode`):

    - "block": contiguous `window` blocks; "grid": `window` positions spread evenly over the
      map. Either way the map is padded up to whole windows and each query sees one window.
    - "patch": positions at the same offset of every `stride` patch see each other; "strided":
      keys and values come from the map down-sampled by `stride` (by an op before this one).
      Each query sees ceil(H / s_h) x ceil(W / s_w) keys.
    """

    mode: PartitionMode
    window: Pair | None = None
    stride: Pair | None = None


@dataclass(frozen=True, slots=True)
class Multiple:
    """The input's size rounded up to whole multiples of `multiple`: ceil(H / m_h) * m_h x
    ceil(W / m_w) * m_w (a map resized up, or padded at the bottom and right to whole
    windows)."""

    multiple: Pair


@dataclass(frozen=True, slots=True)
class SizeOf:
    """The size of tensor `tensor`, whatever the input's (a map resized or cropped back)."""

    tensor: int


@dataclass(frozen=True, slots=True)
class FixedSize:
    """`size`, whatever the input's (a table of a window's relative positions)."""

    size: Pair


SpatialRule = (
    Window | Global | Flat | Keep | Adaptive | TokenRow | Partition | Multiple | SizeOf | FixedSize
)

SAME = Same()
SUM = Sum()
GLOBAL = Global()
FLAT = Flat()
KEEP = Keep()
ONE_PER_CHANNEL = Times(1)
"""The channel rule of a depthwise conv without a multiplier."""
POINTWISE = Window((1, 1), (1, 1), "same")
"""The window of a 1x1 conv."""


@dataclass(eq=False, slots=True)
class Step:
    """One primitive op as planned: what it is, what it reads, how its shape follows.

    `act` is the activation after the op when it is not its layer's (a linear projection or
    residual add in an mbconv unit, the parts of a squeeze-and-excite); `groups` is None on a
    depthwise op, which has one group per input channel. `shift` and `cosine` are an attend
    op's in windows: its windows shifted by half a window (Swin's odd blocks; free), scaled
    cosine attention (a learned logit scale per head). A step is never changed once made
    (not frozen: a frozen record takes five times as long to make).
    """

    index: int
    name: str
    unit: str
    kind: OpKind
    sources: tuple[int, ...]
    layer: Layer
    channels: ChannelRule
    spatial: SpatialRule
    act: str | None = None
    groups: int | None = None
    bias: bool = False
    bn: bool = False
    aux: bool = False  # in an auxiliary head: runs in training only
    shift: bool = False
    cosine: bool = False

    @property
    def kernel(self) -> Pair | None:
        """The window's kernel (an attention's window); None for a global, flat or
        size-keeping op."""
        spatial = self.spatial
        if isinstance(spatial, Partition):
            return spatial.window
        return spatial.kernel if isinstance(spatial, Window) else None

    @property
    def stride(self) -> Pair | None:
        """The window's stride (the stride of an attention's keys)."""
        spatial = self.spatial
        if isinstance(spatial, Partition):
            return spatial.stride
        return spatial.stride if isinstance(spatial, Window) else None

    @property
    def partition(self) -> PartitionMode | None:
        """How an attention's queries see the map (`Partition`); None for global attention."""
        spatial = self.spatial
        return spatial.mode if isinstance(spatial, Partition) else None

    @property
    def padding(self) -> Padding:
        spatial = self.spatial
        return spatial.padding if isinstance(spatial, Window) else (0, 0)

    @property
    def ceil(self) -> bool:
        spatial = self.spatial
        return spatial.ceil if isinstance(spatial, Window) else False

    @property
    def global_pool(self) -> bool:
        """Whether the op works over its whole input (a global pool)."""
        return isinstance(self.spatial, Global)

    @property
    def grid(self) -> Pair | None:
        """An adaptive pool's output grid, else None."""
        spatial = self.spatial
        return spatial.output if isinstance(spatial, Adaptive) else None

    @property
    def activation(self) -> str:
        """The activation after the op: its own, else its layer's."""
        return self.act or self.layer.act

    @property
    def pool_kind(self) -> str | None:
        """avg or max on a pool op (a squeeze-and-excite pools by averaging), else None."""
        if self.kind is not OpKind.POOL:
            return None
        return self.layer.kind if isinstance(self.layer, Pool) else "avg"
