"""`mbcalc import`: an ONNX file or a PyTorch module written as a spec."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mbcalc.cli.deliver import check_outputs, write_file, write_stdout
from mbcalc.cli.options import ForceOpt, output_option


class Unknown(StrEnum):
    """What the import does with an op the spec language has no layer for."""

    ERROR = "error"
    FREE = "free"


SourceArg = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="An ONNX file (model.onnx; needs mbcalc[onnx]) or a PyTorch callable returning an "
        "nn.Module: package.module:factory or path/file.py:factory (needs mbcalc[torch]).",
        show_default=False,
    ),
]
SpecOutputOpt = Annotated[
    Path | None, output_option("the spec", "nothing is written when the import fails.")
]
InputOpt = Annotated[
    str | None,
    typer.Option(
        "--input",
        metavar="CxHxW",
        help="The input's channels, height and width (3x224x224): what a PyTorch module is "
        "traced at (default 3x224x224), and an ONNX file's size where its own is dynamic or "
        "to be replaced.",
        show_default=False,
    ),
]
UnknownOpt = Annotated[
    Unknown,
    typer.Option(
        "--unknown",
        help="error: stop at the first op no layer of the spec language stands for, naming it; "
        "free: import such ops (if they keep their input's shape) as free, counted as nothing, "
        "listed in a warning and in the spec's header.",
    ),
]


def import_model(
    source: SourceArg,
    output: SpecOutputOpt = None,
    force: ForceOpt = False,
    input: InputOpt = None,
    unknown: UnknownOpt = Unknown.ERROR,
) -> None:
    """Write the spec of an ONNX file or a PyTorch module as a person would write it: each conv
    with its batch norm and activation one layer; separable, mbconv, se, residual blocks and
    parallel branches recognised; layer names from the module paths. Every command also reads
    an ONNX file where it takes a SPEC (`mbcalc table model.onnx --alpha 0.5`)."""
    from mbcalc.ingest.sources import import_model, parse_input
    from mbcalc.spec.parser import parse_spec
    from mbcalc.views.escape import for_stream, visible

    shape = None
    if input is not None:
        try:
            shape = parse_input(input)
        except ValueError as error:
            raise typer.BadParameter(
                str(error).removeprefix("--input: "), param_hint="--input"
            ) from None
    check_outputs(force, [output], source)
    imported = import_model(source, input=shape, unknown=unknown.value)
    parse_spec(imported.text, source=f"the spec imported from {source}")  # never a bad file
    if imported.free:
        listed = visible("; ".join(imported.free))
        message = f"mbcalc: warning: imported {len(imported.free)} op(s) as free: {listed}\n"
        sys.stderr.write(for_stream(message, sys.stderr.encoding))
    if output is None:
        write_stdout(imported.text)
    else:
        write_file(output, imported.text)
