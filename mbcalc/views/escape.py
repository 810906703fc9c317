"""User text (spec and device names, descriptions, file names) made safe for each medium.

One function per medium, used by every view and exporter, so that what a user wrote is shown
literally and never acted upon: no Rich markup, no terminal escape sequence, no Markdown
heading or HTML, no spreadsheet formula, no mathtext. Control characters are shown escaped
(`\\x1b`, `\\n`) in every text medium; JSON keeps the exact text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from mbcalc.errors import one_line

visible = one_line
"""Text with line breaks, control and format characters shown escaped (`\\n`, `\\x1b`)."""


def for_terminal(text: str) -> str:
    """Text for a Rich markup string: visible, its brackets never read as markup tags.

    Rich reads `[` followed by a tag's shape as a tag (backslashes before it halved, an odd one
    left escaping it) and turns `\\[` before any other bracket into `[`; each case is escaped
    for that reading. A trailing backslash is left single, as it shows: the text must not stand
    right before a tag of the markup around it.
    """
    return _RICH_BRACKET.sub(_escape_bracket, visible(text))


_RICH_BRACKET = re.compile(r"(\\*)(\[(?:[a-z#/@][^[]*?\])?)")
"""A bracket with the backslashes before it; group 2 is the whole tag where it has one's shape."""


def _escape_bracket(match: re.Match[str]) -> str:
    backslashes, bracket = match.groups()
    if len(bracket) > 1:  # a tag's shape: every backslash doubled, one more to escape it
        return f"{backslashes}{backslashes}\\{bracket}"
    return f"{backslashes}\\{bracket}" if backslashes else bracket


_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]#|~]|(?<![^\W_])_|_(?![^\W_])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def for_markdown(text: str) -> str:
    """Text for a Markdown line or table cell: visible, punctuation that would take effect
    backslash-escaped, `<`, `>` and `&` as HTML entities.

    An underscore inside a word (`mobilenet_v1`) cannot start emphasis and is kept as it is.
    """
    escaped = _MARKDOWN_SPECIAL.sub(lambda found: "\\" + found.group(), visible(text))
    return "".join(_HTML.get(char, char) for char in escaped)


def for_html(text: str) -> str:
    """Text for an HTML element or attribute: visible, `&`, `<`, `>` and quotes as entities."""
    import html

    return html.escape(visible(text), quote=True)


def for_markdown_code(text: str) -> str:
    """Text as a Markdown code span: shown verbatim but for pipes (table cells) and controls."""
    content = visible(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", content)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if longest else ""
    return f"{fence}{padding}{content}{padding}{fence}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def for_csv_cell(value: object) -> object:
    """A CSV cell: text made visible and, where a spreadsheet would run it as a formula
    (`=`, `+`, `-`, `@` first), prefixed with `'`. Numbers, and text that is one, stay as they are.
    """
    if not isinstance(value, str):
        return value
    text = visible(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def for_plot(text: str) -> str:
    """Text for a matplotlib label: visible, its dollar signs never starting mathtext."""
    return visible(text).replace("$", r"\$")


# -- streams that cannot encode every character ------------------------------------------------

_ASCII_SYMBOLS = {
    "\N{MULTIPLICATION SIGN}": "x",
    "\N{HORIZONTAL ELLIPSIS}": ".",
    "\N{ALMOST EQUAL TO}": "~",
    "\N{RIGHTWARDS ARROW}": ">",
    "\N{LEFTWARDS ARROW}": "<",
    "\N{BLACK LEFT-POINTING TRIANGLE}": "<",
    "\N{BLACK RIGHT-POINTING TRIANGLE}": ">",
    "\N{BLACK LEFT-POINTING SMALL TRIANGLE}": "<",
    "\N{BLACK RIGHT-POINTING SMALL TRIANGLE}": ">",
    "\N{BLACK CIRCLE}": "o",
    "\N{MIDDLE DOT}": "*",
    "\N{EM DASH}": "-",
    "\N{EN DASH}": "-",
    "\N{MICRO SIGN}": "u",
    "\N{LESS-THAN OR EQUAL TO}": "<",
    "\N{GREATER-THAN OR EQUAL TO}": ">",
    "\N{FULL BLOCK}": "#",
    "\N{BOX DRAWINGS HEAVY VERTICAL}": "|",
    "\N{LEFT DOUBLE QUOTATION MARK}": '"',
    "\N{RIGHT DOUBLE QUOTATION MARK}": '"',
    "\N{LEFT SINGLE QUOTATION MARK}": "'",
    "\N{RIGHT SINGLE QUOTATION MARK}": "'",
}
"""ASCII stand-ins, one character each so that tables stay aligned, for the symbols mbcalc
draws, on a stream that cannot encode them."""


def ascii_symbol(char: str) -> str:
    """An ASCII stand-in for one character: a symbol or line of the same width, else `\\u....`."""
    if char in _ASCII_SYMBOLS:
        return _ASCII_SYMBOLS[char]
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
        if horizontal != vertical:
            return ("=" if "DOUBLE" in name else "-") if horizontal else "|"
        return "+"
    if name.startswith(("LEFT ", "RIGHT ", "LOWER ", "UPPER ")) and "BLOCK" in name:
        return "+"  # a part of a bar
    return char.encode("ascii", "backslashreplace").decode("ascii")


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    failed = error.object[error.start : error.end]
    return "".join(ascii_symbol(char) for char in failed), error.end


codecs.register_error("mbcalc.ascii", _stand_in)


def for_stream(text: str, encoding: str | None) -> str:
    """`text` as a stream of `encoding` can take it: what it cannot encode becomes ASCII
    (box lines -> `-`, `|`, `+`; a full bar -> `#`), anything else a `\\u` escape."""
    codec = encoding or "utf-8"
    try:
        if codecs.lookup(codec).name == "utf-8":
            return text
        text.encode(codec)
    except UnicodeEncodeError:
        return text.encode(codec, "mbcalc.ascii").decode(codec)
    except LookupError:  # an encoding Python does not know: ASCII is safe on any stream
        return text.encode("ascii", "mbcalc.ascii").decode("ascii")
    return text
