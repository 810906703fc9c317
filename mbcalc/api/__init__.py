"""mbcalc from Python, as in a notebook: one call from a spec to a report.

A spec is a shipped spec's name (`"mobilenet_v1"`), a path to a YAML file (text or a `Path`),
or a loaded `Spec`. Settings take ints, floats, decimal text or fractions; a float is taken as
the decimal it prints as (`alpha=0.35` is 35/100, as `--alpha 0.35` is). A mistake raises a
`mbcalc.MbcalcError` that names the argument (settings errors are also `ValueError`s).

MobileNet v1 at alpha 1, 224x224 (the mult-adds and params that Table 1 of Howard et al.,
2017, adds up to, 569M and 4.2M as printed; tests/test_paper.py derives them):

>>> import mbcalc
>>> report = mbcalc.analyze("mobilenet_v1")
>>> report.total.mult_adds, report.total.params
(568740352, 4210088)
>>> report  # one conv, 13 separable units of two ops each, the pool and the classifier
<Report mobilenet_v1 alpha=1 res=224: 568,740,352 mult-adds, 4,210,088 params, 29 ops>
>>> report.ops[1].type, report.ops[1].output
('Conv DW 3x3', (112, 112, 32))
>>> mbcalc.analyze("mobilenet_v1", alpha=0.5, res=160).total.mult_adds  # Table 9's 0.50-160
76524800
>>> mbcalc.analyze("mobilenet_v1", alpha=-1)
Traceback (most recent call last):
...
mbcalc.errors.SettingValueError: alpha must be greater than 0, got -1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from os import PathLike

from mbcalc.api.inputs import (
    ArgumentError,
    alphas_of,
    budget_of,
    heights_of,
    profile_of,
)
from mbcalc.api.results import Analysis, Compared, Fitted, Scaled, Swept
from mbcalc.core.graph import Graph, build_graph
from mbcalc.core.report import analyze as analyze_graph
from mbcalc.core.settings import Multiplier, Pixels, request_of, to_multiplier
from mbcalc.spec import Spec
from mbcalc.spec.zoo import load_any

SpecLike = Spec | str | PathLike[str]
"""A spec as the API takes one: a loaded `Spec`, a shipped name or a path."""

__all__ = [
    "Analysis",
    "ArgumentError",
    "Compared",
    "Fitted",
    "Scaled",
    "Swept",
    "analyze",
    "compare",
    "fit",
    "scale",
    "sweep",
]


def analyze(
    spec: SpecLike | Graph,
    alpha: Multiplier | None = None,
    res: Pixels | None = None,
    rho: Multiplier | None = None,
    *,
    depth: Multiplier | None = None,
    profile: str = "paper",
    flops: bool = False,
    count: str | Mapping[str, int] | None = None,
    params: str | None = None,
) -> Analysis:
    """Mult-adds and params of `spec` at width `alpha`, depth multiplier `depth` and input size
    `res` (a height, the width following in proportion, or `(height, width)`), or resolution
    multiplier `rho`, per op and in total, as `mbcalc table` reports them. A setting not given
    is the spec's own default (`defaults:`), else alpha 1, depth 1 and its input size.

    `spec` may also be a graph (`mbcalc.build_graph(spec, settings)`), analyzed at its own
    settings. `profile`, `flops`, `count` and `params` choose what `report.counted` counts, as
    `--profile`, `--flops`, `--count` and `--params` do.

    >>> report = analyze("mobilenet_v1", profile="torch")  # 2 FLOPs per mult-add
    >>> report.counted.operations == 2 * report.total.mult_adds
    True
    """
    from mbcalc.core.profiles import count as count_under

    chosen = profile_of(profile, flops, count, params)  # refused before any work
    if isinstance(spec, Graph):
        if alpha not in (None, 1) or (res, rho, depth) != (None, None, None):
            raise ArgumentError(
                "a graph is analyzed at its own settings", hint="pass its spec to set them"
            )
        graph, label = spec, spec.spec.name
    else:
        loaded = load_any(spec)
        graph = build_graph(loaded, request_of(alpha, res, rho, depth).settings(loaded.defaults))
        label = _label(spec)
    report = analyze_graph(graph)
    return Analysis.of(report, label, count_under(report, chosen))


def _label(spec: SpecLike) -> str:
    """How a report names its spec: as the caller wrote it, or the spec's own name."""
    return spec.name if isinstance(spec, Spec) else str(spec)


