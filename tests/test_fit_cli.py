"""`mbcalc fit` on the command line: the phone budget of the paper's Table 6 in every format, the
frontier against a brute-force search over the paper's formulas and against `mbcalc table`,
counts with units, the search grid options, an impossible budget and the follow-up command.

Expected counts come from the paper (Howard et al. 2017, Table 6 as printed) and
from its cost formulas, recomputed by `tests.helpers.mobilenet_v1`; never from `mbcalc fit` itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import shutil
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mbcalc.cli.app import app
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok
from tests.helpers.mobilenet_v1 import v1_activations_by_op, v1_reference

ARCHS = Path(__file__).resolve().parents[1] / "archs"
FIT_SCHEMA = "mbcalc.fit/1"
FIT_KEYS = {"schema", "spec", "budget", "searched", "fitting", "frontier"}
ROW_KEYS = {
    "alpha", "depth", "resolution", "mult_adds", "params", "bn_params",
    "mult_adds_share", "params_share", "best",
}  # fmt: skip
CSV_HEADER = [
    "alpha", "height", "width", "mult_adds", "params", "bn_params",
    "mult_adds_share", "params_share", "best",
]  # fmt: skip

# The default search: widths 0.05, 0.10, ... 1.00 and heights 32, 64, ... 224 (the spec's own).
DEFAULT_ALPHAS = [Fraction(n, 20) for n in range(1, 21)]
DEFAULT_HEIGHTS = list(range(32, 225, 32))

# The paper's Table 6: 0.5 MobileNet-224 costs 149M mult-adds and 1.3M params, the largest
# of its widths under a phone budget of 150M mult-adds and 1.5M params.
PHONE = ("--max-mult-adds", "150M", "--max-params", "1.5M")
PHONE_BUDGET = (150_000_000, 1_500_000)
PAPER_HALF_224 = (149, 1.3)

Point = tuple[Fraction, int, dict[str, int]]


def fit_json(*args: str) -> dict[str, Any]:
    data = json.loads(ok("fit", "mobilenet_v1", *args, "--format", "json"))
    assert isinstance(data, dict)
    assert set(data) == FIT_KEYS
    assert data["schema"] == FIT_SCHEMA
    for row in data["frontier"]:
        assert set(row) == ROW_KEYS
    return data


def brute_force(
    max_mult_adds: int,
    max_params: int | None,
    alphas: Sequence[Fraction] = DEFAULT_ALPHAS,
    heights: Sequence[int] = DEFAULT_HEIGHTS,
) -> tuple[list[Point], list[Point]]:
    """Every setting within the budget by the paper's formulas, and those no other dominates
    (none has at least as many mult-adds and params, and more of one)."""
    fitting = []
    for alpha in alphas:
        for height in heights:
            cost = v1_reference(alpha, height, height)
            if cost["mult_adds"] <= max_mult_adds and (
                max_params is None or cost["params"] <= max_params
            ):
                fitting.append((alpha, height, cost))

    def dominates(a: dict[str, int], b: dict[str, int]) -> bool:
        return (
            a["mult_adds"] >= b["mult_adds"]
            and a["params"] >= b["params"]
            and (a["mult_adds"], a["params"]) != (b["mult_adds"], b["params"])
        )

    frontier = [p for p in fitting if not any(dominates(q[2], p[2]) for q in fitting)]
    return fitting, frontier


def as_rows(points: list[Point]) -> list[tuple[Fraction, int, int, int, int]]:
    return sorted((a, h, c["mult_adds"], c["params"], c["bn_params"]) for a, h, c in points)


def json_rows(data: dict[str, Any]) -> list[tuple[Fraction, int, int, int, int]]:
    rows = []
    for row in data["frontier"]:
        height, width = row["resolution"]
        assert height == width
        counts = (row["mult_adds"], row["params"], row["bn_params"])
        assert all(type(count) is int for count in counts)
        rows.append((Fraction(str(row["alpha"])), height, *counts))
    return sorted(rows)


def check_against_brute_force(
    data: dict[str, Any],
    budget: tuple[int, int | None],
    alphas: Sequence[Fraction] = DEFAULT_ALPHAS,
    heights: Sequence[int] = DEFAULT_HEIGHTS,
) -> list[Point]:
    """The JSON fit is the brute-force frontier, the largest marked; returns the frontier."""
    fitting, frontier = brute_force(*budget, alphas, heights)
    assert data["budget"] == {"mult_adds": budget[0], "params": budget[1]}
    assert data["searched"] == len(alphas) * len(heights)
    assert data["fitting"] == len(fitting)
    assert json_rows(data) == as_rows(frontier)
    rows = data["frontier"]
    assert [r["mult_adds"] for r in rows] == sorted(r["mult_adds"] for r in rows)
    assert [r["best"] for r in rows] == [i == len(rows) - 1 for i in range(len(rows))]
    if rows:
        assert rows[-1]["mult_adds"] == max(p[2]["mult_adds"] for p in fitting)
    for row in rows:
        assert row["mult_adds_share"] == round(row["mult_adds"] / budget[0], 6)
        expected = None if budget[1] is None else round(row["params"] / budget[1], 6)
        assert row["params_share"] == expected
    return frontier


# --- the phone budget: 150M mult-adds, 1.5M params ---------------------------------------------

HALF_224 = v1_reference(Fraction(1, 2), 224, 224)


def test_the_formula_gives_the_papers_half_width_mobilenet() -> None:
    assert round(HALF_224["mult_adds"] / 1e6) == PAPER_HALF_224[0]
    assert round(HALF_224["params"] / 1e6, 1) == PAPER_HALF_224[1]
    assert HALF_224["mult_adds"] <= PHONE_BUDGET[0]
    assert HALF_224["params"] <= PHONE_BUDGET[1]


def test_json_marks_half_width_224_as_using_most_of_the_budget() -> None:
    data = fit_json(*PHONE)
    assert data["spec"] == "MobileNet v1"
    check_against_brute_force(data, PHONE_BUDGET)
    (best,) = [row for row in data["frontier"] if row["best"]]
    assert best == {
        "alpha": 0.5,
        "depth": 1.0,
        "resolution": [224, 224],
        "mult_adds": HALF_224["mult_adds"],
        "params": HALF_224["params"],
        "bn_params": HALF_224["bn_params"],
        "mult_adds_share": round(HALF_224["mult_adds"] / PHONE_BUDGET[0], 6),
        "params_share": round(HALF_224["params"] / PHONE_BUDGET[1], 6),
        "best": True,
    }


def test_csv_marks_half_width_224_as_using_most_of_the_budget() -> None:
    text = ok("fit", "mobilenet_v1", *PHONE, "--format", "csv")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == CSV_HEADER
    rows = [dict(zip(CSV_HEADER, line, strict=True)) for line in lines[1:]]
    _, frontier = brute_force(*PHONE_BUDGET)
    assert len(rows) == len(frontier)
    (best,) = [row for row in rows if row["best"] == "true"]
    assert all(row["best"] == "false" for row in rows if row is not best)
    assert Fraction(best["alpha"]) == Fraction(1, 2)
    assert (best["height"], best["width"]) == ("224", "224")
    for key in ("mult_adds", "params", "bn_params"):
        assert int(best[key]) == HALF_224[key]
    assert float(best["mult_adds_share"]) == round(HALF_224["mult_adds"] / PHONE_BUDGET[0], 6)
    assert float(best["params_share"]) == round(HALF_224["params"] / PHONE_BUDGET[1], 6)


def test_markdown_marks_half_width_224_as_using_most_of_the_budget() -> None:
    text = ok("fit", "mobilenet_v1", *PHONE, "--format", "markdown")
    assert "MobileNet v1" in text
    rows = [line for line in text.splitlines() if line.startswith("|")][2:]
    (marked,) = [row for row in rows if "uses most of the budget" in row]
    cells = [cell.strip() for cell in marked.strip("|").split("|")]
    assert cells[:6] == [
        "0.5",
        "224x224",
        f"{HALF_224['mult_adds']:,}",
        f"{HALF_224['mult_adds'] / PHONE_BUDGET[0]:.2%}",
        f"{HALF_224['params']:,}",
        f"{HALF_224['params'] / PHONE_BUDGET[1]:.2%}",
    ]
    fitting, _ = brute_force(*PHONE_BUDGET)
    assert f"{len(DEFAULT_ALPHAS) * len(DEFAULT_HEIGHTS)} settings searched" in text
    assert f"{len(fitting)} fit" in text


def test_table_marks_half_width_224_as_using_most_of_the_budget() -> None:
    text = ok("fit", "mobilenet_v1", *PHONE)
    assert "150.00M mult-adds" in text
    assert "1.50M params" in text
    rows = [line for line in text.splitlines() if line.startswith("│")]
    (marked,) = [row for row in rows if "◀" in row]
    assert "◀ uses most of the budget" in text.splitlines()
    cells = [cell.strip() for cell in marked.strip("│").split("│")]
    assert cells[:2] == ["0.5", "224x224"]
    assert cells[2] == f"{HALF_224['mult_adds'] / 1e6:.2f}M"
    assert cells[3] == f"{HALF_224['mult_adds'] / PHONE_BUDGET[0]:.2%}"
    assert cells[4] == f"{HALF_224['params'] / 1e6:.2f}M"
    assert cells[5] == f"{HALF_224['params'] / PHONE_BUDGET[1]:.2%}"
    fitting, frontier = brute_force(*PHONE_BUDGET)
    searched = len(DEFAULT_ALPHAS) * len(DEFAULT_HEIGHTS)
    assert f"{searched} settings searched, {len(fitting)} fit, {len(frontier)} not" in text


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_output_file_holds_what_stdout_would(fmt: str, tmp_path: Path) -> None:
    args = ("fit", "mobilenet_v1", *PHONE, "--format", fmt)
    expected = ok(*args)
    target = tmp_path / f"fit.{fmt}"
    target.write_text("old contents\n", encoding="utf-8")
    assert ok(*args, "--output", str(target)) == ""
    assert target.read_text(encoding="utf-8") == expected
    assert os.listdir(tmp_path) == [target.name]


# --- each frontier row is `mbcalc table` at that setting ---------------------------------------


def table_total(alpha: float, height: int) -> dict[str, Any]:
    data = json.loads(
        ok("table", "mobilenet_v1", "--alpha", repr(alpha), "--res", str(height), "-f", "json")
    )
    assert isinstance(data, dict)
    return {**data["total"], "resolution": data["resolution"]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    max_mult_adds=st.integers(50_000, 700_000_000),
    max_params=st.one_of(st.none(), st.integers(30_000, 5_000_000)),
)
def test_the_frontier_is_the_brute_force_one_and_each_row_is_table(
    max_mult_adds: int, max_params: int | None
) -> None:
    options = ["--max-mult-adds", str(max_mult_adds)]
    if max_params is not None:
        options += ["--max-params", str(max_params)]
    data = fit_json(*options)
    check_against_brute_force(data, (max_mult_adds, max_params))
    for row in data["frontier"]:
        total = table_total(row["alpha"], row["resolution"][0])
        assert total["resolution"] == row["resolution"]
        for key in ("mult_adds", "params", "bn_params"):
            assert total[key] == row[key], (row, key)


# --- counts with units -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("300M", 300_000_000),
        ("1.2G", 1_200_000_000),
        ("2.5M", 2_500_000),
        ("150k", 150_000),
        ("150K", 150_000),
        ("0.5G", 500_000_000),
        ("149497088", 149_497_088),
        ("149,497,088", 149_497_088),
        ("1e8", 100_000_000),
        ("1.5e6", 1_500_000),
    ],
)
def test_budgets_take_units(text: str, count: int) -> None:
    data = fit_json("--max-mult-adds", text, "--max-params", text)
    check_against_brute_force(data, (count, count))


@pytest.mark.parametrize("option", ["--max-mult-adds", "--max-params"])
@pytest.mark.parametrize("text", ["12X", "abc", "M", "1.5", "1.0005k", "-5M", "1.2.3M", ""])
def test_a_bad_count_is_wrong_usage_naming_the_option(option: str, text: str) -> None:
    other = "--max-params" if option == "--max-mult-adds" else "--max-mult-adds"
    result = invoke_mbcalc("fit", "mobilenet_v1", option, text, other, "1G")
    assert_clean_failure(result, 2, option)


def test_a_budget_that_is_not_whole_is_refused_in_one_line() -> None:
    result = invoke_mbcalc("fit", "mobilenet_v1", "--max-mult-adds", "1.5")
    assert_clean_failure(result, 2, "'1.5' is 1.5; a count must be a whole number")


def test_a_decimal_comma_is_not_a_thousands_separator() -> None:
    assert_clean_failure(invoke_mbcalc("fit", "mobilenet_v1", "--max-mult-adds", "1,5M"), 2, "1,5M")


def test_the_budget_is_required() -> None:
    assert_clean_failure(
        invoke_mbcalc("fit", "mobilenet_v1", "--max-params", "1.5M"), 2, "--max-mult-adds"
    )


def test_the_exact_cost_of_a_setting_fits_and_one_less_does_not() -> None:
    """The smallest setting searched (alpha 0.05, 32x32) fits a budget of exactly its cost."""
    smallest = min(
        v1_reference(a, h, h)["mult_adds"] for a in DEFAULT_ALPHAS for h in DEFAULT_HEIGHTS
    )
    assert smallest == v1_reference(Fraction(1, 20), 32, 32)["mult_adds"]
    data = fit_json("--max-mult-adds", str(smallest))
    check_against_brute_force(data, (smallest, None))
    assert [(r["alpha"], r["resolution"], r["best"]) for r in data["frontier"]] == [
        (0.05, [32, 32], True)
    ]
    assert data["fitting"] == 1
    assert fit_json("--max-mult-adds", str(smallest - 1))["frontier"] == []


# --- the search grid ---------------------------------------------------------------------------


def test_res_step_16_searches_every_16_pixels() -> None:
    heights = list(range(16, 225, 16))
    data = fit_json("--max-mult-adds", "300M", "--res-step", "16")
    frontier = check_against_brute_force(data, (300_000_000, None), heights=heights)
    # The finer step finds a setting the default step of 32 cannot reach.
    assert any(height % 32 for _, height, _ in frontier)
    _, coarse = brute_force(300_000_000, None)
    assert as_rows(frontier) != as_rows(coarse)
    assert json_rows(fit_json("--max-mult-adds", "300M")) == as_rows(coarse)


@pytest.mark.parametrize("step", ["0", "-16", "x"])
def test_a_bad_res_step_is_wrong_usage(step: str) -> None:
    assert_clean_failure(
        invoke_mbcalc("fit", "mobilenet_v1", "--max-mult-adds", "1G", "--res-step", step), 2
    )


PAPER_WIDTHS = ["1", "0.75", "0.5", "0.25"]


@pytest.mark.parametrize(
    ("options", "alphas", "heights"),
    [
        (
            ("--alpha", ",".join(PAPER_WIDTHS), "--res", "224,192,160,128"),
            PAPER_WIDTHS,
            [224, 192, 160, 128],
        ),
        (("--alpha", "0.25:1:0.25"), ["0.25", "0.5", "0.75", "1"], DEFAULT_HEIGHTS),
        (("-a", "0.5", "-r", "96:224:32"), ["0.5"], [96, 128, 160, 192, 224]),
    ],
)
@pytest.mark.parametrize(
    "budget", [(300_000_000, None), (300_000_000, 3_000_000), (80_000_000, 1_000_000)]
)
def test_alpha_and_res_lists_and_ranges(
    options: tuple[str, ...],
    alphas: list[str],
    heights: list[int],
    budget: tuple[int, int | None],
) -> None:
    budget_options = ["--max-mult-adds", str(budget[0])]
    if budget[1] is not None:
        budget_options += ["--max-params", str(budget[1])]
    data = fit_json(*budget_options, *options)
    check_against_brute_force(data, budget, [Fraction(a) for a in alphas], heights)


@pytest.mark.parametrize(
    ("option", "value"), [("--alpha", "1,x"), ("--alpha", "1:0.5:0.1"), ("--res", "160.5")]
)
def test_a_bad_list_is_wrong_usage_naming_the_option(option: str, value: str) -> None:
    result = invoke_mbcalc("fit", "mobilenet_v1", "--max-mult-adds", "1G", option, value)
    assert_clean_failure(result, 2, option)


# --- nothing fits ------------------------------------------------------------------------------


def test_a_budget_nothing_fits_says_so_and_succeeds() -> None:
    tiny = ("fit", "mobilenet_v1", "--max-mult-adds", "1k")
    assert "nothing fits" in ok(*tiny)
    assert "mbcalc compare" not in ok(*tiny)
    data = fit_json("--max-mult-adds", "1k")
    assert (data["fitting"], data["frontier"]) == (0, [])
    assert data["searched"] == len(DEFAULT_ALPHAS) * len(DEFAULT_HEIGHTS)
    assert ok(*tiny, "--format", "csv").splitlines() == [",".join(CSV_HEADER)]
    assert "0 fit" in ok(*tiny, "--format", "markdown")


def test_a_params_budget_nothing_fits() -> None:
    # The fc layer alone (1,000 classes) has more than 1,000 params at any width.
    data = fit_json("--max-mult-adds", "1G", "--max-params", "1k")
    assert (data["fitting"], data["frontier"]) == (0, [])


def test_a_zero_budget_never_shows_a_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "pool_only.yaml"
    spec.write_text("input: {size: 32, channels: 3}\nlayers:\n  - pool: {global: true}\n")
    result = invoke_mbcalc("fit", str(spec), "--max-mult-adds", "0", "--alpha", "1", "--res", "32")
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code in {0, 2}


# --- the follow-up command ---------------------------------------------------------------------


def suggested_command(text: str) -> list[str]:
    """The `mbcalc compare …` line below a fit, split as a shell would."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # a terminal's styles
    (line,) = [line for line in plain.splitlines() if "mbcalc compare" in line]
    words = shlex.split(line.split("mbcalc compare", 1)[1])
    return ["compare", *words]


