"""A PyTorch module named on the command line: `package.module:factory` or `path/file.py:factory`.

The factory (a dotted attribute, `models:Nets.small`, may be a module class) is called with no
arguments and must give an `nn.Module`. Every way this can fail is one `ModelImportError` line
naming the reference; PyTorch is imported only here and in `mbcalc.ingest.torch_module`, when a
module is read.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from mbcalc.errors import ModelImportError, one_line

if TYPE_CHECKING:
    from torch import nn

TORCH_HINT = "pip install 'mbcalc[torch]'"


def import_torch(source: str) -> ModuleType:
    """The torch package, or the error saying how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ModelImportError(
            f"PyTorch is not installed ({one_line(str(error))})", source=source, hint=TORCH_HINT
        ) from None
    return torch


def failure(error: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return type(error).__name__ + (f": {lines[0]}" if lines else "")


def load_module(ref: str) -> nn.Module:
    """The module `ref` names: its factory called with no arguments."""
    torch = import_torch(ref)
    where, _, attribute = ref.rpartition(":")
    if not where or not attribute:
        raise ModelImportError(
            "not a PyTorch module reference",
            source=ref,
            hint="name one as package.module:factory or path/to/file.py:factory",
        )
    factory = _attribute(_import(where, ref), where, attribute, ref)
    if not callable(factory):
        raise ModelImportError(
            f"{attribute} is of type {type(factory).__name__}, not callable", source=ref
        )
    try:
        module = factory()
    except Exception as error:  # the user's code: any exception is a failed import
        raise ModelImportError(
            f"calling {attribute}() raised {failure(error)}", source=ref
        ) from None
    if not isinstance(module, torch.nn.Module):
        kind = type(module).__name__
        raise ModelImportError(
            f"{attribute}() gave a value of type {kind}, not a torch.nn.Module", source=ref
        )
    found: nn.Module = module
    return found


def _import(where: str, ref: str) -> ModuleType:
    """The Python module `where` names: a .py file's path or a dotted module name."""
    try:
        if where.endswith(".py"):
            return _import_file(Path(where), ref)
        if "" not in sys.path:
            sys.path.insert(0, "")  # the current directory, as `python -m` has it
        return importlib.import_module(where)
    except ModelImportError:
        raise
    except ModuleNotFoundError as error:
        raise ModelImportError(
            f"no module named {error.name or where!r}",
            source=ref,
            hint="run mbcalc where it is importable, or name its file: path/to/file.py:factory",
        ) from None
    except Exception as error:  # the user's code: any exception is a failed import
        raise ModelImportError(f"importing {where} raised {failure(error)}", source=ref) from None


def _import_file(path: Path, ref: str) -> ModuleType:
    """The file's module, its directory on sys.path (as `python file.py` has it) for its own
    imports of the modules beside it."""
    if not path.is_file():
        raise ModelImportError(f"no file {path}", source=ref)
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    digest = hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:12]
    name = f"_mbcalc_import_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{path} cannot be loaded as Python", source=ref)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _attribute(module: ModuleType, where: str, dotted: str, ref: str) -> object:
    """`module.a.b` for the dotted name "a.b", or the error naming close names it has."""
    found: object = module
    owner = where
    for part in dotted.split("."):
        if not hasattr(found, part):
            names = [name for name in dir(found) if not name.startswith("_")]
            close = difflib.get_close_matches(part, names, n=3)
            raise ModelImportError(
                f"{owner} has no attribute {part!r}",
                source=ref,
                hint=f"did you mean {', '.join(close)}?" if close else None,
            )
        found, owner = (
            getattr(found, part),
            f"{owner}:{part}" if owner == where else f"{owner}.{part}",
        )
    return found
