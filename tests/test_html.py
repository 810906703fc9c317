"""`--format html`: one self-contained page per report, read back with `html.parser`.

Every figure on a page is checked against the JSON report of the same command (the same report
objects), the separable reduction against 1/N + 1/k^2, the bars against the units' counts; a
page loads nothing, and names from a spec or a device file stay text.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc.views.escape import visible
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok, one_line_error
from tests.helpers.html_page import (
    HOSTILE_NAME,
    Element,
    cell_values,
    parse_page,
    write_hostile_device,
    write_hostile_spec,
)

PAGES = [
    ("table", "mobilenet_v1"),
    ("table", "mobilenet_v1", "--device", "jetson-nano", "--memory"),
    ("table", "mobilenet_v1", "--summary"),
    ("table", "inception_v3"),
    ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160"),
    ("compare", "mobilenet_v1", "mobilenet_v2", "--device", "jetson-nano", "--profile", "fvcore"),
    ("compare", "mobilenet_v1", "mobilenet_v2", "--summary"),
    ("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,128"),
    ("sweep", "mobilenet_v1", "--alpha", "1,0.5", "--res", "224,8", "--device", "jetson-nano"),
    ("roofline", "mobilenet_v1"),
]
"""A page of every command that writes one, with and without its options' additions."""


def page_of(*command: str) -> Element:
    return parse_page(ok(*command, "--format", "html"))


def json_of(*command: str) -> dict[str, object]:
    document = json.loads(ok(*command, "--format", "json"))
    assert isinstance(document, dict)
    return document


def rows(page: Element, classes: str) -> list[Element]:
    """The body rows of the page's tables that carry the class `classes`."""
    return [
        row
        for body in page.iter("tbody")
        for row in body.children
        if row.tag == "tr" and classes in row.classes()
    ]


def table_with(page: Element, classes: str) -> Element:
    (found,) = [table for table in page.iter("table") if classes in table.classes()]
    return found


# -- the page of `mbcalc table` ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [("table", "mobilenet_v1"), ("table", "mobilenet_v2", "--device", "jetson-nano", "--memory")],
)
def test_every_op_is_one_row_with_the_json_reports_counts(command: tuple[str, ...]) -> None:
    page = page_of(*command)
    report = json_of(*command)
    layers = report["layers"]
    assert isinstance(layers, list)
    ops = rows(page, "op")
    assert len(ops) == len(layers)
    for row, layer in zip(ops, layers, strict=True):
        values = cell_values(row)
        assert row.children[0].text == layer["name"]
        assert values[4] == str(layer["mult_adds"])
        assert values[6] == str(layer["params"])
        assert values[7] == str(layer["bn_params"])
    total = report["total"]
    assert isinstance(total, dict)
    (foot,) = table_with(page, "ops").iter("tfoot")
    (last,) = foot.children
    values = cell_values(last)
    assert values[4] == str(total["mult_adds"])
    assert values[6] == str(total["params"])
    assert values[7] == str(total["bn_params"])
    assert f"{total['mult_adds']:,} mult-adds · {total['params']:,} params" in page.text


def test_deployment_columns_sort_by_the_json_reports_figures() -> None:
    command = ("table", "mobilenet_v1", "--device", "jetson-nano", "--memory")
    layers = json_of(*command)["layers"]
    assert isinstance(layers, list)
    for row, layer in zip(rows(page_of(*command), "op"), layers, strict=True):
        values = cell_values(row)[9:]
        memory, roofline = layer["memory"], layer["roofline"]
        assert values[:3] == [str(memory[key]) for key in ("input_bytes", "output_bytes",
                                                          "weight_bytes")]  # fmt: skip
        assert values[3:] == [
            repr(roofline["intensity"]), roofline["bound"], repr(roofline["seconds"]),
            repr(roofline["time_share"]),
        ]  # fmt: skip


def test_each_separable_unit_shows_its_reduction_against_one_over_n_plus_one_over_k2() -> None:
    page = page_of("table", "mobilenet_v1")
    units = rows(page, "unit")
    assert len(units) == 13  # the paper's Table 1: 13 depthwise-separable units
    layers = json_of("table", "mobilenet_v1")["layers"]
    assert isinstance(layers, list)
    for unit in units:
        name = unit.children[0].text
        pointwise = next(layer for layer in layers if layer["name"] == f"{name}.pw")
        channels, taps = pointwise["output"][-1], 3 * 3
        depthwise = next(layer for layer in layers if layer["name"] == f"{name}.dw")
        inputs = depthwise["input"][-1]
        out_height, out_width, _ = depthwise["output"]
        standard = out_height * out_width * 9 * inputs * channels
        separable = depthwise["mult_adds"] + pointwise["mult_adds"]
        assert Fraction(separable, standard) == Fraction(1, channels) + Fraction(1, taps)
        reduction = float(Fraction(1, channels) + Fraction(1, taps))
        assert unit.children[8].text == f"{reduction:.4f} = 1/{channels} + 1/{taps}"


