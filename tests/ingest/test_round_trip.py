"""Every shipped spec built with `mbcalc.torch.build`, exported to ONNX by torch's exporter (or
traced with torch.export), imported, and counted again: the same mult-adds, params and BN
params, and the same separable, mbconv and se units and merges.

The specs checked in full run at alpha 1 and their own input size; every shipped spec runs at
REDUCED (a quarter of the width at 64x64, Inception v3 at its own size), where the export stays
small. bench/round_trip.py runs the whole zoo at alpha 1 through both paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mbcalc.core.settings import Settings
from mbcalc.spec.defaults import NO_DEFAULTS
from mbcalc.spec.zoo import shipped_names
from tests.helpers.zoo_cost import REDUCED, at_fitting_size, checked_in_full
from tests.ingest.round_trip import through_onnx, through_torch

pytest.importorskip("torch")

AT_ONE = Settings()
SMALL = REDUCED.settings(NO_DEFAULTS)
SMALL_CASES = [(name, SMALL) for name in shipped_names()]
FULL_CASES = [(name, AT_ONE) for name in checked_in_full()]


def _id(case: tuple[str, Settings]) -> str:
    name, setting = case
    return f"{name}-{'alpha1' if setting == AT_ONE else 'reduced'}"


@pytest.mark.parametrize("case", FULL_CASES + SMALL_CASES, ids=_id)
def test_an_onnx_export_imports_to_the_specs_counts_and_units(
    case: tuple[str, Settings], tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    name, setting = case
    trip = through_onnx(name, at_fitting_size(name, setting), tmp_path)
    assert trip.imported == trip.original
    assert trip.imported_units == trip.units


@pytest.mark.parametrize("case", [(name, SMALL) for name in checked_in_full()], ids=_id)
def test_a_traced_module_imports_to_the_specs_counts_and_units(case: tuple[str, Settings]) -> None:
    name, setting = case
    trip = through_torch(name, at_fitting_size(name, setting))
    assert trip.imported == trip.original
    assert trip.imported_units == trip.units
