"""docs/spec-language.md covers the whole spec language: a `###` section for every layer type
the parser accepts, naming each argument it takes, and every top-level key in its table. The
lists come from the parser, so a new layer type or argument fails here until it is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mbcalc.kinds import LayerType
from mbcalc.spec.derived import DERIVED_KEYS
from mbcalc.spec.layer_types import LAYERS
from mbcalc.spec.parser import _TOP_KEYS

PAGE = Path(__file__).resolve().parent.parent / "docs" / "spec-language.md"
COMMON_ARGUMENTS = ("name", "repeat", "act")
"""What every layer takes, documented once at the head of `## Layers`."""


def chapter(text: str, heading: str) -> str:
    """The text of the `## heading` chapter, up to the next `## `."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def layer_sections() -> dict[str, str]:
    """Each `### ` section of `## Layers`, by its heading."""
    parts = re.split(r"^### (.+)$", chapter(PAGE.read_text(encoding="utf-8"), "Layers"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


SECTIONS = layer_sections()


def test_every_layer_type_has_a_section_and_no_section_is_no_type() -> None:
    assert sorted(SECTIONS) == sorted(t.value for t in LAYERS)


@pytest.mark.parametrize("layer_type", list(LAYERS), ids=lambda t: t.value)
def test_a_layer_types_section_names_each_of_its_arguments(layer_type: LayerType) -> None:
    section = SECTIONS.get(layer_type.value, "")
    missing = [key for key in LAYERS[layer_type].arguments if f"`{key}`" not in section]
    assert not missing, f"### {layer_type.value} does not name {missing}"


def test_the_arguments_every_layer_takes_are_in_the_layers_table() -> None:
    head = chapter(PAGE.read_text(encoding="utf-8"), "Layers").split("\n### ")[0]
    assert all(f"| `{key}` |" in head for key in COMMON_ARGUMENTS)


def test_every_top_level_key_is_in_the_top_level_table() -> None:
    table = chapter(PAGE.read_text(encoding="utf-8"), "The file")
    missing = [key for key in {*_TOP_KEYS, *DERIVED_KEYS} if f"| `{key}` |" not in table]
    assert not missing, f"the top-level keys table does not name {missing}"
