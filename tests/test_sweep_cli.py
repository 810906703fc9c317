"""`mbcalc sweep` on the command line: the paper's Tables 6 and 7 in every format, agreement with
`mbcalc table` cell by cell, lists and ranges, the default resolution, errors, --output, --plot.

Expected counts come from the paper's printed figures and from its cost formulas,
recomputed by `tests.helpers.mobilenet_v1`; `mbcalc table` is the reference for the other
shipped specs. None is taken from `mbcalc sweep`'s own output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbcalc.cli.load import MAX_TABLE_CELLS
from mbcalc.spec.zoo import shipped_names
from tests.helpers.cli import (
    PNG_MAGIC,
    assert_clean_failure,
    invoke_mbcalc,
    ok,
    ok_plotting,
    one_line_error,
)
from tests.helpers.mobilenet_v1 import v1_reference

# The paper's Table 6 (224x224) and Table 7 (alpha 1.0) as printed: mult-adds in
# millions, params in millions to one decimal.
TABLE_6 = {"1": (569, 4.2), "0.75": (325, 2.6), "0.5": (149, 1.3), "0.25": (41, 0.5)}
TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}
TABLE_7_PARAMS = 4.2
# Table 7 prints 290M at 160; the formula gives 290,675,200 (291M rounded): docs/counting.md,
# "the paper against mbcalc".
TABLE_7_160_EXACT = 290_675_200

ALPHAS = ("1", "0.75", "0.5", "0.25")
HEIGHTS = (224, 192, 160, 128)
PAPER_GRID = ("--alpha", ",".join(ALPHAS), "--res", ",".join(map(str, HEIGHTS)))

SWEEP_SCHEMA = "mbcalc.sweep/1"
RECORD_KEYS = {
    "alpha", "depth", "resolution", "valid", "mult_adds", "params", "bn_params", "activations",
}  # fmt: skip
CSV_HEADER = [
    "alpha", "height", "width", "valid", "mult_adds", "params", "bn_params", "activations",
]  # fmt: skip
COUNTS = ("mult_adds", "params", "bn_params")


def sweep_json(*args: str) -> dict[str, Any]:
    data = json.loads(ok("sweep", *args, "--format", "json"))
    assert isinstance(data, dict)
    return data


def sweep_csv(*args: str) -> list[dict[str, str]]:
    text = ok("sweep", *args, "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    if rows[0][0] == "depth":  # only a grid at depths other than 1 (a spec's own `defaults:`)
        assert any(Fraction(row[0]) != 1 for row in rows[1:])
        rows = [row[1:] for row in rows]
    assert rows[0] == CSV_HEADER
    return [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]


def paper_cells() -> dict[tuple[str, int], dict[str, int]]:
    """The 4 x 4 grid from the paper's formulas (Section 3), checked against its printed tables."""
    cells = {
        (alpha, height): v1_reference(Fraction(alpha), height, height)
        for alpha in ALPHAS
        for height in HEIGHTS
    }
    for alpha, (mult_adds, params) in TABLE_6.items():
        cell = cells[alpha, 224]
        assert round(cell["mult_adds"] / 1e6) == mult_adds, alpha
        assert round(cell["params"] / 1e6, 1) == params, alpha
    for height, mult_adds in TABLE_7.items():
        cell = cells["1", height]
        assert round(cell["params"] / 1e6, 1) == TABLE_7_PARAMS
        if height == 160:  # printed 290M: the exact count is 0.68M above it
            assert cell["mult_adds"] == TABLE_7_160_EXACT
            assert 0 < cell["mult_adds"] - mult_adds * 10**6 < 10**6
        else:
            assert round(cell["mult_adds"] / 1e6) == mult_adds, height
    return cells


PAPER = paper_cells()


# --- the paper's Tables 6 and 7, in every format -----------------------------------------------