def test_the_bars_are_each_units_share_of_the_largest() -> None:
    page = page_of("table", "mobilenet_v1")
    units = json_of("table", "mobilenet_v1")["units"]
    assert isinstance(units, list)
    most = {key: max(unit[key] for unit in units) for key in ("mult_adds", "params")}
    bars = [div for div in page.iter("div") if "bar" in div.classes()]
    assert len(bars) == 2 * len(units)
    for unit, mult_adds, params in zip(units, bars[::2], bars[1::2], strict=True):
        for bar, key in ((mult_adds, "mult_adds"), (params, "params")):
            assert bar.attrs["style"] == f"width:{100 * unit[key] / most[key]:.2f}%"
            assert f"{unit[key]:,} {key.replace('_', '-')}" in bar.attrs["title"]


def test_the_header_states_the_setting_profile_and_device() -> None:
    page = page_of("table", "mobilenet_v1", "--alpha", "0.5", "--res", "160", "-d", "jetson-nano")
    (title,) = page.iter("title")
    (heading,) = page.iter("h1")
    (setting,) = [p for p in page.iter("p") if "setting" in p.classes()]
    assert title.text == "MobileNet v1 — alpha 0.5, 160x160"
    assert heading.text == "MobileNet v1"
    assert setting.text == "alpha 0.5 · 160x160 · profile paper · on Jetson Nano (fp16, batch 1)"


def test_the_summary_page_holds_the_totals_alone() -> None:
    page = page_of("table", "mobilenet_v1", "--summary")
    assert not rows(page, "op")
    assert "568,740,352 mult-adds · 4,210,088 params" in page.text  # the paper: 569M, 4.2M


# -- compare, sweep and roofline -----------------------------------------------------------------


def test_compare_shows_each_columns_totals_and_every_aligned_row() -> None:
    command = ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    page = page_of(*command)
    record = json_of(*command)
    columns, aligned = record["columns"], record["rows"]
    assert isinstance(columns, list)
    assert isinstance(aligned, list)
    units, totals = [table for table in page.iter("table") if "sortable" in table.classes()]
    (body,) = units.iter("tbody")
    assert len(body.children) == len(aligned)
    for row, line in zip(body.children, aligned, strict=True):
        assert cell_values(row)[1] == str(line["units"][0]["mult_adds"])
        assert cell_values(row)[4] == str(line["units"][1]["mult_adds"])
    (body,) = totals.iter("tbody")
    for row, column in zip(body.children, columns, strict=True):
        values = cell_values(row)
        assert values[0] == column["argument"]
        assert values[2] == str(column["total"]["mult_adds"])
        assert values[4] == str(column["total"]["params"])


def test_compare_by_layer_type_when_the_units_do_not_correspond() -> None:
    page = page_of("compare", "mobilenet_v1", "mobilenet_v2")
    headings = [heading.text for heading in page.iter("h2")]
    assert headings == ["Totals", "By layer type"]
    assert "fewer than half of the networks' units correspond" in page.text


def test_sweep_heat_map_holds_every_settings_exact_figures() -> None:
    command = ("sweep", "mobilenet_v1", "--alpha", "1,0.75,0.5", "--res", "224,160,8")
    page = page_of(*command)
    settings = json_of(*command)["settings"]
    assert isinstance(settings, list)
    heat = table_with(page, "heat")
    (body,) = heat.iter("tbody")
    cells = [cell for row in body.children for cell in row.children[1:]]
    assert len(cells) == 3 * 3
    for cell, setting in zip(cells, settings, strict=True):
        if setting["valid"]:
            assert cell.attrs["data-value"] == str(setting["mult_adds"])
            assert cell.text == f"{setting['mult_adds']:,}{setting['params']:,}"
        else:
            assert cell.text == "—"
    darkest = [cell for cell in cells if "hsl(212,60%,40.0%)" in cell.attrs.get("style", "")]
    assert [cell.attrs["data-value"] for cell in darkest] == [
        str(max(s["mult_adds"] for s in settings if s["valid"]))
    ]
    body_rows = [row for body in page.iter("tbody") for row in body.children]
    assert len(body_rows) == 3 + len(settings)  # the heat map's rows, then one per setting


def test_roofline_draws_every_op_that_computes_and_lists_every_op() -> None:
    page = page_of("roofline", "mobilenet_v1")
    layers = json_of("roofline", "mobilenet_v1")["layers"]
    assert isinstance(layers, list)
    (svg,) = page.iter("svg")
    drawn = [circle for circle in svg.iter("circle") if circle.iter("title")]  # not the key's
    computing = [layer for layer in layers if layer["mult_adds"] and layer["roofline"]["seconds"]]
    assert len(drawn) == len(computing)
    for circle, layer in zip(drawn, computing, strict=True):
        assert circle.attrs["class"] == layer["roofline"]["bound"]
        assert circle.text.startswith(f"{layer['name']} ({layer['op']}): ")
    assert len(rows(page, "op")) == len(layers)


