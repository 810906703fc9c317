"""The calibrated cost model worked out by hand, and calibrated device files, for the tests of
`mbcalc.deploy.latency_model`, `calibration`, `calibration_file` and the estimate they give.

The model, as its module documents it: an op of class C costs C.overhead + work x C.per_work +
bytes x C.per_byte, where work is its mult-adds times the batch (a windowed pool's: its output
elements x kernel area; a global pool's: its input elements), and each pass after it (its batch
norm, its activation) costs P.overhead + output elements x P.per_element; a network adds
`network_overhead` once. `hand_terms` and `hand_seconds` restate that from an op's fields,
without the module's code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mbcalc.core.graph import Op
from mbcalc.deploy.memory import MemoryReport, OpMemory
from mbcalc.kinds import OpKind, Pair, PartitionMode

# The class of every op kind but conv and pool, whose class follows their kernel and groups.
KIND_CLASSES = {
    OpKind.DEPTHWISE: "depthwise",
    OpKind.FC: "fc",
    OpKind.ADD: "add",
    OpKind.CONCAT: "concat",
    OpKind.SCALE: "scale",
    OpKind.SOFTMAX: "norm",
    OpKind.BATCH_NORM: "norm",
    OpKind.LAYER_NORM: "layer_norm",
    OpKind.GROUP_NORM: "layer_norm",
    OpKind.LAYER_SCALE: "norm",
    OpKind.ATTEND: "attend",
    OpKind.SPLIT: "view",
    OpKind.READOUT: "view",
    OpKind.SHUFFLE: "copy",
    OpKind.TOKENS: "copy",
    OpKind.RESIZE: "copy",
    OpKind.SPACE_TO_DEPTH: "copy",
    OpKind.PAD: "copy",
    OpKind.CROP: "copy",
    OpKind.POSITIONS: "copy",
}

# Every activation the spec language accepts, by what it computes per element: comparisons
# and products (clamp), one exponential (exp), or more (slow), as the model's module groups them.
ACTIVATION_PARTS = {
    "relu": "clamp",  # max(x, 0)
    "relu6": "clamp",  # min(max(x, 0), 6)
    "leaky_relu": "clamp",  # max(x, a x)
    "prelu": "clamp",  # max(x, a x), a learned
    "hswish": "clamp",  # x relu6(x + 3) / 6
    "hsigmoid": "clamp",  # relu6(x + 3) / 6
    "sigmoid": "exp",  # 1 / (1 + e^-x)
    "swish": "exp",  # x sigmoid(x)
    "silu": "exp",  # swish
    "gelu": "exp",
    "tanh": "slow",
    "elu": "slow",
}

CLASSES = (
    "pointwise", "conv", "grouped", "depthwise", "fc", "max_pool", "avg_pool", "global_pool",
    "add", "concat", "scale", "norm", "layer_norm", "attend", "attend_local", "copy", "view",
)  # fmt: skip
LOCAL_PARTITIONS = ("block", "grid")  # attention in windows or a grid: "attend_local"
PARTS = ("batch_norm", "clamp", "exp", "slow")


@dataclass(frozen=True)
class StubOp:
    """An op as the model sees it: the fields it reads besides the counts."""

    kind: OpKind
    kernel: Pair | None = None
    groups: int | None = None
    bn: bool = False
    activation: str = "none"
    pool_kind: str | None = None
    global_pool: bool = False
    grid: Pair | None = None
    partition: PartitionMode | None = None


def expected_class(op: Op | StubOp) -> str:
    """An op's class: a conv by its groups and kernel, a pool by its window, an attention by
    its partition, else by kind."""
    if op.kind is OpKind.CONV:
        if op.groups is not None and op.groups > 1:
            return "grouped"
        return "pointwise" if op.kernel == (1, 1) else "conv"
    if op.kind is OpKind.POOL:
        return "global_pool" if op.global_pool else f"{op.pool_kind}_pool"
    if op.kind is OpKind.ATTEND and op.partition in LOCAL_PARTITIONS:
        return "attend_local"
    return KIND_CLASSES[op.kind]


def hand_terms(
    op: Op | StubOp,
    shapes: tuple[tuple[int, int, int], tuple[int, int, int]],
    mult_adds: int,
    moved: int,
    batch: int,
    folded: bool = False,
) -> dict[str, int]:
    """What `op` (input and output `shapes`) brings to each coefficient; `folded`: its batch
    norm folded into it (no pass of its own)."""
    cls = expected_class(op)
    inputs, outputs = math.prod(shapes[0]) * batch, math.prod(shapes[1]) * batch
    work = mult_adds * batch
    if cls == "global_pool":
        work = inputs
    elif op.grid is not None:  # every adaptive window's reads, window by window
        rows = sum(end - start for start, end in windows(shapes[0][0], op.grid[0]))
        columns = sum(end - start for start, end in windows(shapes[0][1], op.grid[1]))
        work = rows * columns * shapes[0][2] * batch
    elif cls in ("max_pool", "avg_pool"):
        assert op.kernel is not None
        work = outputs * op.kernel[0] * op.kernel[1]
    amounts = {f"{cls}.overhead": 1, f"{cls}.per_work": work, f"{cls}.per_byte": moved}
    passes = ["batch_norm"] if op.bn and not folded else []
    if op.activation != "none":
        passes.append(ACTIVATION_PARTS[op.activation])
    for part in passes:
        amounts[f"{part}.overhead"] = 1
        amounts[f"{part}.per_element"] = outputs
    return amounts


def windows(size: int, cells: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows over `size` rows into `cells`: [floor(i * size /
    cells), ceil((i + 1) * size / cells)) for each output row i."""
    return [(i * size // cells, ((i + 1) * size + cells - 1) // cells) for i in range(cells)]


def moved_of(memory: OpMemory) -> int:
    """The bytes an op reads and writes: its input, its output and its weights."""
    return memory.input_bytes + memory.output_bytes + memory.weight_bytes


def hand_op_seconds(
    memory: MemoryReport, index: int, coefficients: dict[str, float], folded: bool = False
) -> float:
    """Op `index`'s time by the model (0 for an auxiliary head's, which does not run)."""
    row, op_memory = memory.report.rows[index], memory.ops[index]
    if row.op.aux:
        return 0.0
    shapes = (row.op.input, row.op.output)
    moved = moved_of(op_memory)
    amounts = hand_terms(row.op, shapes, row.cost.mult_adds, moved, memory.batch, folded)
    return math.fsum(coefficients[term] * amount for term, amount in amounts.items())


def hand_seconds(
    memory: MemoryReport, coefficients: dict[str, float], folded: bool = False
) -> float:
    """The network's time: its ops one after another, and the fixed cost of a run."""
    ops = [hand_op_seconds(memory, i, coefficients, folded) for i in range(len(memory.ops))]
    return math.fsum([*ops, coefficients["network_overhead"]])


def chosen_coefficients() -> dict[str, float]:
    """A different figure for every coefficient (seconds), so that an amount counted under
    the wrong class, part or field changes the sum."""
    coefficients = {"network_overhead": 5e-5}
    for i, cls in enumerate(CLASSES, start=1):
        coefficients |= {
            f"{cls}.overhead": i * 1e-6,
            f"{cls}.per_work": i * 3e-11,
            f"{cls}.per_byte": i * 7e-12,
        }
    for i, part in enumerate(PARTS, start=1):
        coefficients |= {f"{part}.overhead": i * 2e-6, f"{part}.per_element": i * 5e-10}
    return coefficients


def calibration_section(coefficients: dict[str, float], **conditions: Any) -> dict[str, Any]:
    """A device file's `calibration:` mapping with `coefficients`, written out by hand."""
    section: dict[str, Any] = {
        "runtime": "torch",
        "device": "cpu",
        "threads": 1,
        "batch": 1,
        "networks": 102,
        "quality": {"held_out": 20, "median_error": 0.092, "within_15": 0.63},
        **conditions,
        "network_overhead": coefficients["network_overhead"],
    }
    section["classes"] = {
        cls: {
            field: coefficients[f"{cls}.{field}"] for field in ("overhead", "per_work", "per_byte")
        }
        for cls in CLASSES
    }
    section["parts"] = {
        part: {field: coefficients[f"{part}.{field}"] for field in ("overhead", "per_element")}
        for part in PARTS
    }
    return section


# The roofline of a device file: a 2-core CPU's measured throughput, an assumed bandwidth.
ROOFLINE = {
    "name": "2-core x86",
    "dtype": "fp32",
    "mult_adds_per_second": "35.6G",
    "bandwidth_bytes_per_second": "20G",
    "source": "per-layer timing, 1 thread",
}


def device_text(calibration: dict[str, Any] | None) -> str:
    """A device file: `ROOFLINE`, and a `calibration:` section unless None."""
    data: dict[str, Any] = dict(ROOFLINE)
    if calibration is not None:
        data["calibration"] = calibration
    return yaml.safe_dump(data, sort_keys=False)


def write_devices(folder: Path, coefficients: dict[str, float]) -> tuple[Path, Path]:
    """The device files `calibrated.yaml` (with `coefficients`) and `plain.yaml` (the same
    roofline, no calibration) in `folder`."""
    calibrated, plain = folder / "calibrated.yaml", folder / "plain.yaml"
    calibrated.write_text(device_text(calibration_section(coefficients)), encoding="utf-8")
    plain.write_text(device_text(None), encoding="utf-8")
    return calibrated, plain
