"""The `mbcalc` command line: every format, the settings, the JSON report schema, exit codes.

Expected numbers come from the paper's formulas (recomputed here) or from the report format
docs/reports.md documents, never from the program's own output.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import Result

from mbcalc.cli.app import app
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import LAYER_KEYS, invoke_mbcalc, markdown_table, ok
from tests.helpers.mobilenet_v1 import (
    V1_BN_PARAMS,
    V1_MULT_ADDS,
    V1_PARAMS,
    V1_REDUCTION,
    V1_STANDARD_MULT_ADDS,
    v1_reference,
)

ARCHS = Path(__file__).resolve().parents[1] / "archs"
SHIPPED = sorted(path.stem for path in ARCHS.iterdir() if path.suffix in {".yaml", ".yml"})
TEXT_FORMATS = ("json", "csv", "markdown")
FORMATS = ("table", *TEXT_FORMATS)

# The JSON report's keys, as docs/reports.md documents them.
SCHEMA = "mbcalc.report/1"
REPORT_KEYS = {"schema", "spec", "alpha", "depth", "resolution", "layers", "units", "total"}
UNIT_KEYS = {"name", "type", "mult_adds", "params"}
TOTAL_KEYS = {"mult_adds", "params", "bn_params", "standard_mult_adds", "reduction"}
OPS = {"conv", "depthwise", "fc", "pool", "add", "concat", "scale", "split", "shuffle"}
OPS |= {"batch_norm", "layer_norm", "group_norm", "layer_scale"}  # standalone norms
OPS |= {"tokens", "attend", "readout", "resize"}  # tokens, attention and resizes
OPS |= {"space_to_depth", "pad", "crop", "positions"}  # Swin: patch merging, windows
COUNTS = ("mult_adds", "params", "bn_params")
INT_KEYS = {*COUNTS, "standard_mult_adds", "groups"}
INT_LIST_KEYS = {"kernel", "stride", "input", "output", "resolution"}
FLOAT_KEYS = {"alpha", "depth", "rho", "reduction"}


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def report(*args: str) -> dict[str, Any]:
    data = json.loads(ok("table", *args, "--format", "json"))
    assert isinstance(data, dict)
    return data


def v1_spec_file(folder: Path, size: str, name: str = "rect_net") -> Path:
    """The shipped MobileNet v1 spec with another `input.size`, as a file of the user's."""
    text = (ARCHS / "mobilenet_v1.yaml").read_text(encoding="utf-8")
    original = "input: {size: 224, channels: 3}"
    assert original in text
    path = folder / f"{name}.yaml"
    path.write_text(text.replace(original, f"input: {{size: {size}, channels: 3}}"), "utf-8")
    return path


