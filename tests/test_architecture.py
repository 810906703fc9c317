"""The shape of the `mbcalc` package: no module takes part in an import cycle, only
`mbcalc.pytorch` imports torch, and every package ships in the wheel.

grimp reads every import statement, including those inside functions and under
`TYPE_CHECKING`, so a cycle hidden from the interpreter by a late import is found all the same.
The layer rule between subpackages is import-linter's contract in pyproject.toml
(`lint-imports`); this file checks what a layer contract cannot: cycles between modules of
one package.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Set
from functools import cache
from pathlib import Path

import grimp

import mbcalc


@cache
def import_graph() -> grimp.ImportGraph:
    """Every import between mbcalc's modules, and from them to the packages they use."""
    return grimp.build_graph("mbcalc", include_external_packages=True, cache_dir=None)


def internal_imports(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Module -> the mbcalc modules it imports directly."""
    modules = {module for module in graph.modules if module.partition(".")[0] == "mbcalc"}
    return {module: graph.find_modules_directly_imported_by(module) & modules for module in modules}


def cycles(imports: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each
    sorted: the groups of modules that import one another, directly or through others."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(imports[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = list(pop_component(module))
            if len(component) > 1 or module in imports[module]:
                found.append(sorted(component))

    def pop_component(root: str) -> Iterator[str]:
        while True:
            module = stack.pop()
            on_stack.discard(module)
            yield module
            if module == root:
                return

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return sorted(found)


def test_cycles_finds_a_cycle_and_its_members_only() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set[str]()}
    assert cycles(imports) == [["a", "b", "c"], ["e"]]


def test_no_module_of_mbcalc_takes_part_in_an_import_cycle() -> None:
    found = cycles(internal_imports(import_graph()))
    assert found == [], "modules importing one another: " + "; ".join(map(", ".join, found))


TORCH_READERS = {"mbcalc.ingest.callable_ref", "mbcalc.ingest.torch_module"}
"""The PyTorch module reader, which imports torch inside its functions, when it reads one."""


def test_only_mbcalc_pytorch_imports_torch() -> None:
    graph = import_graph()
    importers = (
        graph.find_modules_that_directly_import("torch") if "torch" in graph.modules else set()
    )
    outside = sorted(
        module
        for module in importers
        if module != "mbcalc.pytorch"
        and not module.startswith("mbcalc.pytorch.")
        and module not in TORCH_READERS
    )
    assert outside == [], f"torch imported outside mbcalc.pytorch by {outside}"
    assert importers, "mbcalc.pytorch no longer imports torch: is the graph being read?"


def test_only_the_root_package_imports_the_python_api() -> None:
    """`mbcalc.api` stands beside the command line: nothing below it, nor the command line,
    imports it; `mbcalc` itself loads it on first use (`mbcalc.analyze`)."""
    imports = internal_imports(import_graph())
    importers = {
        module
        for module, imported in imports.items()
        if any(name == "mbcalc.api" or name.startswith("mbcalc.api.") for name in imported)
        and not module.startswith("mbcalc.api")
    }
    assert importers == {"mbcalc"}


def test_every_package_of_mbcalc_ships_in_the_wheel() -> None:
    """pyproject.toml lists the packages (the zoo in archs/ ships as mbcalc.archs)."""
    root = Path(mbcalc.__file__).parent
    with (root.parent / "pyproject.toml").open("rb") as file:
        listed = set(tomllib.load(file)["tool"]["setuptools"]["packages"])
    found = {
        ".".join(("mbcalc", *init.parent.relative_to(root).parts))
        for init in root.rglob("__init__.py")
    }
    assert found | {"mbcalc.archs"} == listed