def compare(
    first: SpecLike,
    second: SpecLike,
    *more: SpecLike,
    alpha: Multiplier | None = None,
    depth: Multiplier | None = None,
    res: Pixels | None = None,
    rho: Multiplier | None = None,
    profile: str = "paper",
    flops: bool = False,
    count: str | Mapping[str, int] | None = None,
    params: str | None = None,
) -> Compared:
    """Two or more specs side by side, as `mbcalc compare`; the first is the reference.

    A spec given as text may carry its own settings, as on the command line
    (`"mobilenet_v1@alpha=0.5,res=160"`); `alpha`, `depth`, `res` and `rho` set the rest, then
    each spec's own defaults. `profile`,
    `flops`, `count` and `params` add each column's totals under a counting profile, as in
    `analyze`.

    >>> both = compare("mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    >>> [record["mult_adds"] for record in both.to_records()]
    [568740352, 76524800]
    """
    from mbcalc.core.compare import Target, compare_arguments, load, parse_target
    from mbcalc.core.compare import compare as align

    chosen = profile_of(profile, flops, count, params)
    defaults = request_of(alpha, res, rho, depth)
    specs = (first, second, *more)
    if all(isinstance(spec, str) for spec in specs):
        return Compared(compare_arguments([str(spec) for spec in specs], defaults, chosen))
    targets, reports = [], []
    for spec in specs:
        if isinstance(spec, str):
            target = parse_target(spec)
            reports.append(load(target, defaults))
        else:
            target = Target(_label(spec), _label(spec))
            loaded = load_any(spec)
            reports.append(analyze_graph(build_graph(loaded, defaults.settings(loaded.defaults))))
        targets.append(target)
    return Compared(align(targets, reports, chosen))


def sweep(
    spec: SpecLike,
    alpha: Multiplier | Iterable[Multiplier] = "1,0.75,0.5,0.25",
    res: Pixels | Iterable[Pixels] | None = None,
    *,
    depth: Multiplier | Iterable[Multiplier] | None = None,
    profile: str = "paper",
    flops: bool = False,
    count: str | Mapping[str, int] | None = None,
    params: str | None = None,
) -> Swept:
    """Mult-adds and params of `spec` at every width in `alpha` and input size in `res` (heights
    or (height, width) pairs; the spec's own without), as `mbcalc sweep`: lists, or ranges as
    text (`"0.25:1:0.05"`). `depth` adds depth multipliers as a third axis, taken as `alpha` is
    (each depth's alphas are rows of their own; without it, the spec's own depth). `profile`,
    `flops`, `count` and `params` add each setting's totals under a counting profile, as in
    `analyze`.

    >>> grid = sweep("mobilenet_v1", alpha=[1, 0.5], res=[224, 160])
    >>> grid.arrays()["mult_adds"].tolist()  # alphas x heights; tests/test_paper.py's figures
    [[568740352, 290675200], [149497088, 76524800]]
    """
    from mbcalc.core.limits import check_grid
    from mbcalc.grid.depths import own_axes
    from mbcalc.grid.refusals import explain_invalid
    from mbcalc.grid.sweep import sweep as sweep_grid

    chosen = profile_of(profile, flops, count, params)
    alphas, heights = alphas_of(alpha), heights_of(res)
    depths = None if depth is None else alphas_of(depth, "depth")
    check_grid(len(alphas) * len(depths or [1]), 1 if heights is None else len(heights))
    loaded = load_any(spec)
    own_heights, own_depths = own_axes(loaded, heights, depths)
    grid = sweep_grid(loaded, alphas, own_heights, profile=chosen, depths=own_depths)
    return Swept(grid, explain_invalid(grid))


