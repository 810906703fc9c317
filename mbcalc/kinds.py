"""Enums that several layers name: defined here, below all of them, so none imports another's.

The compute side sets them (`Bound` on each op's roofline time, `Alignment` on each compared
row); the views and the command line read them.
"""

from __future__ import annotations

from enum import StrEnum


class Bound(StrEnum):
    """Which roof limits an op: the device's compute peak or its memory bandwidth."""

    COMPUTE = "compute"
    MEMORY = "memory"


class Alignment(StrEnum):
    """How a compared row's units were put together."""

    NAME = "name"  # the same unit name in every column
    STRUCTURE = "structure"  # the same type, kernel and stride
    POSITION = "position"  # paired in order within a stretch whose structures differ
    ONLY = "only"  # missing from at least one column


class Format(StrEnum):
    """The output formats of a report."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


class PlotBy(StrEnum):
    """What a sweep plot draws one line per: each resolution or each width multiplier."""

    RES = "res"
    ALPHA = "alpha"
