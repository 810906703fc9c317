"""What the page-writing scripts share: writing a page, or checking that it is current."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root."""


def write_or_check(page: Path, make: Callable[[], str], script: str, argv: list[str]) -> int:
    """Write `make()` to `page`, or with `--check` write nothing and return 1 when the page is
    not what `make()` gives now (2 for any other argument)."""
    if any(arg != "--check" for arg in argv):
        print(f"usage: python scripts/{script} [--check]", file=sys.stderr)
        return 2
    text = make()
    name = page.relative_to(ROOT).as_posix()
    if "--check" in argv:
        if page.is_file() and page.read_text(encoding="utf-8") == text:
            return 0
        print(f"{name} is stale: run python scripts/{script}", file=sys.stderr)
        return 1
    page.write_text(text, encoding="utf-8")
    print(f"wrote {name}", file=sys.stderr)
    return 0
