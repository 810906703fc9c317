"""Every spec under archs/ is cited, named, described, and computes at several settings."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from mbcalc.core.graph import OpKind, build_graph
from mbcalc.core.report import Report, analyze
from mbcalc.core.settings import Settings
from mbcalc.errors import SpecError
from mbcalc.spec import LayerType, load_spec
from mbcalc.spec.zoo import load_shipped, shipped_names

ARCHS = Path(__file__).resolve().parents[1] / "archs"
FILES = sorted(path for path in ARCHS.iterdir() if path.suffix in {".yaml", ".yml"})
CITATION = re.compile(r"arXiv:\d{4}\.\d{4,5}|https?://\S+|doi:\S+", re.IGNORECASE)

SETTINGS = [
    pytest.param(Settings(), id="alpha1"),
    pytest.param(Settings(alpha=Fraction(3, 4), res=192), id="alpha0.75-res192"),
    pytest.param(Settings(alpha=Fraction(1, 2), rho=Fraction(5, 7)), id="alpha0.5-rho5/7"),
    pytest.param(Settings(alpha=Fraction(1, 4), res=97), id="alpha0.25-res97"),
    pytest.param(Settings(alpha=Fraction(1, 2), res=(128, 96)), id="alpha0.5-res128x96"),
]

# Specs whose auxiliary head (run in training) fits no input smaller than the spec's own: a
# smaller setting is refused, naming the head.
AUX_AT_OWN_SIZE = {"inception_v3": "AuxLogits"}


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def ids(path: Path) -> str:
    return path.stem


def test_there_are_specs() -> None:
    assert FILES


def test_shipped_names_are_the_files_on_disk() -> None:
    assert shipped_names() == sorted(path.stem for path in FILES)


def opening_comment(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    comment = []
    for line in lines:
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("# "))
    return " ".join(comment)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_opens_with_a_comment_citing_its_source(path: Path) -> None:
    comment = opening_comment(path)
    assert comment, f"{path.name} does not open with a comment"
    assert CITATION.search(comment), f"{path.name}: no arXiv id, DOI or URL in {comment!r}"
    assert re.search(r"\b(19|20)\d\d\b", comment), f"{path.name}: the source has no year"


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_has_a_name_and_a_description(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("name", "description"):
        assert isinstance(raw.get(key), str), f"{path.name}: no {key}"
        assert raw[key].strip(), f"{path.name}: empty {key}"
    spec = load_spec(path)
    assert spec.name == raw["name"]
    assert spec.description == raw["description"]


def check_sums(report: Report) -> None:
    """Rows add up to the totals and to their units; separable units reduce by 1/N + 1/k^2."""
    total = report.total.cost
    for key in ("mult_adds", "params", "bn_params"):
        assert getattr(total, key) == sum(getattr(row.cost, key) for row in report.rows), key
        for unit in report.units:
            assert getattr(unit.cost, key) == sum(getattr(row.cost, key) for row in unit.rows)
    standard = total.mult_adds
    for unit in report.units:
        if unit.standard_mult_adds is None:
            continue
        standard += unit.standard_mult_adds - unit.cost.mult_adds
        ops = [row.op for row in unit.rows]
        if unit.unit.type is LayerType.MBCONV:
            # An mbconv's twin has a full k x k conv, expanded to expanded channels, in place of
            # its depthwise conv (the unit's other ops stay).
            (depthwise,) = (op for op in ops if op.kind is OpKind.DEPTHWISE)
            assert depthwise.kernel is not None
            kh, kw = depthwise.kernel
            h, w, c = depthwise.output
            dw_cost = next(r.cost.mult_adds for r in unit.rows if r.op is depthwise)
            full = h * w * kh * kw * c * c
            assert unit.standard_mult_adds == unit.cost.mult_adds - dw_cost + full
            continue
        depthwise, pointwise = ops
        assert depthwise.kernel is not None
        kh, kw = depthwise.kernel
        h, w, n = pointwise.output
        assert unit.standard_mult_adds == h * w * kh * kw * depthwise.input[2] * n
        assert unit.reduction == Fraction(1, n) + Fraction(1, kh * kw)
    assert report.total.standard_mult_adds == standard


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parses_builds_and_analyzes(path: Path, settings: Settings) -> None:
    spec = load_spec(path)
    if path.stem in AUX_AT_OWN_SIZE and settings.resolution(spec.input_size) < spec.input_size:
        with pytest.raises(SpecError, match=f"layer '{AUX_AT_OWN_SIZE[path.stem]}[.]"):
            build_graph(spec, settings)
        return
    report = analyze(build_graph(spec, settings))
    assert report.rows
    check_sums(report)
    assert report.total.cost.mult_adds > 0
    assert report.total.cost.params > 0

    # `res` sets the height and scales the width, or sets both; `rho` scales both; nearest,
    # halves up.
    height, width = spec.input_size
    expected = (height, width)
    if isinstance(settings.res, tuple):
        expected = settings.res
    elif settings.res is not None:
        expected = (settings.res, half_up(Fraction(width * settings.res, height)))
    elif settings.rho is not None:
        expected = (half_up(height * settings.rho), half_up(width * settings.rho))
    assert report.graph.resolution == expected
    assert report.rows[0].op.input == (*expected, spec.input_channels)

    # Weights do not depend on resolution, except an fc that flattens an H x W x C input and
    # a position embedding (C per token; a class token's C besides).
    full = analyze(build_graph(spec, Settings(alpha=settings.alpha)))
    assert [row.op.name for row in report.rows] == [row.op.name for row in full.rows]
    for row, same in zip(report.rows, full.rows, strict=True):
        if row.op.kind == "fc" and row.op.input[:2] != (1, 1):
            out = row.op.output[2]
            assert row.cost.params == math.prod(row.op.input) * out + out, row.op.name
        elif row.op.kind == "tokens":  # the shipped ViTs: a class token and positions
            height, width, channels = row.op.input
            tokens = row.op.output[1]
            assert row.cost.params == (tokens - height * width + tokens) * channels
        else:
            assert row.cost.params == same.cost.params, row.op.name
    if settings.alpha < 1:
        wide = analyze(build_graph(spec, Settings(res=settings.res, rho=settings.rho)))
        assert report.total.cost.mult_adds < wide.total.cost.mult_adds


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_the_shipped_name_loads_the_same_spec(path: Path) -> None:
    by_name = analyze(build_graph(load_shipped(path.stem)))
    by_path = analyze(build_graph(load_spec(path)))
    assert by_name.total == by_path.total
    assert [row.op.name for row in by_name.rows] == [row.op.name for row in by_path.rows]


def test_conv_mobilenet_is_mobilenet_with_standard_convolutions() -> None:
    """Table 4's Conv MobileNet costs what MobileNet's standard twin does (paper, section 3)."""
    for settings in (Settings(), Settings(alpha=Fraction(1, 2), res=160)):
        separable = analyze(build_graph(load_shipped("mobilenet_v1"), settings))
        full = analyze(build_graph(load_shipped("mobilenet_v1_conv"), settings))
        assert full.total.cost.mult_adds == separable.total.standard_mult_adds
        assert full.total.standard_mult_adds == full.total.cost.mult_adds  # nothing separable
