"""Import paths of modules that moved into subpackages, kept working as aliases.

`from mbcalc.zoo import load_shipped` loads `mbcalc.spec.zoo` and registers it under the old
name too; nothing is imported until an old name is asked for (`mbcalc.torch` stays optional).
The aliases exist at run time only: type checkers see the new paths, which new code imports.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

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


class _Alias(importlib.abc.Loader):
    """Imports the new module and leaves it in `sys.modules` under the old name, where the
    import system takes it from (the placeholder module it made is dropped)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old names in `MOVED`."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def install() -> None:
    """Make the old names importable (once)."""
    if not any(isinstance(finder, MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedFinder())
