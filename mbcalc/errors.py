"""Exceptions raised by the library; the CLI turns each into one line on stderr."""

from __future__ import annotations


class MbcalcError(Exception):
    """Base class of every error mbcalc reports to a user."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} (hint: {self.hint})"


class SpecError(MbcalcError):
    """A spec that cannot be computed: names the file, the line and the layer."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        line: int | None = None,
        layer: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.source = source
        self.line = line
        self.layer = layer

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        what = self.message if self.layer is None else f"layer '{self.layer}': {self.message}"
        text = f"{where}: {what}"
        return text if self.hint is None else f"{text} (hint: {self.hint})"


class UnknownLayerError(SpecError):
    """A layer type that mbcalc does not know: never counted as a silent zero."""


class SettingsError(MbcalcError):
    """An alpha or resolution that no network can be built with."""


class OutputError(MbcalcError):
    """A report that could not be written where the user asked."""