def test_json_holds_tables_6_and_7_as_one_record_per_setting() -> None:
    data = sweep_json("mobilenet_v1", *PAPER_GRID)
    assert data["schema"] == SWEEP_SCHEMA
    assert data["spec"] == "MobileNet v1"
    assert data["refused"] == []
    records = data["settings"]
    # Alphas outer, resolutions inner, in the order given.
    order = [(alpha, height) for alpha in ALPHAS for height in HEIGHTS]
    assert len(records) == len(order)
    for record, (alpha, height) in zip(records, order, strict=True):
        assert set(record) == RECORD_KEYS
        assert record["alpha"] == float(Fraction(alpha))
        assert record["resolution"] == [height, height]
        assert record["valid"] is True
        for key in COUNTS:
            assert type(record[key]) is int, (key, record[key])  # exact, never a float
            assert record[key] == PAPER[alpha, height][key], (alpha, height, key)


def test_csv_holds_tables_6_and_7_in_long_format() -> None:
    rows = sweep_csv("mobilenet_v1", *PAPER_GRID)
    order = [(alpha, height) for alpha in ALPHAS for height in HEIGHTS]
    assert len(rows) == len(order)
    for row, (alpha, height) in zip(rows, order, strict=True):
        assert Fraction(row["alpha"]) == Fraction(alpha)
        assert (row["height"], row["width"], row["valid"]) == (str(height), str(height), "true")
        for key in COUNTS:
            assert row[key] == str(PAPER[alpha, height][key]), (alpha, height, key)


def test_markdown_is_the_papers_grid_with_exact_counts() -> None:
    text = ok("sweep", "mobilenet_v1", *PAPER_GRID, "--format", "markdown")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["alpha", *(f"{h}x{h}" for h in HEIGHTS)]
    assert set(lines[1]) <= set("|-: ")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[0] for row in rows] == list(ALPHAS)
    for row in rows:
        for height, cell in zip(HEIGHTS, row[1:], strict=True):
            expected = PAPER[row[0], height]
            assert cell == f"{expected['mult_adds']:,} / {expected['params']:,}", cell


HUMAN = re.compile(r"(?P<value>\d+\.\d\d)(?P<unit>[KMG])")
UNITS = {"K": 10**3, "M": 10**6, "G": 10**9}


def human_to_int(text: str) -> tuple[float, int]:
    """'568.74M' -> (568.74 * 10**6, 10**6): the value and its unit."""
    match = HUMAN.fullmatch(text)
    assert match is not None, text
    unit = UNITS[match["unit"]]
    return float(match["value"]) * unit, unit


def test_table_is_the_papers_grid_in_human_units() -> None:
    text = ok("sweep", "mobilenet_v1", *PAPER_GRID)
    assert "MobileNet v1" in text
    assert "\x1b[" not in text  # not a terminal: plain text
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines()]
    header = next(row for row in text.splitlines() if "alpha" in row and "224x224" in row)
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "alpha",
        *(f"{h}x{h}" for h in HEIGHTS),
    ]
    body = [row for row in rows if row and row[0] in ALPHAS]
    assert [row[0] for row in body] == list(ALPHAS)
    for row in body:
        for height, cell in zip(HEIGHTS, row[1:], strict=True):
            mult_adds_text, params_text = cell.split(" · ")
            for key, shown in (("mult_adds", mult_adds_text), ("params", params_text)):
                value, unit = human_to_int(shown)
                # Two decimals of the unit: within half a hundredth of the exact count.
                assert abs(value - PAPER[row[0], height][key]) <= unit * 0.005 + 1e-6, cell


# --- every cell is `mbcalc table` at that setting ----------------------------------------------


def table_at(spec: str, alpha: str, height: int) -> tuple[dict[str, Any] | None, str | None]:
    """`mbcalc table`'s JSON total and resolution, or its one-line refusal."""
    result = invoke_mbcalc(
        "table", spec, "--alpha", alpha, "--res", str(height), "--format", "json"
    )
    if result.exit_code == 0:
        data = json.loads(result.stdout)
        return {**data["total"], "resolution": data["resolution"]}, None
    assert result.exit_code == 1, result.output
    return None, one_line_error(result)