def test_the_suggested_compare_command_runs_and_compares_the_best_with_the_full_model() -> None:
    command = suggested_command(ok("fit", "mobilenet_v1", *PHONE))
    assert command[1] == "mobilenet_v1"
    text = ok(*command)
    assert "MobileNet v1" in text
    data = json.loads(ok(*command, "--format", "json"))
    full, chosen = data["columns"]
    assert full["alpha"] == 1.0
    assert full["resolution"] == [224, 224]
    assert full["total"]["mult_adds"] == v1_reference(Fraction(1), 224, 224)["mult_adds"]
    assert chosen["alpha"] == 0.5
    assert chosen["resolution"] == [224, 224]
    assert chosen["total"] == {
        **{key: HALF_224[key] for key in ("mult_adds", "params", "bn_params")},
        "activations": sum(v1_activations_by_op(Fraction(1, 2), 224, 224)),
    }


def test_the_suggested_command_names_the_spec_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(ARCHS / "mobilenet_v1.yaml", "v1.yaml")
    command = suggested_command(ok("fit", "v1.yaml", *PHONE))
    assert command[1] == "v1.yaml"
    data = json.loads(ok(*command, "--format", "json"))
    assert data["columns"][1]["total"]["mult_adds"] == HALF_224["mult_adds"]


