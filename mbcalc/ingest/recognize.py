"""A read network made spec text: its nodes fused (`fuse`), nested (`nesting`), read as units
(`units`) and written (`emit`) under a header naming the source, what the import saw, and how
the spec's widths scale with alpha.

Widths: every channel count scales with alpha but the network input's and the classifier's (the
op that writes the output's channels: `scale: false`). They are rounded as the spec says:
`rounding: divisible` by 8 when every scaled width of the model is a multiple of 8 (as the
`make_divisible` rule of MobileNet and EfficientNet keeps them), else `floor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mbcalc.errors import ModelImportError
from mbcalc.ingest.concats import nested_concats
from mbcalc.ingest.emit import comment_lines, text, write_layers
from mbcalc.ingest.fuse import Fused, Op, fuse
from mbcalc.ingest.nesting import nest
from mbcalc.ingest.network import Network, NodeKind
from mbcalc.ingest.plain import Context, owners
from mbcalc.ingest.units import units

DIVISOR = 8
"""The divisor of `rounding: divisible` where every imported width is a multiple of it."""

_PASS_THROUGH = (
    NodeKind.SOFTMAX, NodeKind.GLOBAL_POOL, NodeKind.ADAPTIVE_POOL, NodeKind.POOL,
    NodeKind.UNKNOWN, NodeKind.ACT,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Imported:
    """A spec's text and the free ops it stands without (`--unknown free`)."""

    text: str
    free: tuple[str, ...]


def spec_text(network: Network, *, unknown_free: bool = False, name: str | None = None) -> Imported:
    """The spec a person would write for `network`."""
    _refuse_attention(network)
    fused = fuse(nested_concats(network))
    convs = [op for op in fused.ops if op.kind is NodeKind.CONV]
    batchnorm = sum(op.bn for op in convs) * 2 > len(convs)
    ctx = Context(
        source=network.source,
        batchnorm=batchnorm,
        classifier=_classifier(fused),
        unknown_free=unknown_free,
        owners=owners(fused.ops),
    )
    layers = units(nest(fused, network.source), ctx)
    divisible = bool(ctx.widths) and all(width % DIVISOR == 0 for width in ctx.widths)
    lines = _header(network, fused, divisible, ctx.free)
    channels, height, width = network.input_shape
    size = str(height) if height == width else f"[{height}, {width}]"
    title = name or _stem(network.source)
    lines += [
        f"name: {_quoted(title)}",
        f"description: {_quoted(f'imported from {network.source}')}",
        f"input: {{size: {size}, channels: {channels}}}",
    ]
    if divisible:
        lines += ["rounding: divisible", f"divisor: {DIVISOR}"]
    lines.append(f"batchnorm: {'true' if batchnorm else 'false'}")
    lines.append("layers:")
    lines.extend(write_layers(layers, "", 1))
    return Imported("\n".join(lines) + "\n", tuple(ctx.free))


_PRODUCTS = (
    "MatMul", "Einsum", "aten.matmul.default", "aten.bmm.default", "aten.baddbmm.default",
    "aten.einsum.default", "aten.scaled_dot_product_attention.default",
    "aten._native_multi_head_attention.default",
)  # fmt: skip
"""Op types that multiply two activations (attention's products), or compute attention."""


def _refuse_attention(network: Network) -> None:
    """Refuse a network with attention by its first product of activations: the importer
    writes no `tokens`, `attention` or `readout` layer, and would otherwise refuse the graph
    somewhere less telling (the q, k and v slices look like branches that never meet)."""
    for node in network.nodes:
        if node.kind is NodeKind.UNKNOWN and node.op in _PRODUCTS:
            raise ModelImportError(
                "attention (a product of two activations) is beyond what the importer recognises",
                source=network.source,
                node=node.name,
                op=node.op,
                path=node.path,
                hint="write it with the spec language's tokens, attention and readout layers, "
                "as archs/vit_b_16.yaml does",
            )


def _classifier(fused: Fused) -> int:
    """id() of the op that writes the output's channels: the last conv or fc before it."""
    op: Op | None = fused.producer.get(fused.output)
    while op is not None and op.kind in _PASS_THROUGH and len(op.inputs) == 1:
        op = fused.producer.get(op.inputs[0])
    return id(op) if op is not None else 0


def _header(network: Network, fused: Fused, divisible: bool, free: list[str]) -> list[str]:
    convs = [op for op in fused.ops if op.kind is NodeKind.CONV]
    norms = sum(op.bn for op in convs) + sum(op.kind is NodeKind.BATCH_NORM for op in fused.ops)
    if norms:
        seen = (
            f"It keeps {norms} batch norms: their scale and shift are BN params, reported apart "
            "from the params."
        )
    elif any(op.node.attrs.get("bias") for op in convs):
        seen = (
            "It holds no batch norm and its convs carry biases: batch norms folded into the "
            "convs (as an ONNX export in eval mode folds them) count as the biases they became."
        )
    else:
        seen = "It holds no batch norm."
    rule = (
        f"rounding: divisible by {DIVISOR}, as every width of the model is a multiple of it"
        if divisible
        else "rounding: floor"
    )
    parts = [
        f"Imported by mbcalc from {network.source} ({network.producer}).",
        seen,
        *(f"{note[:1].upper()}{note[1:].rstrip('.')}." for note in network.notes),
        "Under --alpha every channel count scales but the input's and the classifier's "
        f"(scale: false); {rule}.",
    ]
    if free:
        parts.append(
            "Free ops (--unknown free), counted as nothing and left out of the layers: "
            + "; ".join(free)
            + "."
        )
    lines: list[str] = []
    for part in parts:
        lines.extend(comment_lines(part))
    return lines


def _stem(source: str) -> str:
    tail = source.replace("\\", "/").rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[0] if tail.endswith(".onnx") else tail


def _quoted(value: str) -> str:
    return text("".join(c if c.isprintable() else " " for c in value))