def fit(
    spec: SpecLike,
    max_mult_adds: int | str,
    max_params: int | str | None = None,
    *,
    alpha: Multiplier | Iterable[Multiplier] | None = None,
    res: Pixels | Iterable[Pixels] | None = None,
    depth: Multiplier | Iterable[Multiplier] | None = None,
    list_all: bool = False,
) -> Fitted:
    """The widths and input heights of `spec` within a budget of mult-adds (and params), as
    `mbcalc fit`: by default alphas 0.05 to 1 in steps of 0.05, heights in steps of 32 and the
    spec's own depth (`depth` searches depth multipliers too). Budgets are counts or text such
    as `"150M"`.

    >>> fitted = fit("mobilenet_v1", max_mult_adds="150M", max_params="1.5M")
    >>> fitted.best.alpha, fitted.best.resolution, fitted.best.mult_adds
    (Fraction(1, 2), (224, 224), 149497088)
    """
    from mbcalc.core.limits import check_grid
    from mbcalc.grid.depths import own_axes
    from mbcalc.grid.fit import DEFAULT_ALPHAS, default_heights
    from mbcalc.grid.fit import fit as fit_budget

    loaded = load_any(spec)
    alphas = list(DEFAULT_ALPHAS) if alpha is None else alphas_of(alpha)
    heights = default_heights(loaded) if res is None else heights_of(res)
    depths = own_axes(loaded, heights, None if depth is None else alphas_of(depth, "depth"))[1]
    check_grid(len(alphas) * len(depths), len(heights or ()))
    budget = budget_of(max_mult_adds, "max_mult_adds")
    params = None if max_params is None else budget_of(max_params, "max_params")
    found = fit_budget(loaded, budget, params, alphas, heights, list_all=list_all, depths=depths)
    return Fitted(found)


def scale(
    spec: SpecLike,
    phi: Multiplier | Iterable[Multiplier] = "0:7",
    *,
    depth_step: Multiplier = "1.2",
    width_step: Multiplier = "1.1",
    res_step: Multiplier = "1.15",
    max_mult_adds: int | str | None = None,
    max_params: int | str | None = None,
) -> Scaled:
    """`spec` under EfficientNet's compound scaling at each `phi` (a value, a list, or text as
    `mbcalc scale --phi` takes it: `"0:7"`, `"0:3:0.5"`), as `mbcalc scale`: depth, width and
    input sides times `depth_step`, `width_step` and `res_step` to the power phi, each factor
    rounded to 4 decimals. With a budget, `best` is the largest phi within it.

    >>> scaled = scale("efficientnet_b0", phi=[0, 1])
    >>> [(row.depth, row.alpha, row.resolution) for row in scaled.scaling.rows][1]
    (Fraction(6, 5), Fraction(11, 10), (258, 258))
    """
    from mbcalc.grid.fit import Budget
    from mbcalc.grid.scaling import Steps, checked_phis, parse_phis
    from mbcalc.grid.scaling import scale as scale_spec

    try:
        if isinstance(phi, str):
            phis = parse_phis(phi, "phi")
        else:
            values = [phi] if isinstance(phi, Fraction | int | float) else phi
            phis = checked_phis([to_multiplier(value, "phi") for value in values], "phi")
    except ValueError as error:
        raise ArgumentError(str(error)) from None
    steps = Steps(*(to_multiplier(step, name) for step, name in (
        (depth_step, "depth_step"), (width_step, "width_step"), (res_step, "res_step"),
    )))  # fmt: skip
    budget = None
    if max_mult_adds is not None or max_params is not None:
        budget = Budget(
            None if max_mult_adds is None else budget_of(max_mult_adds, "max_mult_adds"),
            None if max_params is None else budget_of(max_params, "max_params"),
        )
    return Scaled(scale_spec(load_any(spec), phis, steps, budget=budget))
