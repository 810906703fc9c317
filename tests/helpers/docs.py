"""The Markdown of mbcalc's pages read into fenced blocks, headings and links: the one reader of
Markdown in the tests, for `tests/test_docs.py` and the tests that read an example of a page."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root."""


@dataclass(frozen=True)
class Block:
    """A fenced code block: `kind` is the first word of its info string (`text`, `yaml`, …; ""
    without one), `text` the lines between its fences, `line` the line number of its opening
    fence (counted from 1)."""

    kind: str
    info: str
    text: str
    line: int

    @property
    def first(self) -> str:
        """The block's first line ("" for an empty block)."""
        return self.text.partition("\n")[0]


@dataclass(frozen=True)
class Heading:
    """An ATX heading (`## Title`): its level, its text as written, its line."""

    level: int
    title: str
    line: int


@dataclass(frozen=True)
class Link:
    """A link or image target as written (`page.md#anchor`, `https://…`) and its line."""

    target: str
    line: int


_FENCE = re.compile(r"^( *)(`{3,}|~{3,})\s*([^`]*?)\s*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_CODE_SPAN = re.compile(r"(`+)(?!`)(?:.|\n(?!\n))*?(?<!`)\1(?!`)")
_INLINE_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?.*$", re.M)


@dataclass(frozen=True)
class Page:
    """A Markdown file read into its fenced blocks, its headings and its links (those outside
    code: in fences or code spans, `[a](b)` is text); `prose` is its text with the lines of
    fenced blocks and the code spans blanked, lines kept where they are."""

    path: Path
    blocks: tuple[Block, ...]
    headings: tuple[Heading, ...]
    links: tuple[Link, ...]
    prose: str

    @property
    def name(self) -> str:
        """The file's path from the repository's root (`docs/commands.md`), or its own name."""
        inside = self.path.is_relative_to(ROOT)
        return self.path.relative_to(ROOT).as_posix() if inside else self.path.name

    @cached_property
    def anchors(self) -> frozenset[str]:
        """The `#anchor` of every heading, as GitHub makes them (`slugs`)."""
        return frozenset(slugs(heading.title for heading in self.headings))

    def section(self, title: str) -> str:
        """The text under the one heading `title`, up to the next heading of its level or
        above."""
        start, end = self._lines_under(title)
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(lines[start : end - 1])

    def blocks_in(self, title: str, kind: str) -> list[Block]:
        """The blocks of `kind` under the one heading `title` (as `section` bounds it)."""
        start, end = self._lines_under(title)
        return [block for block in self.blocks if block.kind == kind and start < block.line < end]

    def _lines_under(self, title: str) -> tuple[int, int]:
        """The line of the one heading `title` and that of the next heading of its level or
        above (one past the last line where there is none)."""
        found = [heading for heading in self.headings if heading.title == title]
        assert len(found) == 1, f"{self.name}: {len(found)} headings {title!r}"
        start = found[0]
        ends = [h.line for h in self.headings if h.line > start.line and h.level <= start.level]
        last = len(self.path.read_text(encoding="utf-8").splitlines()) + 1
        return start.line, ends[0] if ends else last


def read_page(path: Path) -> Page:
    """`path` read into its blocks, headings and links."""
    blocks: list[Block] = []
    headings: list[Heading] = []
    prose: list[str] = []  # the page with the lines of fenced blocks blanked, for its links
    fence: tuple[str, int, str, int] | None = None  # its characters, indent, info string, line
    body: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opening = _FENCE.match(line)
        prose.append("" if fence or opening else line)
        if fence is not None:
            marks, indent, info, start = fence
            closing = opening and not opening[3] and opening[2][0] == marks[0]
            if closing and opening and len(opening[2]) >= len(marks):
                text = "".join(f"{row}\n" for row in body)
                blocks.append(Block(info.partition(" ")[0], info, text, start))
                fence, body = None, []
            else:
                body.append(_outdent(line, indent))
        elif opening:
            fence = (opening[2], len(opening[1]), opening[3], number)
        elif heading := _HEADING.match(line):
            headings.append(Heading(len(heading[1]), heading[2], number))
    assert fence is None, f"{path}:{fence[3]}: a fence that is never closed"
    text = _CODE_SPAN.sub(lambda span: re.sub(r"[^\n]", " ", span[0]), "\n".join(prose))
    return Page(path, tuple(blocks), tuple(headings), tuple(_links(text)), text)


def _outdent(line: str, indent: int) -> str:
    """A line of a fenced block without the indentation of its fence (CommonMark)."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _links(prose: str) -> list[Link]:
    """The links of a page's prose (a link's text may go on over lines)."""
    found = [*_INLINE_LINK.finditer(prose), *_REFERENCE.finditer(prose)]
    links = [Link(match[1], prose.count("\n", 0, match.start()) + 1) for match in found]
    return sorted(links, key=lambda link: link.line)


def slugs(titles: Iterable[str]) -> list[str]:
    """The anchors GitHub gives headings of these titles, in order: the text as shown, lower
    case, punctuation dropped, spaces as `-`; a repeated anchor gets `-1`, `-2`, …"""
    seen: dict[str, int] = {}
    anchors = []
    for title in titles:
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.append(f"{base}-{count}" if count else base)
    return anchors


def slug(title: str) -> str:
    """GitHub's anchor of one heading: code spans and links as their text, then lower case,
    every character but letters, digits, marks, `_`, `-` and spaces dropped, spaces as `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title).replace("`", "")
    text = re.sub(r"<[^>]+>", "", text).lower()
    kept = "".join(char for char in text if char in "-_ " or _word_character(char))
    return kept.replace(" ", "-")


def _word_character(char: str) -> bool:
    """A letter, a digit or a mark, which GitHub keeps in an anchor."""
    return unicodedata.category(char)[0] in {"L", "N", "M"}