DECIMAL_ALPHAS = st.integers(1, 160).map(lambda n: f"{n // 100}.{n % 100:02d}")
ALPHA_TEXTS = st.one_of(
    st.sampled_from(["0.01", "0.02", "0.25", "0.5", "0.75", "1", "3/4", "1.25"]), DECIMAL_ALPHAS
)
HEIGHT_VALUES = st.one_of(
    st.sampled_from([1, 2, 7, 8, 16, 31, 32, 33, 96, 128, 160, 224]), st.integers(1, 256)
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=st.sampled_from(shipped_names()),
    alphas=st.lists(ALPHA_TEXTS, min_size=1, max_size=3),
    heights=st.lists(HEIGHT_VALUES, min_size=1, max_size=3),
)
def test_json_and_csv_agree_with_table_cell_by_cell(
    spec: str, alphas: list[str], heights: list[int]
) -> None:
    options = ("--alpha", ",".join(alphas), "--res", ",".join(map(str, heights)))
    data = sweep_json(spec, *options)
    rows = sweep_csv(spec, *options)
    assert data["schema"] == SWEEP_SCHEMA
    records = data["settings"]
    cells = [(alpha, height) for alpha in alphas for height in heights]
    assert len(records) == len(rows) == len(cells)
    refusals: dict[tuple[float, int], str] = {}
    for record, row, (alpha, height) in zip(records, rows, cells, strict=True):
        total, refusal = table_at(spec, alpha, height)
        assert record["alpha"] == float(Fraction(alpha))
        assert abs(Fraction(row["alpha"]) - Fraction(alpha)) <= Fraction(1, 2 * 10**6)
        assert record["resolution"][0] == int(row["height"]) == height
        assert record["resolution"][1] == int(row["width"])
        if total is None:
            assert refusal is not None
            assert record["valid"] is False
            assert row["valid"] == "false"
            assert all(record[key] is None and row[key] == "" for key in COUNTS)
            refusals[float(Fraction(alpha)), height] = refusal
            continue
        assert record["valid"] is True, (alpha, height)
        assert row["valid"] == "true", (alpha, height)
        assert record["resolution"] == total["resolution"]
        for key in COUNTS:
            assert type(record[key]) is int
            assert record[key] == int(row[key]) == total[key], (alpha, height, key)
    # `refused` holds `mbcalc table`'s own words for invalid settings, each reason once (at most
    # five; a grid this small is explained in full).
    refused = data["refused"]
    for entry in refused:
        assert set(entry) == {"alpha", "depth", "resolution", "error"}
        assert entry["error"] == refusals[entry["alpha"], entry["resolution"][0]]
    assert len(refused) == min(5, len(set(refusals.values())))
    assert len({entry["error"] for entry in refused}) == len(refused)


def test_alpha_001_is_invalid_with_the_refusal_in_every_format() -> None:
    """32 x 0.01 channels floor to none: the setting is refused, never counted as zero."""
    options = ("--alpha", "1,0.01", "--res", "224")
    _, message = table_at("mobilenet_v1", "0.01", 224)
    assert message is not None
    assert "conv1" in message
    assert "0.01" in message
    data = sweep_json("mobilenet_v1", *options)
    full, tiny = data["settings"]
    assert full["valid"] is True
    assert full["mult_adds"] == PAPER["1", 224]["mult_adds"]
    assert tiny == {
        "alpha": 0.01,
        "depth": 1.0,
        "resolution": [224, 224],
        "valid": False,
        "mult_adds": None,
        "params": None,
        "bn_params": None,
        "activations": None,
    }
    refusal = {"alpha": 0.01, "depth": 1.0, "resolution": [224, 224], "error": message}
    assert data["refused"] == [refusal]
    assert sweep_csv("mobilenet_v1", *options)[1] == {
        "alpha": "0.01",
        "height": "224",
        "width": "224",
        "valid": "false",
        "mult_adds": "",
        "params": "",
        "bn_params": "",
        "activations": "",
    }
    for fmt in ("table", "markdown"):
        text = ok("sweep", "mobilenet_v1", *options, "--format", fmt)
        (row,) = [line for line in text.splitlines() if re.match(r"[│|]\s*0\.01\s*[│|]", line)]
        assert "—" in row, row
        assert not re.search(r"\d[KMG,]", row.split("0.01", 1)[1]), row
        shown = message if fmt == "table" else message.replace("`", "\\`")  # Markdown-escaped
        assert shown in " ".join(text.split()), fmt


