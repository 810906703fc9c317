"""The shipped specs (`archs/`), addressable by name from any folder, and their families."""

from __future__ import annotations

import difflib
import zlib
from os import PathLike
from pathlib import Path

from mbcalc.errors import SpecError, UnknownSpecError
from mbcalc.ingest.sources import import_onnx, is_model_file
from mbcalc.spec.derived import archs_dir
from mbcalc.spec.model import Spec
from mbcalc.spec.parser import load_spec, parse_spec
from mbcalc.spec.source import SourceError, decode_spec_bytes, read_spec_bytes

SPEC_SUFFIXES = (".yaml", ".yml")


def _archs_dir() -> Path:
    """The installed `mbcalc/archs`, or `archs/` beside the package in a source checkout."""
    return archs_dir()


def shipped_names() -> list[str]:
    """Names of the shipped specs, sorted."""
    return _names_in(_archs_dir())


def _names_in(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.name.endswith(SPEC_SUFFIXES) and entry.is_file()
    )


def shipped_texts() -> dict[str, bytes]:
    """The stored bytes of every shipped spec by name, sorted (the folder found once)."""
    folder = _archs_dir()
    return {name: (folder / f"{name}.yaml").read_bytes() for name in _names_in(folder)}


def digest(text: bytes) -> str:
    """The CRC-32 of a spec's bytes, in hex: what the shipped index checks its figures by."""
    return f"{zlib.crc32(text):08x}"


INDEX_FILE = "index.json"
"""The shipped specs' figures, beside them (`mbcalc.core.catalog` reads and writes it)."""


def index_path() -> Path:
    """Where the shipped index lives."""
    return _archs_dir() / INDEX_FILE


FAMILIES = (
    ("mobilenet", "MobileNet"),
    ("mobilenetv4", "MobileNetV4"),
    ("efficientnet", "EfficientNet"),
    ("resnet", "ResNet"),
    ("resnext", "ResNeXt"),
    ("wide_resnet", "Wide ResNet"),
    ("vgg", "VGG"),
    ("regnet", "RegNet"),
    ("densenet", "DenseNet"),
    ("convnext", "ConvNeXt"),
    ("vit_", "ViT"),
    ("mobilevit", "MobileViT"),
    ("maxvit_", "MaxViT"),
    ("swin_", "Swin"),
    ("shufflenet", "ShuffleNet"),
    ("inception", "Inception/GoogLeNet"),
    ("googlenet", "Inception/GoogLeNet"),
    ("squeezenet", "SqueezeNet"),
    ("mnasnet", "MNASNet"),
    ("alexnet", "AlexNet"),
)
"""A shipped spec's family by the start of its name (torchvision's names), in listing order."""

OTHER_FAMILY = "Other"


def family_of(name: str) -> str:
    """The family a shipped spec's name places it in, by the longest start it has (`Other`
    when none)."""
    starts = [(len(start), family) for start, family in FAMILIES if name.startswith(start)]
    return max(starts)[1] if starts else OTHER_FAMILY


def load_shipped(name: str) -> Spec:
    """Load a shipped spec by name (`mobilenet_v1`; `mobilenet_v1.yaml` names it too)."""
    stem = name.removesuffix(".yaml")
    if stem not in shipped_names():
        hint = _name_hint(stem, shipped_names())
        if stem != name:
            hint = f"load_spec(path) reads a spec file; {hint}"
        raise UnknownSpecError(f"no shipped spec named '{name}'", source=name, hint=hint)
    label = f"{stem}.yaml"
    try:
        text = decode_spec_bytes((_archs_dir() / label).read_bytes())
    except SourceError as exc:  # pragma: no cover - shipped specs are tested
        raise SpecError(exc.message, source=label, line=exc.line) from None
    return parse_spec(text, source=label, default_name=stem, path=_archs_dir() / label)


def load_any(spec: Spec | str | PathLike[str]) -> Spec:
    """A spec given any way the library takes one: a loaded `Spec`, a shipped name or a path
    to a YAML file as text (as the command line's SPEC argument), or a `Path`."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str):
        return resolve_spec(spec)
    if isinstance(spec, PathLike):
        if is_model_file(str(spec)):
            return resolve_spec(str(spec))
        return load_spec(spec, source=str(spec))
    raise TypeError(
        f"spec must be a shipped spec's name, a path or a Spec, got {type(spec).__name__}"
    )


def exists(path: Path) -> bool:
    """Whether anything is at `path`; a name the system cannot even look up is not there."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def resolve_spec(argument: str) -> Spec:
    """A SPEC argument: a path to a YAML file, the name of a shipped spec, or a model file
    (`model.onnx`) imported on the fly."""
    if is_model_file(argument):
        return parse_spec(spec_text(argument), source=argument, default_name=Path(argument).stem)
    found = _locate(argument)
    return load_shipped(found) if isinstance(found, str) else load_spec(found, source=argument)


def spec_text(argument: str) -> str:
    """The text of a SPEC argument's file (a path or a shipped spec's name), as stored, once it
    is known to be a valid spec (what is not, control characters included, is refused); a
    model file's spec as `mbcalc import` writes it."""
    if is_model_file(argument):
        return import_onnx(argument).text
    found = _locate(argument)
    path = _archs_dir() / f"{found}.yaml" if isinstance(found, str) else found
    try:
        text = read_spec_bytes(path)
    except SourceError as exc:
        raise SpecError(exc.message, source=argument, line=exc.line, hint=exc.hint) from None
    parse_spec(text, source=argument, default_name=path.stem, path=path)
    return text


def _locate(argument: str) -> str | Path:
    """The shipped spec's name a SPEC argument is, or else the path it names."""
    path = Path(argument)
    found = exists(path)
    looks_like_path = path.suffix in SPEC_SUFFIXES or len(path.parts) > 1 or found
    if not looks_like_path and argument in shipped_names():
        return argument
    if not looks_like_path and not found:
        raise UnknownSpecError(
            f"no spec file or shipped spec named '{argument}'",
            source=argument,
            hint=_name_hint(argument, shipped_names()),
        )
    return path


def closest_names(name: str, names: list[str]) -> list[str]:
    """The names that begin with `name`, else those difflib finds closest (ties kept), sorted."""
    extended = [other for other in names if name and other.startswith(name)]
    if extended or not names:
        return sorted(extended)
    close = difflib.get_close_matches(name, names, n=len(names))
    ratios = {match: difflib.SequenceMatcher(None, name, match).ratio() for match in close}
    best = max(ratios.values(), default=None)
    return sorted(match for match, ratio in ratios.items() if ratio == best)


def _name_hint(name: str, names: list[str]) -> str:
    """`did you mean …?` with the closest shipped names, or all of them when none is close."""
    if not names:
        return "no spec is shipped with this installation"
    closest = closest_names(name, names)
    if not closest:
        return f"shipped specs: {', '.join(names)}; see `mbcalc list`"
    if len(closest) == 1:
        return f"did you mean {closest[0]}?"
    return f"did you mean {', '.join(closest[:-1])} or {closest[-1]}?"
