"""A spec's `defaults:` (the settings it is read at unless told otherwise) and its `base:` (another
spec whose input and layers it takes, as `efficientnet_b3` takes B0's stages)."""

from __future__ import annotations

from pathlib import Path

from mbcalc.errors import SpecError
from mbcalc.kinds import Pair
from mbcalc.spec.args import Args
from mbcalc.spec.defaults import SpecDefaults
from mbcalc.spec.model import MAX_VALUE
from mbcalc.spec.source import SourceError, Value, read_spec_bytes

DERIVED_KEYS = ("base", "name", "description", "defaults")
"""The top-level keys of a spec with a `base`: everything else comes from the base."""

_SUFFIXES = (".yaml", ".yml")


def archs_dir() -> Path:
    """The installed `mbcalc/archs`, or `archs/` beside the package in a source checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "archs"
    return installed if installed.is_dir() else package.parent / "archs"


def read_defaults(top: Args, inherited: SpecDefaults) -> SpecDefaults:
    """The spec's `defaults: {alpha: A, depth: D, res: R}`; each key given replaces the
    `inherited` one (a base's)."""
    value = top.get("defaults")
    if value is None:
        return inherited
    example = "defaults: {alpha: 1.2, depth: 1.4, res: 300}"
    args = top.section("defaults", value, ("alpha", "depth", "res"), example)
    alpha = args.bounded("alpha", MAX_VALUE) if "alpha" in args.mapping else inherited.alpha
    depth = args.bounded("depth", MAX_VALUE) if "depth" in args.mapping else inherited.depth
    res = _res(args, args.mapping["res"]) if "res" in args.mapping else inherited.res
    return SpecDefaults(alpha=alpha, depth=depth, res=res)


def _res(args: Args, value: Value) -> int | Pair:
    """A height (the width in proportion), or [height, width]."""
    if isinstance(value.data, list):
        return args.check_pair("res", value)
    return args.check_int("res", value)


def base_file(top: Args, folder: Path | None, chain: tuple[Path, ...]) -> tuple[Path, str]:
    """The file `base:` names and how errors name it: a shipped spec's name, or a YAML file
    relative to the spec's folder. Refuses a base that is missing or leads back to a spec on
    `chain` (the files being read, outermost first)."""
    value = top.required("base")
    if not isinstance(value.data, str) or not value.data.strip():
        raise top.error("`base` must name a shipped spec or a YAML file", value)
    name = value.data.strip()
    if name.endswith(_SUFFIXES) or "/" in name:
        path = (folder or Path()) / name
        label = str(path)
    else:
        path, label = archs_dir() / f"{name}.yaml", f"{name}.yaml"
    if not path.is_file():
        kind = "file" if name.endswith(_SUFFIXES) or "/" in name else "shipped spec"
        raise top.error(
            f"`base`: no {kind} '{name}'",
            value,
            "name a shipped spec (see `mbcalc list`) or a YAML file beside this one",
        )
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain[chain.index(resolved) :], resolved))
        raise top.error(f"`base` makes a cycle: {cycle}", value, "a spec may not be its own base")
    return resolved, label


def base_text(path: Path, label: str) -> str:
    """The text of a base's file; an unreadable one is named in the error."""
    try:
        return read_spec_bytes(path)
    except SourceError as exc:
        raise SpecError(exc.message, source=label, line=exc.line, hint=exc.hint) from None