def test_csv_alpha_is_the_alpha_that_was_counted() -> None:
    """floor(1024 x 0.4999999) = 511 channels, not 512: a different network from alpha 0.5."""
    rows = sweep_csv("mobilenet_v1", "--alpha", "0.4999999,0.5", "--res", "224")
    counted = [v1_reference(Fraction(a), 224, 224)["mult_adds"] for a in ("0.4999999", "0.5")]
    assert counted[0] != counted[1]
    assert [int(row["mult_adds"]) for row in rows] == counted
    assert [Fraction(row["alpha"]) for row in rows] == [Fraction("0.4999999"), Fraction("0.5")]


def test_reasons_of_both_axes_are_reported() -> None:
    """VGG 16 at alpha 0.01 (no channels) and below 32 pixels (a 2x2 pool no longer fits)."""
    _, pool_reason = table_at("vgg16", "1", 1)
    _, alpha_reason = table_at("vgg16", "0.01", 24)
    assert pool_reason is not None
    assert alpha_reason is not None
    data = sweep_json("vgg16", "--alpha", "0.01,1", "--res", "1:24:1")
    assert not any(record["valid"] for record in data["settings"])
    reasons = [entry["error"] for entry in data["refused"]]
    assert 2 <= len(reasons) <= 5
    assert len(set(reasons)) == len(reasons)
    assert alpha_reason in reasons
    assert any("pool" in reason and "does not fit" in reason for reason in reasons)


# --- lists, ranges and defaults ----------------------------------------------------------------


def grid_of(data: dict[str, Any]) -> tuple[list[Fraction], list[int]]:
    """The alphas and heights of a JSON sweep, in order."""
    alphas = list(dict.fromkeys(Fraction(str(r["alpha"])) for r in data["settings"]))
    heights = list(dict.fromkeys(r["resolution"][0] for r in data["settings"]))
    assert len(data["settings"]) == len(alphas) * len(heights)
    return alphas, heights


@pytest.mark.parametrize(
    ("options", "alphas", "heights"),
    [
        (("--alpha", "0.25:1:0.25"), ["0.25", "0.5", "0.75", "1"], [224]),  # STOP included
        (("--alpha", "0.25:1:0.3"), ["0.25", "0.55", "0.85"], [224]),  # STOP not reached
        (("--alpha", "1", "--res", "128:224:32"), ["1"], [128, 160, 192, 224]),
        (("--alpha", "1", "--res", "96:224:64"), ["1"], [96, 160, 224]),
        (("--alpha", "0.5,0.25", "--res", "160"), ["0.5", "0.25"], [160]),
        (("-a", "0.5:0.5:0.1", "-r", "160,128"), ["0.5"], [160, 128]),
    ],
)
def test_lists_and_ranges(options: tuple[str, ...], alphas: list[str], heights: list[int]) -> None:
    data = sweep_json("mobilenet_v1", *options)
    assert grid_of(data) == ([Fraction(a) for a in alphas], heights)
    for record in data["settings"]:
        alpha = Fraction(str(record["alpha"]))
        height = record["resolution"][0]
        assert record["mult_adds"] == v1_reference(alpha, height, height)["mult_adds"]


def test_the_default_grid_is_the_papers_widths_at_the_specs_resolution() -> None:
    data = sweep_json("mobilenet_v1")
    assert grid_of(data) == ([Fraction(a) for a in ALPHAS], [224])
    assert [r["mult_adds"] for r in data["settings"]] == [
        PAPER[alpha, 224]["mult_adds"] for alpha in ALPHAS
    ]


def rectangular_spec(folder: Path) -> Path:
    """MobileNet v1 on a 160x120 input (a copy of the shipped spec, input size changed)."""
    source = Path(__file__).resolve().parents[1] / "archs" / "mobilenet_v1.yaml"
    text = source.read_text(encoding="utf-8")
    changed = re.sub(r"size:\s*224", "size: [160, 120]", text, count=1)
    assert changed != text
    target = folder / "rect.yaml"
    target.write_text(changed, encoding="utf-8")
    return target


