"""Exceptions raised by the library; the CLI turns each into one line on stderr."""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped (`\\n`, `\\x1b`).

    A message may quote what the user wrote (a key, a name, a file name), and must still be
    one line on a terminal, with no escape sequences acted upon.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or unicodedata.category(char) == "Zs" else repr(char)[1:-1]
        for char in text
    )


def number_text(number: int) -> str:
    """A number for a message: written out, unless it is too long to read."""
    digits = len(str(abs(number))) if abs(number) < 10**4000 else None
    if digits is not None and digits <= 15:
        return str(number)
    sign = "-" if number < 0 else ""
    return f"{sign}a {digits}-digit number" if digits else f"{sign}a number of over 4000 digits"


def size_text(size: tuple[int, int]) -> str:
    """A height and width for a message: 224x224, or in words when a side is too long to read."""
    height, width = (number_text(side) for side in size)
    if height.lstrip("-").isdigit() and width.lstrip("-").isdigit():
        return f"{height}x{width}"
    return f"({height} by {width})"


class MbcalcError(Exception):
    """Base class of every error mbcalc reports to a user."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if self.hint is None else f"{self.message} (hint: {self.hint})"
        return one_line(text)


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
        return one_line(text if self.hint is None else f"{text} (hint: {self.hint})")


class UnknownSpecError(SpecError):
    """A SPEC argument that is neither a file nor the name of a shipped spec; its message names
    the argument itself."""

    def __str__(self) -> str:
        return MbcalcError.__str__(self)


class UnknownLayerError(SpecError):
    """A layer type that mbcalc does not know: never counted as a silent zero."""


class SettingsError(MbcalcError):
    """An alpha or resolution that no network can be built with."""


class SettingValueError(SettingsError, ValueError):
    """A setting of the wrong kind or out of its range (alpha 0, a height of -3): a ValueError
    too, as Python callers expect of a bad argument."""


class OutputError(MbcalcError):
    """A report that could not be written where the user asked."""


class FormatConflictError(OutputError):
    """--format naming one format and --output a file whose suffix names another: wrong usage,
    exit status 2."""

    exit_status = 2


class LimitError(SettingsError):
    """A value beyond one of mbcalc's documented limits (`mbcalc.core.limits`): exit status 2."""

    exit_status = 2


class ModelImportError(MbcalcError):
    """A model file or PyTorch module that cannot become a spec: names the source and, where
    one is to blame, the node (its name, op type and the module path it belongs to)."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        node: str | None = None,
        op: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.source, self.node, self.op, self.path = source, node, op, path

    def __str__(self) -> str:
        where = ""
        if self.node is not None:
            details = ", ".join(
                part
                for part in (
                    f"op {self.op}" if self.op else "",
                    f"in '{self.path}'" if self.path else "",
                )
                if part
            )
            where = f"node '{self.node}'" + (f" ({details})" if details else "") + ": "
        text = f"{self.source}: {where}{self.message}"
        return one_line(text if self.hint is None else f"{text} (hint: {self.hint})")
