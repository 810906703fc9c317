"""An HTML report read back into a tree (with the standard library's `html.parser`), and the
hostile spec the HTML tests give mbcalc, for tests/test_html.py and tests/test_html_browser.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
"""Elements without an end tag."""

HOSTILE_NAME = "<script>alert(1)</script>"


@dataclass
class Element:
    """An element: its tag, its attributes, and its text and child elements in order."""

    tag: str
    attrs: dict[str, str]
    parts: list[str | Element] = field(default_factory=list)

    @property
    def children(self) -> list[Element]:
        return [part for part in self.parts if isinstance(part, Element)]

    @property
    def text(self) -> str:
        """All the text inside the element, its children's included, in document order."""
        return "".join(part if isinstance(part, str) else part.text for part in self.parts)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self, tag: str | None = None) -> list[Element]:
        """This element and every element below it (of `tag`, if given), in document order."""
        found = [self] if tag is None or self.tag == tag else []
        for child in self.children:
            found += child.iter(tag)
        return found


class _Builder(HTMLParser):
    """Builds the tree; refuses an end tag that closes anything but the innermost element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {key: value or "" for key, value in attrs})
        self.stack[-1].parts.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}>"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse_page(text: str) -> Element:
    """The page's `<html>` element, the page checked to be an HTML5 document whose every
    element is closed where it should be."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    assert builder.declarations == ["DOCTYPE html"], builder.declarations
    assert [element.tag for element in builder.stack] == ["#document"], "unclosed elements"
    (page,) = [child for child in builder.root.children if child.tag == "html"]
    return page


def cell_values(row: Element) -> list[str | None]:
    """The `data-value` of each cell of a row (None where a cell has none)."""
    return [cell.attrs.get("data-value") for cell in row.children if cell.tag in ("td", "th")]


def write_hostile_spec(folder: Path, name: str = HOSTILE_NAME) -> Path:
    """A small spec named `name`, its layers named with HTML too; JSON text is valid YAML."""
    path = folder / "hostile.yaml"
    path.write_text(
        f"name: {json.dumps(name)}\n"
        "input: {size: 32, channels: 3}\n"
        "layers:\n"
        f"  - conv: {{name: {json.dumps('<img src=x onerror=alert(2)>')}, out: 8, kernel: 3, "
        "stride: 2}\n"
        f"  - separable: {{name: {json.dumps('a&b<i>')}, out: 16}}\n",
        encoding="utf-8",
    )
    return path


def write_hostile_device(folder: Path) -> Path:
    """A device whose name and source hold HTML."""
    path = folder / "device.yaml"
    path.write_text(
        'name: "<b onmouseover=alert(3)>board</b>"\ndtype: fp32\nmult_adds_per_second: 100G\n'
        "depthwise_mult_adds_per_second: 20G\nbandwidth_bytes_per_second: 10G\n"
        'source: "<a href=\\"http://evil.example\\">sheet</a>"\n',
        encoding="utf-8",
    )
    return path
