"""The Python API as a notebook uses it: `mbcalc.analyze("spec.yaml", alpha=0.35)` and the
reports, comparisons, sweeps and fits it returns.

Expected counts come from the textbook formulas for a small spec written here, from the
MobileNets paper's Table 1 (tests/test_paper.py derives its exact totals), or from the command
line's own JSON, which each `to_dict()` must equal key for key.
"""

from __future__ import annotations

import doctest
import importlib
import json
import math
from fractions import Fraction
from pathlib import Path

import pandas
import pytest

import mbcalc
from mbcalc.errors import SettingsError, UnknownSpecError
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import ok
from tests.helpers.docs import ROOT, read_page
from tests.helpers.process import run_python

MOBILENET_MULT_ADDS = 568_740_352  # MobileNet v1 1.0-224: Table 1 of Howard et al. (2017)
MOBILENET_PARAMS = 4_210_088
MOBILENET_OPS = 1 + 13 * 2 + 1 + 1  # the conv, 13 separable units of two ops, pool, classifier
MOBILENET_05_160_MULT_ADDS = 76_524_800  # Table 9's 0.50 MobileNet-160, exactly

TINY = """\
name: {name}
input: {{size: 224, channels: 3}}
layers:
  - conv:      {{out: 40, kernel: 3, stride: 2}}
  - separable: {{out: 60}}
  - pool:      {{global: true}}
  - fc:        {{out: 10}}
"""


