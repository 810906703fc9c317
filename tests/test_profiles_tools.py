"""The counting profiles against the real tools, run on the modules mbcalc.torch builds.

torch.utils.flop_counter (FlopCounterMode; params: the module's), fvcore 0.1.5
(FlopCountAnalysis, parameter_count), thop 0.1.1 (profile) and ptflops 0.7.5
(get_model_complexity_info, pytorch and aten backends) count every shipped spec at two settings
(a family's larger members through the member they are built like: tests/helpers/zoo_cost.py),
one network with every activation and pool form, and random networks (squeeze-and-excite,
residual adds, concatenations, softmax heads); each profile's total and params must equal the
tool's exactly. A tool that is not installed, or not at the version its profile reproduces,
skips its tests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from importlib import metadata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mbcalc import Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.core.graph import Graph
from mbcalc.core.profiles import PROFILES, count
from mbcalc.spec.zoo import load_shipped
from tests.helpers.norms import EVERY_NORM
from tests.helpers.strategies import networks, token_networks
from tests.helpers.zoo_cost import at_fitting_size, checked_in_full

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
mbcalc_torch = pytest.importorskip("mbcalc.pytorch.network")

VERSIONS = {"fvcore": "0.1.5", "thop": "0.1.1", "ptflops": "0.7.5"}
"""The release of each tool its profile reproduces (a prefix of the installed version)."""

SETTINGS = {"alpha 1": Settings(), "alpha 0.5 at 160": Settings(Fraction(1, 2), res=160)}

Counter = Callable[[Any, Any], tuple[float, int]]


def _torch(module: Any, x: Any) -> tuple[float, int]:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops(), sum(p.numel() for p in module.parameters())


def _fvcore(module: Any, x: Any) -> tuple[float, int]:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    analysis = FlopCountAnalysis(module, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis.total(), parameter_count(module)[""]


def _thop(module: Any, x: Any) -> tuple[float, int]:
    import thop

    ops, params = thop.profile(module, inputs=(x,), verbose=False)
    return ops, int(params)


def _ptflops(backend: str) -> Counter:
    def count_with_ptflops(module: Any, x: Any) -> tuple[float, int]:
        from ptflops import get_model_complexity_info

        result = get_model_complexity_info(
            module,
            tuple(x.shape[1:]),
            as_strings=False,
            print_per_layer_stat=False,
            input_constructor=lambda _: x,  # zeros, not its uninitialised (slow) input
            backend=backend,
        )
        ops, params = result
        assert ops is not None, "ptflops failed (its message is on stdout)"
        assert isinstance(params, int)
        return ops, params

    return count_with_ptflops


TOOLS: dict[str, tuple[str, Counter]] = {
    "torch": ("torch", _torch),
    "fvcore": ("fvcore", _fvcore),
    "thop": ("thop", _thop),
    "ptflops": ("ptflops", _ptflops("pytorch")),
    "ptflops-aten": ("ptflops", _ptflops("aten")),
}
"""Each profile's tool: its distribution and how to run it on a module and an input."""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The tools print, log and warn about every op they skip: none of it is a result."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _require(profile: str) -> Counter:
    """The tool behind `profile`, or a skip when it is missing or not the verified release."""
    distribution, counter = TOOLS[profile]
    module = "fvcore.nn" if distribution == "fvcore" else distribution
    with _quiet():
        pytest.importorskip(module)
    installed = metadata.version(distribution)
    if not installed.startswith(VERSIONS.get(distribution, "")):
        pytest.skip(f"{distribution} {installed} installed; the profile reproduces "
                    f"{VERSIONS[distribution]}")  # fmt: skip
    return counter


def tool_counts(profile: str, graph: Graph) -> tuple[float, int]:
    """What the real tool counts on the module mbcalc.torch builds from `graph`."""
    counter = _require(profile)
    module = mbcalc_torch.Network(graph).eval()
    height, width, channels = graph.input_shape
    with _quiet(), torch.no_grad():
        return counter(module, torch.zeros(1, channels, height, width))


def assert_profile_matches(profile: str, graph: Graph) -> None:
    ops, params = tool_counts(profile, graph)
    counted = count(analyze(graph), PROFILES[profile])
    assert ops == int(ops), f"{profile} counted a fraction: {ops}"
    assert (counted.operations, counted.params) == (int(ops), params)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", checked_in_full())
@pytest.mark.parametrize("profile", TOOLS)
def test_shipped_specs(profile: str, name: str, setting: str) -> None:
    spec_setting = at_fitting_size(name, SETTINGS[setting])
    assert_profile_matches(profile, build_graph(load_shipped(name), spec_setting))


