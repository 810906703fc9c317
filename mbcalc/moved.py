"""Import paths of modules that moved into subpackages, kept working as aliases.

`from mbcalc.zoo import load_shipped` loads `mbcalc.spec.zoo` and registers it under the old
name too; nothing is imported until an old name is asked for (`mbcalc.torch` stays optional).
The aliases exist at run time only: type checkers see the new paths, which new code imports.
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # importlib.abc costs start-up time; the loader only has its two methods
    from importlib.abc import Loader

MOVED = {
    "mbcalc.compare": "mbcalc.core.compare",
    "mbcalc.deployment": "mbcalc.deploy.deployment",
    "mbcalc.fit": "mbcalc.grid.fit",
    "mbcalc.memory": "mbcalc.deploy.memory",
    "mbcalc.roofline": "mbcalc.deploy.roofline",
    "mbcalc.sweep": "mbcalc.grid.sweep",
    "mbcalc.torch": "mbcalc.pytorch",
    "mbcalc.zoo": "mbcalc.spec.zoo",
}
"""Old module name -> where it lives now."""


class _Alias:
    """A loader that imports the new module and leaves it in `sys.modules` under the old name,
    where the import system takes it from (the placeholder module it made is dropped)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> None:
        """The import system's default module serves as the placeholder."""

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class MovedFinder:
    """A meta path finder for the old names in `MOVED`."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        new = MOVED.get(fullname)
        return None if new is None else ModuleSpec(fullname, cast("Loader", _Alias(new)))


def install() -> None:
    """Make the old names importable (once)."""
    if not any(isinstance(finder, MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedFinder())
