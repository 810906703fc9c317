"""Shell completion of argument values: spec names and files, counting profiles, devices.

Each completer imports what it lists only when the shell asks, so that a command starts as fast
with completion as without.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")
"""The files a --device may name."""

SPEC_SUFFIXES = (*YAML_SUFFIXES, ".onnx")
"""The files a SPEC may name: a spec, or a model file imported on the fly."""


def complete_spec(incomplete: str) -> list[str]:
    """The shipped spec names, then the YAML and ONNX files and folders, that start with
    `incomplete`."""
    from mbcalc.spec.zoo import shipped_names

    return _starting(shipped_names(), incomplete) + yaml_paths(incomplete, SPEC_SUFFIXES)


def complete_profile(incomplete: str) -> list[str]:
    """The counting profiles that start with `incomplete`."""
    from mbcalc.core.profiles import PROFILES

    return _starting(PROFILES, incomplete)


def complete_device(incomplete: str) -> list[str]:
    """The shipped device profiles, then the YAML files and folders, that start with
    `incomplete`."""
    from mbcalc.deploy.roofline import shipped_devices

    return _starting(shipped_devices(), incomplete) + yaml_paths(incomplete)


def yaml_paths(incomplete: str, suffixes: tuple[str, ...] = YAML_SUFFIXES) -> list[str]:
    """The files with one of `suffixes` (YAML's) and the folders whose path starts with
    `incomplete` (folders end in /); hidden ones only when `incomplete` names a dot."""
    folder, _, start = incomplete.rpartition("/")
    prefix = f"{folder}/" if folder or incomplete.startswith("/") else ""
    try:
        entries = sorted(os.scandir(Path(prefix or ".")), key=lambda entry: entry.name)
    except OSError:
        return []
    paths = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name[0] == "." and start[:1] != "."):
            continue
        if entry.is_dir():
            paths.append(f"{prefix}{entry.name}/")
        elif entry.name.lower().endswith(suffixes):
            paths.append(f"{prefix}{entry.name}")
    return paths


def _starting(names: Iterable[str], incomplete: str) -> list[str]:
    return [name for name in names if name.startswith(incomplete)]
