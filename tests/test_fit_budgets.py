"""fit's FLOPs budget (--max-flops, under the counting profile) and latency budget
(--max-latency on --device): the settings that fit are those `mbcalc table` at each setting
puts within the budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok

GRID = ("--alpha", "1,0.75,0.5,0.25", "--res", "224,160,128")
SETTINGS = [(alpha, res) for alpha in ("1", "0.75", "0.5", "0.25") for res in (224, 160, 128)]


def fit_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok("fit", "mobilenet_v1", *GRID, *args, "--format", "json"))
    return data


def table_total(alpha: str, res: int, *options: str) -> dict[str, Any]:
    args = ("table", "mobilenet_v1", "--alpha", alpha, "--res", str(res), *options)
    total: dict[str, Any] = json.loads(ok(*args, "--format", "json"))["total"]
    return total


def listed(data: dict[str, Any]) -> set[tuple[float, int]]:
    return {(row["alpha"], row["resolution"][0]) for row in data["within_budget"]}


def test_a_flops_budget_under_the_paper_is_twice_the_mult_adds() -> None:
    flops = fit_json("--max-flops", "300M", "--all")
    mult_adds = fit_json("--max-mult-adds", "150M", "--all")
    assert listed(flops) == listed(mult_adds)
    assert flops["budget"]["flops"] == 300 * 10**6
    for row in flops["within_budget"]:
        assert row["operations"] == 2 * row["mult_adds"]
        assert row["operations"] <= 300 * 10**6


@pytest.mark.parametrize("profile", ["fvcore", "thop"])
def test_a_flops_budget_under_a_profile_is_that_tools_count(profile: str) -> None:
    budget = 200 * 10**6
    data = fit_json("--max-flops", "200M", "-p", profile, "--all")
    counted = {
        (float(alpha), res): table_total(alpha, res, "-p", profile)["counted"]["operations"]
        for alpha, res in SETTINGS
    }
    assert listed(data) == {setting for setting, ops in counted.items() if ops <= budget}
    for row in data["within_budget"]:
        assert row["operations"] == counted[row["alpha"], row["resolution"][0]]
    (best,) = [row for row in data["frontier"] if row["best"]]
    assert best["operations"] == max(ops for ops in counted.values() if ops <= budget)
    assert data["profile"]["name"] == profile


def test_a_latency_budget_is_the_roofline_estimate_on_the_device() -> None:
    budget = 0.0015
    options = ("--device", "jetson-nano")
    data = fit_json("--max-latency", "1.5ms", *options, "--all")
    seconds = {
        (float(alpha), res): table_total(alpha, res, *options)["roofline"]["seconds"]
        for alpha, res in SETTINGS
    }
    assert listed(data) == {setting for setting, time in seconds.items() if time <= budget}
    for row in data["within_budget"]:
        assert row["latency_seconds"] == pytest.approx(seconds[row["alpha"], row["resolution"][0]])
    assert data["budget"]["latency_seconds"] == budget
    assert data["device"] == "Jetson Nano"


@pytest.mark.parametrize("text", ["1e8", "100M", "0.1G", "100,000,000"])
def test_flops_budgets_are_written_like_counts(text: str) -> None:
    assert fit_json("--max-flops", text)["budget"]["flops"] == 10**8


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2ms", 2e-3), ("0.5 ms", 5e-4), ("500us", 5e-4), ("500µs", 5e-4), ("0.002s", 2e-3)],
)
def test_latency_budgets_take_a_unit(text: str, seconds: float) -> None:
    data = fit_json("--max-latency", text, "--device", "jetson-nano")
    assert data["budget"]["latency_seconds"] == pytest.approx(seconds, rel=1e-12)


def test_every_format_shows_the_flops_and_latency_columns() -> None:
    args = ("--max-flops", "300M", "--max-latency", "2ms", "--device", "jetson-nano")
    data = fit_json(*args)
    (best,) = [row for row in data["frontier"] if row["best"]]
    csv_text = ok("fit", "mobilenet_v1", *GRID, *args, "--format", "csv")
    header = csv_text.splitlines()[0].split(",")
    assert header[-4:] == ["operations", "operations_share", "latency_seconds", "latency_share"]
    markdown = ok("fit", "mobilenet_v1", *GRID, *args, "--format", "markdown")
    # No mult-adds budget: no share of one.
    assert "| alpha | input | mult-adds | FLOPs | of budget | latency | of budget |" in markdown
    assert f"{best['operations']:,}" in markdown
    terminal = ok("fit", "mobilenet_v1", *GRID, *args)
    assert "FLOPs" in terminal
    assert "latency" in terminal


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--max-latency", "2ms"), ("--max-latency", "needs --device")),
        ((), ("give a budget", "--max-flops", "--max-latency")),
        (("--max-latency", "2 parsecs", "-d", "jetson-nano"), ("--max-latency", "2ms")),
        (("--max-latency", "0ms", "-d", "jetson-nano"), ("--max-latency", "above zero")),
        (("--max-latency", "2"), ("--max-latency",)),
        (("--max-flops", "0"), ("--max-flops", "at least 1")),
        (("--max-flops", "1.5x"), ("--max-flops", "not a count")),
    ],
)
def test_bad_budgets_are_usage_errors(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert_clean_failure(invoke_mbcalc("fit", "mobilenet_v1", *args), 2, *words)
