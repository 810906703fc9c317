"""The import's entry points: an ONNX file or a PyTorch callable, made spec text.

`--input` is `CxHxW` (`3x224x224`); an ONNX file's own input shape is used when it is static.
A PyTorch callable is traced at `--input`, 3x224x224 when not given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mbcalc.errors import ModelImportError

if TYPE_CHECKING:
    from mbcalc.ingest.network import Shape
    from mbcalc.ingest.recognize import Imported

MODEL_SUFFIXES = (".onnx",)
"""The file suffixes every command reads as a model to import rather than a spec."""

DEFAULT_INPUT: tuple[int, int, int] = (3, 224, 224)
"""The input a PyTorch callable is traced at when `--input` is not given."""

MAX_SIDE = 100_000
"""Largest channel count or side `--input` may give."""


def is_model_file(argument: str) -> bool:
    """Whether a SPEC argument names a model file (by its suffix) rather than a spec."""
    return argument.lower().endswith(MODEL_SUFFIXES)


def parse_input(text: str) -> Shape:
    """`CxHxW` (or `C x H x W`) as three positive whole numbers."""
    parts = [part.strip() for part in text.lower().split("x")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"--input must be CxHxW, e.g. 3x224x224, got {text!r}")
    channels, height, width = (int(part) for part in parts)
    if not all(1 <= value <= MAX_SIDE for value in (channels, height, width)):
        raise ValueError(
            f"--input: each of C, H and W must be from 1 to {MAX_SIDE:,}, got {text!r}"
        )
    return (channels, height, width)


def import_onnx(
    path: str | Path,
    *,
    input_shape: Shape | None = None,
    unknown_free: bool = False,
    source: str | None = None,
) -> Imported:
    """The spec of the ONNX file at `path`; `source` names it in messages and the header."""
    from mbcalc.ingest.onnx_file import read_onnx
    from mbcalc.ingest.recognize import spec_text

    label = source if source is not None else str(path)
    try:
        import onnx  # noqa: F401 -- read_onnx imports it where it needs it
    except ImportError:
        raise ModelImportError(
            "reading an ONNX file needs the onnx package",
            source=label,
            hint="pip install 'mbcalc[onnx]'",
        ) from None
    network = read_onnx(Path(path), source=label, input_shape=input_shape)
    return spec_text(network, unknown_free=unknown_free)


def import_callable(
    ref: str, *, input_shape: Shape | None = None, unknown_free: bool = False
) -> Imported:
    """The spec of the module a PyTorch callable (`package.module:factory`,
    `path/file.py:factory`) returns, traced at `input_shape`."""
    from mbcalc.ingest.callable_ref import load_module
    from mbcalc.ingest.recognize import spec_text
    from mbcalc.ingest.torch_module import read_module

    module = load_module(ref)
    network = read_module(module, input_shape or DEFAULT_INPUT, source=ref)
    name = ref.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return spec_text(network, unknown_free=unknown_free, name=name)


def import_model(
    source: str, *, input: Shape | str | None = None, unknown: str = "error"
) -> Imported:
    """The spec of an ONNX file (`model.onnx`) or of the module a PyTorch callable returns
    (`package.module:factory`, `path/file.py:factory`), as `mbcalc import` writes it.

    `input` is (C, H, W) or `CxHxW` text; `unknown` is `error` (an op no layer stands for
    stops the import) or `free` (such an op is kept as free, listed in `Imported.free`).

    >>> imported = import_model("model.onnx")  # doctest: +SKIP
    >>> spec = mbcalc.parse_spec(imported.text)  # doctest: +SKIP
    """
    if unknown not in ("error", "free"):
        raise ValueError(f"unknown must be 'error' or 'free', got {unknown!r}")
    shape = parse_input(input) if isinstance(input, str) else input
    free = unknown == "free"
    if is_model_file(source):
        return import_onnx(source, input_shape=shape, unknown_free=free)
    if ":" in source:
        return import_callable(source, input_shape=shape, unknown_free=free)
    raise ModelImportError(
        "is neither an ONNX file (*.onnx) nor a PyTorch callable (package.module:factory or "
        "path/file.py:factory)",
        source=source,
    )