def test_the_default_resolution_is_the_specs_own_and_width_follows(tmp_path: Path) -> None:
    spec = str(rectangular_spec(tmp_path))
    (record,) = sweep_json(spec, "--alpha", "1")["settings"]
    assert record["resolution"] == [160, 120]
    assert record["mult_adds"] == v1_reference(Fraction(1), 160, 120)["mult_adds"]
    # --res sets the height; the width follows in proportion: 320 x 120 / 160 = 240.
    records = sweep_json(spec, "--alpha", "0.5", "--res", "320,80")["settings"]
    assert [r["resolution"] for r in records] == [[320, 240], [80, 60]]
    for record in records:
        height, width = record["resolution"]
        expected = v1_reference(Fraction(1, 2), height, width)
        assert [record[key] for key in COUNTS] == [expected[key] for key in COUNTS]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--alpha", "1,x"),
        ("--alpha", ""),
        ("--alpha", ","),
        ("--alpha", "0.25:1"),
        ("--alpha", "1:0.25:0.25"),
        ("--alpha", "0.25:1:0"),
        ("--alpha", "0.25:1:0.25:1"),
        ("--res", "224.5"),
        ("--res", "x"),
        ("--res", "96:224"),
        ("--res", "96:224:0"),
    ],
)
def test_a_bad_list_or_range_is_wrong_usage_naming_the_option(option: str, value: str) -> None:
    assert_clean_failure(invoke_mbcalc("sweep", "mobilenet_v1", option, value), 2, option)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--format", "yaml"), "yaml"),
        (("--plot-by", "both"), "both"),
        (("--bogus",), "--bogus"),
    ],
)
def test_other_wrong_usage_exits_2(args: tuple[str, ...], word: str) -> None:
    assert_clean_failure(invoke_mbcalc("sweep", "mobilenet_v1", *args), 2, word)


@pytest.mark.parametrize(
    ("option", "value", "word"),
    [("--alpha", "0", "alpha"), ("--alpha", "1,-0.5", "alpha"), ("--res", "224,0", "resolution")],
)
def test_a_setting_no_network_has_exits_1(option: str, value: str, word: str) -> None:
    result = invoke_mbcalc("sweep", "mobilenet_v1", option, value)
    assert_clean_failure(result, 1, word)
    one_line_error(result)


def test_an_unknown_spec_exits_1() -> None:
    result = invoke_mbcalc("sweep", "no_such_net")
    assert_clean_failure(result, 1, "no_such_net")
    one_line_error(result)


def test_a_grid_too_large_for_a_table_exits_1_with_a_hint(tmp_path: Path) -> None:
    # 100 alphas x 101 heights = 10,100 settings, above MAX_TABLE_CELLS = 10,000.
    options = ("--alpha", "0.01:1:0.01", "--res", "1:101:1")
    assert MAX_TABLE_CELLS == 10_000
    for extra in ((), ("--output", str(tmp_path / "grid.txt"))):
        result = invoke_mbcalc("sweep", "mobilenet_v1", *options, *extra)
        assert_clean_failure(result, 1, "10,100", "--format csv")
        assert "hint" in one_line_error(result)
    assert os.listdir(tmp_path) == []
    # The same grid as data is fine.
    assert len(sweep_json("mobilenet_v1", *options)["settings"]) == 10_100
    assert len(sweep_csv("mobilenet_v1", *options)) == 10_100


def test_a_grid_of_exactly_max_table_cells_is_not_refused(tmp_path: Path) -> None:
    target = tmp_path / "grid.txt"
    assert (
        ok("sweep", "mobilenet_v1", "-a", "0.01:1:0.01", "-r", "1:100:1", "-o", str(target)) == ""
    )
    text = target.read_text(encoding="utf-8")
    assert "MobileNet v1" in text
    assert "at alpha 0.01 leaves no channels" in text


