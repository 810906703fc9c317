"""A device file's `calibration:` section (`mbcalc.deploy.calibration_file`): written and read
back unchanged, and every mistake refused in one line naming the file and the line.

The device files are written in the test (`tests/helpers/calibrated.py`); each bad file is a good
one with one line changed, added or removed, and the expected line is found in the bad text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mbcalc.deploy.calibration_file import Calibration, Quality, calibration_data
from mbcalc.deploy.latency_model import CostModel
from mbcalc.deploy.roofline import parse_device
from mbcalc.errors import SpecError
from mbcalc.views.deploy_views import calibration_text
from tests.helpers.calibrated import calibration_section, chosen_coefficients, device_text
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, one_line_error

COEFFICIENTS = chosen_coefficients()
GOOD = device_text(calibration_section(COEFFICIENTS))


def calibration_of(text: str) -> Calibration:
    calibration = parse_device(text, "board.yaml").calibration
    assert calibration is not None
    return calibration


# --- written and read back ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "device", "threads", "batch"),
    [("torch", "cpu", 1, 1), ("onnxruntime", "cuda", 8, 32)],
)
def test_a_calibration_written_out_reads_back_equal(
    runtime: str, device: str, threads: int, batch: int
) -> None:
    calibration = Calibration(
        runtime=runtime,
        device=device,
        threads=threads,
        batch=batch,
        networks=374,
        quality=Quality(held_out=75, median_error=0.0913, within_15=0.64),
        model=CostModel(COEFFICIENTS),
    )
    text = device_text(yaml.safe_load(yaml.safe_dump(calibration_data(calibration))))
    assert calibration_of(text) == calibration


def test_the_sections_fields_are_read_as_written() -> None:
    calibration = calibration_of(GOOD)
    assert (calibration.runtime, calibration.device) == ("torch", "cpu")
    assert (calibration.threads, calibration.batch, calibration.networks) == (1, 1, 102)
    assert calibration.quality == Quality(held_out=20, median_error=0.092, within_15=0.63)
    assert dict(calibration.model.coefficients) == COEFFICIENTS


def test_a_device_without_the_section_has_no_calibration() -> None:
    assert parse_device(device_text(None), "board.yaml").calibration is None


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("6e-05", 6e-05), ("6.0e-05", 6e-05), ("0", 0.0), ("0.00012", 0.00012), ("2", 2.0)],
)
def test_a_coefficient_is_any_number_yaml_writes(written: str, seconds: float) -> None:
    """YAML 1.1 reads 6e-05 (an exponent without a dot) as text: it is a number all the same."""
    text = GOOD.replace("  network_overhead: 5.0e-05\n", f"  network_overhead: {written}\n")
    assert calibration_of(text).model.network_overhead == seconds


@pytest.mark.parametrize(
    ("threads", "median_error", "expected"),
    [
        (1, 0.092, "calibrated: torch on cpu, 1 thread, batch 1; held-out median error 9.2%"),
        (4, 0.1234, "calibrated: torch on cpu, 4 threads, batch 1; held-out median error 12.3%"),
    ],
)
def test_the_calibration_describes_itself_in_one_line(
    threads: int, median_error: float, expected: str
) -> None:
    quality = {"held_out": 20, "median_error": median_error, "within_15": 0.63}
    section = calibration_section(COEFFICIENTS, threads=threads, quality=quality)
    assert calibration_text(calibration_of(device_text(section))) == expected


# --- mistakes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """`span` lines of the good file from `line` replaced by `lines` (none: removed); the
    error names the line `at` of the bad file and says `message`."""

    line: str
    lines: tuple[str, ...]
    at: str
    message: str
    span: int = 1

    def text(self) -> str:
        good = GOOD.splitlines()
        assert good.count(self.line) == 1, self.line
        index = good.index(self.line)
        return "\n".join([*good[:index], *self.lines, *good[index + self.span :]]) + "\n"

    def number(self) -> int:
        bad = self.text().splitlines()
        assert bad.count(self.at) == 1, self.at
        return bad.index(self.at) + 1


MISTAKES = {
    "unknown class": Mistake(
        "    pointwise:", ("    pointwize:",), "    pointwize:",
        "unknown field `pointwize` in `classes` (hint: `classes` has pointwise, conv,",
    ),
    "unknown part": Mistake(
        "    clamp:", ("    relu:",), "    relu:", "unknown field `relu` in `parts`"
    ),
    "unknown field of a class": Mistake(
        "    conv:", ("    conv:", "      per_flop: 1.0e-09"), "      per_flop: 1.0e-09",
        "unknown field `per_flop` in `conv` (hint: `conv` has overhead, per_work, per_byte)",
    ),
    "unknown field of the section": Mistake(
        "  runtime: torch", ("  temperature: 20", "  runtime: torch"), "  temperature: 20",
        "unknown field `temperature` in `calibration`",
    ),
    "unknown field of the quality": Mistake(
        "    within_15: 0.63", ("    within_15: 0.63", "    mean_error: 0.1"),
        "    mean_error: 0.1", "unknown field `mean_error` in `quality`",
    ),
    "negative coefficient": Mistake(
        "      per_work: 6.0e-11", ("      per_work: -6.0e-11",), "      per_work: -6.0e-11",
        "`conv.per_work` must be a number >= 0, got -6e-11",
    ),
    "coefficient not a number": Mistake(
        "      per_byte: 1.4e-11", ("      per_byte: fast",), "      per_byte: fast",
        "`conv.per_byte` must be a number >= 0, got 'fast'",
    ),
    "coefficient not finite": Mistake(
        "  network_overhead: 5.0e-05", ("  network_overhead: .nan",),
        "  network_overhead: .nan", "`network_overhead` must be a number >= 0, got nan",
    ),
    "coefficient true": Mistake(
        "      per_byte: 7.0e-12", ("      per_byte: true",), "      per_byte: true",
        "`pointwise.per_byte` must be a number >= 0, got True",
    ),
    # a missing entry: the line where the mapping lacking it starts, as for a device's fields
    "missing part": Mistake("    slow:", (), "    batch_norm:", "missing `slow` (hint:", span=3),
    "missing field": Mistake(
        "      per_byte: 7.0e-12", (), "      overhead: 1.0e-06", "missing `per_byte`"
    ),
    "bad runtime": Mistake(
        "  runtime: torch", ("  runtime: tensorflow",), "  runtime: tensorflow",
        "`runtime` must be torch or onnxruntime, got 'tensorflow'",
    ),
    "bad target": Mistake(
        "  device: cpu", ("  device: tpu",), "  device: tpu",
        "`device` must be cpu or cuda, got 'tpu'",
    ),
    "threads 0": Mistake(
        "  threads: 1", ("  threads: 0",), "  threads: 0",
        "`threads` must be a whole number from 1 to 1,000,000, got 0",
    ),
    "threads not whole": Mistake(
        "  threads: 1", ("  threads: 1.5",), "  threads: 1.5", "`threads` must be a whole number"
    ),
    "negative held out": Mistake(
        "    held_out: 20", ("    held_out: -1",), "    held_out: -1",
        "`held_out` must be a whole number from 0 to 1,000,000, got -1",
    ),
    "quality not a mapping": Mistake(
        "  quality:", ("  quality: 0.9",), "  quality: 0.9", "`quality` must be a mapping", span=4
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_mistake_names_the_file_and_its_line(name: str) -> None:
    mistake = MISTAKES[name]
    with pytest.raises(SpecError) as caught:
        parse_device(mistake.text(), "bad.yaml")
    assert str(caught.value).startswith(f"bad.yaml:{mistake.number()}: {mistake.message}")


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_the_command_line_refuses_a_mistake_in_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mistake = MISTAKES[name]
    (tmp_path / "bad.yaml").write_text(mistake.text(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke_mbcalc("table", "mobilenet_v1", "--device", "bad.yaml")
    assert_clean_failure(result, 1)
    line = one_line_error(result)
    assert line.startswith(f"bad.yaml:{mistake.number()}: {mistake.message}"), line