def test_the_suggested_command_stays_on_one_line_in_a_pipe(tmp_path: Path) -> None:
    """Plain text is rendered at its natural width: a long path does not wrap the command."""
    spec = str(tmp_path / ("a_folder_with_a_long_descriptive_name_" * 3) / "v1.yaml")
    Path(spec).parent.mkdir()
    shutil.copy(ARCHS / "mobilenet_v1.yaml", spec)
    command = suggested_command(ok("fit", spec, *PHONE))
    assert command[1:] == [spec, f"{spec}@alpha=0.5,res=224"]
    ok(*command)


def test_the_suggested_command_stays_on_one_line_in_a_terminal() -> None:
    env = {"TTY_COMPATIBLE": "1", "COLUMNS": "80", "NO_COLOR": "1"}
    result = CliRunner().invoke(app, ["fit", "mobilenet_v1", *PHONE], env=env)
    assert result.exit_code == 0, result.output
    command = suggested_command(result.stdout)
    assert command[1:] == ["mobilenet_v1", "mobilenet_v1@alpha=0.5,res=224"]


def test_the_suggested_command_quotes_a_path_with_a_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("my nets").mkdir()
    shutil.copy(ARCHS / "mobilenet_v1.yaml", "my nets/v1.yaml")
    command = suggested_command(ok("fit", "my nets/v1.yaml", *PHONE))
    assert command[1:] == ["my nets/v1.yaml", "my nets/v1.yaml@alpha=0.5,res=224"]
    ok(*command)


def test_the_suggested_command_keeps_the_alpha_that_was_searched() -> None:
    options = ("--max-mult-adds", "150M", "--alpha", "0.4999999", "--res", "224")
    expected = v1_reference(Fraction("0.4999999"), 224, 224)["mult_adds"]
    assert expected != HALF_224["mult_adds"]
    (row,) = fit_json(*options)["frontier"]
    assert row["mult_adds"] == expected
    command = suggested_command(ok("fit", "mobilenet_v1", *options))
    data = json.loads(ok(*command, "--format", "json"))
    assert data["columns"][1]["total"]["mult_adds"] == expected


def test_fit_has_help_naming_its_options() -> None:
    text = ok("fit", "--help")
    for option in ("--max-mult-adds", "--max-params", "--alpha", "--res", "--res-step"):
        assert option in text


def test_fit_help_shows_the_default_search() -> None:
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", ok("fit", "--help")).split())
    assert "[default: 0.05:1:0.05]" in text
    assert "multiples of --res-step" in text
