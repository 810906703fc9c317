"""A shipped spec built with `mbcalc.torch.build`, exported to ONNX (or traced with
torch.export), imported, and counted again: what tests/ingest/test_round_trip.py asserts and
bench/round_trip.py times over the whole zoo."""

from __future__ import annotations

import io
import time
import warnings
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from mbcalc.core.graph import Graph, build_graph
from mbcalc.core.report import Report, analyze
from mbcalc.core.settings import Settings
from mbcalc.kinds import LayerType, OpKind
from mbcalc.spec.parser import parse_spec
from mbcalc.spec.zoo import load_shipped

UNIT_KINDS = (LayerType.SEPARABLE, LayerType.MBCONV, LayerType.SE)
MERGE_KINDS = (OpKind.ADD, OpKind.CONCAT, OpKind.SCALE, OpKind.SPLIT)

EXTRA_UNITS = {"mnasnet1_0": Counter({"mbconv": 1})}
"""Units an import writes that the shipped spec writes as plain layers. MNASNet's first block
is a depthwise conv with ReLU and a linear 1x1 conv, which the spec writes as the two convs
torchvision names; it is exactly an mbconv without expansion (MobileNetV2's t = 1 block)."""


def eval_totals(report: Report) -> tuple[int, int, int]:
    """Mult-adds, params and BN params of the ops that run in eval mode (an auxiliary head runs
    in training only, and so is in no eval-mode export)."""
    rows = [row for row in report.rows if not row.op.aux]
    return (
        sum(row.cost.mult_adds for row in rows),
        sum(row.cost.params for row in rows),
        sum(row.cost.bn_params for row in rows),
    )


def census(graph: Graph) -> Counter[str]:
    """The units of the kinds the import recognises, and the merges, in eval mode."""
    units = Counter(
        unit.type.value
        for unit in graph.units
        if unit.type in UNIT_KINDS and not any(graph.ops[i].aux for i in unit.ops)
    )
    merges = Counter(op.kind.value for op in graph.ops if op.kind in MERGE_KINDS and not op.aux)
    return units + merges


@dataclass(frozen=True)
class Trip:
    """One round trip: the original's and the import's counts and units, and its timings."""

    original: tuple[int, int, int]
    imported: tuple[int, int, int]
    units: Counter[str]
    imported_units: Counter[str]
    export_seconds: float
    import_seconds: float

    @property
    def exact(self) -> bool:
        return self.original == self.imported and self.units == self.imported_units


def original(name: str, settings: Settings) -> Graph:
    return build_graph(load_shipped(name), settings)


def _imported_graph(text: str) -> Graph:
    return build_graph(parse_spec(text, source="imported"), Settings())


def through_onnx(name: str, settings: Settings, folder: Path) -> Trip:
    """Build, export with torch's TorchScript-based exporter (batch norms kept), import."""
    import torch

    from mbcalc.ingest.sources import import_onnx
    from mbcalc.pytorch import build

    graph = original(name, settings)
    start = time.perf_counter()
    module = build(graph).eval()
    example = torch.zeros(1, graph.spec.input_channels, *graph.resolution)
    path = folder / f"{name}.onnx"
    with warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), dynamo=False, do_constant_folding=False)
    del module
    exported = time.perf_counter()
    text = import_onnx(path).text
    done = time.perf_counter()
    path.unlink()
    return _trip(name, graph, text, exported - start, done - exported)


def through_torch(name: str, settings: Settings) -> Trip:
    """Build and trace with torch.export, import."""
    from mbcalc.ingest.recognize import spec_text
    from mbcalc.ingest.torch_module import read_module
    from mbcalc.pytorch import build

    graph = original(name, settings)
    start = time.perf_counter()
    module = build(graph).eval()
    built = time.perf_counter()
    shape = (graph.spec.input_channels, *graph.resolution)
    text = spec_text(read_module(module, shape, source=name)).text
    done = time.perf_counter()
    return _trip(name, graph, text, built - start, done - built)


def _trip(name: str, graph: Graph, text: str, export: float, read: float) -> Trip:
    imported = _imported_graph(text)
    return Trip(
        original=eval_totals(analyze(graph)),
        imported=eval_totals(analyze(imported)),
        units=census(graph) + EXTRA_UNITS.get(name, Counter()),
        imported_units=census(imported),
        export_seconds=export,
        import_seconds=read,
    )


TOKEN_SPECS = ("vit_", "swin_")
"""Shipped specs of tokens and attention, which the importer does not recognize yet."""


def importable(names: list[str]) -> list[str]:
    """The shipped specs among `names` the importer reads back (none of tokens)."""
    return [name for name in names if not name.startswith(TOKEN_SPECS)]