# -- self-contained, and safe --------------------------------------------------------------------


@pytest.mark.parametrize("command", PAGES, ids=lambda command: "-".join(command)[:60])
def test_a_page_loads_nothing_and_prints_whole(command: tuple[str, ...]) -> None:
    text = ok(*command, "--format", "html")
    for outside in ("http://", "https://", "src=", "<link", "@import", "url(", "//"):
        assert outside not in text, outside
    page = parse_page(text)
    assert all(not {"src", "href"} & set(element.attrs) for element in page.iter()), (
        "an element refers to something outside the page"
    )
    (script,) = page.iter("script")
    assert not script.attrs
    (style,) = page.iter("style")
    assert "@media print" in style.text


@pytest.mark.parametrize("command", ["table", "compare", "sweep", "roofline"])
def test_names_from_a_spec_or_a_device_stay_text(tmp_path: Path, command: str) -> None:
    spec = str(write_hostile_spec(tmp_path))
    device = str(write_hostile_device(tmp_path))
    arguments = {
        "table": ("table", spec, "--device", device, "--memory"),
        "compare": ("compare", spec, f"{spec}@alpha=0.5", "--device", device),
        "sweep": ("sweep", spec, "--res", "32,16", "--device", device),
        "roofline": ("roofline", spec, "--device", device),
    }[command]
    page = page_of(*arguments)
    assert len(page.iter("script")) == 1  # the page's own
    injected = ("img", "b", "a", "i")
    assert not [element.tag for element in page.iter() if element.tag in injected]
    assert not [key for element in page.iter() for key in element.attrs if key.startswith("on")]
    if command != "compare":  # a comparison is titled by its arguments (the file names)
        (head,) = page.iter("head")
        (title,) = head.iter("title")
        (heading,) = page.iter("h1")
        assert HOSTILE_NAME in title.text
        assert HOSTILE_NAME in heading.text
    cells = {cell.text for cell in page.iter("td")}
    if command in ("table", "roofline"):
        assert "<img src=x onerror=alert(2)>" in cells
    if command == "roofline":
        (svg,) = page.iter("svg")
        titles = [title.text for title in svg.iter("title")]
        assert f"{HOSTILE_NAME} on <b onmouseover=alert(3)>board</b>: roofline" in titles
        assert any(title.startswith("<img src=x onerror=alert(2)> (conv)") for title in titles)
    if command in ("table", "roofline"):  # the device's source, in the lines of totals
        assert '<a href="http://evil.example">sheet</a>' in page.text


def test_control_characters_are_shown_escaped(tmp_path: Path) -> None:
    name = "net\x1b[2J\r\n<b>"
    page = page_of("table", str(write_hostile_spec(tmp_path, name)))
    (heading,) = page.iter("h1")
    assert heading.text == visible(name)


# -- writing the page ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".html", ".HTML", ".htm"])
def test_an_html_file_name_asks_for_the_page(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"report{suffix}"
    assert ok("table", "mobilenet_v1", "-o", str(target)) == ""
    assert target.read_text(encoding="utf-8") == ok("table", "mobilenet_v1", "--format", "html")


def test_a_failure_leaves_no_file_and_an_old_one_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 0}\n")
    fresh, old = tmp_path / "fresh.html", tmp_path / "old.html"
    old.write_text("the old page", encoding="utf-8")
    for target in (fresh, old):
        result = invoke_mbcalc("table", str(bad), "--format", "html", "-o", str(target))
        assert_clean_failure(result, 1, str(bad))
    assert not fresh.exists()
    assert old.read_text(encoding="utf-8") == "the old page"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.yaml", "old.html"]


@pytest.mark.parametrize(
    "command",
    [
        ("breakdown", "mobilenet_v1"),
        ("fit", "mobilenet_v1", "--max-mult-adds", "300M"),
        ("scale", "mobilenet_v1", "--phi", "0:1"),
    ],
)
def test_a_command_without_a_page_refuses_html(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = invoke_mbcalc(*command, "--format", "html")
    assert_clean_failure(result, 2)
    assert one_line_error(result) == (
        "--format html asks for an HTML page, which only table, compare, sweep and roofline write "
        "(hint: give --format json, csv or markdown)"
    )
    target = tmp_path / "report.html"
    result = invoke_mbcalc(*command, "-o", str(target))
    assert_clean_failure(result, 2, f"--output {target}, an html file name,")
    assert not target.exists()


def test_a_format_that_contradicts_the_file_name_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = invoke_mbcalc("table", "mobilenet_v1", "--format", "json", "-o", str(target))
    assert_clean_failure(result, 2, "--format json contradicts", "a html file name")
    assert not target.exists()