def test_a_wide_grid_written_to_a_file_is_not_cut(tmp_path: Path) -> None:
    """Eleven resolutions, 96 to 256: every cell of the file is whole."""
    target = tmp_path / "grid.txt"
    heights = range(96, 257, 16)
    ok("sweep", "mobilenet_v1", "--alpha", "0.5,1", "--res", "96:256:16", "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert "…" not in text
    assert all(f"{h}x{h}" in text for h in heights)
    for alpha in ("0.5", "1"):
        for h in heights:
            expected = v1_reference(Fraction(alpha), h, h)
            assert f"{expected['mult_adds'] / 1e6:.2f}M · " in text, (alpha, h)


# --- --output ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_output_file_holds_what_stdout_would(fmt: str, tmp_path: Path) -> None:
    args = ("sweep", "mobilenet_v1", *PAPER_GRID, "--format", fmt)
    expected = ok(*args)
    target = tmp_path / f"grid.{fmt}"
    target.write_text("old contents\n", encoding="utf-8")
    assert ok(*args, "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == expected
    assert os.listdir(tmp_path) == [target.name]  # replaced atomically: no temporary left


def test_output_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "grid.csv"
    result = invoke_mbcalc("sweep", "mobilenet_v1", "-f", "csv", "-o", str(target))
    assert_clean_failure(result, 1, str(target))
    one_line_error(result)
    assert os.listdir(tmp_path) == []


# --- --plot ------------------------------------------------------------------------------------


def test_plot_png_is_a_real_image_beside_the_usual_output(tmp_path: Path) -> None:
    target = tmp_path / "grid.png"
    args = ("sweep", "mobilenet_v1", *PAPER_GRID, "--format", "csv")
    assert ok_plotting(target, *args, "--plot", str(target)) == ok(*args)
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 100
    assert height > 100
    assert os.listdir(tmp_path) == [target.name]


# Four widths, three resolutions: a grid that is not square, so lines by width and lines by
# resolution differ in number.
PLOT_HEIGHTS = HEIGHTS[:3]
PLOT_GRID = ("--alpha", ",".join(ALPHAS), "--res", ",".join(map(str, PLOT_HEIGHTS)))


def svg_of(tmp_path: Path, *options: str) -> str:
    target = tmp_path / "grid.svg"
    ok_plotting(target, "sweep", "mobilenet_v1", *PLOT_GRID, "--plot", str(target), *options)
    text = target.read_text(encoding="utf-8")
    assert "<svg" in text
    return text


def test_plot_svg_has_one_line_per_resolution_by_default(tmp_path: Path) -> None:
    text = svg_of(tmp_path)
    assert "MobileNet v1" in text
    assert all(f"{h}x{h}" in text for h in PLOT_HEIGHTS)
    assert "128x128" not in text
    assert "alpha 0.75" not in text


def test_plot_by_alpha_has_one_line_per_width(tmp_path: Path) -> None:
    text = svg_of(tmp_path, "--plot-by", "alpha")
    assert all(f"alpha {alpha}" in text for alpha in ALPHAS)
    assert not any(f"{h}x{h}" in text for h in PLOT_HEIGHTS)
    assert text != svg_of(tmp_path, "--plot-by", "res")


@pytest.mark.parametrize("name", ["grid.txt", "grid.pdf", "grid"])
def test_plot_into_another_format_is_refused_and_writes_nothing(name: str, tmp_path: Path) -> None:
    result = invoke_mbcalc("sweep", "mobilenet_v1", "--plot", str(tmp_path / name))
    assert_clean_failure(result, 1, "PNG", "SVG")
    one_line_error(result)
    assert os.listdir(tmp_path) == []


def test_plot_without_matplotlib_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    result = invoke_mbcalc("sweep", "mobilenet_v1", "--plot", str(tmp_path / "grid.png"))
    assert_clean_failure(result, 1, "matplotlib", "mbcalc[plot]")
    one_line_error(result)
    assert os.listdir(tmp_path) == []


def test_sweep_has_help_naming_its_options() -> None:
    text = ok("sweep", "--help")
    for option in ("--alpha", "--res", "--format", "--output", "--plot", "--plot-by"):
        assert option in text


def squash(text: str) -> str:
    """Help text without Rich's box drawing and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_sweep_help_keeps_its_bracketed_words() -> None:
    text = squash(ok("sweep", "--help"))
    assert "mbcalc[plot]" in text
    assert "[default: the spec's own]" in text
