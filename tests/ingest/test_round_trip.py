"""Every shipped spec built with `mbcalc.torch.build`, exported to ONNX by torch's exporter (or
traced with torch.export), imported, and counted again: the same mult-adds, params and BN
params, and the same separable, mbconv and se units and merges.

The specs checked in full (a member of each family) run at alpha 1 and at alpha 0.5, at their own
input size; the other members, built from the same layers and rules, are left to
bench/round_trip.py, which runs the whole zoo at both settings through both paths (a quarter of
an hour: too long for every run of the tests). The graph-level round trip of every shipped spec
is in tests/ingest/test_recognize.py.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc.core.settings import Settings
from tests.helpers.zoo_cost import at_fitting_size, checked_in_full
from tests.ingest.round_trip import importable, through_onnx, through_torch

pytest.importorskip("torch")

AT_ONE = Settings()
HALF = Settings(alpha=Fraction(1, 2))
"""The second setting: half the width (at which no grouped conv of the zoo becomes depthwise,
as a ResNeXt's 32 groups of 4 channels would at a quarter)."""
CASES = [(name, setting) for setting in (AT_ONE, HALF) for name in importable(checked_in_full())]


def _id(case: tuple[str, Settings]) -> str:
    name, setting = case
    return f"{name}-alpha{setting.alpha}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_an_onnx_export_imports_to_the_specs_counts_and_units(
    case: tuple[str, Settings], tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    name, setting = case
    trip = through_onnx(name, at_fitting_size(name, setting), tmp_path)
    assert trip.imported == trip.original
    assert trip.imported_units == trip.units


@pytest.mark.parametrize("case", [(name, HALF) for name in importable(checked_in_full())], ids=_id)
def test_a_traced_module_imports_to_the_specs_counts_and_units(case: tuple[str, Settings]) -> None:
    name, setting = case
    trip = through_torch(name, at_fitting_size(name, setting))
    assert trip.imported == trip.original
    assert trip.imported_units == trip.units
