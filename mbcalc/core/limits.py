"""The bounds of what mbcalc computes, checked before any work; one place for each number.

Each bound is far beyond any real use and keeps every count exact, every float finite and
every run within a few GiB; docs/commands.md lists them (Limits).
"""

from __future__ import annotations

from fractions import Fraction

from mbcalc.errors import LimitError, number_text

MAX_BATCH = 1_000_000_000
"""Most images per inference (`--batch`)."""

MIN_RATE = 1
"""Slowest device rate, in mult-adds or bytes per second: every op's seconds stay a finite
float (a count is far below 1e308)."""

MAX_RATE = 10**21
"""Fastest device rate, in mult-adds or bytes per second (1e21)."""

MAX_COUNT_WEIGHT = 1_000_000
"""Largest cost per element of an operation counted with `--count` (bn=2)."""

MAX_GRID_CELLS = 1_000_000
"""Most settings (alphas x resolutions) one sweep or fit evaluates."""

MAX_VERIFY_BYTES = 2 * 2**30
"""Most memory the module `mbcalc verify` builds may need: its weights and activations."""


def check_batch(batch: int) -> None:
    """Refuse a batch outside [1, MAX_BATCH]."""
    if not 1 <= batch <= MAX_BATCH:
        raise LimitError(
            f"the batch must be a whole number from 1 to {MAX_BATCH:,}, got {number_text(batch)}"
        )


def rate_problem(rate: Fraction) -> str | None:
    """Why a device rate is refused (the caller names the file and line), or None."""
    if rate <= 0:
        return "must be a positive number such as 236G or 4.8T"
    if MIN_RATE <= rate <= MAX_RATE:
        return None
    return f"must be from {MIN_RATE:,} to 1e21 per second"


def count_weight(name: str, digits: str) -> int:
    """The `--count` cost per element of `name` written as `digits`; over MAX_COUNT_WEIGHT
    is refused, without converting a number of thousands of digits."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(MAX_COUNT_WEIGHT)) or int(significant) > MAX_COUNT_WEIGHT:
        shown = significant if len(significant) <= 15 else f"a {len(significant)}-digit number"
        raise LimitError(
            f"--count: the cost of {name} must be at most {MAX_COUNT_WEIGHT:,}, got {shown}"
        )
    return int(significant)


def check_grid(alphas: int, resolutions: int) -> None:
    """Refuse a grid of more than MAX_GRID_CELLS settings, before anything is allocated."""
    cells = alphas * resolutions
    if cells > MAX_GRID_CELLS:
        raise LimitError(
            f"{alphas:,} alphas x {resolutions:,} resolutions make {cells:,} settings, "
            f"more than the limit of {MAX_GRID_CELLS:,}",
            hint="narrow the ranges or take a larger STEP",
        )


def check_verify_bytes(estimate: int) -> None:
    """Refuse to build a module whose weights and activations need over MAX_VERIFY_BYTES."""
    if estimate > MAX_VERIFY_BYTES:
        raise LimitError(
            f"the PyTorch module would need about {estimate / 2**30:,.1f} GiB of weights and "
            f"activations, more than the limit of {MAX_VERIFY_BYTES / 2**30:g} GiB",
            hint="verify at a smaller --alpha or --res",
        )
