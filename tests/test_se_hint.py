"""An mbconv's `se` that is no number: the error says what `se` takes, with an example."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import invoke_mbcalc, one_line_error

SPEC = """\
input: {size: 32, channels: 3}
layers:
  - conv: {out: 16}
  - mbconv: {out: 16, expand: 4, se: VALUE}
"""


@pytest.mark.parametrize("value", ["true", "yes", "{squeeze: 16}", "[0.25]", "null"])
def test_se_that_is_no_number_gets_an_example(tmp_path: Path, value: str) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.replace("VALUE", value), encoding="utf-8")
    result = invoke_mbcalc("table", str(path))
    assert result.exit_code == 1
    line = one_line_error(result)
    assert line.startswith(f"{path}:4: layer 'mbconv1': ")
    assert "`se` must be a number" in line or "missing `se`" in line
    assert "the squeeze ratio" in line
    assert "`se: 0.25`" in line
    assert "a separate `se` layer: `se: {squeeze: 16}`" in line


def test_se_out_of_range_keeps_its_message(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.replace("VALUE", "2"), encoding="utf-8")
    line = one_line_error(invoke_mbcalc("table", str(path)))
    assert line == f"{path}:4: layer 'mbconv1': `se` must be in (0, 1], got 2"