def walk(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    """Every (key, scalar) pair in a JSON document; list items inherit their list's key."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from walk(child, child_key)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)
    else:
        yield key, value


def check_report(data: dict[str, Any]) -> None:
    """The JSON report format: schema, keys, exact integers, and every sum adding up."""
    assert data["schema"] == SCHEMA
    assert data.keys() >= REPORT_KEYS
    assert isinstance(data["spec"], str)
    assert data["spec"]
    assert isinstance(data["alpha"], float)

    for key, value in walk(data):
        if key in INT_KEYS or key in INT_LIST_KEYS:
            assert value is None or (type(value) is int), (key, value)
        if isinstance(value, float):
            assert key in FLOAT_KEYS, f"{key} is a float: {value}"

    layers, units, total = data["layers"], data["units"], data["total"]
    assert layers
    for layer in layers:
        assert set(LAYER_KEYS) <= layer.keys()
        assert layer["op"] in OPS
        assert len(layer["input"]) == len(layer["output"]) == 3
        assert all(type(layer[key]) is int and layer[key] >= 0 for key in COUNTS)
    assert layers[0]["input"] == [*data["resolution"], layers[0]["input"][2]]

    assert total.keys() >= TOTAL_KEYS
    for key in COUNTS:
        assert total[key] == sum(layer[key] for layer in layers), key

    unit_names = [unit["name"] for unit in units]
    assert len(unit_names) == len(set(unit_names))
    for layer in layers:
        if layer["unit"] not in unit_names:  # a merge, split or resize: its block's or parallel's
            assert layer["op"] in {"add", "concat", "split", "resize"}
            assert layer["mult_adds"] == layer["params"] == 0
    standard_total = total["mult_adds"]
    for unit in units:
        assert unit.keys() >= UNIT_KEYS
        own = [layer for layer in layers if layer["unit"] == unit["name"]]
        assert own, unit["name"]
        for key in ("mult_adds", "params", *(("bn_params",) if "bn_params" in unit else ())):
            assert unit[key] == sum(layer[key] for layer in own), (unit["name"], key)
        if unit["type"] == "separable":
            standard_total += check_separable(unit, own) - unit["mult_adds"]
        elif unit["type"] == "mbconv":
            # The twin has a full k x k conv, expanded to expanded channels, in place of the
            # depthwise conv: h * w * k * k * c * c instead of h * w * k * k * c.
            (depthwise,) = (layer for layer in own if layer["op"] == "depthwise")
            h, w, c = depthwise["output"]
            full = h * w * depthwise["kernel"][0] * depthwise["kernel"][1] * c * c
            twin = unit["mult_adds"] - depthwise["mult_adds"] + full
            assert unit["standard_mult_adds"] == twin
            assert unit["reduction"] == round(unit["mult_adds"] / twin, 6)
            standard_total += twin - unit["mult_adds"]
        else:
            assert "standard_mult_adds" not in unit

    assert total["standard_mult_adds"] == standard_total
    assert total["reduction"] == round(total["mult_adds"] / total["standard_mult_adds"], 6)


def check_separable(unit: dict[str, Any], layers: list[dict[str, Any]]) -> int:
    """A separable unit against its standard twin (the paper's section 3); returns the twin's
    mult-adds."""
    depthwise, pointwise = layers
    assert depthwise["op"] == "depthwise"
    assert pointwise["op"] == "conv"
    assert pointwise["kernel"] == [1, 1]
    kh, kw = depthwise["kernel"]
    c_in = depthwise["input"][2]
    h_out, w_out, n = pointwise["output"]
    standard: int = h_out * w_out * kh * kw * c_in * n
    assert unit["standard_mult_adds"] == standard
    expected = Fraction(1, n) + Fraction(1, kh * kw)
    assert Fraction(unit["mult_adds"], standard) == expected
    assert unit["reduction"] == round(float(expected), 6)
    return standard


# --- table in every format -------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_json_report_of_every_shipped_spec_follows_the_schema(name: str) -> None:
    data = report(name)
    check_report(data)
    defaults = load_shipped(name).defaults  # alpha 1 unless the spec stores its own
    assert data["alpha"] == float(defaults.alpha or 1)
    assert data["depth"] == float(defaults.depth or 1)


def test_json_report_of_mobilenet_v1_matches_spec_md() -> None:
    data = report("mobilenet_v1")
    assert data["spec"] == "MobileNet v1"
    assert data["resolution"] == [224, 224]
    total = data["total"]
    assert {key: total[key] for key in (*COUNTS, "standard_mult_adds")} == {
        "mult_adds": V1_MULT_ADDS,
        "params": V1_PARAMS,
        "bn_params": V1_BN_PARAMS,
        "standard_mult_adds": V1_STANDARD_MULT_ADDS,
    }
    assert total["reduction"] == round(V1_MULT_ADDS / V1_STANDARD_MULT_ADDS, 6)
    assert total["reduction"] == pytest.approx(V1_REDUCTION, abs=5e-6)
    # The first layer and unit of MobileNet v1, from the paper's formulas.
    conv1 = {key: data["layers"][0][key] for key in LAYER_KEYS}
    assert conv1 == {
        "name": "conv1", "unit": "conv1", "op": "conv", "kernel": [3, 3], "stride": [2, 2],
        "groups": 1, "input": [224, 224, 3], "output": [112, 112, 32],
        "mult_adds": 112 * 112 * 3 * 3 * 3 * 32, "params": 3 * 3 * 3 * 32, "bn_params": 2 * 32,
        "activations": 112 * 112 * 32,
    }  # fmt: skip
    sep1 = data["units"][1]
    assert sep1["name"] == "sep1"
    assert sep1["type"] == "separable"
    assert sep1["mult_adds"] == 112 * 112 * 9 * 32 + 112 * 112 * 32 * 64
    assert sep1["params"] == 9 * 32 + 32 * 64
    assert sep1["standard_mult_adds"] == 112 * 112 * 9 * 32 * 64
    assert sep1["reduction"] == round(1 / 64 + 1 / 9, 6)


@pytest.mark.parametrize("name", SHIPPED)
def test_csv_has_one_row_per_op_and_sums_to_the_json_totals(name: str) -> None:
    data = report(name)
    rows = list(csv.DictReader(io.StringIO(ok("table", name, "--format", "csv"))))
    assert [row["name"] for row in rows] == [layer["name"] for layer in data["layers"]]
    assert [row["op"] for row in rows] == [layer["op"] for layer in data["layers"]]
    for key in COUNTS:
        assert all(re.fullmatch(r"\d+", row[key]) for row in rows), key
        assert sum(int(row[key]) for row in rows) == data["total"][key], key


def test_csv_header_is_the_report_layer_keys() -> None:
    header = next(csv.reader(io.StringIO(ok("table", "mobilenet_v1", "--format", "csv"))))
    assert tuple(header) == LAYER_KEYS


def integer(cell: str) -> int:
    return int(cell.strip("*").replace(",", ""))


def counted(cell: str) -> int:
    """A mult-adds cell as the total counts it: an auxiliary head's, in parentheses, not at all."""
    return 0 if cell.startswith("(") else integer(cell)


@pytest.mark.parametrize("name", SHIPPED)
def test_markdown_is_a_pipe_table_with_a_totals_row(name: str) -> None:
    data = report(name)
    header, *body = markdown_table(ok("table", name, "--format", "markdown"))
    *rows, totals = body
    # Bold rows are subtotals of units with several ops (a separable unit's dw and pw).
    subtotals = [row for row in rows if row[0].startswith("**")]
    ops = [row for row in rows if not row[0].startswith("**")]
    multi_op_units = [
        u for u in data["units"] if sum(lr["unit"] == u["name"] for lr in data["layers"]) > 1
    ]
    assert [row[0].strip("*") for row in subtotals] == [u["name"] for u in multi_op_units]
    column = header.index("mult-adds")
    assert [integer(row[column]) for row in subtotals] == [u["mult_adds"] for u in multi_op_units]
    assert len(ops) == len(data["layers"])
    assert [row[0] for row in ops] == [layer["name"] for layer in data["layers"]]
    assert "total" in totals[0]
    column = header.index("mult-adds")
    assert integer(totals[column]) == data["total"]["mult_adds"]
    assert sum(counted(row[column]) for row in ops) == data["total"]["mult_adds"]
    aux = [integer(row[column].strip("()")) for row in ops if row[column].startswith("(")]
    assert sum(aux) == data["total"].get("aux_mult_adds", 0)
    column = header.index("params")
    assert integer(totals[column]) == data["total"]["params"]


@pytest.mark.parametrize("name", SHIPPED)
def test_table_shows_every_op_and_the_exact_totals(name: str) -> None:
    data = report(name)
    text = ok("table", name)
    assert data["spec"] in text
    assert "\x1b[" not in text  # not a terminal: no colour codes
    for layer in data["layers"]:
        assert layer["name"].rsplit(".", 1)[-1] in text
    assert f"{data['total']['mult_adds']:,}" in text
    assert f"{data['total']['params']:,}" in text


def test_table_of_mobilenet_v1_shows_the_paper_totals() -> None:
    text = ok("table", "mobilenet_v1")
    assert f"{V1_MULT_ADDS:,}" in text
    assert f"{V1_PARAMS:,}" in text
    assert f"{V1_BN_PARAMS:,}" in text
    assert f"{V1_STANDARD_MULT_ADDS:,}" in text
    assert f"{V1_MULT_ADDS / 1e6:.2f}M" in text  # the footer, in the paper's millions


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_spec_file_gives_the_same_report_as_the_shipped_name(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "my_mobilenet.yaml"
    shutil.copyfile(ARCHS / "mobilenet_v1.yaml", path)
    assert ok("table", str(path), "--format", fmt) == ok("table", "mobilenet_v1", "--format", fmt)


def test_a_spec_without_a_name_is_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny_net.yaml"
    path.write_text(
        "input: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 8}\n  - separable: {out: 16}\n",
        encoding="utf-8",
    )
    data = report(str(path))
    check_report(data)
    assert data["spec"] == "tiny_net"
    assert data["total"]["mult_adds"] == 32 * 32 * 9 * 3 * 8 + 32 * 32 * 9 * 8 + 32 * 32 * 8 * 16


def test_shipped_specs_work_from_any_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mbcalc", "table", "mobilenet_v1", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"]["mult_adds"] == V1_MULT_ADDS


# --- alpha and resolution --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "alpha", "size"),
    [
        ((), Fraction(1), (224, 224)),
        (("--alpha", "0.75"), Fraction(3, 4), (224, 224)),
        (("--alpha", "0.5", "--res", "160"), Fraction(1, 2), (160, 160)),
        (("-a", "0.25", "-r", "128"), Fraction(1, 4), (128, 128)),
        (("--alpha", "3/4", "--res", "192"), Fraction(3, 4), (192, 192)),
        (("--alpha", "0.29"), Fraction(29, 100), (224, 224)),  # 100 x 0.29 must be 29, not 28
        (("--rho", "0.714"), Fraction(1), (160, 160)),  # 224 x 0.714 = 159.936 -> 160
        (("--rho", "0.5"), Fraction(1), (112, 112)),
        (("--alpha", "1.4", "--res", "97"), Fraction(7, 5), (97, 97)),
    ],
)
def test_alpha_and_resolution_follow_the_paper_formulas(
    options: tuple[str, ...], alpha: Fraction, size: tuple[int, int]
) -> None:
    data = report("mobilenet_v1", *options)
    check_report(data)
    assert Fraction(data["alpha"]).limit_denominator(1000) == alpha
    assert data["resolution"] == list(size)
    expected = v1_reference(alpha, *size)
    assert {key: data["total"][key] for key in expected} == expected


@pytest.mark.parametrize(
    ("alpha", "mult_adds", "params"),
    [("1.0", 569, 4.2), ("0.75", 325, 2.6), ("0.5", 149, 1.3), ("0.25", 41, 0.5)],
)
def test_width_multiplier_matches_paper_table_6(alpha: str, mult_adds: int, params: float) -> None:
    """Table 6 prints millions of mult-adds and params, rounded."""
    total = report("mobilenet_v1", "--alpha", alpha)["total"]
    assert abs(total["mult_adds"] / 1e6 - mult_adds) < 1
    assert abs(total["params"] / 1e6 - params) < 0.05


@pytest.mark.parametrize(("res", "mult_adds"), [(224, 569), (192, 418), (160, 290), (128, 186)])
def test_resolution_multiplier_matches_paper_table_7(res: int, mult_adds: int) -> None:
    """Table 7 prints millions of mult-adds (290 for 290.68M: the paper truncates there)."""
    total = report("mobilenet_v1", "--res", str(res))["total"]
    assert abs(total["mult_adds"] / 1e6 - mult_adds) < 1
    assert total["params"] == V1_PARAMS  # params do not depend on resolution


@pytest.mark.parametrize(
    ("spec_size", "options", "size"),
    [
        ((200, 300), (), (200, 300)),
        ((200, 300), ("--res", "150"), (150, 225)),
        ((200, 300), ("--res", "131"), (131, 197)),  # 300 x 131/200 = 196.5: half up
        ((225, 301), ("--res", "150"), (150, 201)),  # 200.67 -> 201
        ((225, 301), ("--rho", "0.5"), (113, 151)),  # 112.5 and 150.5: both halves up
        ((160, 224), ("--rho", "0.714"), (114, 160)),  # 114.24 and 159.936
        ((301, 225), ("--alpha", "0.5", "--res", "100"), (100, 75)),  # 74.75 -> 75
    ],
)
def test_rectangular_inputs(
    spec_size: tuple[int, int],
    options: tuple[str, ...],
    size: tuple[int, int],
    tmp_path: Path,
) -> None:
    height, width = spec_size
    path = v1_spec_file(tmp_path, f"[{height}, {width}]")
    data = report(str(path), *options)
    check_report(data)
    # `--res R`: height R, width W*R/H; `--rho P`: both sides times P; nearest, halves up.
    if "--res" in options:
        res = int(options[options.index("--res") + 1])
        assert size == (res, half_up(Fraction(width * res, height)))
    if "--rho" in options:
        rho = Fraction(options[options.index("--rho") + 1])
        assert size == (half_up(height * rho), half_up(width * rho))
    assert data["resolution"] == list(size)
    assert data["layers"][0]["input"] == [*size, 3]
    assert data["layers"][0]["output"][:2] == [-(-size[0] // 2), -(-size[1] // 2)]
    alpha = Fraction(options[options.index("--alpha") + 1]) if "--alpha" in options else 1
    expected = v1_reference(Fraction(alpha), *size)
    assert {key: data["total"][key] for key in expected} == expected


# --- --output --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize("options", [(), ("--alpha", "0.5", "--rho", "0.714")])
def test_output_file_holds_what_stdout_would(
    fmt: str, options: tuple[str, ...], tmp_path: Path
) -> None:
    expected = ok("table", "mobilenet_v1", "--format", fmt, *options)
    target = tmp_path / f"report.{fmt}"
    assert ok("table", "mobilenet_v1", "--format", fmt, *options, "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == expected
    assert os.listdir(tmp_path) == [target.name]


def test_output_replaces_an_existing_file_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old contents\n", encoding="utf-8")
    ok("table", "mobilenet_v1", "-f", "json", "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8"))["total"]["mult_adds"] == V1_MULT_ADDS
    assert os.listdir(tmp_path) == [target.name]


def test_output_of_the_table_format_is_plain_text(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    forced = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "60"}
    result = invoke_mbcalc("table", "mobilenet_v1", "--output", str(target), env=forced)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = target.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert "MobileNet v1" in text
    assert f"{V1_MULT_ADDS:,}" in text
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), "trailing spaces"
    # Not cut to the terminal's 60 columns: the table's rows are whole and all one width.
    box = [line for line in lines if line[:1] in set("┏┃┡│├└")]
    assert len({len(line) for line in box}) == 1, "ragged or wrapped table rows"
    assert "sep13" in text
    assert os.listdir(tmp_path) == [target.name]


def test_output_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.json"
    result = invoke_mbcalc("table", "mobilenet_v1", "-f", "json", "-o", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert str(target) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert os.listdir(tmp_path) == []


# --- list ------------------------------------------------------------------------------------


def test_list_shows_every_shipped_spec_with_its_mult_adds() -> None:
    text = ok("list")
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == len(SHIPPED)
    for name in SHIPPED:
        total = report(name)["total"]["mult_adds"]
        (row,) = [line for line in rows if line.split("│")[1].strip() == name]
        assert re.search(r"\d\.\d\d[KMG]", row), row
        millions = f"{total / 1e6:.2f}M"
        billions = f"{total / 1e9:.2f}G"
        assert millions in row or billions in row, row
    (v1,) = [line for line in rows if line.split("│")[1].strip() == "mobilenet_v1"]
    assert f"{V1_MULT_ADDS / 1e6:.2f}M" in v1


# --- entry points ----------------------------------------------------------------------------


def test_python_dash_m_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mbcalc", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert "table" in result.stdout


def test_console_script_is_installed_beside_the_interpreter() -> None:
    script = shutil.which("mbcalc", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "list"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in SHIPPED)


# --- usage errors and help -------------------------------------------------------------------


def assert_clean_failure(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("table", "mobilenet_v1", "--bogus"), "--bogus"),
        (("table", "mobilenet_v1", "--format", "bogus"), "bogus"),
        (("table", "mobilenet_v1", "--alpha", "abc"), "--alpha"),
        (("table", "mobilenet_v1", "--res", "abc"), "--res"),
        (("table", "mobilenet_v1", "--res", "1.5"), "--res"),
        (("table",), "Missing argument 'SPEC'"),
        (("frobnicate",), "frobnicate"),
        (("list", "extra"), "extra"),
    ],
)
def test_wrong_usage_exits_2(args: Sequence[str], word: str) -> None:
    assert_clean_failure(invoke_mbcalc(*args), 2, word)


def test_res_and_rho_together_are_wrong_usage() -> None:
    assert_clean_failure(
        invoke_mbcalc("table", "mobilenet_v1", "--res", "160", "--rho", "0.5"), 2, "--rho"
    )


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--alpha", "0"), "--alpha"),
        (("--alpha", "-0.5"), "--alpha"),
        (("--res", "0"), "--res"),
        (("--rho", "0"), "--rho"),
    ],
)
def test_out_of_range_settings_exit_1(args: Sequence[str], word: str) -> None:
    """A number no network can be built with is a setting that cannot be used: status 1."""
    assert_clean_failure(invoke_mbcalc("table", "mobilenet_v1", *args), 1, word)


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--alpha", "0"), "--alpha"),
        (("--res", "0"), "--res"),
        (("--rho", "0"), "--rho"),
        (("--rho", "0.001"), "pixels"),  # 224 x 0.001 rounds to no pixels at all
    ],
)
def test_invalid_settings_fail_with_one_message(args: Sequence[str], word: str) -> None:
    result = invoke_mbcalc("table", "mobilenet_v1", *args)
    assert result.exit_code in {1, 2}
    assert_clean_failure(result, result.exit_code, word)
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_spec_name_exits_1_and_lists_the_shipped_specs() -> None:
    result = invoke_mbcalc("table", "no_such_net")
    assert_clean_failure(result, 1, "no_such_net", *SHIPPED)
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_spec_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert_clean_failure(invoke_mbcalc("table", str(path)), 1, str(path))


def test_bad_spec_file_exits_1_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "input: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 8}\n  - frobnicate: {}\n",
        encoding="utf-8",
    )
    result = invoke_mbcalc("table", str(path))
    assert_clean_failure(result, 1, f"{path}:4", "frobnicate")
    assert len(result.stderr.strip().splitlines()) == 1


def commands() -> list[str]:
    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert names, "no commands registered"
    return names


def squash(text: str) -> str:
    """Help text without Rich's box drawing and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("name", commands())
def test_every_command_has_help(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help, f"`mbcalc {name}` has no help text"
    text = ok(name, "--help")
    # Help is rendered as Markdown: `code` loses its backticks.
    description = squash(command.help).split(". ")[0].replace("`", "")
    assert description in squash(text)
    assert f"Usage: mbcalc {name}" in squash(text)


def test_top_level_help_lists_every_command() -> None:
    text = squash(ok("--help"))
    for name in commands():
        assert name in text
    assert ok("-h") == ok("--help")


def test_no_arguments_shows_help_as_wrong_usage() -> None:
    result = invoke_mbcalc()
    assert result.exit_code == 2
    assert "Usage" in result.output
    assert all(name in result.output for name in commands())
