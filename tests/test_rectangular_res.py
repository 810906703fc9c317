"""`--res HEIGHTxWIDTH`: an input of any shape, on every command that takes --res.

The expected counts are MobileNet v1's, recomputed from the paper's formulas at that input size
(`tests.helpers.mobilenet_v1`), and those of the same spec written with that input size.
"""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc import Settings, SettingsError, analyze, build_graph
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok
from tests.helpers.mobilenet_v1 import v1_reference

HALF = Fraction(1, 2)
SHIPPED = Path(__file__).resolve().parents[1] / "archs"


def v1_totals(alpha: Fraction, height: int, width: int) -> tuple[int, int]:
    reference = v1_reference(alpha, height, width)
    return reference["mult_adds"], reference["params"]


def v1_written_at(tmp_path: Path, height: int, width: int) -> Path:
    """MobileNet v1's shipped spec with its input written as height x width."""
    text = (SHIPPED / "mobilenet_v1.yaml").read_text()
    assert "input: {size: 224, channels: 3}" in text
    path = tmp_path / "v1_rect.yaml"
    path.write_text(text.replace("size: 224,", f"size: [{height}, {width}],"))
    return path


def test_settings_take_a_height_and_width() -> None:
    graph = build_graph(load_shipped("mobilenet_v1"), Settings(res=(128, 96)))
    assert graph.resolution == (128, 96)
    assert Settings(res=(128, 96)).resolution((224, 224)) == (128, 96)
    assert Settings(res=128).resolution((224, 112)) == (128, 64)  # a height keeps the proportion


@pytest.mark.parametrize("res", [(0, 96), (128, 0)])
def test_settings_refuse_a_side_of_no_pixels(res: tuple[int, int]) -> None:
    with pytest.raises(SettingsError, match="positive number of pixels"):
        Settings(res=res)


def test_table_at_128x96_has_the_papers_counts(tmp_path: Path) -> None:
    data = json.loads(
        ok("table", "mobilenet_v1", "--alpha", "0.5", "--res", "128x96", "-f", "json")
    )
    total = data["total"]
    assert (total["mult_adds"], total["params"]) == v1_totals(HALF, 128, 96)
    assert data["resolution"] == [128, 96]
    assert data["input"] == [128, 96, 3]
    written = json.loads(
        ok("table", str(v1_written_at(tmp_path, 128, 96)), "-a", "0.5", "-f", "json")
    )
    assert data["layers"] == written["layers"]
    assert data["total"] == written["total"]


def test_table_title_and_csv_show_the_size() -> None:
    assert "alpha 0.5, 128x96" in ok("table", "mobilenet_v1", "-a", "0.5", "-r", "128x96")
    rows = ok("table", "mobilenet_v1", "--res", "128X96", "-f", "csv").splitlines()
    assert rows[1].split(",")[rows[0].split(",").index("input")] == "128x96x3"


def test_breakdown_and_roofline_at_128x96() -> None:
    mult_adds, params = v1_totals(Fraction(1), 128, 96)
    breakdown = json.loads(ok("breakdown", "mobilenet_v1", "--res", "128x96", "-f", "json"))
    assert sum(row["mult_adds"] for row in breakdown["types"]) == mult_adds
    assert breakdown["resolution"] == [128, 96]
    roofline = json.loads(
        ok("roofline", "mobilenet_v1", "--res", "128x96", "-d", "jetson-nano", "-f", "json")
    )
    assert roofline["input"] == [128, 96, 3]
    assert (roofline["total"]["mult_adds"], roofline["total"]["params"]) == (mult_adds, params)


def test_compare_takes_a_size_per_spec() -> None:
    data = ok("compare", "mobilenet_v1@alpha=0.5,res=128x96", "mobilenet_v1", "-f", "csv")
    header, *rows = csv.reader(data.splitlines())
    first = [row for row in rows if row[header.index("column")] == "1"]
    assert {row[header.index("resolution")] for row in first} == {"128x96"}
    units = [row for row in first if row[header.index("row")] != "total"]
    total = sum(int(row[header.index("mult_adds")]) for row in units)
    assert total == v1_totals(HALF, 128, 96)[0]