EVERY_FORM = """
name: every form
input: {size: 17, channels: 3}
layers:
  - conv: {out: 8, kernel: 3, stride: 2, bias: true, act: prelu}
  - conv: {out: 8, kernel: 2, stride: 2, padding: same, act: leaky_relu}
  - pool: {kind: avg, kernel: 3, stride: 2, padding: same}
  - pool: {kind: avg, kernel: 2, stride: 1, padding: 2}
  - pointwise: {out: 8, act: elu}
  - pointwise: {out: 8, act: silu}
  - pointwise: {out: 8, act: relu}
  - pool: {kind: max, kernel: 3, stride: 2, padding: same}
  - pool: {kind: max, kernel: 2, stride: 1, padding: 1}
  - pool: {kind: avg, kernel: 3, stride: 1, padding: 1, ceil: true}
  - separable: {out: 12, act: relu6}
  - mbconv: {out: 12, expand: 4, se: 0.25, act: hswish}
  - mbconv: {out: 12, expand: 2, se: 0.25, act: swish}
  - block:
      residual: true
      layers: [{depthwise: {act: gelu}}, {pointwise: {out: 12, act: tanh}}]
  - parallel:
      merge: concat
      branches: [[{pool: {kind: max, global: true}}], [{pool: {global: true}}]]
  - fc: {out: 10, act: sigmoid}
  - softmax: {}
"""
"""Every activation and pool form in one network, beside the shipped specs."""


@pytest.mark.parametrize("profile", TOOLS)
def test_every_activation_and_pool_form(profile: str) -> None:
    assert_profile_matches(profile, build_graph(parse_spec(EVERY_FORM)))


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("profile", TOOLS)
def test_every_norm_and_layer_scale(profile: str, setting: str) -> None:
    assert_profile_matches(profile, build_graph(parse_spec(EVERY_NORM), SETTINGS[setting]))


UNCOVERED_SAME_POOL = """
input: {size: [1, 2], channels: 1}
layers:
  - pool: {kind: avg, kernel: 1, stride: 2, padding: same}
  - pool: {kind: max, kernel: 1, stride: 3, padding: same}
"""
"""SAME pools whose windows leave input columns unread: PyTorch is handed the whole input."""


@pytest.mark.parametrize("profile", TOOLS)
def test_same_pools_that_leave_columns_unread(profile: str) -> None:
    assert_profile_matches(profile, build_graph(parse_spec(UNCOVERED_SAME_POOL)))


AUX_HEAD = """
input: {size: 16, channels: 3}
batchnorm: true
layers:
  - conv: {out: 8, kernel: 3, stride: 2, padding: 1}
  - aux:
      name: head
      layers:
        - pool: {kind: avg, kernel: 4, stride: 4}
        - conv: {out: 4, kernel: 1, bias: true, act: prelu}
        - pool: {global: true}
        - fc: {out: 10}
  - conv: {out: 16, kernel: 3, padding: 1}
  - pool: {global: true}
  - fc: {out: 10}
"""
"""An auxiliary head, which the module runs in training only: the tools count in eval."""


@pytest.mark.parametrize("profile", TOOLS)
def test_an_auxiliary_head(profile: str) -> None:
    assert_profile_matches(profile, build_graph(parse_spec(AUX_HEAD)))


@pytest.mark.parametrize("profile", TOOLS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=networks(fixed_width=True, varied=True))
def test_random_networks(profile: str, spec: Spec) -> None:
    assert_profile_matches(profile, build_graph(spec))


@pytest.mark.parametrize("profile", TOOLS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=token_networks())
def test_random_token_networks(profile: str, spec: Spec) -> None:
    assert_profile_matches(profile, build_graph(spec))


ADAPTIVE_POOLS = {
    "14 to 7": "input: {size: 14, channels: 256}\nlayers: [pool: {output: 7}]",
    "13 to 7": "input: {size: 13, channels: 256}\nlayers: [pool: {output: 7}]",
    "8 to 7": "input: {size: 8, channels: 512}\nlayers: [pool: {output: 7}]",
    "13 to 6": "input: {size: 13, channels: 256}\nlayers: [pool: {output: 6}]",
    "5 to 7": "input: {size: 5, channels: 64}\nlayers: [pool: {output: 7}]",
    "17x9 to 7x3, max": "input: {size: [17, 9], channels: 3}\n"
    "layers: [pool: {kind: max, output: [7, 3]}]",
    "split and shuffle": """
input: {size: 9, channels: 8}
layers:
  - parallel: {split: true, branches: [[], [pointwise: {out: 6}], [], [depthwise: {}]]}
  - shuffle: {groups: 4}
  - pool: {output: [4, 3]}
  - fc: {out: 10}
""",
}
"""Adaptive pools whose grid divides their input and does not (thop's float64 product falls
short by one on 8 to 7 and 13 to 6), a smaller input than the grid, and a split and shuffle."""


@pytest.mark.parametrize("case", ADAPTIVE_POOLS)
@pytest.mark.parametrize("profile", TOOLS)
def test_adaptive_pools_split_and_shuffle(profile: str, case: str) -> None:
    assert_profile_matches(profile, build_graph(parse_spec(ADAPTIVE_POOLS[case])))
