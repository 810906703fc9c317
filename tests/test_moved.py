"""Import paths that moved into subpackages keep working (`from mbcalc.zoo import load_shipped`)."""

from __future__ import annotations

import importlib

import pytest

from mbcalc.moved import MOVED
from tests.helpers.process import run_python


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_is_the_module_it_moved_to(old: str, new: str) -> None:
    if new.startswith("mbcalc.pytorch"):
        pytest.importorskip("torch")
    assert importlib.import_module(old) is importlib.import_module(new)


def test_the_old_paths_serve_the_library_as_before() -> None:
    """Through the old names (at run time: type checkers see the new paths only)."""
    zoo, deployment, memory, roofline = (
        importlib.import_module(f"mbcalc.{name}")
        for name in ("zoo", "deployment", "memory", "roofline")
    )
    from mbcalc import analyze, build_graph

    report = analyze(build_graph(zoo.load_shipped("mobilenet_v1")))
    view = deployment.deploy(
        report, memory.DType.FP16, device=roofline.resolve_device("jetson-nano")
    )
    # MobileNet v1 1.0-224 (Howard et al., 2017, Table 4): 4.2M params; exactly 4,210,088 weights
    # and biases plus 2 x 21,888 BN values, 2 bytes each in fp16.
    assert view.memory.weight_bytes == 2 * (4_210_088 + 2 * 21_888)


def test_importing_mbcalc_loads_none_of_the_moved_modules_nor_torch() -> None:
    code = (
        "import sys, mbcalc\n"
        "loaded = sorted(set(sys.modules) & ({'torch'} | set(mbcalc.moved.MOVED)))\n"
        "print(','.join(loaded))\n"
    )
    done = run_python(code)
    assert done.stdout.strip() == ""