def tiny_counts(alpha: Fraction, height: int) -> tuple[int, int]:
    """Mult-adds and params of TINY by the textbook formulas: channels floor(c x alpha), a
    stride-2 SAME conv halving the side, no bias but the classifier's."""
    conv, pointwise = math.floor(40 * alpha), math.floor(60 * alpha)
    side = (height + 1) // 2
    mult_adds = side * side * (conv * 3 * 3 * 3 + conv * 3 * 3 + conv * pointwise)
    mult_adds += pointwise * 10
    params = 3 * 3 * 3 * conv + 3 * 3 * conv + conv * pointwise + pointwise * 10 + 10
    return mult_adds, params


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`tiny.yaml` in the working folder: its name as a notebook would type it."""
    (tmp_path / "tiny.yaml").write_text(TINY.format(name="tiny"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "tiny.yaml"


# -- analyze ------------------------------------------------------------------------------------


def test_a_str_path_and_a_float_alpha_give_the_exact_counts(tiny: str) -> None:
    """0.35 is 35/100: 40 x 0.35 is 14 and 60 x 0.35 is 21, where the binary float 0.35
    (0.34999999999999997...) would floor them to 13 and 20."""
    assert 40 * Fraction(0.35) < 14
    mult_adds, params = tiny_counts(Fraction(35, 100), 128)
    report = mbcalc.analyze(tiny, alpha=0.35, res=128)
    assert report.total.mult_adds == mult_adds
    assert report.total.params == params
    assert report.ops[0].output == (64, 64, 14)


@pytest.mark.parametrize("alpha", [0.35, "0.35", "7/20", Fraction(7, 20)])
def test_alpha_is_taken_exactly_in_every_form(tiny: str, alpha: float | str | Fraction) -> None:
    assert mbcalc.analyze(tiny, alpha=alpha).total.mult_adds == tiny_counts(Fraction(7, 20), 224)[0]


def test_every_spec_form_gives_the_same_report(tiny: str) -> None:
    path = Path(tiny).resolve()
    spec = mbcalc.load_spec(path)
    graph = mbcalc.build_graph(spec)
    totals = {mbcalc.analyze(form).total.mult_adds for form in (tiny, path, str(path), spec, graph)}
    assert totals == {tiny_counts(Fraction(1), 224)[0]}


def test_a_shipped_spec_by_name_at_the_papers_settings() -> None:
    report = mbcalc.analyze("mobilenet_v1")
    assert (report.total.mult_adds, report.total.params) == (MOBILENET_MULT_ADDS, MOBILENET_PARAMS)
    half = mbcalc.analyze("mobilenet_v1", alpha=0.5, res=160)
    assert half.total.mult_adds == MOBILENET_05_160_MULT_ADDS


def test_the_graph_form_of_today_still_works_and_is_a_report() -> None:
    graph = mbcalc.build_graph(load_shipped("mobilenet_v1"))
    report = mbcalc.analyze(graph)
    assert isinstance(report, mbcalc.Report)
    assert report.total.cost.mult_adds == MOBILENET_MULT_ADDS
    assert mbcalc.breakdown(report)[0].cost.mult_adds > 0
    with pytest.raises(mbcalc.ArgumentError, match="its own settings"):
        mbcalc.analyze(graph, alpha=0.5)


def test_ops_have_readable_types_and_float_shares() -> None:
    report = mbcalc.analyze("mobilenet_v1")
    first, depthwise, last = report.ops[0], report.ops[1], report.ops[-1]
    assert (first.name, first.type, first.op) == ("conv1", "Conv 3x3", "conv")
    assert (depthwise.type, depthwise.input, depthwise.output) == (
        "Conv DW 3x3",
        (112, 112, 32),
        (112, 112, 32),
    )
    assert last.type == "Fully connected"
    assert last.mult_adds == last.params - 1000 == 1024 * 1000  # 1024 -> 1000, with biases
    assert isinstance(last.mult_adds_share, float)
    assert last.mult_adds_share == pytest.approx(1024 * 1000 / MOBILENET_MULT_ADDS)


def test_repr_is_one_short_line_of_computed_figures(tiny: str) -> None:
    mult_adds, params = tiny_counts(Fraction(35, 100), 128)
    report = mbcalc.analyze(tiny, alpha=0.35, res=128)
    assert repr(report) == (
        f"<Report tiny.yaml alpha=0.35 res=128: {mult_adds:,} mult-adds, {params:,} params, 5 ops>"
    )


def test_to_dict_is_the_json_report_of_the_command_line() -> None:
    printed = ok("table", "mobilenet_v2", "--alpha", "0.35", "--res", "128", "--format", "json")
    report = mbcalc.analyze("mobilenet_v2", alpha=0.35, res=128)
    assert json.loads(json.dumps(report.to_dict())) == json.loads(printed)
    counted = ok("table", "mobilenet_v1", "--profile", "fvcore", "--count", "bias", "-f", "json")
    fvcore = mbcalc.analyze("mobilenet_v1", profile="fvcore", count={"bias": 1})
    assert json.loads(json.dumps(fvcore.to_dict())) == json.loads(counted)


def test_records_make_a_dataframe_whose_columns_add_up() -> None:
    report = mbcalc.analyze("mobilenet_v2", alpha=0.35)
    frame = pandas.DataFrame(report.to_records())
    assert list(frame.columns) == [
        "name", "unit", "type", "op", "kernel", "stride", "input", "output",
        "mult_adds", "params", "bn_params", "mult_adds_share", "params_share",
    ]  # fmt: skip
    for column in ("mult_adds", "params", "bn_params"):
        assert frame[column].dtype == "int64"
    assert frame["mult_adds_share"].dtype == "float64"
    assert len(frame) == len(report.rows)
    assert int(frame["mult_adds"].sum()) == report.total.mult_adds
    assert int(frame["params"].sum()) == report.total.params
    assert frame["mult_adds_share"].sum() == pytest.approx(1)


def test_the_html_table_escapes_what_the_spec_says(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(TINY.format(name="'<b>bold</b> & \"more\"'"), encoding="utf-8")
    html = mbcalc.analyze(path)._repr_html_()
    assert "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;more&quot;" in html
    mult_adds = tiny_counts(Fraction(1), 224)[0]
    assert f"{mult_adds:,}" in html
    assert html.count("<tr>") == 1 + 5  # the heading, then one row per op


def test_a_profile_counts_as_the_command_line_does() -> None:
    report = mbcalc.analyze("mobilenet_v1", flops=True)
    assert report.counted is not None
    assert report.counted.operations == 2 * MOBILENET_MULT_ADDS


# -- errors name the Python argument ------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": -1}, "alpha must be greater than 0, got -1"),
        ({"alpha": 0.0}, "alpha must be greater than 0, got 0"),
        ({"alpha": "abc"}, "alpha: 'abc' is not a number"),
        ({"res": 0}, "res must be a positive number of pixels, got 0"),
        ({"res": 127.5}, "res must be a whole number of pixels, got 127.5"),
        ({"rho": -0.5}, "rho must be greater than 0, got -0.5"),
        ({"res": 160, "rho": 0.5}, "give res or rho, not both"),
        ({"alpha": 10**10}, "alpha must be at most 1,000,000,000"),
    ],
)
def test_a_bad_setting_names_the_argument(settings: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        mbcalc.analyze("mobilenet_v2", **settings)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(message)
    assert "--" not in str(caught.value)


def test_a_height_and_width_pair_is_the_input_size() -> None:
    """res=(h, w) and res="HxW" set both sides, as --res 128x96 does; MobileNet v1's
    mult-adds then scale with the number of pixels of every map (Howard et al. 2017, eq. 5)."""
    square = mbcalc.analyze("mobilenet_v1", res=128).total.mult_adds
    pair = mbcalc.analyze("mobilenet_v1", res=(128, 128)).total.mult_adds
    assert pair == square
    text = mbcalc.analyze("mobilenet_v1", res="128x96")
    assert text.total.mult_adds == mbcalc.analyze("mobilenet_v1", res=(128, 96)).total.mult_adds
    assert text.graph.resolution == (128, 96)


def test_a_resolution_of_three_sides_is_refused_with_a_hint() -> None:
    with pytest.raises(SettingsError, match="res is a height or a") as caught:
        mbcalc.analyze("mobilenet_v2", res=(128, 96, 3))  # type: ignore[arg-type]
    assert caught.value.hint is not None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"profile": "nope"}, "unknown profile 'nope'"),
        ({"count": "bogus"}, "count: unknown operation 'bogus'"),
        ({"params": "all"}, "unknown params rule 'all'"),
    ],
)
def test_a_bad_counting_argument_names_it(options: dict[str, str], message: str) -> None:
    with pytest.raises(mbcalc.ArgumentError, match=message):
        mbcalc.analyze("mobilenet_v1", **options)  # type: ignore[arg-type]


def test_an_unknown_name_gets_the_did_you_mean_hint() -> None:
    with pytest.raises(UnknownSpecError) as caught:
        mbcalc.analyze("mobilenet_v3_larg")
    assert "did you mean mobilenet_v3_large?" in str(caught.value)


# -- the frictions of the library -----------------------------------------------------------


def test_load_spec_takes_a_str_path(tiny: str) -> None:
    assert mbcalc.load_spec(tiny).name == "tiny"


def test_load_shipped_takes_a_name_with_its_suffix() -> None:
    assert repr(load_shipped("mobilenet_v1.yaml")) == repr(load_shipped("mobilenet_v1"))


def test_load_shipped_says_it_wants_a_shipped_name(tiny: str) -> None:
    with pytest.raises(UnknownSpecError) as caught:
        load_shipped(tiny)
    assert str(caught.value).startswith("no shipped spec named 'tiny.yaml'")
    assert "load_spec" in str(caught.value)


@pytest.mark.parametrize("alpha", [0.35, "0.35", 7 / 20])
def test_settings_take_a_float_as_the_decimal_it_prints(alpha: float | str) -> None:
    assert mbcalc.Settings(alpha=alpha).alpha == Fraction(35, 100)  # type: ignore[arg-type]


def test_settings_refuse_what_is_no_number_naming_it() -> None:
    with pytest.raises(SettingsError, match="--alpha must be a number, got list"):
        mbcalc.Settings(alpha=[1])  # type: ignore[arg-type]


def test_layer_types_read_as_text() -> None:
    """Table 2 of the paper: 1x1 convolutions take the most mult-adds (94.86%)."""
    rows = mbcalc.breakdown(mbcalc.analyze(mbcalc.build_graph(load_shipped("mobilenet_v1"))))
    assert str(rows[0].category) == "pointwise 1x1"
    assert {str(row.category) for row in rows} >= {"conv 3x3", "depthwise 3x3", "fc"}


# -- compare, sweep, fit ------------------------------------------------------------------------


def test_compare_equals_the_command_line() -> None:
    arguments = ("mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    compared = mbcalc.compare(*arguments)
    assert compared.to_dict() == json.loads(ok("compare", *arguments, "--format", "json"))
    records = compared.to_records()
    assert [record["mult_adds"] for record in records] == [
        MOBILENET_MULT_ADDS,
        MOBILENET_05_160_MULT_ADDS,
    ]
    assert records[1]["mult_adds_ratio"] == pytest.approx(
        MOBILENET_05_160_MULT_ADDS / MOBILENET_MULT_ADDS, abs=1e-6
    )
    assert repr(compared) == (
        f"<Comparison {' vs '.join(arguments)}: "
        f"{MOBILENET_MULT_ADDS:,} / {MOBILENET_05_160_MULT_ADDS:,} mult-adds>"
    )
    assert "mobilenet_v1@alpha=0.5,res=160" in compared._repr_html_()


def test_compare_takes_paths_specs_and_settings_for_all(tiny: str) -> None:
    compared = mbcalc.compare(Path(tiny), mbcalc.load_spec(tiny), tiny, alpha=0.35, res=128)
    expected = tiny_counts(Fraction(35, 100), 128)[0]
    assert [record["mult_adds"] for record in compared.to_records()] == [expected] * 3
    assert [report.label for report in compared.reports] == ["tiny.yaml", "tiny", "tiny.yaml"]


def test_sweep_equals_the_command_line_and_gives_arrays() -> None:
    swept = mbcalc.sweep("mobilenet_v1", alpha=[1, 0.5], res=[224, 160])
    printed = ok("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,160", "-f", "json")
    assert swept.to_dict() == json.loads(printed)
    arrays = swept.arrays()
    assert arrays["alpha"].tolist() == [1.0, 0.5]
    assert arrays["height"].tolist() == [224, 160]
    assert arrays["mult_adds"][0, 0] == MOBILENET_MULT_ADDS
    assert arrays["mult_adds"][1, 1] == MOBILENET_05_160_MULT_ADDS
    frame = pandas.DataFrame(swept.to_records())
    assert list(frame.columns[:4]) == ["alpha", "height", "width", "valid"]
    assert frame["mult_adds"].dtype == "int64"
    assert frame["mult_adds"].tolist() == arrays["mult_adds"].ravel().tolist()


def test_compare_and_sweep_count_under_a_profile_as_the_command_line_does() -> None:
    compared = mbcalc.compare("mobilenet_v1", "mobilenet_v2", profile="fvcore", count="bias")
    printed = ok("compare", "mobilenet_v1", "mobilenet_v2", "-p", "fvcore", "--count", "bias",
                 "-f", "json")  # fmt: skip
    assert compared.to_dict() == json.loads(printed)
    swept = mbcalc.sweep("mobilenet_v2", alpha=[1, 0.5], res=[(224, 224), (128, 96)],
                         profile="thop")  # fmt: skip
    printed = ok("sweep", "mobilenet_v2", "--alpha", "1,0.5", "--res", "224x224,128x96", "-p",
                 "thop", "-f", "json")  # fmt: skip
    assert swept.to_dict() == json.loads(printed)
    arrays, records = swept.arrays(), swept.to_records()
    assert arrays["width"].tolist() == [224, 96]
    for a, alpha in enumerate((1, 0.5)):
        for r, res in enumerate(((224, 224), (128, 96))):
            one = mbcalc.analyze("mobilenet_v2", alpha=alpha, res=res, profile="thop")
            assert one.counted is not None
            assert arrays["operations"][a, r] == one.counted.operations
            assert records[2 * a + r]["operations"] == one.counted.operations
            assert records[2 * a + r]["counted_params"] == one.counted.params


def test_sweep_takes_ranges_as_the_command_line_writes_them() -> None:
    swept = mbcalc.sweep("mobilenet_v1", alpha="0.25:1:0.25", res="160,224")
    assert [record["alpha"] for record in swept.to_records()][::2] == [0.25, 0.5, 0.75, 1.0]
    with pytest.raises(mbcalc.ArgumentError, match="alpha"):
        mbcalc.sweep("mobilenet_v1", alpha="1:0.5:0.1")


def test_fit_equals_the_command_line() -> None:
    fitted = mbcalc.fit("mobilenet_v1", max_mult_adds="150M", max_params=1_500_000)
    printed = ok("fit", "mobilenet_v1", "--max-mult-adds", "150M", "--max-params", "1.5M", "-f",
                 "json")  # fmt: skip
    assert fitted.to_dict() == json.loads(printed)
    assert fitted.best is not None
    assert fitted.best.mult_adds == 149_497_088  # 0.50 MobileNet-224: tests/test_paper.py
    assert [record["best"] for record in fitted.to_records()][-1] is True


# -- mbcalc.torch.build -------------------------------------------------------------------------


@pytest.mark.torch
def test_build_takes_settings_as_arguments(tiny: str) -> None:
    pytest.importorskip("torch")
    network = importlib.import_module("mbcalc.torch")
    built = network.build(tiny, alpha=0.35, res=128)
    as_before = network.build(mbcalc.load_spec(tiny), mbcalc.Settings(Fraction(7, 20), 128))
    sizes = [tuple(p.shape) for p in built.parameters()]
    assert sizes == [tuple(p.shape) for p in as_before.parameters()]
    assert sizes[0] == (14, 3, 3, 3)
    with pytest.raises(ValueError, match="not both"):
        network.build(tiny, mbcalc.Settings(), alpha=0.5)


# -- the module and its examples ---------------------------------------------------------------


def test_the_docstring_examples_run() -> None:
    failed, attempted = doctest.testmod(importlib.import_module("mbcalc.api"))
    assert failed == 0
    assert attempted >= 5


def test_an_old_module_path_leaves_the_functions_in_place() -> None:
    from mbcalc import api

    old = importlib.import_module("mbcalc.compare")
    assert old is importlib.import_module("mbcalc.core.compare")
    assert mbcalc.compare is api.compare
    importlib.import_module("mbcalc.sweep")
    importlib.import_module("mbcalc.fit")
    assert (mbcalc.sweep, mbcalc.fit) == (api.sweep, api.fit)


def test_importing_mbcalc_loads_the_api_on_first_use_only() -> None:
    code = (
        "import sys, mbcalc\n"
        "print('mbcalc.api' in sys.modules)\n"
        "mbcalc.analyze\n"
        "print('mbcalc.api' in sys.modules)\n"
    )
    done = run_python(code)
    assert done.stdout.split() == ["False", "True"]


# -- the notebook example of docs/library.md -----------------------------------------------------


def library_example() -> list[str]:
    """The lines of the first Python example of docs/library.md's notebook section."""
    page = read_page(ROOT / "docs" / "library.md")
    return page.blocks_in("In a notebook", "python")[0].text.splitlines()


def test_the_readme_notebook_example_shows_what_it_prints() -> None:
    """Each line is run in turn; a line `EXPRESSION  # -> TEXT` must show TEXT as its repr."""
    namespace: dict[str, object] = {}
    shown = 0
    for line in library_example():
        code, arrow, text = line.partition("  # -> ")
        if arrow:
            assert repr(eval(code, namespace)) == text, code
            shown += 1
        else:
            exec(line, namespace)
    assert shown >= 5
    report = namespace["report"]
    assert isinstance(report, mbcalc.Report)
    assert report.total.cost.mult_adds == MOBILENET_05_160_MULT_ADDS
