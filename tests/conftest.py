"""Shared fixtures and settings of the suite.

Golden files are rewritten only with `pytest --update-golden`. Hypothesis runs the `dev`
profile (fewer examples, for quick runs at a desk) unless the `CI` environment variable is set,
as `.ci/run` sets it: then the `ci` profile, Hypothesis's full default number of examples drawn
in a fixed order, so that a CI run can be repeated exactly (random exploration happens at desks).
A test's own `@settings(max_examples=...)` holds under both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

GOLDEN = Path(__file__).parent / "golden"

settings.register_profile("dev", max_examples=25)
settings.register_profile("ci", max_examples=100, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

GoldenCheck = Callable[[str, str], None]
"""`golden(name, text)`: assert `text` equals tests/golden/NAME (or rewrite it)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden from the current output",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> GoldenCheck:
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden."""
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden once"
        assert text == path.read_text(encoding="utf-8")

    return check