def test_sweep_and_fit_take_lists_of_sizes() -> None:
    text = ok("sweep", "mobilenet_v1", "-a", "1,0.5", "--res", "128x96,160x120,192", "-f", "csv")
    header, *rows = csv.reader(text.splitlines())
    seen = {}
    for row in rows:
        record = dict(zip(header, row, strict=True))
        size = (int(record["height"]), int(record["width"]))
        seen[Fraction(record["alpha"]), size] = (int(record["mult_adds"]), int(record["params"]))
    sizes = [(128, 96), (160, 120), (192, 192)]
    assert seen == {(a, s): v1_totals(a, *s) for a in (Fraction(1), HALF) for s in sizes}
    fit = json.loads(
        ok(
            "fit",
            "mobilenet_v1",
            "--max-mult-adds",
            "100M",
            "--res",
            "128x96,160x120",
            "-f",
            "json",
        )
    )
    assert fit["frontier"]
    for setting in fit["frontier"]:
        alpha, (height, width) = Fraction(str(setting["alpha"])), setting["resolution"]
        assert (height, width) in {(128, 96), (160, 120)}
        assert setting["mult_adds"] == v1_totals(alpha, height, width)[0] <= 100_000_000


def test_fit_suggests_the_size_it_found() -> None:
    text = ok("fit", "mobilenet_v1", "--max-mult-adds", "100M", "--res", "160x120", "-a", "0.5")
    assert "mobilenet_v1@alpha=0.5,res=160x120" in text
    square = ok("fit", "mobilenet_v1", "--max-mult-adds", "100M", "--res", "160", "-a", "0.5")
    assert "mobilenet_v1@alpha=0.5,res=160\n" in square


@pytest.mark.parametrize("res", ["128x", "128x96x3", "x96", "128*96", "128x-96", "128 x 96"])
@pytest.mark.parametrize("command", ["table", "breakdown", "roofline"])
def test_a_malformed_size_is_a_usage_error(command: str, res: str) -> None:
    result = invoke_mbcalc(command, "mobilenet_v1", "--res", res)
    assert_clean_failure(result, 2, "--res", res)


@pytest.mark.parametrize("command", ["table", "breakdown", "roofline"])
def test_a_side_of_no_pixels_is_a_setting_that_cannot_be_used(command: str) -> None:
    result = invoke_mbcalc(command, "mobilenet_v1", "--res", "0x96")
    assert_clean_failure(result, 1, "--res must be a positive number of pixels, got 0x96")


def test_a_malformed_size_in_compare_names_the_argument() -> None:
    result = invoke_mbcalc("compare", "mobilenet_v1@res=128x", "mobilenet_v1")
    assert_clean_failure(result, 1, "mobilenet_v1@res=128x: res:", "height x width")
    result = invoke_mbcalc("compare", "mobilenet_v1@res=0x96", "mobilenet_v1")
    assert_clean_failure(result, 1, "res must be a positive number of pixels, got 0x96")


@pytest.mark.parametrize("command", ["sweep", "fit"])
def test_a_range_of_sizes_is_refused(command: str) -> None:
    budget = ["--max-mult-adds", "100M"] if command == "fit" else []
    result = invoke_mbcalc(command, "mobilenet_v1", *budget, "--res", "96x72:224x168:32")
    assert_clean_failure(result, 2, "--res", "heights only", "128x96,160x120")
    result = invoke_mbcalc(command, "mobilenet_v1", *budget, "--res", "128x96,0x5")
    assert_clean_failure(result, 1, "resolutions must be in [1,", "got 0x5")
    result = invoke_mbcalc(command, "mobilenet_v1", *budget, "--res", "128x96,5y5")
    assert_clean_failure(result, 2, "--res", "'5y5' is not a whole number of pixels")


def test_library_sweep_takes_sizes() -> None:
    from mbcalc.grid.sweep import sweep

    spec = load_shipped("mobilenet_v1")
    grid = sweep(spec, [HALF], [(128, 96), 160])
    assert grid.resolutions == ((128, 96), (160, 160))
    for r, (height, width) in enumerate(grid.resolutions):
        report = analyze(build_graph(spec, Settings(alpha=HALF, res=(height, width))))
        assert int(grid.mult_adds[0, r]) == report.total.cost.mult_adds
        assert int(grid.mult_adds[0, r]) == v1_totals(HALF, height, width)[0]


@pytest.mark.torch
def test_the_torch_module_runs_at_128x96() -> None:
    torch = pytest.importorskip("torch")
    from mbcalc.pytorch import build

    network = build("mobilenet_v1", Settings(alpha=HALF, res=(128, 96))).eval()
    assert network.graph.resolution == (128, 96)
    with torch.no_grad():
        logits = network(torch.zeros(1, 3, 128, 96))
    assert tuple(logits.shape) == (1, 1000)


@pytest.mark.torch
def test_verify_at_128x96() -> None:
    pytest.importorskip("torch")
    text = ok("verify", "mobilenet_v1", "-a", "0.25", "--res", "128x96")
    mult_adds = v1_totals(Fraction(1, 4), 128, 96)[0]
    assert f"{mult_adds:,} mbcalc · {mult_adds:,} PyTorch" in text
    assert "input 128x96x3" in text
